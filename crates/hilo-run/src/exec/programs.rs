//! Where on `PATH` each command lives, looked up once per name.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where on `PATH` each command name lives, looked up once: running a
/// bare name otherwise costs a failed `execve` for every `PATH` entry
/// before the right one, on every job.
#[derive(Default)]
pub(super) struct Programs {
    found: Mutex<HashMap<OsString, PathBuf>>,
}

impl Programs {
    /// The executable `name` runs: its path on `PATH` if it is a bare name
    /// found there, else `name` itself (then the spawn reports why not).
    pub(super) fn resolve(&self, name: &OsStr) -> PathBuf {
        if name.as_bytes().contains(&b'/') || name.is_empty() {
            return PathBuf::from(name);
        }
        if let Some(path) = self.found.lock().get(name) {
            return path.clone();
        }
        let Some(path) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
        else {
            return PathBuf::from(name);
        };
        self.found.lock().insert(name.to_owned(), path.clone());
        path
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
