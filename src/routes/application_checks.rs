//! What the holder's act (filing or approving an application) checks: the licences it names
//! must be the holder's own (another holder's answers exactly as one that does not exist), the
//! registry proposes only from the holder's own licences and only when the holder asks, and
//! each reference checked becomes an access record in the transaction that stores the act.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::domain::access::{Channel, NewAccessRecord};
use crate::domain::application::{evaluate, Application, Evaluation, Reference};
use crate::domain::identifiers::{HolderId, LicenceId};
use crate::domain::matter::Matter;
use crate::error::ApiError;
use crate::state::AppState;

use super::references::{referenced, Lookup};

/// The most references one application may carry.
pub(crate) const MAX_REFERENCES: usize = 50;

/// Refuses more than [`MAX_REFERENCES`] references.
pub(crate) fn bounded(licences: &[String]) -> Result<(), ApiError> {
    if licences.len() > MAX_REFERENCES {
        return Err(ApiError::bad_request(
            "too_many_references",
            format!("at most {MAX_REFERENCES} licence references"),
        ));
    }
    Ok(())
}

/// The matter with this code (422 `matter_not_found`).
pub(crate) async fn matter(state: &AppState, code: &str) -> Result<Matter, ApiError> {
    state
        .store
        .matter(code)
        .await?
        .ok_or_else(|| ApiError::unprocessable("matter_not_found", format!("no matter {code:?}")))
}

/// The licences the holder chose, or the ones the registry proposes from the holder's own when
/// the holder asks (`propose`).
pub(crate) async fn chosen(
    state: &AppState,
    matter: &Matter,
    holder: &HolderId,
    licences: Vec<String>,
    propose: bool,
) -> Result<Vec<String>, ApiError> {
    if !propose {
        bounded(&licences)?;
        return Ok(licences);
    }
    if !licences.is_empty() {
        return Err(ApiError::bad_request(
            "propose_with_licences",
            "propose chooses the licences: give either licences or propose",
        ));
    }
    let held = state.store.holder_licences(holder).await?;
    Ok(held
        .into_iter()
        .filter(|l| {
            let wanted = |r: &crate::domain::matter::Requirement| &r.type_code == l.id.type_code();
            matter.requirements.iter().any(wanted)
        })
        .map(|l| l.id.urn())
        .collect())
}

/// Checks the holder's references against the matter. Each must name one of the holder's own
/// licences: anything else (unparsable, unknown, another holder's) is 404
/// `licence_not_found`, one answer for all, and nothing is stored.
pub(crate) async fn check(
    state: &AppState,
    matter: &Matter,
    holder: &HolderId,
    texts: Vec<String>,
    now: DateTime<Utc>,
) -> Result<(Evaluation, Vec<Reference>), ApiError> {
    let not_found = || ApiError::not_found("licence_not_found", "no such licence of this holder");
    let mut lookup = Lookup::new(state);
    let mut references = Vec::with_capacity(texts.len());
    for text in texts {
        // Ownership is settled by the one lookup, before any signature check, so that another
        // holder's licence costs what a missing one does.
        let record = match LicenceId::parse_reference(&text).ok() {
            Some(id) => state.store.licence_record(&id).await?,
            None => None,
        };
        let record = record
            .filter(|r| &r.holder == holder)
            .ok_or_else(not_found)?;
        let signature = lookup.signature(&record).await?;
        let found = Some(referenced(record, signature));
        references.push(Reference { text, found });
    }
    let evaluation = evaluate(&matter.requirements, holder, &references, now);
    Ok((evaluation, references))
}

/// One access record per reference checked, naming the handling agency and the use cause.
pub(crate) fn records(
    application: &Application,
    references: &[Reference],
    route: &str,
) -> Vec<NewAccessRecord> {
    let outcomes = application
        .evaluation
        .as_ref()
        .map(|e| e.references.as_slice())
        .unwrap_or_default();
    references
        .iter()
        .zip(outcomes)
        .map(|(reference, outcome)| NewAccessRecord {
            channel: Channel::Application,
            agency: Some(application.agency.clone()),
            holder: Some(application.applicant.clone()),
            licence: LicenceId::parse_reference(&reference.text)
                .ok()
                .map(|id| id.urn()),
            purpose: application.use_cause.clone(),
            route: route.to_owned(),
            result: outcome
                .code
                .clone()
                .unwrap_or_else(|| "fulfilled".to_owned()),
            application: Some(application.id.clone()),
        })
        .collect()
}

/// The API form of an application: licence identifiers as URNs.
pub(crate) fn present(application: &Application) -> Value {
    let mut value = serde_json::to_value(application).unwrap_or(Value::Null);
    value["requested"] = application
        .requested
        .iter()
        .map(|l| json!(l.urn()))
        .collect();
    value
}

/// Parses the licences an agency names for the holder: syntax only, nothing is looked up.
pub(crate) fn requested(texts: &[String]) -> Result<Vec<LicenceId>, ApiError> {
    bounded(texts)?;
    texts
        .iter()
        .map(|t| {
            LicenceId::parse_reference(t).ok().ok_or_else(|| {
                ApiError::bad_request("invalid_licence_id", format!("not a licence id: {t:?}"))
            })
        })
        .collect()
}
