//! Licence types (目录清单 entries, GB/T 36902): what they are and the status transitions they
//! may make. How a new one is checked is in [`new`].

mod new;

pub use new::{parse_authority, LicenceTypeError, NewLicenceType, NewLicenceTypeRequest};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::identifiers::{TypeCode, Uscc};

/// Authority level, GB/T 36902: 1 国家级 … 5 其他.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct AuthorityLevel(u8);

impl TryFrom<u8> for AuthorityLevel {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        if (1..=5).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("authority level must be 1–5, got {value}"))
        }
    }
}

impl From<AuthorityLevel> for u8 {
    fn from(level: AuthorityLevel) -> u8 {
        level.0
    }
}

impl AuthorityLevel {
    pub fn value(self) -> u8 {
        self.0
    }
}

/// Who holds licences of a type: 1 natural persons, 2 legal persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum HolderCategory {
    Person,
    LegalPerson,
}

impl TryFrom<u8> for HolderCategory {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(Self::Person),
            2 => Ok(Self::LegalPerson),
            other => Err(format!("holder category must be 1 or 2, got {other}")),
        }
    }
}

impl From<HolderCategory> for u8 {
    fn from(category: HolderCategory) -> u8 {
        match category {
            HolderCategory::Person => 1,
            HolderCategory::LegalPerson => 2,
        }
    }
}

/// The authority that defines (is competent for) a licence type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authority {
    pub name: String,
    pub uscc: Uscc,
    pub level: AuthorityLevel,
}

/// How long a licence of the type may be valid, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidityRange {
    pub min_days: u32,
    pub max_days: u32,
}

/// Lifecycle of a type: draft → published → deprecated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeStatus {
    Draft,
    Published,
    Deprecated,
}

impl TypeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Deprecated => "deprecated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "published" => Some(Self::Published),
            "deprecated" => Some(Self::Deprecated),
            _ => None,
        }
    }

    /// The status this one may move to, if `to` is allowed.
    pub fn can_become(self, to: TypeStatus) -> bool {
        matches!(
            (self, to),
            (Self::Draft, Self::Published) | (Self::Published, Self::Deprecated)
        )
    }
}

/// A stored licence type with its history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenceType {
    pub code: TypeCode,
    pub name_zh: String,
    pub name_en: String,
    pub defining_authority: Authority,
    pub issuing_authority_level: AuthorityLevel,
    pub holder_category: HolderCategory,
    pub validity: ValidityRange,
    pub matters: Vec<String>,
    pub status: TypeStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub versions: Vec<SchemaVersion>,
    pub transfers: Vec<Transfer>,
}

impl LicenceType {
    /// The competent (defining) authority at `at`: the one a transfer in force then moved the
    /// type to, else the authority that defined it. Transfers are applied in time order.
    pub fn competent_authority_at(&self, at: DateTime<Utc>) -> &Uscc {
        let mut transfers: Vec<&Transfer> = self.transfers.iter().collect();
        transfers.sort_by_key(|t| t.effective_at);
        let original = transfers
            .first()
            .map_or(&self.defining_authority, |t| &t.from);
        transfers
            .iter()
            .take_while(|t| t.effective_at <= at)
            .last()
            .map_or(&original.uscc, |t| &t.to.uscc)
    }

    /// The newest schema version number.
    pub fn latest_version(&self) -> u32 {
        self.versions.iter().map(|v| v.version).max().unwrap_or(0)
    }
}

/// One version of a type's schema (the document itself is fetched separately).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaVersion {
    pub version: u32,
    /// Multibase SHA-256 of the schema's JCS form.
    pub digest: String,
    pub created_at: DateTime<Utc>,
}

/// A reassignment of the competent (defining) authority, kept forever.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    pub from: Authority,
    pub to: Authority,
    pub effective_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// Filters for listing the directory.
#[derive(Debug, Clone, Default)]
pub struct TypeFilter {
    pub status: Option<TypeStatus>,
    pub holder_category: Option<HolderCategory>,
    /// The defining authority's USCC.
    pub authority: Option<Uscc>,
    /// Free text matched against both names.
    pub text: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions() {
        use TypeStatus::*;
        assert!(Draft.can_become(Published));
        assert!(Published.can_become(Deprecated));
        for (from, to) in [
            (Draft, Deprecated),
            (Published, Draft),
            (Deprecated, Published),
            (Deprecated, Draft),
            (Draft, Draft),
        ] {
            assert!(!from.can_become(to), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn the_competent_authority_follows_transfers() {
        use chrono::TimeZone;
        let at = |y| {
            Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
                .single()
                .expect("date")
        };
        let authority = |uscc: &str| Authority {
            name: "a".into(),
            uscc: uscc.parse().expect("vector"),
            level: AuthorityLevel::try_from(1).expect("level"),
        };
        let (first, second, third) = (
            authority("11100000000013338W"),
            authority("11220000013544541J"),
            authority("91110000101623741K"),
        );
        let transfer = |from: &Authority, to: &Authority, y| Transfer {
            from: from.clone(),
            to: to.clone(),
            effective_at: at(y),
            reason: None,
        };
        let mut t = LicenceType {
            code: "11100000000013338W032".parse().expect("vector"),
            name_zh: "z".into(),
            name_en: "e".into(),
            defining_authority: first.clone(),
            issuing_authority_level: AuthorityLevel::try_from(1).expect("level"),
            holder_category: HolderCategory::Person,
            validity: ValidityRange {
                min_days: 1,
                max_days: 10,
            },
            matters: vec![],
            status: TypeStatus::Published,
            created_at: at(2020),
            updated_at: at(2020),
            versions: vec![],
            transfers: vec![],
        };
        assert_eq!(t.competent_authority_at(at(2030)), &first.uscc);
        // Stored newest last or not, transfers apply in time order.
        t.transfers = vec![
            transfer(&second, &third, 2026),
            transfer(&first, &second, 2024),
        ];
        t.defining_authority = third.clone();
        assert_eq!(t.competent_authority_at(at(2023)), &first.uscc);
        assert_eq!(t.competent_authority_at(at(2024)), &second.uscc);
        assert_eq!(t.competent_authority_at(at(2025)), &second.uscc);
        assert_eq!(t.competent_authority_at(at(2027)), &third.uscc);
    }

    #[test]
    fn levels_and_categories_are_bounded() {
        assert!(AuthorityLevel::try_from(0).is_err());
        assert!(AuthorityLevel::try_from(6).is_err());
        assert!(HolderCategory::try_from(3).is_err());
        assert_eq!(u8::from(HolderCategory::LegalPerson), 2);
    }
}
