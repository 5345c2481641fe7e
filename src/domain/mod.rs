//! The registry's domain: identifiers, licence types and their schemas, issuers, authorisations
//! and their DID documents. No HTTP, no SQL.

pub mod authorisation;
pub mod did;
pub mod identifiers;
pub mod issuer;
pub mod licence;
pub mod licence_type;
pub mod presentation;
pub mod schema;
pub mod submission;
