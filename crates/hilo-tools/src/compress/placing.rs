//! Where a file's output is written before it is complete, and how it is
//! put in place. Where the file system allows it (ext4, xfs, btrfs, tmpfs),
//! the output is an unnamed file in the target's directory (`O_TMPFILE`),
//! given its name (`linkat`) only once it is complete: whatever happens
//! before, a crash or a SIGKILL included, nothing is left behind. Elsewhere
//! it is a hidden `.hilo-XXXX.tmp` beside the target, renamed when
//! complete and removed on any error.

use std::fs::{self, File, FileTimes, Metadata};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hilo_work::io_message;
use rustix::fs::{Mode, OFlags, CWD};
use tempfile::NamedTempFile;

/// An output being written, not yet under its name.
pub(super) enum Pending {
    /// Unnamed (`O_TMPFILE`) in `dir`.
    Unnamed { file: File, dir: PathBuf },
    /// A hidden temporary file, removed if dropped.
    Named(NamedTempFile),
}

impl Pending {
    pub(super) fn file_mut(&mut self) -> &mut File {
        match self {
            Pending::Unnamed { file, .. } => file,
            Pending::Named(tmp) => tmp.as_file_mut(),
        }
    }

    fn file(&self) -> &File {
        match self {
            Pending::Unnamed { file, .. } => file,
            Pending::Named(tmp) => tmp.as_file(),
        }
    }

    /// Gives the output its name `dest`; an existing `dest` is replaced
    /// only with `force`.
    fn place(self, dest: &Path, force: bool) -> io::Result<()> {
        match self {
            Pending::Named(tmp) => {
                let placed = if force {
                    tmp.persist(dest)
                } else {
                    tmp.persist_noclobber(dest)
                };
                placed.map(drop).map_err(|e| e.error)
            }
            Pending::Unnamed { file, dir } => {
                let link = |to: &Path| {
                    // The unnamed file by its descriptor's name in /proc.
                    let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
                    rustix::fs::linkat(CWD, &fd, CWD, to, rustix::fs::AtFlags::SYMLINK_FOLLOW)
                        .map_err(io::Error::from)
                };
                if !force {
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

/// An output for `dest`, in its directory (so naming it never crosses
/// file systems), after checking that `dest` may be written.
pub(super) fn temp_beside(dest: &Path, force: bool) -> Result<Pending, String> {
    if !force && fs::symlink_metadata(dest).is_ok() {
        return Err(format!(
            "{} already exists; not overwritten (-f overwrites)",
            dest.display()
        ));
    }
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let cannot = |e: &io::Error| {
        format!(
            "cannot create a file in {}: {}",
            dir.display(),
            io_message(e)
        )
    };
    let unnamed = rustix::fs::openat(
        CWD,
        dir,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    );
    match unnamed {
        Ok(fd) => Ok(Pending::Unnamed {
            file: File::from(fd),
            dir: dir.to_owned(),
        }),
        // No O_TMPFILE here (an old kernel, NFS, FUSE...): a named one.
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR | rustix::io::Errno::INVAL) => {
            tempfile::Builder::new()
                .prefix(".hilo-")
                .suffix(".tmp")
                .tempfile_in(dir)
                .map(Pending::Named)
                .map_err(|e| cannot(&e))
        }
        Err(e) => Err(cannot(&e.into())),
    }
}

/// The last step of every file output: mode and times from `meta` (the
/// modification time `mtime` if given, for -N), then
/// its name (refusing to replace a file that appeared meanwhile unless
/// -f), then the input's removal.
pub(super) fn put_in_place(
    tmp: Pending,
    dest: &Path,
    meta: Option<&Metadata>,
    mtime: Option<SystemTime>,
    remove: Option<&Path>,
    force: bool,
) -> Result<(), String> {
    if let Some(meta) = meta {
        let file = tmp.file();
        file.set_permissions(meta.permissions())
            .map_err(|e| io_message(&e))?;
        let mut times = FileTimes::new();
        if let Ok(t) = meta.accessed() {
            times = times.set_accessed(t);
        }
        if let Some(t) = mtime.or_else(|| meta.modified().ok()) {
            times = times.set_modified(t);
        }
        file.set_times(times).map_err(|e| io_message(&e))?;
    }
    // With -f the existence check was skipped, so replace; without it,
    // never clobber (a file created since the check wins).
    tmp.place(dest, force).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists; not overwritten (-f overwrites)",
                dest.display()
            )
        } else {
            format!("cannot write {}: {}", dest.display(), io_message(&e))
        }
    })?;
    if let Some(input) = remove {
        fs::remove_file(input)
            .map_err(|e| format!("done, but cannot remove the input: {}", io_message(&e)))?;
    }
    Ok(())
}
