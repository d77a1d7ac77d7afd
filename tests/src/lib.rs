//! End-to-end tests that cross crate boundaries live in `tests/tests/`; this library holds the
//! helpers they share. It is empty until the first cross-crate test arrives.
