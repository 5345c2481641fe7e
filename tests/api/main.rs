//! The integration test binary: the HTTP API and the storage contract, on both backends.

mod authorisations;
mod bundle;
mod chains;
mod consents;
mod directory;
mod helpers;
mod intake_contract;
mod issuer_contract;
mod issuers;
mod matrix;
mod offline;
mod pages;
mod people;
mod presentations;
mod refusals;
mod service;
mod signing;
mod storage_contract;
mod submissions;
mod transparency;
mod vcapi;
mod verify;
mod verify_access;
mod verify_at;
mod verify_cache;
mod verify_requests;
