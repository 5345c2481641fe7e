//! Parsed identifiers: the Chinese national formats a licence is built from.
//!
//! Every identifier the registry accepts from outside is turned into one of these types at the
//! edge ("parse, don't validate"); past that point its check characters, lengths and dates are
//! known to be right. Each type parses with [`FromStr`](std::str::FromStr) and
//! `TryFrom<String>`, prints with `Display`, exposes `as_str()`, and (de)serialises with serde
//! as a plain string that is parsed on the way in.
//!
//! | type | standard | example |
//! | --- | --- | --- |
//! | [`Uscc`] | GB 32100-2015 统一社会信用代码 | `11100000000013338W` |
//! | [`ResidentId`] | GB 11643-1999 公民身份号码 | `11010519491231002X` |
//! | [`TypeCode`] | GB/T 36902 证照类型代码 | `11100000000013338W032` |
//! | [`LicenceId`] | GB/T 36904 证照标识 | `1.2.156.3005.2.….001.F` |
//! | [`HolderId`] | GB/T 36903 持证主体代码 | `urn:cn:rid:11010519491231002X` |
//! | [`DivisionCode`], [`JurisdictionScope`] | GB/T 2260 行政区划代码 | `220100`, `22` |
//!
//! Every failure is an [`IdentifierError`] whose [`code`](IdentifierError::code) is stable and
//! goes into problem-details bodies unchanged.

// Helper macro first: `macro_rules!` is textually scoped, so the submodules below can use it.
/// Implements the string-facing traits every identifier shares on a type that already has
/// `fn parse_str(&str) -> Result<Self, IdentifierError>` and `pub fn as_str(&self) -> &str`:
/// `FromStr`, `TryFrom<String>`, `TryFrom<&str>`, `From<T> for String`, `Display`, `AsRef<str>`.
macro_rules! string_identifier {
    ($ty:ident) => {
        impl ::std::str::FromStr for $ty {
            type Err = IdentifierError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_str(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = IdentifierError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse_str(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = IdentifierError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse_str(s)
            }
        }

        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.as_str().to_owned()
            }
        }

        /// Serialised as its text, written straight from the value (serde's `into = "String"`
        /// would copy it first).
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

/// `N` ASCII bytes held inline, for identifiers of fixed length (USCCs, type codes): copying one
/// into a cache key, a parsed licence identifier or an answer costs a memcpy, not an allocation.
/// Only [`Ascii::new`] makes one (or a type code cut to its USCC), so the bytes are always ASCII
/// (and so UTF-8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Ascii<const N: usize>([u8; N]);

impl<const N: usize> Ascii<N> {
    /// `s` when it is exactly `N` ASCII bytes.
    fn new(s: &str) -> Option<Self> {
        if !s.is_ascii() {
            return None;
        }
        s.as_bytes().try_into().ok().map(Self)
    }

    fn as_str(&self) -> &str {
        // Invariant: `new` took ASCII bytes only, which are valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Debug for Ascii<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

// The submodules are named by path relative to this file so that the module compiles the same
// whether it is reached as `src/domain/identifiers.rs` or mounted elsewhere with `#[path]`.
#[path = "identifiers/division.rs"]
mod division;
#[path = "identifiers/error.rs"]
mod error;
#[path = "identifiers/holder.rs"]
mod holder;
#[path = "identifiers/licence_id.rs"]
mod licence_id;
#[path = "identifiers/resident_id.rs"]
mod resident_id;
#[path = "identifiers/type_code.rs"]
mod type_code;
#[path = "identifiers/uscc.rs"]
mod uscc;

pub use division::{DivisionCode, JurisdictionScope};
pub use error::IdentifierError;
pub use holder::HolderId;
pub use licence_id::LicenceId;
pub use resident_id::ResidentId;
pub use type_code::TypeCode;
pub use uscc::Uscc;

#[cfg(test)]
mod tests {
    //! Known-answer tests from `tests/vectors/cn-identifiers.json`.

    use super::*;

    const VECTORS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/cn-identifiers.json"
    ));

    fn vector_list(key: &str) -> Vec<String> {
        let all: serde_json::Value = serde_json::from_str(VECTORS).expect("vectors are JSON");
        let list = all[key].as_array().expect("vector list present");
        assert!(!list.is_empty(), "{key} is empty");
        list.iter()
            .map(|v| v.as_str().expect("vector is a string").to_owned())
            .collect()
    }

    #[test]
    fn every_vector_uscc_parses_and_round_trips() {
        for s in vector_list("uscc_valid") {
            let uscc: Uscc = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(uscc.to_string(), s);
            let check = Uscc::check_char(&s[..17]).expect("17 valid characters");
            assert_eq!(Some(check), s.chars().last());
        }
    }

    #[test]
    fn every_vector_resident_id_parses_and_round_trips() {
        for s in vector_list("resident_id_valid") {
            let rid: ResidentId = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(rid.as_str(), s);
            let holder = HolderId::parse_bare(&s).expect("valid resident id");
            assert_eq!(holder.type_code(), "111");
        }
    }

    #[test]
    fn every_vector_licence_id_parses_and_its_check_matches() {
        for s in vector_list("licence_identifiers_valid") {
            let id: LicenceId = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.as_str(), s);
            let rebuilt = LicenceId::build(id.type_code(), id.issuer(), id.serial(), id.version())
                .expect("components of a valid id");
            assert_eq!(rebuilt, id);
            assert_eq!(Some(id.check()), s.chars().last());
            assert_eq!(LicenceId::from_urn(&id.urn()).expect("own urn"), id);
        }
    }

    #[test]
    fn vector_licence_id_components_are_the_documented_ones() {
        let id: LicenceId = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
            .parse()
            .expect("vector");
        assert_eq!(id.type_code().as_str(), "11100000000013338W032");
        assert_eq!(id.type_code().authority().as_str(), "11100000000013338W");
        assert_eq!(id.type_code().sequence(), 32);
        assert_eq!(id.issuer().as_str(), "11220000013544541J");
        assert_eq!(id.serial(), "2430599");
        assert_eq!(id.version(), 1);
        assert_eq!(id.check(), 'F');
        assert_eq!(
            id.base(),
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599"
        );
    }
}
