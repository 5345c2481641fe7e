//! What the tests share, in one place: the application under test (`app`), test issuers that
//! sign (`signing`), and per-area helpers that more than one test file calls. Test files import
//! from here, never from each other.

pub mod app;
pub mod applications;
pub mod directory;
pub mod issuers;
pub mod logs;
pub mod offline;
pub mod oidc;
pub mod people;
pub mod qr;
pub mod signing;
pub mod status_lists;
pub mod submissions;
pub mod verify;
