//! The registry's domain: identifiers, licence types and their schemas, issuers, authorisations
//! and their DID documents. No HTTP, no SQL.

pub mod access;
pub mod agency;
pub mod application;
pub mod authorisation;
pub mod consent;
pub mod did;
pub mod identifiers;
pub mod issuer;
pub mod licence;
pub mod licence_type;
pub mod matter;
pub mod presentation;
pub mod schema;
pub mod status_list;
pub mod submission;
pub mod time;
