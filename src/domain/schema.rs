//! Licence-type schemas: JSON Schema draft 2020-12 documents for a licence's
//! `credentialSubject`, compiled once, never fetched from anywhere.

use serde_json::Value;

/// The only dialect the registry accepts.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Largest schema accepted, in bytes of its JCS form.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// Why a schema was refused.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("a schema must be a JSON object")]
    NotAnObject,
    #[error("$schema must be {DRAFT_2020_12:?} when present")]
    WrongDialect,
    #[error("the schema must describe an object (\"type\": \"object\")")]
    NotObjectType,
    #[error("the schema must declare the properties \"id\" and \"holderName\" and require them")]
    MissingHolderFields,
    #[error("reference {0:?} is not local: only \"#…\" references are allowed")]
    RemoteReference(String),
    #[error("schema is too large (more than {MAX_SCHEMA_BYTES} bytes)")]
    TooLarge,
    #[error("not a valid JSON Schema 2020-12 document: {0}")]
    Invalid(String),
}

impl SchemaError {
    /// Stable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RemoteReference(_) => "schema_remote_reference",
            Self::TooLarge => "schema_too_large",
            Self::MissingHolderFields => "schema_missing_holder_fields",
            _ => "schema_invalid",
        }
    }
}

/// A schema known to be valid 2020-12, self-contained, with its compiled validator.
pub struct CompiledSchema {
    document: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema").finish_non_exhaustive()
    }
}

impl CompiledSchema {
    /// Checks and compiles a licence-type schema.
    pub fn compile(document: Value) -> Result<Self, SchemaError> {
        let object = document.as_object().ok_or(SchemaError::NotAnObject)?;
        if serde_json::to_vec(&document).map_or(true, |b| b.len() > MAX_SCHEMA_BYTES) {
            return Err(SchemaError::TooLarge);
        }
        match object.get("$schema") {
            None => {}
            Some(Value::String(s)) if s == DRAFT_2020_12 => {}
            Some(_) => return Err(SchemaError::WrongDialect),
        }
        if object.get("type") != Some(&Value::String("object".into())) {
            return Err(SchemaError::NotObjectType);
        }
        check_holder_fields(object)?;
        refuse_remote_references(&document)?;
        jsonschema::draft202012::meta::validate(&document)
            .map_err(|e| SchemaError::Invalid(e.to_string()))?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&document)
            .map_err(|e| SchemaError::Invalid(e.to_string()))?;
        Ok(Self {
            document,
            validator,
        })
    }

    /// The schema as uploaded.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Validates an instance, answering up to `max` messages (`path: message`).
    pub fn validate(&self, instance: &Value, max: usize) -> Result<(), Vec<String>> {
        // The boolean check skips building error locations; nearly every instance passes.
        if self.validator.is_valid(instance) {
            return Ok(());
        }
        let errors: Vec<String> = self
            .validator
            .iter_errors(instance)
            .take(max)
            .map(|e| format!("{}: {}", e.instance_path(), e))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn check_holder_fields(object: &serde_json::Map<String, Value>) -> Result<(), SchemaError> {
    let declared = |name: &str| object.get("properties").and_then(|p| p.get(name)).is_some();
    let required = |name: &str| {
        object
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|v| v == name))
    };
    if ["id", "holderName"]
        .iter()
        .all(|f| declared(f) && required(f))
    {
        Ok(())
    } else {
        Err(SchemaError::MissingHolderFields)
    }
}

/// Walks the schema and refuses any reference that is not a local fragment.
fn refuse_remote_references(value: &Value) -> Result<(), SchemaError> {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                if matches!(key.as_str(), "$ref" | "$dynamicRef") {
                    match member.as_str() {
                        Some(r) if r.starts_with('#') => {}
                        _ => return Err(SchemaError::RemoteReference(short(member))),
                    }
                }
                refuse_remote_references(member)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(refuse_remote_references),
        _ => Ok(()),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    text.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn minimal() -> Value {
        json!({
            "$schema": DRAFT_2020_12,
            "type": "object",
            "required": ["id", "holderName"],
            "properties": {"id": {"type": "string"}, "holderName": {"type": "string"}},
            "$defs": {"d": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}
        })
    }

    #[test]
    fn compiles_and_validates() {
        let schema = CompiledSchema::compile(minimal()).expect("valid schema");
        assert!(schema
            .validate(&json!({"id": "x", "holderName": "张三"}), 5)
            .is_ok());
        let errors = schema.validate(&json!({"id": 1}), 5).unwrap_err();
        assert!(!errors.is_empty());
    }

    #[test]
    fn refuses_remote_refs_anywhere() {
        let mut schema = minimal();
        schema["properties"]["x"] = json!({"$ref": "https://evil.example/s.json"});
        assert!(matches!(
            CompiledSchema::compile(schema),
            Err(SchemaError::RemoteReference(_))
        ));
        let mut schema = minimal();
        schema["properties"]["x"] = json!({"items": [{"$ref": "other.json#/a"}]});
        assert!(matches!(
            CompiledSchema::compile(schema),
            Err(SchemaError::RemoteReference(_))
        ));
    }

    #[test]
    fn refuses_invalid_schemas() {
        let mut schema = minimal();
        schema["properties"]["x"] = json!({"type": 12});
        assert!(matches!(
            CompiledSchema::compile(schema),
            Err(SchemaError::Invalid(_))
        ));
        let mut schema = minimal();
        schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
        assert!(matches!(
            CompiledSchema::compile(schema),
            Err(SchemaError::WrongDialect)
        ));
        assert!(matches!(
            CompiledSchema::compile(json!([])),
            Err(SchemaError::NotAnObject)
        ));
        let mut schema = minimal();
        schema["required"] = json!(["id"]);
        assert!(matches!(
            CompiledSchema::compile(schema),
            Err(SchemaError::MissingHolderFields)
        ));
    }
}
