//! The trust bundle: everything a relying party needs to verify licences with no call to the
//! registry — published licence types with their schemas, issuers and their key windows,
//! authorisations, suspended and revoked licences (by hash, never by identifier), superseded
//! versions (by hash), and the latest signed checkpoint — signed by the registry with
//! eddsa-jcs-2022 and valid until `nextUpdate`.
//!
//! [`build`] makes it from the store, [`document`] is its typed form and [`open`] checks one,
//! [`offline`] verifies a licence against an opened bundle.

mod build;
mod document;
pub mod offline;

pub use build::{assemble, sign, BundleCache, Registry, SignedBundle, REFRESH};
pub use document::{
    licence_hash, open, registered_hash, Bundle, BundleAuthorisation, BundleError, BundleIssuer,
    BundleKey, BundleLog, BundleSchema, BundleStatus, BundleSuperseded, BundleType, TrustedBundle,
    BUNDLE_TYPE,
};
pub use offline::{verify_offline, Check, OfflineResult};
