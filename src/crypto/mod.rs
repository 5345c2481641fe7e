//! Cryptography for signed licences: strict JSON input, RFC 8785 canonical
//! form, Ed25519 keys (PKCS#8 files and Multikey strings), SHA-256 digests and
//! W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite.
//!
//! Nothing here knows about HTTP or storage; callers pass bytes and values in
//! and get typed results or a per-module error with a stable meaning.

pub mod base58;
pub mod batch;
pub mod comb;
pub mod digest;
pub mod jcs;
pub mod key_tables;
pub mod keys;
pub mod multikey;
pub mod proof;
pub mod sign_many;
pub mod strict_json;
