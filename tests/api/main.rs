//! The integration test binary: the HTTP API and the storage contract, on both backends.

mod directory;
mod helpers;
mod service;
mod storage_contract;
