//! The trust bundle: everything a relying party needs to verify licences with no call to the
//! registry — published licence types with their schemas, issuers and their key windows,
//! authorisations, references to every status list in use (URL and digest of its bits), and the
//! latest signed checkpoint — signed by the registry with eddsa-jcs-2022 and valid until
//! `nextUpdate`. It names no licence: a licence's status comes from the lists, its registration
//! from its own receipt (`docs/offline.md`).
//!
//! [`build`] makes it from the store, [`document`] is its typed form and [`open`] checks one.
//! Verifying against it is the verification engine's ([`crate::verify::offline`]).

mod build;
mod document;

pub use build::{assemble, sign, BundleCache, Registry, SignedBundle, REFRESH};
pub use document::{
    bits_digest, open, Bundle, BundleAuthorisation, BundleError, BundleIssuer, BundleKey,
    BundleList, BundleLog, BundleSchema, BundleType, TrustedBundle, BUNDLE_TYPE,
};
