//! The application's life: transitions, who may read, expiry.

use super::*;
use crate::domain::matter::Requirement;

const TYPE: &str = "11100000000014062K001";

fn licence() -> LicenceId {
    let issuer = Uscc::with_check("91220101MA0000001").expect("uscc");
    LicenceId::build(&TYPE.parse().expect("type"), &issuer, "A1", 1).expect("id")
}

fn pending(now: DateTime<Utc>) -> Application {
    Application::prepared(
        "a".into(),
        (
            "M".into(),
            Uscc::with_check("11220000MB0000001").expect("uscc"),
        ),
        "urn:cn:rid:11010519491231002X".parse().expect("holder"),
        "cause".into(),
        vec![licence()],
        now,
    )
}

fn fulfilled() -> Evaluation {
    Evaluation {
        requirements: vec![RequirementOutcome {
            requirement: Requirement {
                type_code: TYPE.parse().expect("type"),
                required: true,
                accepted_versions: vec![1],
            },
            fulfilled_by: Some(licence().urn()),
        }],
        references: vec![],
        unfulfilled: vec![],
        fully_satisfied: true,
        autofilled: false,
    }
}

#[test]
fn nothing_is_readable_before_the_holder_approves() {
    let now = Utc::now();
    let mut a = pending(now);
    // Even a licence the agency named is no entitlement while pending.
    assert_eq!(a.may_read(&licence(), now), Err(ReadRefusal::NotApproved));
    assert!(!a.entitles(&licence()));
    a.approve(fulfilled(), now).expect("approve");
    assert_eq!(a.may_read(&licence(), now), Ok(()));
    let other = licence().with_version(2).expect("v2");
    assert_eq!(a.may_read(&other, now), Err(ReadRefusal::NotEntitled));
}

#[test]
fn declined_and_withdrawn_applications_read_nothing() {
    let now = Utc::now();
    let mut declined = pending(now);
    declined.decline(now).expect("decline");
    assert_eq!(declined.state, ApplicationState::Declined);
    assert_eq!(
        declined.approve(fulfilled(), now),
        Err(Transition::NotPending)
    );
    assert_eq!(declined.withdraw(now), Err(Transition::NotApproved));
    assert_eq!(
        declined.may_read(&licence(), now),
        Err(ReadRefusal::NotApproved)
    );

    let mut withdrawn = pending(now);
    withdrawn.approve(fulfilled(), now).expect("approve");
    assert_eq!(withdrawn.decline(now), Err(Transition::NotPending));
    withdrawn.withdraw(now).expect("withdraw");
    assert_eq!(
        withdrawn.may_read(&licence(), now),
        Err(ReadRefusal::Withdrawn)
    );
    assert_eq!(withdrawn.withdraw(now), Err(Transition::NotApproved));
}

#[test]
fn approval_starts_the_lifetime_and_closing_ends_reads() {
    let filed = Utc::now() - Duration::days(LIFETIME_DAYS - 1);
    let now = Utc::now();
    let mut a = pending(filed);
    a.approve(fulfilled(), now).expect("approve");
    assert_eq!(a.expires_at, expires_at(now));
    let later = now + Duration::days(LIFETIME_DAYS);
    assert_eq!(a.may_read(&licence(), later), Err(ReadRefusal::Closed));
    a.closed_at = Some(now);
    assert_eq!(a.may_read(&licence(), now), Err(ReadRefusal::Closed));
}

#[test]
fn a_closed_or_expired_pending_application_cannot_be_decided() {
    let now = Utc::now();
    let mut a = pending(now);
    a.closed_at = Some(now);
    assert_eq!(a.approve(fulfilled(), now), Err(Transition::NotPending));
    assert_eq!(a.decline(now), Err(Transition::NotPending));
    let a = pending(now - Duration::days(LIFETIME_DAYS));
    assert_eq!(a.pending(now), Err(Transition::NotPending));
}

#[test]
fn a_holders_own_application_is_approved_when_filed() {
    let now = Utc::now();
    let a = Application::filed_by_holder(
        "h".into(),
        (
            "M".into(),
            Uscc::with_check("11220000MB0000001").expect("uscc"),
        ),
        "urn:cn:rid:11010519491231002X".parse().expect("holder"),
        "cause".into(),
        fulfilled(),
        now,
    );
    assert_eq!(
        (a.state, a.origin),
        (ApplicationState::Approved, Origin::Holder)
    );
    assert_eq!(a.may_read(&licence(), now), Ok(()));
    assert_eq!(
        ApplicationState::parse("withdrawn"),
        Some(ApplicationState::Withdrawn)
    );
    assert_eq!(Origin::parse(a.origin.as_str()), Some(Origin::Holder));
}
