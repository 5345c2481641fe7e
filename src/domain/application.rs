//! Applications by reference, and their life. An application is the holder's act (用证授权):
//! the holder files it, or approves one an agency prepared; approving is the consent for that
//! agency, that matter and those licences. An agency's application stays pending, with nothing
//! checked, proposed or readable, until the holder decides. Only an approved, open application
//! lets the handling agency read the licences that fulfilled a requirement; the holder may
//! withdraw it at any time, which ends that right at once.
//!
//! ```text
//! agency files ─▶ pending ─┬─ holder approves ─▶ approved ─┬─ holder withdraws ─▶ withdrawn
//!                          └─ holder declines ─▶ declined  └─ agency closes / 90 days: closed
//! holder files ─────────────────────────────────▶ approved
//! ```

mod evaluate;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use evaluate::{
    evaluate, Evaluation, Reference, ReferenceOutcome, Referenced, Refusal, RequirementOutcome,
};

use super::identifiers::{HolderId, LicenceId, Uscc};

/// How long the handling agency may read the fulfilling licences once approved, unless the
/// agency closes or the holder withdraws earlier.
pub const LIFETIME_DAYS: i64 = 90;

/// The end of an application's life when approved at `at`.
pub fn expires_at(at: DateTime<Utc>) -> DateTime<Utc> {
    at + Duration::days(LIFETIME_DAYS)
}

/// Where an application stands in the holder's hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationState {
    /// Prepared by the agency; nothing checked or readable yet.
    Pending,
    /// The holder's consent: references checked, fulfilling licences readable while open.
    Approved,
    /// The holder refused the agency's application.
    Declined,
    /// The holder withdrew an approved application: no more reads.
    Withdrawn,
}

impl ApplicationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Approved,
            Self::Declined,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Who started the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Holder,
    Agency,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holder => "holder",
            Self::Agency => "agency",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Holder, Self::Agency]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    pub matter: String,
    /// The matter's handling agency: the one the holder's consent is for.
    pub agency: Uscc,
    pub applicant: HolderId,
    pub use_cause: String,
    pub state: ApplicationState,
    pub origin: Origin,
    /// Licences the agency named for the holder to consider (never checked before approval).
    pub requested: Vec<LicenceId>,
    /// The check of the holder's chosen references: present once approved.
    #[serde(flatten)]
    pub evaluation: Option<Evaluation>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A change the application's state does not allow. Codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Transition {
    #[error("the application is not pending: it was already approved or declined")]
    NotPending,
    #[error("only an approved application can be withdrawn")]
    NotApproved,
}

impl Transition {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotPending => "application_not_pending",
            Self::NotApproved => "application_not_approved",
        }
    }
}

/// Why the handling agency may not read a licence through an application. Codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadRefusal {
    #[error("the holder has not approved this application")]
    NotApproved,
    #[error("the holder withdrew this application")]
    Withdrawn,
    #[error("the application is closed or expired")]
    Closed,
    #[error("the licence fulfilled no requirement of this application")]
    NotEntitled,
}

impl ReadRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotApproved => "application_not_approved",
            Self::Withdrawn => "application_withdrawn",
            Self::Closed => "application_closed",
            Self::NotEntitled => "not_entitled",
        }
    }
}

impl Application {
    /// An agency's application, waiting for the holder. It expires, unanswered, after the
    /// lifetime; approval starts the lifetime afresh.
    pub fn prepared(
        id: String,
        (matter, agency): (String, Uscc),
        applicant: HolderId,
        use_cause: String,
        requested: Vec<LicenceId>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            matter,
            agency,
            applicant,
            use_cause,
            state: ApplicationState::Pending,
            origin: Origin::Agency,
            requested,
            evaluation: None,
            created_at: now,
            decided_at: None,
            expires_at: expires_at(now),
            closed_at: None,
        }
    }

    /// The holder's own application, approved as it is filed.
    pub fn filed_by_holder(
        id: String,
        (matter, agency): (String, Uscc),
        applicant: HolderId,
        use_cause: String,
        evaluation: Evaluation,
        now: DateTime<Utc>,
    ) -> Self {
        let mut filed = Self::prepared(id, (matter, agency), applicant, use_cause, vec![], now);
        filed.origin = Origin::Holder;
        filed.state = ApplicationState::Approved;
        filed.evaluation = Some(evaluation);
        filed.decided_at = Some(now);
        filed
    }

    /// The holder approves a pending application with the check of the licences it chose.
    pub fn approve(
        &mut self,
        evaluation: Evaluation,
        now: DateTime<Utc>,
    ) -> Result<(), Transition> {
        self.pending(now)?;
        self.state = ApplicationState::Approved;
        self.evaluation = Some(evaluation);
        self.decided_at = Some(now);
        self.expires_at = expires_at(now);
        Ok(())
    }

    /// The holder declines a pending application.
    pub fn decline(&mut self, now: DateTime<Utc>) -> Result<(), Transition> {
        self.pending(now)?;
        self.state = ApplicationState::Declined;
        self.decided_at = Some(now);
        Ok(())
    }

    /// The holder withdraws its consent: the agency reads nothing more through it.
    pub fn withdraw(&mut self, now: DateTime<Utc>) -> Result<(), Transition> {
        if self.state != ApplicationState::Approved {
            return Err(Transition::NotApproved);
        }
        self.state = ApplicationState::Withdrawn;
        self.decided_at = Some(now);
        Ok(())
    }

    /// Whether the holder can still decide at `now`: pending, neither closed nor expired.
    pub fn pending(&self, now: DateTime<Utc>) -> Result<(), Transition> {
        match self.state {
            ApplicationState::Pending if self.closed_at.is_none() && now < self.expires_at => {
                Ok(())
            }
            _ => Err(Transition::NotPending),
        }
    }

    /// Whether the handling agency may read `id` through this application at `now`.
    pub fn may_read(&self, id: &LicenceId, now: DateTime<Utc>) -> Result<(), ReadRefusal> {
        match self.state {
            ApplicationState::Pending | ApplicationState::Declined => {
                return Err(ReadRefusal::NotApproved)
            }
            ApplicationState::Withdrawn => return Err(ReadRefusal::Withdrawn),
            ApplicationState::Approved => {}
        }
        if !self.entitles(id) {
            return Err(ReadRefusal::NotEntitled);
        }
        if self.closed_at.is_some() || now >= self.expires_at {
            return Err(ReadRefusal::Closed);
        }
        Ok(())
    }

    /// Whether `id` fulfilled a requirement of this application (never before approval).
    pub fn entitles(&self, id: &LicenceId) -> bool {
        self.evaluation
            .as_ref()
            .is_some_and(|e| e.fulfilling().iter().any(|(l, _)| l == id))
    }
}

#[cfg(test)]
mod tests;
