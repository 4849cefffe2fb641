//! One small `/proc` file read in as few system calls as it takes and
//! parsed by `procfs`'s own types (`FromRead`): the parsing is the
//! crate's, only the reading is ours, because a refresh reads thousands of
//! these files and a generic `read_to_end` spends three reads on each.
//!
//! A `/proc/PID/*` file is a single-record seq file: one `read` gives as
//! much of the record as fits, so a read that comes back short has given
//! all of it and needs no second read to see the end.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;

use procfs::FromRead;

/// A reader with its buffer kept from file to file.
pub(crate) struct ProcFile {
    buf: Vec<u8>,
}

impl Default for ProcFile {
    fn default() -> Self {
        ProcFile { buf: vec![0; 4096] }
    }
}

impl ProcFile {
    /// Parses the file at `path` as `T`.
    ///
    /// # Errors
    /// It cannot be opened or read (the process is gone), or procfs cannot
    /// parse it.
    pub(crate) fn read<T: FromRead>(&mut self, path: &str) -> io::Result<T> {
        let mut file = File::open(path)?;
        self.parse(&mut file)
    }

    /// Parses the file at `path` as `T`, with the file's owner: for
    /// `/proc/PID/stat`, the process's effective user.
    ///
    /// # Errors
    /// As [`ProcFile::read`].
    pub(crate) fn read_owned<T: FromRead>(&mut self, path: &str) -> io::Result<(T, u32)> {
        let mut file = File::open(path)?;
        let uid = file.metadata()?.uid();
        Ok((self.parse(&mut file)?, uid))
    }

    fn parse<T: FromRead>(&mut self, file: &mut File) -> io::Result<T> {
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                self.buf.resize(len * 2, 0);
            }
            let n = file.read(&mut self.buf[len..])?;
            len += n;
            if n == 0 || len < self.buf.len() {
                break;
            }
        }
        T::from_read(&self.buf[..len]).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_procfs_reads_and_grows_for_long_files() {
        let mut f = ProcFile {
            buf: vec![0; 8], // far too small: must grow
        };
        let ours: procfs::process::Stat = f.read("/proc/self/stat").unwrap();
        let theirs = procfs::process::Process::myself().unwrap().stat().unwrap();
        assert_eq!(
            (ours.pid, ours.ppid, ours.starttime),
            (theirs.pid, theirs.ppid, theirs.starttime)
        );
        let (status, uid): (procfs::process::Status, u32) =
            f.read_owned("/proc/self/status").unwrap();
        assert_eq!(status.pid, ours.pid);
        assert_eq!(uid, rustix::process::geteuid().as_raw());
        assert!(f.read::<procfs::process::Stat>("/proc/0/stat").is_err());
    }
}
