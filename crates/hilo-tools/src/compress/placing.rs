//! Where a file's output is written before it is complete
//! ([`hilo_term::Unnamed`]: unnamed in the target's directory, so nothing
//! is left behind by a crash), and how it is put in place: gzip's checks
//! and messages, its mode and times.

use std::fs::{self, FileTimes, Metadata};
use std::io;
use std::path::Path;
use std::time::SystemTime;

use hilo_term::Unnamed;
use hilo_work::io_message;

/// An output being written, not yet under its name.
pub(super) type Pending = Unnamed;

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
    Unnamed::new_in(dir).map_err(|e| {
        format!(
            "cannot create a file in {}: {}",
            dir.display(),
            io_message(&e)
        )
    })
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
