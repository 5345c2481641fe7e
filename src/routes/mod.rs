//! HTTP routes, one file per resource. Handlers extract, parse, call domain and storage, answer.

use actix_web::web;

pub mod agencies;
pub(crate) mod application_checks;
pub mod applications;
pub mod authorisations;
pub mod bundle;
pub mod catalogue;
pub mod consents;
pub mod did;
pub mod health;
pub mod holder;
pub mod holder_applications;
pub mod issuers;
pub mod licence_types;
pub mod licences;
pub mod log;
pub mod matters;
pub mod openapi;
mod parse;
pub mod presentations;
mod references;
pub mod stats;
pub mod status_lists;
pub mod submissions;
pub mod vcapi;
pub mod verify;
mod verify_access;
pub mod verify_cache;

/// Registers every route. Actix tries routes in the order they are registered, so the
/// verification routes (the bulk of the traffic, and no pattern of theirs overlaps another's)
/// come first: registered last, matching them cost ~3 % of a verification request's CPU.
pub fn configure(cfg: &mut web::ServiceConfig) {
    verify::configure(cfg);
    health::configure(cfg);
    openapi::configure(cfg);
    licence_types::configure(cfg);
    catalogue::configure(cfg);
    issuers::configure(cfg);
    did::configure(cfg);
    authorisations::configure(cfg);
    vcapi::configure(cfg);
    submissions::configure(cfg);
    log::configure(cfg);
    licences::configure(cfg);
    agencies::configure(cfg);
    matters::configure(cfg);
    applications::configure(cfg);
    consents::configure(cfg);
    holder::configure(cfg);
    holder_applications::configure(cfg);
    stats::configure(cfg);
    bundle::configure(cfg);
    status_lists::configure(cfg);
    presentations::configure(cfg);
    crate::web::configure(cfg);
}
