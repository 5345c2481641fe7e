//! The integration test binary: the HTTP API and the storage contract, on both backends.

mod directory;
mod helpers;
mod service;
mod signing;
mod submissions;
mod transparency;
mod storage_contract;
