//! STUB: `hilo wordcount`, filled in by issue 6.

/// Options of `hilo wordcount` (STUB).
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Arguments (STUB)
    #[arg(trailing_var_arg = true)]
    rest: Vec<String>,
}

/// Runs `hilo wordcount`; returns the exit status.
pub(crate) fn main(args: Args) -> u8 {
    eprintln!(
        "hilo wordcount: not built yet ({} arguments ignored)",
        args.rest.len()
    );
    2
}
