//! Holder identifiers (持证主体代码, GB/T 36903): a person's resident ID or an organisation's USCC.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{IdentifierError, ResidentId, Uscc};

const RID_URN: &str = "urn:cn:rid:";
const USCC_URN: &str = "urn:cn:uscc:";

/// Who holds a licence: a person by resident ID number (holder id type `111`) or a legal
/// person by USCC (`001`). Written as a URN, `urn:cn:rid:<RID>` or `urn:cn:uscc:<USCC>`, which
/// is what `FromStr`, `Display` and serde use; [`parse_bare`](Self::parse_bare) takes the bare
/// number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum HolderId {
    /// A natural person (holder category 1).
    Person(ResidentId),
    /// A legal person or other organisation (holder category 2).
    Organisation(Uscc),
}

impl HolderId {
    /// Parses `urn:cn:rid:<resident ID>` or `urn:cn:uscc:<USCC>`.
    pub fn from_urn(urn: &str) -> Result<Self, IdentifierError> {
        if let Some(rid) = urn.strip_prefix(RID_URN) {
            rid.parse().map(Self::Person)
        } else if let Some(uscc) = urn.strip_prefix(USCC_URN) {
            uscc.parse().map(Self::Organisation)
        } else {
            Err(IdentifierError::HolderUrn)
        }
    }

    /// Leniently parses a bare number, as people type it into forms.
    ///
    /// An input shaped like a resident ID (17 digits then a digit or `X`) that is a valid one is
    /// a person, even if it happens to be a valid USCC too; anything else is tried as a USCC.
    /// When an ID-shaped input is neither, the resident-ID error is returned.
    pub fn parse_bare(s: &str) -> Result<Self, IdentifierError> {
        let bytes = s.as_bytes();
        let rid_shaped = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !rid_shaped {
            return s.parse().map(Self::Organisation);
        }
        match s.parse::<ResidentId>() {
            Ok(rid) => Ok(Self::Person(rid)),
            Err(rid_err) => s.parse().map(Self::Organisation).map_err(|_| rid_err),
        }
    }

    /// The URN form, `urn:cn:rid:<RID>` or `urn:cn:uscc:<USCC>`.
    pub fn urn(&self) -> String {
        match self {
            Self::Person(rid) => format!("{RID_URN}{rid}"),
            Self::Organisation(uscc) => format!("{USCC_URN}{uscc}"),
        }
    }

    /// The bare number without URN prefix.
    pub fn bare(&self) -> &str {
        match self {
            Self::Person(rid) => rid.as_str(),
            Self::Organisation(uscc) => uscc.as_str(),
        }
    }

    /// The GB/T 36903 holder identifier type code: `"111"` resident ID, `"001"` USCC.
    pub fn type_code(&self) -> &'static str {
        match self {
            Self::Person(_) => "111",
            Self::Organisation(_) => "001",
        }
    }

    /// The holder category of licence types: 1 person, 2 legal person.
    pub fn category(&self) -> u8 {
        match self {
            Self::Person(_) => 1,
            Self::Organisation(_) => 2,
        }
    }
}

impl FromStr for HolderId {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_urn(s)
    }
}

impl TryFrom<String> for HolderId {
    type Error = IdentifierError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::from_urn(&s)
    }
}

impl From<HolderId> for String {
    fn from(id: HolderId) -> String {
        id.urn()
    }
}

impl fmt::Display for HolderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person(rid) => write!(f, "{RID_URN}{rid}"),
            Self::Organisation(uscc) => write!(f, "{USCC_URN}{uscc}"),
        }
    }
}

impl From<ResidentId> for HolderId {
    fn from(rid: ResidentId) -> Self {
        Self::Person(rid)
    }
}

impl From<Uscc> for HolderId {
    fn from(uscc: Uscc) -> Self {
        Self::Organisation(uscc)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::resident_id::tests::valid_resident_id;
    use super::super::uscc::tests::valid_uscc;
    use super::*;

    #[test]
    fn urns_name_persons_and_organisations() {
        let person = HolderId::from_urn("urn:cn:rid:11010519491231002X").expect("person");
        assert_eq!((person.type_code(), person.category()), ("111", 1));
        assert_eq!(person.bare(), "11010519491231002X");
        let org: HolderId = "urn:cn:uscc:91110000101623741K"
            .parse()
            .expect("organisation");
        assert_eq!((org.type_code(), org.category()), ("001", 2));
        assert_eq!(org.to_string(), "urn:cn:uscc:91110000101623741K");
        assert_eq!(
            serde_json::to_string(&org).expect("serialise"),
            "\"urn:cn:uscc:91110000101623741K\""
        );
    }

    #[test]
    fn refusals_carry_their_codes() {
        let cases = [
            ("11010519491231002X", "holder_urn"),
            ("urn:cn:ssn:11010519491231002X", "holder_urn"),
            ("urn:cn:rid:110105194912310021", "rid_check"),
            ("urn:cn:uscc:91110000101623741J", "uscc_check"),
        ];
        for (input, code) in cases {
            let err = input.parse::<HolderId>().expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
        assert!(serde_json::from_str::<HolderId>("\"urn:cn:rid:110105194912310021\"").is_err());
    }

    #[test]
    fn parse_bare_prefers_a_valid_resident_id_and_reports_its_error() {
        let person = HolderId::parse_bare("440524188001010014").expect("rid");
        assert_eq!(person.category(), 1);
        let org = HolderId::parse_bare("91110000101623741K").expect("uscc");
        assert_eq!(org.category(), 2);
        // Digits that fail as a resident ID but pass as a USCC are an organisation.
        let digits = Uscc::with_check("12345678901234567").expect("digits");
        if digits.as_str().bytes().all(|b| b.is_ascii_digit()) {
            let parsed = HolderId::parse_bare(digits.as_str()).expect("uscc");
            assert_eq!(parsed.category(), 2);
        }
        let err = HolderId::parse_bare("110105194912310021").expect_err("neither");
        assert_eq!(err.code(), "rid_check");
        let err = HolderId::parse_bare("91110000101623741J").expect_err("bad uscc");
        assert_eq!(err.code(), "uscc_check");
    }

    proptest! {
        #[test]
        fn urns_round_trip(rid in valid_resident_id(), uscc in valid_uscc()) {
            for holder in [HolderId::from(rid.clone()), HolderId::from(uscc.clone())] {
                prop_assert_eq!(HolderId::from_urn(&holder.urn()).expect("own urn"), holder.clone());
                let bare = HolderId::parse_bare(holder.bare()).expect("own bare number");
                // A bare USCC that is also a valid resident ID reads as a person, by design.
                prop_assert_eq!(bare.bare(), holder.bare());
            }
            prop_assert_eq!(HolderId::parse_bare(rid.as_str()).expect("rid"), HolderId::Person(rid));
        }
    }
}
