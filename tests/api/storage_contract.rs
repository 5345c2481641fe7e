//! The storage contract: every `Store` method, called directly, behaves the same on SQLite and
//! PostgreSQL.

use chrono::Utc;
use elicence::domain::identifiers::TypeCode;
use elicence::domain::licence_type::{
    NewLicenceType, NewLicenceTypeRequest, Transfer, TypeFilter, TypeStatus,
};
use elicence::storage::StoreError;

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::directory::new_type_body;

fn new_type(code: &str) -> NewLicenceType {
    let request: NewLicenceTypeRequest =
        serde_json::from_value(new_type_body(code)).expect("request");
    NewLicenceType::try_from(request).expect("valid type")
}

on_both_backends!(directory_contract, core_contract, application_contract);

async fn core_contract(app: TestApp) {
    let store = app.state.store.as_ref();
    store.ping().await.expect("ping");
    store.migrate().await.expect("migrations are idempotent");
    assert_eq!(
        store.backend(),
        match app.backend {
            crate::support::app::Backend::Sqlite => "sqlite",
            crate::support::app::Backend::Postgres => "postgres",
        }
    );
    assert!(store.pool_stats().size >= 1);
}

async fn directory_contract(app: TestApp) {
    let store = app.state.store.as_ref();
    let code: TypeCode = "11100000000013338W077".parse().expect("code");
    let new = new_type(code.as_str());
    let now = Utc::now();
    store
        .insert_licence_type(&new, TypeStatus::Draft, "uEiA", now)
        .await
        .expect("insert");
    assert!(matches!(
        store
            .insert_licence_type(&new, TypeStatus::Draft, "uEiA", now)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let stored = store
        .licence_type(&code)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(stored.status, TypeStatus::Draft);
    assert_eq!(stored.versions.len(), 1);
    assert_eq!(stored.matters, new.matters);
    assert!((stored.created_at - now).num_milliseconds().abs() < 1);

    let v2 = store
        .add_schema_version(&code, new.schema.document(), "uEiB", now)
        .await
        .expect("v2");
    assert_eq!(v2, 2);
    assert_eq!(
        store
            .schema_document(&code, 2)
            .await
            .expect("read")
            .as_ref(),
        Some(new.schema.document())
    );
    assert_eq!(store.schema_document(&code, 3).await.expect("read"), None);

    store
        .set_type_status(&code, TypeStatus::Draft, TypeStatus::Published, now)
        .await
        .expect("publish");
    assert!(matches!(
        store
            .set_type_status(&code, TypeStatus::Draft, TypeStatus::Published, now)
            .await,
        Err(StoreError::Conflict(_))
    ));

    let mut to = stored.defining_authority.clone();
    to.uscc = "11220000013544541J".parse().expect("uscc");
    let transfer = Transfer {
        from: stored.defining_authority.clone(),
        to: to.clone(),
        effective_at: now,
        reason: None,
    };
    store
        .transfer_licence_type(&code, &transfer)
        .await
        .expect("transfer");
    assert!(matches!(
        store.transfer_licence_type(&code, &transfer).await,
        Err(StoreError::Conflict(_))
    ));
    let after = store
        .licence_type(&code)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(after.defining_authority, to);
    assert_eq!(after.transfers.len(), 1);
    assert_eq!(after.versions.len(), 2);

    let filter = TypeFilter {
        authority: Some(to.uscc.clone()),
        limit: 10,
        ..TypeFilter::default()
    };
    let (page, total) = store.list_licence_types(&filter).await.expect("list");
    assert_eq!(total, 1);
    assert_eq!(page[0].code, code);
    assert_eq!(page[0].versions.len(), 2);
    let missing: TypeCode = "11100000000013338W076".parse().expect("code");
    assert!(store.licence_type(&missing).await.expect("read").is_none());
}

async fn application_contract(app: TestApp) {
    use elicence::domain::application::{Application, ApplicationState, Evaluation};
    use elicence::domain::identifiers::HolderId;
    let store = app.state.store.as_ref();
    let (agency, _) =
        crate::support::people::agency(&app, "11220000MB0000001", &["applications"]).await;
    crate::support::people::matter(&app, "CON", &agency, &[crate::support::signing::TYPE_CODE])
        .await;
    let applicant: HolderId = format!("urn:cn:rid:{}", crate::support::people::CITIZEN)
        .parse()
        .expect("holder");
    // Whole seconds: both backends keep microseconds, not nanoseconds.
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("time");
    let prepared = |id: &str| {
        let matter = ("CON".to_owned(), agency.clone());
        Application::prepared(
            id.into(),
            matter,
            applicant.clone(),
            "x".into(),
            vec![],
            now,
        )
    };
    for id in ["a", "b"] {
        let records = store.insert_application(&prepared(id), vec![]).await;
        assert!(records.expect("insert").is_empty());
    }
    assert_eq!(
        store.application("a").await.expect("read"),
        Some(prepared("a"))
    );
    assert_eq!(store.application("zz").await.expect("read"), None);
    let listed = store.holder_applications(&applicant).await.expect("list");
    assert_eq!(listed.len(), 2);
    // Approve `a`, decline `b`; a second decision from `pending` conflicts.
    let mut approved = prepared("a");
    let evaluation = Evaluation {
        requirements: vec![],
        references: vec![],
        unfulfilled: vec![],
        fully_satisfied: true,
        autofilled: false,
    };
    approved.approve(evaluation, now).expect("approve");
    let from = ApplicationState::Pending;
    store
        .decide_application(&approved, from, vec![])
        .await
        .expect("approve");
    assert_eq!(
        store.application("a").await.expect("read"),
        Some(approved.clone())
    );
    let mut declined = prepared("b");
    declined.decline(now).expect("decline");
    store
        .decide_application(&declined, from, vec![])
        .await
        .expect("decline");
    let again = store.decide_application(&declined, from, vec![]).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let missing = store
        .decide_application(&prepared("zz"), from, vec![])
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    // Withdraw `a` from `approved`.
    approved.withdraw(now).expect("withdraw");
    let from = ApplicationState::Approved;
    store
        .decide_application(&approved, from, vec![])
        .await
        .expect("withdraw");
    let stored = store.application("a").await.expect("read").expect("a");
    assert_eq!(stored.state, ApplicationState::Withdrawn);
    // A pending application closed by its agency can no longer be decided.
    store
        .insert_application(&prepared("c"), vec![])
        .await
        .expect("insert");
    store.close_application("c", now).await.expect("close");
    let mut late = prepared("c");
    late.decline(now).expect("decline in memory");
    let refused = store
        .decide_application(&late, ApplicationState::Pending, vec![])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
}
