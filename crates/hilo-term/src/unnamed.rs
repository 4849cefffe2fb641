//! A file written before it has its name: what every tool's output file
//! is until it is complete. Where the file system allows it (ext4, xfs,
//! btrfs, tmpfs), it is an unnamed file in the target's directory
//! (`O_TMPFILE`), given its name (`linkat`) only once complete: whatever
//! happens before, a crash or a SIGKILL included, nothing is left behind.
//! Elsewhere it is a hidden `.hilo-XXXX.tmp` in that directory, renamed
//! when complete and removed if dropped.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, CWD};
use tempfile::NamedTempFile;

/// An output being written, not yet under its name.
#[derive(Debug)]
pub enum Unnamed {
    /// Unnamed (`O_TMPFILE`) in `dir`.
    Unnamed { file: File, dir: PathBuf },
    /// A hidden temporary file, removed if dropped.
    Named(NamedTempFile),
}

impl Unnamed {
    /// A new empty output in `dir` (readable and writable by its owner
    /// only until it is placed).
    ///
    /// # Errors
    /// `dir` cannot hold a new file.
    pub fn new_in(dir: &Path) -> io::Result<Unnamed> {
        let unnamed = rustix::fs::openat(
            CWD,
            dir,
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        );
        match unnamed {
            Ok(fd) => Ok(Unnamed::Unnamed {
                file: File::from(fd),
                dir: dir.to_owned(),
            }),
            // No O_TMPFILE here (an old kernel, NFS, FUSE...): a named one.
            Err(
                rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR | rustix::io::Errno::INVAL,
            ) => tempfile::Builder::new()
                .prefix(".hilo-")
                .suffix(".tmp")
                .tempfile_in(dir)
                .map(Unnamed::Named),
            Err(e) => Err(e.into()),
        }
    }

    pub fn file(&self) -> &File {
        match self {
            Unnamed::Unnamed { file, .. } => file,
            Unnamed::Named(tmp) => tmp.as_file(),
        }
    }

    pub fn file_mut(&mut self) -> &mut File {
        match self {
            Unnamed::Unnamed { file, .. } => file,
            Unnamed::Named(tmp) => tmp.as_file_mut(),
        }
    }

    /// Gives the output its name `dest` (in the directory it was made
    /// in). An existing `dest` is replaced, in one step, only if `replace`.
    ///
    /// # Errors
    /// `AlreadyExists` if `dest` exists and not `replace` (nothing is
    /// clobbered, even a file that appeared a moment ago); any other error
    /// of linking or renaming.
    pub fn place(self, dest: &Path, replace: bool) -> io::Result<()> {
        match self {
            Unnamed::Named(tmp) => {
                let placed = if replace {
                    tmp.persist(dest)
                } else {
                    tmp.persist_noclobber(dest)
                };
                placed.map(drop).map_err(|e| e.error)
            }
            Unnamed::Unnamed { file, dir } => {
                let link = |to: &Path| {
                    // The unnamed file by its descriptor's name in /proc.
                    let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
                    rustix::fs::linkat(CWD, &fd, CWD, to, rustix::fs::AtFlags::SYMLINK_FOLLOW)
                        .map_err(io::Error::from)
                };
                if !replace {
                    // Fails if `dest` exists: never clobbered.
                    return link(dest);
                }
                // Replaced in one step: linked complete under a hidden
                // name no file has (tempfile picks it, and removes it if
                // the rename fails), then renamed over `dest`.
                let hidden = tempfile::Builder::new()
                    .prefix(".hilo-")
                    .suffix(".tmp")
                    .make_in(&dir, |path| link(path))?;
                hidden.persist(dest).map(drop).map_err(|e| e.error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nothing_shows_until_placed_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Unnamed::new_in(dir.path()).unwrap();
        out.file_mut().write_all(b"abc").unwrap();
        assert!(names(dir.path()).is_empty());
        out.place(&dir.path().join("a"), false).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"abc");
        let mut dropped = Unnamed::new_in(dir.path()).unwrap();
        dropped.file_mut().write_all(b"half").unwrap();
        drop(dropped);
        assert_eq!(names(dir.path()), ["a"]);
    }

    #[test]
    fn an_existing_name_is_kept_unless_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a");
        std::fs::write(&dest, b"old").unwrap();
        let mut out = Unnamed::new_in(dir.path()).unwrap();
        out.file_mut().write_all(b"new").unwrap();
        let e = out.place(&dest, false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        let mut out = Unnamed::new_in(dir.path()).unwrap();
        out.file_mut().write_all(b"new").unwrap();
        out.place(&dest, true).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["a"]);
    }
}
