//! The directory: seeded codes and a valid new type.

use serde_json::{json, Value};

use super::app::{json_with_status, TestApp};

/// A seeded type used for reads.
pub const SEEDED: &str = "11100000000013338W001";

/// The code new test types are created under (same authority as the seeded driving licence).
pub const NEW_CODE: &str = "11100000000013338W099";

/// A valid creation body, derived from a seed file.
pub fn new_type_body(code: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/licence-types/11100000000013338W001.json"
    );
    let mut body: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("seed file")).expect("json");
    let map = body.as_object_mut().expect("object");
    map.remove("status");
    map.insert("code".into(), json!(code));
    map.insert("nameZh".into(), json!("测试证照"));
    map.insert("nameEn".into(), json!("Test Licence"));
    body
}

pub async fn type_count(app: &TestApp) -> u64 {
    let body = json_with_status(app.get("/v1/licence-types?perPage=100").await, 200).await;
    body["total"].as_u64().expect("total")
}
