//! What the binary prints on stdout, and what it does when nobody reads it any more.
//!
//! Why not `println!`: it panics when stdout is a closed pipe (`residence verify … | head -1`
//! closes it after one line), so an auditor's pipeline would show a panic where the command
//! did its work. Every line goes through [`say!`] (or [`print()`]), which returns the write's
//! error; `main` ends quietly with success when that error is a closed pipe, as `head` and
//! other filters expect (ripgrep does the same). A tidy test keeps `println!` out of the binary.

use std::io::{self, Write as _};

/// Writes one line to stdout: `say!("ok: {} records", n)?`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// Writes `args` and a newline to stdout, flushed.
///
/// # Errors
/// The write's error (a closed pipe: [`io::ErrorKind::BrokenPipe`]).
pub fn line(args: std::fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `text` to stdout as it is, flushed.
///
/// # Errors
/// The write's error (a closed pipe: [`io::ErrorKind::BrokenPipe`]).
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Whether `error` is (or was caused by) stdout's reader having gone away.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
    })
}
