//! The storage contract: every `Store` method, called directly, behaves the same on SQLite and
//! PostgreSQL.

use chrono::Utc;
use elicence::domain::identifiers::TypeCode;
use elicence::domain::licence_type::{
    NewLicenceType, NewLicenceTypeRequest, Transfer, TypeFilter, TypeStatus,
};
use elicence::storage::StoreError;

use crate::directory::new_type_body;
use crate::helpers::TestApp;
use crate::on_both_backends;

fn new_type(code: &str) -> NewLicenceType {
    let request: NewLicenceTypeRequest =
        serde_json::from_value(new_type_body(code)).expect("request");
    NewLicenceType::try_from(request).expect("valid type")
}

on_both_backends!(directory_contract, core_contract);

async fn core_contract(app: TestApp) {
    let store = app.state.store.as_ref();
    store.ping().await.expect("ping");
    store.migrate().await.expect("migrations are idempotent");
    assert_eq!(
        store.backend(),
        match app.backend {
            crate::helpers::Backend::Sqlite => "sqlite",
            crate::helpers::Backend::Postgres => "postgres",
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
