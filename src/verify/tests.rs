//! Unit tests of the verification engine over an in-memory view.
