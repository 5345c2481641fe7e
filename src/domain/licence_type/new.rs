//! Creating a licence type: the operator's request (or a seed file) parsed field by field into a
//! [`NewLicenceType`] ready to store, or refused with a [`LicenceTypeError`] and its stable code.

use serde::Deserialize;
use serde_json::Value;

use super::{Authority, AuthorityLevel, HolderCategory, ValidityRange};
use crate::domain::identifiers::TypeCode;
use crate::domain::schema::{CompiledSchema, SchemaError};

/// A request to create a licence type, as posted by the operator or read from a seed file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLicenceTypeRequest {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub defining_authority: Value,
    pub issuing_authority_level: Value,
    pub holder_category: Value,
    pub validity: Value,
    #[serde(default)]
    pub matters: Vec<String>,
    pub schema: Value,
    /// Only honoured for seed files.
    #[serde(default)]
    pub status: Option<String>,
}

/// A licence type ready to be stored: every field parsed, the schema compiled.
#[derive(Debug)]
pub struct NewLicenceType {
    pub code: TypeCode,
    pub name_zh: String,
    pub name_en: String,
    pub defining_authority: Authority,
    pub issuing_authority_level: AuthorityLevel,
    pub holder_category: HolderCategory,
    pub validity: ValidityRange,
    pub matters: Vec<String>,
    pub schema: CompiledSchema,
}

/// Why a licence type was refused; each has a stable code.
#[derive(Debug, thiserror::Error)]
pub enum LicenceTypeError {
    #[error("invalid licence-type code: {0}")]
    Code(String),
    #[error("invalid defining authority: {0}")]
    Authority(String),
    #[error("the code's first 18 characters must be the defining authority's USCC")]
    CodeAuthorityMismatch,
    #[error("{0}")]
    Field(String),
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

impl LicenceTypeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Code(_) => "invalid_type_code",
            Self::Authority(_) => "invalid_authority",
            Self::CodeAuthorityMismatch => "code_authority_mismatch",
            Self::Field(_) => "invalid_field",
            Self::Schema(e) => e.code(),
        }
    }
}

/// Longest accepted name, in characters.
const MAX_NAME: usize = 200;
/// Longest service matter code (事项编码 as the matters issue fixes it).
const MAX_MATTER: usize = 12;

impl TryFrom<NewLicenceTypeRequest> for NewLicenceType {
    type Error = LicenceTypeError;

    fn try_from(req: NewLicenceTypeRequest) -> Result<Self, Self::Error> {
        let code: TypeCode = req
            .code
            .parse()
            .map_err(|e| LicenceTypeError::Code(format!("{e}")))?;
        let defining_authority = parse_authority(req.defining_authority)?;
        if code.authority() != defining_authority.uscc {
            return Err(LicenceTypeError::CodeAuthorityMismatch);
        }
        let issuing_authority_level = field(req.issuing_authority_level, "issuingAuthorityLevel")?;
        let holder_category = field(req.holder_category, "holderCategory")?;
        let validity: ValidityRange = field(req.validity, "validity")?;
        if validity.min_days == 0 || validity.min_days > validity.max_days {
            return Err(LicenceTypeError::Field(
                "validity: need 1 ≤ minDays ≤ maxDays".into(),
            ));
        }
        check_name(&req.name_zh, "nameZh")?;
        check_name(&req.name_en, "nameEn")?;
        check_matters(&req.matters)?;
        Ok(Self {
            code,
            name_zh: req.name_zh.trim().to_owned(),
            name_en: req.name_en.trim().to_owned(),
            defining_authority,
            issuing_authority_level,
            holder_category,
            validity,
            matters: req.matters,
            schema: CompiledSchema::compile(req.schema)?,
        })
    }
}

/// Parses an authority object (name, USCC, level).
pub fn parse_authority(value: Value) -> Result<Authority, LicenceTypeError> {
    let authority: Authority =
        serde_json::from_value(value).map_err(|e| LicenceTypeError::Authority(e.to_string()))?;
    check_name(&authority.name, "definingAuthority.name")?;
    Ok(authority)
}

fn field<T: serde::de::DeserializeOwned>(value: Value, name: &str) -> Result<T, LicenceTypeError> {
    serde_json::from_value(value).map_err(|e| LicenceTypeError::Field(format!("{name}: {e}")))
}

fn check_name(name: &str, field: &str) -> Result<(), LicenceTypeError> {
    let len = name.trim().chars().count();
    if len == 0 || len > MAX_NAME || name.chars().any(char::is_control) {
        return Err(LicenceTypeError::Field(format!(
            "{field}: must be 1–{MAX_NAME} printable characters"
        )));
    }
    Ok(())
}

fn check_matters(matters: &[String]) -> Result<(), LicenceTypeError> {
    let bad = matters.iter().find(|m| {
        m.is_empty()
            || m.len() > MAX_MATTER
            || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    match bad {
        Some(m) => Err(LicenceTypeError::Field(format!(
            "matters: {:?} is not a matter code (1–{MAX_MATTER} of A-Z, 0-9, '-')",
            m.chars().take(40).collect::<String>()
        ))),
        None if matters.len() > 100 => Err(LicenceTypeError::Field("matters: at most 100".into())),
        None => Ok(()),
    }
}
