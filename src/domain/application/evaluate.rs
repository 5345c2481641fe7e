//! The check of an application's references: each licence reference is checked against the
//! matter's requirements and the applicant, and every requirement is reported as fulfilled (by
//! which licence) or not. Pure: the caller gathers what the registry knows of each referenced
//! licence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::identifiers::{HolderId, LicenceId, TypeCode};
use crate::domain::licence::LicenceState;
use crate::domain::matter::Requirement;

/// What the registry knows of one referenced licence version.
#[derive(Debug, Clone)]
pub struct Referenced {
    pub id: LicenceId,
    pub holder: HolderId,
    pub schema_version: u32,
    /// The licence's current head version (a newer one supersedes `id`).
    pub head: LicenceId,
    pub state: LicenceState,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// The result of re-checking the signature and issuer key: `Err(code)` when void.
    pub signature: Result<(), &'static str>,
}

/// Why a reference fulfils nothing. Codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InvalidId,
    /// No such licence, or another holder's: the two are one refusal, so that a check never
    /// reveals that a licence exists.
    NotFound,
    WrongType,
    VersionNotAccepted,
    Superseded,
    Revoked,
    Suspended,
    Expired,
    NotYetValid,
    Signature(&'static str),
    Duplicate,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidId => "invalid_licence_id",
            Self::NotFound => "not_found",
            Self::WrongType => "wrong_type",
            Self::VersionNotAccepted => "version_not_accepted",
            Self::Superseded => "superseded",
            Self::Revoked => "revoked",
            Self::Suspended => "suspended",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Signature(code) => code,
            Self::Duplicate => "requirement_already_fulfilled",
        }
    }
}

/// One reference as given, with what the registry found (`None` when unknown).
#[derive(Debug, Clone)]
pub struct Reference {
    pub text: String,
    pub found: Option<Referenced>,
}

/// The outcome for one reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceOutcome {
    /// The reference as given (a URN when it parsed).
    pub licence: String,
    pub fulfils: Option<TypeCode>,
    pub code: Option<String>,
}

/// The outcome for one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequirementOutcome {
    #[serde(flatten)]
    pub requirement: Requirement,
    pub fulfilled_by: Option<String>,
}

/// The whole verdict on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    pub requirements: Vec<RequirementOutcome>,
    pub references: Vec<ReferenceOutcome>,
    /// Type codes of required requirements nothing fulfils.
    pub unfulfilled: Vec<TypeCode>,
    /// Every required requirement is fulfilled by reference: no paper, no visit.
    pub fully_satisfied: bool,
    /// The references were proposed by the registry from the applicant's current licences.
    #[serde(default)]
    pub autofilled: bool,
}

impl Evaluation {
    /// The licences that fulfilled a requirement, with its type.
    pub fn fulfilling(&self) -> Vec<(LicenceId, TypeCode)> {
        self.requirements
            .iter()
            .filter_map(|r| {
                let id = LicenceId::from_urn(r.fulfilled_by.as_deref()?).ok()?;
                Some((id, r.requirement.type_code.clone()))
            })
            .collect()
    }
}

/// Checks each reference in order; the first acceptable reference of a type fulfils it.
pub fn evaluate(
    requirements: &[Requirement],
    applicant: &HolderId,
    references: &[Reference],
    now: DateTime<Utc>,
) -> Evaluation {
    let mut outcomes: Vec<RequirementOutcome> = requirements
        .iter()
        .map(|r| RequirementOutcome {
            requirement: r.clone(),
            fulfilled_by: None,
        })
        .collect();
    let mut refs = Vec::with_capacity(references.len());
    for reference in references {
        let verdict = check(requirements, applicant, reference, now).and_then(|i| {
            match outcomes[i].fulfilled_by {
                Some(_) => Err(Refusal::Duplicate),
                None => Ok(i),
            }
        });
        // From the text alone, never from what was found: a refusal reads the same whether or
        // not the licence exists.
        let licence = LicenceId::parse_reference(&reference.text)
            .ok()
            .map_or_else(|| reference.text.clone(), |id| id.urn());
        refs.push(match verdict {
            Ok(i) => {
                outcomes[i].fulfilled_by = Some(licence.clone());
                ReferenceOutcome {
                    licence,
                    fulfils: Some(requirements[i].type_code.clone()),
                    code: None,
                }
            }
            Err(refusal) => ReferenceOutcome {
                licence,
                fulfils: None,
                code: Some(refusal.code().to_owned()),
            },
        });
    }
    let unfulfilled: Vec<TypeCode> = outcomes
        .iter()
        .filter(|o| o.requirement.required && o.fulfilled_by.is_none())
        .map(|o| o.requirement.type_code.clone())
        .collect();
    Evaluation {
        requirements: outcomes,
        references: refs,
        fully_satisfied: unfulfilled.is_empty(),
        unfulfilled,
        autofilled: false,
    }
}

/// The index of the requirement `reference` fulfils, or why it fulfils none. Ownership is
/// checked before anything else, and another holder's licence is refused as one that does not
/// exist, so that nothing about it is revealed.
fn check(
    requirements: &[Requirement],
    applicant: &HolderId,
    reference: &Reference,
    now: DateTime<Utc>,
) -> Result<usize, Refusal> {
    let found = reference.found.as_ref().ok_or_else(|| {
        match LicenceId::parse_reference(&reference.text).ok() {
            Some(_) => Refusal::NotFound,
            None => Refusal::InvalidId,
        }
    })?;
    if &found.holder != applicant {
        return Err(Refusal::NotFound);
    }
    let index = requirements
        .iter()
        .position(|r| &r.type_code == found.id.type_code())
        .ok_or(Refusal::WrongType)?;
    if !requirements[index].accepts_version(found.schema_version) {
        return Err(Refusal::VersionNotAccepted);
    }
    if found.head != found.id {
        return Err(Refusal::Superseded);
    }
    match found.state {
        LicenceState::Revoked => return Err(Refusal::Revoked),
        LicenceState::Suspended => return Err(Refusal::Suspended),
        LicenceState::Active => {}
    }
    if now >= found.valid_until {
        return Err(Refusal::Expired);
    }
    if now < found.valid_from {
        return Err(Refusal::NotYetValid);
    }
    found.signature.map_err(Refusal::Signature)?;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "11100000000014062K001";

    type Change = Box<dyn Fn(&mut Referenced)>;

    fn requirement(required: bool) -> Requirement {
        Requirement {
            type_code: TYPE.parse().expect("type"),
            required,
            accepted_versions: vec![1],
        }
    }

    fn licence(serial: &str) -> Referenced {
        let issuer =
            crate::domain::identifiers::Uscc::with_check("91220101MA0000001").expect("uscc");
        let id = LicenceId::build(&TYPE.parse().expect("type"), &issuer, serial, 1).expect("id");
        Referenced {
            head: id.clone(),
            id,
            holder: "urn:cn:rid:11010519491231002X".parse().expect("holder"),
            schema_version: 1,
            state: LicenceState::Active,
            valid_from: "2020-01-01T00:00:00Z".parse().expect("time"),
            valid_until: "2030-01-01T00:00:00Z".parse().expect("time"),
            signature: Ok(()),
        }
    }

    fn run(found: Referenced) -> Evaluation {
        let applicant = found.holder.clone();
        let reference = Reference {
            text: found.id.urn(),
            found: Some(found),
        };
        evaluate(&[requirement(true)], &applicant, &[reference], Utc::now())
    }

    #[test]
    fn an_active_licence_of_the_applicant_fulfils() {
        let e = run(licence("A1"));
        assert!(e.fully_satisfied);
        assert_eq!(e.fulfilling().len(), 1);
        assert!(e.unfulfilled.is_empty());
    }

    #[test]
    fn refusals_have_codes() {
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|l| l.state = LicenceState::Revoked), "revoked"),
            (Box::new(|l| l.state = LicenceState::Suspended), "suspended"),
            (Box::new(|l| l.schema_version = 2), "version_not_accepted"),
            (
                Box::new(|l| l.valid_until = "2021-01-01T00:00:00Z".parse().expect("t")),
                "expired",
            ),
            (
                Box::new(|l| l.signature = Err("key_compromised")),
                "key_compromised",
            ),
            (
                Box::new(|l| l.head = l.id.with_version(2).expect("v2")),
                "superseded",
            ),
        ];
        for (change, code) in cases {
            let mut l = licence("A1");
            change(&mut l);
            let e = run(l);
            assert!(!e.fully_satisfied, "{code}");
            assert_eq!(e.references[0].code.as_deref(), Some(code));
        }
    }

    #[test]
    fn another_holder_and_unknown_ids() {
        let l = licence("A1");
        let other: HolderId = "urn:cn:rid:440524188001010014".parse().expect("holder");
        let refs = [
            Reference {
                text: l.id.urn(),
                found: Some(l.clone()),
            },
            Reference {
                text: "urn:elicence:nope".into(),
                found: None,
            },
            Reference {
                text: licence("B2").id.urn(),
                found: None,
            },
        ];
        let e = evaluate(&[requirement(false)], &other, &refs, Utc::now());
        let codes: Vec<_> = e
            .references
            .iter()
            .map(|r| r.code.clone().unwrap_or_default())
            .collect();
        // Another holder's licence and a missing one are refused alike.
        assert_eq!(codes, ["not_found", "invalid_licence_id", "not_found"]);
        assert_eq!(
            e.references[0],
            ReferenceOutcome {
                licence: l.id.urn(),
                fulfils: None,
                code: Some("not_found".into()),
            }
        );
        // Optional requirements never block.
        assert!(e.fully_satisfied);
    }
}
