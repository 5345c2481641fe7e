//! The parts of the API document every operation shares, applied after the handlers'
//! annotations: the problem-details body of every refusal, the refusals each kind of operation
//! can answer, and the formats of the identifiers and numbers routes take in paths and queries.
//!
//! Kept in one place so that a route cannot forget them: an operation with a body can always
//! answer 413 and 415, one with a path parameter 404, one behind a token 401 and 403, and any
//! that reads the store 503. Handlers still declare what is theirs alone (409, 410, 422, 429).

use serde_json::{json, Map, Value};
use utoipa::Modify;

/// USCC characters (GB 32100-2015): digits and capitals without I, O, S, V, Z.
const USCC: &str = "[0-9A-HJ-NP-RTUW-Y]";

/// Applies the shared parts to the document.
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        add_components(&mut doc);
        let answers = answer_bodies();
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            for (path, item) in paths.iter_mut() {
                let Some(item) = item.as_object_mut() else {
                    continue;
                };
                for (method, operation) in item.iter_mut() {
                    describe_parameters(path, operation);
                    declare_refusals(path, operation);
                    describe_answers(method, path, operation, &answers);
                }
            }
        }
        // The document was just serialised from this type, and only JSON Schema and response
        // members the type models were added: it reads back.
        if let Ok(updated) = serde_json::from_value(doc) {
            *openapi = updated;
        }
    }
}

/// The problem-details schema and the identifier formats, as named components.
fn add_components(doc: &mut Value) {
    let uscc = format!("^{USCC}{{2}}[0-9]{{6}}{USCC}{{10}}$");
    let type_code = format!("^{USCC}{{2}}[0-9]{{6}}{USCC}{{10}}[0-9]{{3}}$");
    let licence_id = format!(
        "^(urn:elicence:)?1\\.2\\.156\\.3005\\.2\\.{USCC}{{2}}[0-9]{{6}}{USCC}{{10}}[0-9]{{3}}\\.\
         {USCC}{{2}}[0-9]{{6}}{USCC}{{10}}\\.[0-9A-Za-z]{{1,32}}\\.[0-9]{{3}}\\.[0-9A-Z]$"
    );
    let schemas = json!({
        "Problem": {
            "description": "RFC 9457 problem details; `code` is stable for clients to switch on",
            "type": "object",
            "required": ["type", "title", "status", "code", "detail"],
            "properties": {
                "type": {"type": "string", "examples": ["urn:elicence:problem:invalid_uscc"]},
                "title": {"type": "string", "examples": ["Bad Request"]},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "code": {"type": "string", "pattern": "^[a-z0-9_]+$", "examples": ["invalid_uscc"]},
                "detail": {"type": "string"},
                "errors": {
                    "description": "422: the refused items, each with its index and code",
                    "type": "array",
                    "items": {"type": "object"}
                },
                "head": {"description": "409 on a submission: the issuer's current log head", "type": "object"}
            }
        },
        "Uscc": {
            "description": "unified social credit code (GB 32100-2015), check character included",
            "type": "string", "pattern": uscc, "examples": ["11100000000013338W"]
        },
        "TypeCode": {
            "description": "licence type code (GB/T 36902): the authority's USCC and three digits",
            "type": "string", "pattern": type_code, "examples": ["11100000000013338W032"]
        },
        "LicenceId": {
            "description": "licence identifier (GB/T 36904), bare or as an `urn:elicence:` URN",
            "type": "string", "pattern": licence_id,
            "examples": ["urn:elicence:1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"]
        },
        "HolderId": {
            "description": "holder: a resident ID or a USCC, bare or as `urn:cn:rid:`/`urn:cn:uscc:`",
            "type": "string", "pattern": "^(urn:cn:(rid|uscc):)?[0-9A-Z]{18}$",
            "examples": ["urn:cn:uscc:11100000000013338W"]
        },
        "Uuid": {"type": "string", "format": "uuid"}
    });
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        let target = components
            .entry("schemas")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let (Some(target), Value::Object(add)) = (target, schemas) {
            target.extend(add);
        }
    }
}

/// The schema of a parameter, by its name and the path it is on; `None` leaves it as annotated.
fn parameter_schema(path: &str, name: &str) -> Option<Value> {
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let range = |min: u64, max: u64| json!({"type": "integer", "minimum": min, "maximum": max});
    let licence_path = [
        "/v1/licences/",
        "/v1/agency/licences/",
        "/v1/holder/licences/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    Some(match name {
        "uscc" | "issuer" | "authority" => reference("Uscc"),
        "code" if path.starts_with("/v1/licence-types/") => reference("TypeCode"),
        "licence" => reference("LicenceId"),
        "id" if licence_path => reference("LicenceId"),
        "id" if path.starts_with("/v1/agencies/") => range(1, i64::MAX as u64),
        "id" => reference("Uuid"),
        "holder" => reference("HolderId"),
        "version" => range(1, 999),
        "page" => range(1, 100_000),
        "perPage" => range(1, 100),
        "holderCategory" => range(1, 2),
        "limit" => range(1, 500),
        "days" => range(1, 366),
        "count" => range(1, 1000),
        "start" | "index" | "size" | "from" | "to" | "before" => range(0, i64::MAX as u64),
        _ => return None,
    })
}

fn describe_parameters(path: &str, operation: &mut Value) {
    let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters {
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        if let Some(schema) = parameter_schema(path, &name) {
            parameter["schema"] = schema;
        }
    }
}

/// The bodies of successful answers, by `"METHOD path status"` and content type
/// (`openapi_answers.json`). Made from the answers the API tests receive and cut to the outer
/// levels, so the inside of a credential or a licence-type schema is not frozen here; how to
/// make it again: `tools/openapi-answers/README.md`.
fn answer_bodies() -> Map<String, Value> {
    // A file that does not read gives no bodies, which `openapi_document_is_stable` refuses.
    match serde_json::from_str(include_str!("openapi_answers.json")) {
        Ok(Value::Object(answers)) => answers,
        _ => Map::new(),
    }
}

/// Gives each successful answer the body it carries, unless its annotation already does.
fn describe_answers(method: &str, path: &str, operation: &mut Value, answers: &Map<String, Value>) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let key = format!("{} {path} {status}", method.to_uppercase());
        let (Some(response), Some(Value::Object(types))) =
            (response.as_object_mut(), answers.get(&key))
        else {
            continue;
        };
        let content = types
            .iter()
            .map(|(media, schema)| (media.clone(), json!({ "schema": schema })))
            .collect::<Map<_, _>>();
        response
            .entry("content")
            .or_insert_with(|| Value::Object(content));
    }
}

/// Adds the refusals the operation's shape implies and gives every refusal the problem body.
fn declare_refusals(path: &str, operation: &mut Value) {
    let has = |key: &str| operation.get(key).is_some();
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let in_path = parameters.iter().any(|p| p["in"] == "path");
    let body = has("requestBody");
    let secured = operation["security"].as_array().is_some_and(|s| {
        s.iter()
            .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    });
    let stateless = ["/health", "/metrics", "/openapi.json"].contains(&path);
    let mut statuses: Vec<(&str, &str)> = Vec::new();
    if in_path || body || !parameters.is_empty() {
        statuses.push(("400", "a malformed parameter or body"));
    }
    if secured {
        statuses.push(("401", "no token, or one not valid here"));
        statuses.push(("403", "a token without the right to this"));
    }
    if in_path {
        statuses.push(("404", "no such resource"));
    }
    if body {
        statuses.push(("413", "a body over the size or nesting limit"));
        statuses.push(("415", "a body that is not `application/json`"));
    }
    if !stateless {
        statuses.push(("503", "the store is unavailable; retry after `Retry-After`"));
    }
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, description) in statuses {
        responses
            .entry(status)
            .or_insert_with(|| json!({"description": description}));
    }
    for (status, response) in responses.iter_mut() {
        let refusal = status.starts_with('4') || status.starts_with('5');
        if let (true, Some(response)) = (refusal, response.as_object_mut()) {
            response.entry("content").or_insert_with(problem_content);
        }
    }
}

fn problem_content() -> Value {
    let mut content = Map::new();
    content.insert(
        "application/problem+json".to_owned(),
        json!({"schema": {"$ref": "#/components/schemas/Problem"}}),
    );
    Value::Object(content)
}
