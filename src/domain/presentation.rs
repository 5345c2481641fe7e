//! Presentations by QR (docs/design.md, "Presenting by QR"): what a holder asks to show, checked
//! against the licence type's schema, and what a scanner may see of it. No HTTP, no SQL.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Lifetime when the holder names none.
pub const DEFAULT_LIFETIME: Duration = Duration::minutes(5);
/// The longest lifetime a presentation may have.
pub const MAX_LIFETIME: Duration = Duration::hours(24);
/// Fields disclosed when the holder names none: the name and the licence's own number.
pub const DEFAULT_FIELDS: [&str; 2] = ["holderName", "licenceNumber"];
/// Subject fields that hold the licence's own number, in the seeded schemas.
const NUMBER_FIELDS: [&str; 2] = ["licenceNumber", "certificateNumber"];

/// One field of a type's `credentialSubject` schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaField {
    pub name: String,
    /// The schema's `title` (Chinese and English), or the name.
    pub title: String,
    pub description: Option<String>,
    pub required: bool,
}

/// The fields a subject schema declares, in its order.
pub fn schema_fields(schema: &Value) -> Vec<SchemaField> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, p)| SchemaField {
            name: name.clone(),
            title: p["title"].as_str().unwrap_or(name).to_owned(),
            description: p["description"].as_str().map(str::to_owned),
            required: required.contains(&name.as_str()),
        })
        .collect()
}

/// `POST /v1/presentations` as sent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresentationRequest {
    /// The licence (URN or bare identifier); must be the holder's own.
    pub licence: String,
    /// Members of `credentialSubject` to show; default the name and the licence number.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Seconds, 30 to 86400; default 300.
    #[serde(default)]
    pub lifetime_seconds: Option<i64>,
    /// One scan only (default) or any number until expiry.
    #[serde(default)]
    pub single_use: Option<bool>,
}

/// Why a presentation request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresentationError {
    #[error("field {0:?} is not in this licence type's schema")]
    UnknownField(String),
    #[error("the subject's id (the holder's identity number) is never disclosed by QR")]
    IdField,
    #[error("lifetimeSeconds must be between 30 and 86400")]
    Lifetime,
    #[error("at most 50 fields")]
    TooManyFields,
}

impl PresentationError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownField(_) | Self::IdField | Self::TooManyFields => "invalid_fields",
            Self::Lifetime => "invalid_lifetime",
        }
    }
}

/// A checked request: the fields exist in the schema, the lifetime is in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationTerms {
    pub fields: Vec<String>,
    pub expires_at: DateTime<Utc>,
    /// `Some(1)` for single use, `None` for unlimited scans until expiry.
    pub max_uses: Option<u32>,
}

impl PresentationRequest {
    /// Checks the request against the subject schema's fields, from `now`.
    pub fn terms(
        &self,
        fields: &[SchemaField],
        now: DateTime<Utc>,
    ) -> Result<PresentationTerms, PresentationError> {
        let lifetime = match self.lifetime_seconds {
            None => DEFAULT_LIFETIME,
            Some(s) if (30..=MAX_LIFETIME.num_seconds()).contains(&s) => Duration::seconds(s),
            Some(_) => return Err(PresentationError::Lifetime),
        };
        let known = |name: &str| fields.iter().any(|f| f.name == name);
        let chosen = match &self.fields {
            Some(list) if list.len() > 50 => return Err(PresentationError::TooManyFields),
            Some(list) => list.clone(),
            None => default_fields(fields),
        };
        let mut out: Vec<String> = Vec::with_capacity(chosen.len());
        for name in chosen {
            if name == "id" {
                return Err(PresentationError::IdField);
            }
            if !known(&name) {
                return Err(PresentationError::UnknownField(name));
            }
            if !out.contains(&name) {
                out.push(name);
            }
        }
        Ok(PresentationTerms {
            fields: out,
            expires_at: now + lifetime,
            max_uses: (self.single_use != Some(false)).then_some(1),
        })
    }
}

/// The name and, where the schema has one, the licence's own number.
fn default_fields(fields: &[SchemaField]) -> Vec<String> {
    let mut out = vec![DEFAULT_FIELDS[0].to_owned()];
    if let Some(number) = NUMBER_FIELDS
        .iter()
        .find(|n| fields.iter().any(|f| f.name == **n))
    {
        out.push((*number).to_owned());
    }
    out
}

/// The chosen members of a subject (`holderName` masked unless `unmasked`), in schema order.
pub fn disclose(subject: &Value, chosen: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(members) = subject.as_object() else {
        return out;
    };
    for (name, value) in members {
        if !chosen.contains(name) {
            continue;
        }
        let value = match (name.as_str(), value) {
            ("holderName", Value::String(s)) => Value::String(mask_name(s)),
            _ => value.clone(),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// Masks a name as Chinese practice does: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明;
/// a Latin-script name keeps its first and last letters. Enterprise names (longer than
/// five characters) are public and shown whole.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n if n > 5 && chars.iter().all(|c| !c.is_ascii()) => name.trim().to_owned(),
        n => {
            let middle: String = chars[1..n - 1]
                .iter()
                .map(|c| if c.is_whitespace() { ' ' } else { '*' })
                .collect();
            format!("{}{middle}{}", chars[0], chars[n - 1])
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields() -> Vec<SchemaField> {
        schema_fields(&json!({
            "required": ["id", "holderName"],
            "properties": {
                "id": {"title": "公民身份号码 Resident ID number"},
                "holderName": {"title": "姓名 Name"},
                "certificateNumber": {"title": "执业证号"},
                "lawFirm": {}
            }
        }))
    }

    fn request(fields: Option<Vec<&str>>, lifetime: Option<i64>) -> PresentationRequest {
        PresentationRequest {
            licence: "x".into(),
            fields: fields.map(|f| f.into_iter().map(str::to_owned).collect()),
            lifetime_seconds: lifetime,
            single_use: None,
        }
    }

    #[test]
    fn reads_schema_fields_in_order() {
        let f = fields();
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "holderName", "certificateNumber", "lawFirm"]);
        assert!(f[1].required && !f[2].required);
        assert_eq!(f[3].title, "lawFirm");
    }

    #[test]
    fn defaults_to_name_and_number_for_five_minutes_single_use() {
        let now = Utc::now();
        let terms = request(None, None).terms(&fields(), now).unwrap();
        assert_eq!(terms.fields, ["holderName", "certificateNumber"]);
        assert_eq!(terms.expires_at, now + Duration::minutes(5));
        assert_eq!(terms.max_uses, Some(1));
    }

    #[test]
    fn refuses_unknown_fields_the_id_and_long_lifetimes() {
        let now = Utc::now();
        let f = fields();
        let err = request(Some(vec!["salary"]), None).terms(&f, now);
        assert_eq!(err, Err(PresentationError::UnknownField("salary".into())));
        let err = request(Some(vec!["id"]), None).terms(&f, now);
        assert_eq!(err, Err(PresentationError::IdField));
        for bad in [0, 29, 86_401, -5] {
            let err = request(None, Some(bad)).terms(&f, now);
            assert_eq!(err, Err(PresentationError::Lifetime));
        }
        let ok = request(Some(vec!["lawFirm", "lawFirm"]), Some(86_400)).terms(&f, now);
        assert_eq!(ok.unwrap().fields, ["lawFirm"]);
    }

    #[test]
    fn masks_names() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(mask_name("Ann Lee"), "A** **e");
        assert_eq!(
            mask_name("长春市某某科技有限公司"),
            "长春市某某科技有限公司"
        );
        assert_eq!(mask_name("李"), "*");
    }

    #[test]
    fn discloses_only_the_chosen_fields() {
        let subject =
            json!({"id": "urn:cn:rid:1", "holderName": "张小三", "lawFirm": "某所", "sex": "男"});
        let shown = disclose(&subject, &["holderName".into(), "lawFirm".into()]);
        assert_eq!(
            Value::Object(shown),
            json!({"holderName": "张*三", "lawFirm": "某所"})
        );
    }
}
