//! `-l`: gzip's listing of compressed files, in gzip's columns: the size
//! of each file, the size it decompresses to (the last member's trailer
//! says, modulo 4 GiB, as gzip reads it), the space saved by the deflate
//! data (header and trailer left out, as gzip counts) and the name it
//! decompresses to; a totals line for several files.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use hilo_work::gzip;
use hilo_work::io_message;

use super::unzip::unzipped_name;
use super::{Input, Opts};

/// One listed file.
struct Listed {
    compressed: u64,
    original: u64,
    /// Header and trailer bytes.
    overhead: u64,
    name: String,
}

/// Lists `inputs`; returns the exit status (1 if a file could not be
/// listed, each said on stderr).
pub(super) fn run(opts: &Opts, inputs: &[Input]) -> u8 {
    let mut rows = Vec::new();
    let mut failed = false;
    for input in inputs {
        let listed = match input {
            Input::Stdin => Err("-l needs FILES: stdin cannot be read from its end".to_owned()),
            Input::File(path) => list(path, opts),
        };
        match listed {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("hilo compress: {}: {e}", input.name());
                failed = true;
            }
        }
    }
    if !rows.is_empty() {
        println!("         compressed        uncompressed  ratio uncompressed_name");
        for row in &rows {
            println!("{}", line(row));
        }
        if rows.len() > 1 {
            let total = Listed {
                compressed: rows.iter().map(|r| r.compressed).sum(),
                original: rows.iter().map(|r| r.original).sum(),
                // gzip 1.12 leaves out one header and trailer in the
                // totals, the last file's: so do we, so the lines match.
                overhead: rows.last().map_or(0, |r| r.overhead),
                name: "(totals)".into(),
            };
            println!("{}", line(&total));
        }
    }
    u8::from(failed)
}

fn list(path: &Path, opts: &Opts) -> Result<Listed, String> {
    let file = File::open(path).map_err(|e| io_message(&e))?;
    let compressed = file.metadata().map_err(|e| io_message(&e))?.len();
    let header = gzip::read_header(&file).map_err(|e| io_message(&e))?;
    let mut isize = [0u8; 4];
    if compressed < header.len + 8 {
        return Err("unexpected end of file".into());
    }
    file.read_exact_at(&mut isize, compressed - 4)
        .map_err(|e| io_message(&e))?;
    let stored = header
        .name
        .filter(|_| opts.names)
        .map(|n| path.with_file_name(String::from_utf8_lossy(&n).as_ref()));
    let name = stored
        .or_else(|| unzipped_name(path, &opts.suffix))
        .unwrap_or_else(|| path.to_owned());
    Ok(Listed {
        compressed,
        original: u64::from(u32::from_le_bytes(isize)),
        overhead: header.len + 8,
        name: name.display().to_string(),
    })
}

/// gzip's row: both sizes 19 wide, the ratio as `-33.3%`, the name.
fn line(row: &Listed) -> String {
    let data = row.compressed.saturating_sub(row.overhead) as f64;
    let ratio = if row.original == 0 {
        0.0
    } else {
        100.0 * (1.0 - data / row.original as f64)
    };
    format!(
        "{:>19} {:>19} {:>5.1}% {}",
        row.compressed, row.original, ratio, row.name
    )
}
