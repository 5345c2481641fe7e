//! elicence: the registry and verification service for electronic licences (电子证照).
//!
//! The binary is thin (`src/main.rs`); everything lives here so that tests and tools can build
//! the same [`startup::Application`].

pub mod auth;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod extract;
pub mod issuer;
pub mod log;
pub mod metrics;
pub mod oidc;
pub mod parallel;
pub mod presentation;
pub mod qr;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod status_list;
pub mod storage;
pub mod submissions;
pub mod telemetry;
mod telemetry_mw;
pub mod vcapi;
pub mod verify;
pub mod web;
