//! Imports into the register: NDJSON command files ([`commands`]) and legacy paper household
//! books ([`books`]), decided on the supplied clock ([`time`]) exactly as the API decides them.

pub mod books;
pub mod commands;
pub mod time;

pub use books::import_books;
pub use commands::{ImportError, ImportOptions, ImportReport, Line, file_size, import};
