//! The HTTP API and the command-line operations of the `residence` binary.
