//! The lesson's worked example 1, "image processing in parallel": blur every
//! image of a folder, once sequentially and once on a `ThreadPool`, check
//! that both runs produced the same bytes, and print both times and the
//! speedup.
//!
//! Without a folder it first makes its own: 24 synthetic PNGs in a
//! temporary folder, removed at the end. Images are read as PNG or JPEG and
//! always written as PNG (lossless, so "same bytes" is a real check).
//!
//! Run: `cargo run --release -p hilo --example blur_images -- [FOLDER] [--out DIR] [--small]`
//!
//! - `FOLDER`: the images to blur (`.png`, `.jpg`, `.jpeg`); it is only read.
//! - `--out DIR`: where to write the blurred copies (created if missing);
//!   without it they are checked and then thrown away.
//! - `--small`: 8 smaller synthetic images (320×240), for a run of a second.
//!
//! Python needs processes for this (the GIL); here threads are enough, and a
//! blur is a pure function of its input, so the threads share nothing.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hilo::ThreadPool;
use image::{ImageFormat, Rgb, RgbImage};

#[path = "common/args.rs"]
mod args;

/// How strong the blur is: the lesson's `GaussianBlur(radius=5)`.
const SIGMA: f32 = 5.0;

/// Blurs every image of a folder on a ThreadPool and checks the copies
/// against a sequential run.
#[derive(clap::Parser)]
#[command(name = "blur_images")]
struct Args {
    /// The images to blur [default: synthetic ones]
    folder: Option<PathBuf>,
    /// Where to write the blurred copies (created if missing)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// 8 smaller synthetic images (320×240), for a run of a second
    #[arg(long)]
    small: bool,
}

/// One image blurred and encoded as PNG, or why it could not be.
type Outcome = Result<Vec<u8>, String>;

/// One image's job, the same in both runs: read, decode, blur, encode as
/// PNG. It returns the bytes instead of writing them so the two runs can be
/// compared, and so the timings measure the work, not the disk.
fn blur_file(path: &Path) -> Outcome {
    let img = image::open(path).map_err(|e| e.to_string())?;
    let blurred = img.blur(SIGMA);
    let mut png = Vec::new();
    blurred
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

/// The images in `folder`, sorted by name so both runs (and every run) see
/// them in the same order.
fn list_images(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| format!("cannot read folder {}: {e}", folder.display()))?;
    let mut images = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read folder {}: {e}", folder.display()))?
            .path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) && path.is_file() {
            images.push(path);
        }
    }
    images.sort();
    if images.is_empty() {
        return Err(format!(
            "no .png, .jpg or .jpeg images in {}",
            folder.display()
        ));
    }
    Ok(images)
}

/// Writes `count` synthetic `width`×`height` PNGs into `dir`: gradients with
/// a few discs, different for each image and the same on every run.
fn make_images(dir: &Path, count: u32, width: u32, height: u32) -> Result<(), String> {
    for i in 0..count {
        let discs: Vec<(i64, i64, i64)> = (0..5)
            .map(|d| {
                let k = i64::from(i * 7 + d);
                let (w, h) = (i64::from(width), i64::from(height));
                ((k * 97) % w, (k * 61) % h, 10 + (k * 13) % (h / 3).max(1))
            })
            .collect();
        let img = RgbImage::from_fn(width, height, |x, y| {
            let (xi, yi) = (i64::from(x), i64::from(y));
            let inside = discs
                .iter()
                .any(|&(cx, cy, r)| (xi - cx).pow(2) + (yi - cy).pow(2) < r * r);
            // Truncating to u8 is the point: it makes the gradient wrap.
            let base = [(x + i * 40) as u8, (y * 2) as u8, (x + y + i * 17) as u8];
            Rgb(if inside { base.map(|c| 255 - c) } else { base })
        });
        let path = dir.join(format!("synthetic_{i:02}.png"));
        img.save(&path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A folder in the system's temporary directory, removed when dropped (also
/// when `main` returns early with an error).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("hilo-blur-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover temporary folder is not worth failing for.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

fn run(args: Args) -> Result<(), String> {
    // Keep the temporary folder alive until the end of `run`.
    let mut _generated = None;
    let folder = match args.folder {
        Some(folder) => folder,
        None => {
            let (count, width, height) = if args.small {
                (8, 320, 240)
            } else {
                (24, 640, 480)
            };
            let tmp = TempDir::new()?;
            make_images(&tmp.0, count, width, height)?;
            println!("made {count} synthetic {width}x{height} PNGs to blur");
            let folder = tmp.0.clone();
            _generated = Some(tmp);
            folder
        }
    };
    // Checked before any work: blurred copies named like the originals
    // must not land on top of them.
    if args
        .out
        .as_deref()
        .is_some_and(|out| same_folder(out, &folder))
    {
        return Err(
            "--out must not be the input folder: the copies would overwrite the originals".into(),
        );
    }
    let images = list_images(&folder)?;
    println!("blurring {} images (sigma {SIGMA})", images.len());

    let (sequential, seq_time) = blur_sequential(&images);
    let (parallel, par_time, workers) = blur_parallel(&images)?;

    let failed = parallel.iter().filter(|r| r.is_err()).count();
    if sequential != parallel {
        return Err("the parallel run's output differs from the sequential one".into());
    }
    println!(
        "the {} blurred images are byte-identical in both runs",
        images.len() - failed
    );

    if let Some(out) = &args.out {
        save(out, &images, &parallel)?;
    }
    report(seq_time, par_time, workers);
    if failed > 0 {
        return Err(format!(
            "{failed} of {} images could not be blurred",
            images.len()
        ));
    }
    Ok(())
}

/// Blurs one image after the other, in this thread.
fn blur_sequential(images: &[PathBuf]) -> (Vec<Outcome>, Duration) {
    let start = Instant::now();
    let outcomes = images.iter().map(|p| blur_file(p)).collect();
    (outcomes, start.elapsed())
}

/// Blurs the images on a `ThreadPool`, printing each as it is done; also
/// returns the time taken and the number of workers.
fn blur_parallel(images: &[PathBuf]) -> Result<(Vec<Outcome>, Duration, usize), String> {
    let pool = ThreadPool::builder()
        .thread_name_prefix("blur")
        .build()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(images.len());
    // The same function as the sequential run, on the pool. `map` keeps the
    // input order (like Python's `executor.map`) and has at most 2 × workers
    // images in flight at once, however big the folder.
    let tasks = pool.map(images.to_vec(), |p| blur_file(&p));
    for (path, outcome) in images.iter().zip(tasks) {
        // Two layers of errors: the pool's (the task panicked) and the
        // task's own (the file was not an image). Flatten them.
        let outcome = outcome.map_err(|e| e.to_string()).and_then(|r| r);
        match &outcome {
            Ok(png) => println!("  ✓ {} ({} KiB)", name(path), png.len() / 1024),
            Err(e) => println!("  ✗ {}: {e}", name(path)),
        }
        outcomes.push(outcome);
    }
    Ok((outcomes, start.elapsed(), pool.max_workers()))
}

/// True if `a` and `b` are the same existing folder, however spelled.
fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes each blurred image to `out`: `a.png` as `a.png`, `b.jpg` as
/// `b.jpg.png` (so `b.png` and `b.jpg` cannot overwrite each other).
fn save(out: &Path, images: &[PathBuf], results: &[Outcome]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut written = 0;
    for (path, result) in images.iter().zip(results) {
        if let Ok(png) = result {
            let file = name(path);
            let dest = match file.strip_suffix(".png") {
                Some(_) => out.join(&file),
                None => out.join(format!("{file}.png")),
            };
            std::fs::write(&dest, png)
                .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
            written += 1;
        }
    }
    println!("wrote {written} blurred PNGs to {}", out.display());
    Ok(())
}

fn report(seq_time: Duration, par_time: Duration, workers: usize) {
    println!("sequential              {:>8.3} s", seq_time.as_secs_f64());
    println!(
        "ThreadPool, {workers:>2} workers  {:>8.3} s",
        par_time.as_secs_f64()
    );
    println!(
        "speedup                 {:>8.2}x",
        seq_time.as_secs_f64() / par_time.as_secs_f64()
    );
}

fn main() -> ExitCode {
    // Exit codes: 2 for bad arguments, 1 for a failed run or check.
    // A bad argument: one line and exit status 2.
    let args = match args::parse::<Args>("blur_images") {
        Ok(args) => args,
        Err(status) => return status,
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blur_images: {e}");
            ExitCode::FAILURE
        }
    }
}
