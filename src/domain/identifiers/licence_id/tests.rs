use proptest::prelude::*;

use super::super::type_code::tests::valid_type_code;
use super::super::uscc::tests::valid_uscc;
use super::*;

const VECTOR: &str = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";

fn valid_licence_id() -> impl Strategy<Value = LicenceId> {
    (
        valid_type_code(),
        valid_uscc(),
        "[0-9A-Z]{1,32}",
        1u16..=999,
    )
        .prop_map(|(t, i, s, v)| LicenceId::build(&t, &i, &s, v).expect("valid parts"))
}

#[test]
fn versions_share_a_base_and_get_their_own_check() {
    let v1: LicenceId = VECTOR.parse().expect("vector");
    let v2 = v1.with_version(2).expect("version 2");
    assert_eq!(v2.base(), v1.base());
    assert_eq!(v2.version(), 2);
    assert!(v2.as_str().starts_with(&v1.base()));
    assert_eq!(v2.as_str().parse::<LicenceId>().expect("valid"), v2);
    assert_eq!(v1.urn(), format!("urn:elicence:{VECTOR}"));
    let json = serde_json::to_string(&v1).expect("serialise");
    assert_eq!(json, format!("\"{VECTOR}\""));
}

#[test]
fn refusals_carry_their_codes() {
    let cases = [
        (
            "1.2.156.3005.3.11100000000013338W032.11220000013544541J.2430599.001.F",
            "licence_id_format",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001",
            "licence_id_format",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F.",
            "licence_id_format",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.FF",
            "licence_id_format",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.f",
            "licence_id_format",
        ),
        (
            "1.2.156.3005.2.11100000000013338X032.11220000013544541J.2430599.001.F",
            "licence_id_type_code",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541K.2430599.001.F",
            "licence_id_issuer",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J..001.F",
            "licence_id_serial",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599a.001.F",
            "licence_id_serial",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.000.F",
            "licence_id_version",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.01.F",
            "licence_id_version",
        ),
        (
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G",
            "licence_id_check",
        ),
    ];
    for (input, code) in cases {
        let err = input.parse::<LicenceId>().expect_err(input);
        assert_eq!(err.code(), code, "{input}: {err}");
    }
    let long = "1".repeat(MAX_SERIAL + 1);
    let v1: LicenceId = VECTOR.parse().expect("vector");
    let err = LicenceId::build(v1.type_code(), v1.issuer(), &long, 1).expect_err("too long");
    assert_eq!(err.code(), "licence_id_serial");
    assert_eq!(
        v1.with_version(1000).map_err(|e| e.code()),
        Err("licence_id_version")
    );
    assert_eq!(
        LicenceId::from_urn(VECTOR).map_err(|e| e.code()),
        Err("licence_urn")
    );
}

proptest! {
    #[test]
    fn built_ids_parse_back(id in valid_licence_id()) {
        let parsed: LicenceId = id.as_str().parse().expect("built id is valid");
        prop_assert_eq!(&parsed, &id);
        prop_assert_eq!(LicenceId::from_urn(&id.urn()).expect("own urn"), id.clone());
        let base = format!("1.2.156.3005.2.{}.{}.{}", id.type_code(), id.issuer(), id.serial());
        prop_assert_eq!(id.base_str(), base.as_str());
    }

    /// MOD 37,36 detects every single substitution, so changing any one character of a
    /// valid identifier to any other character of `0-9A-Z.` is refused. Tried exhaustively
    /// per identifier.
    #[test]
    fn every_single_substitution_is_refused(id in valid_licence_id()) {
        let bytes = id.as_str().as_bytes();
        let allowed = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.";
        for position in 0..bytes.len() {
            for &other in allowed.iter().filter(|&&a| a != bytes[position]) {
                let mut mutated = bytes.to_vec();
                mutated[position] = other;
                let mutated = String::from_utf8(mutated).expect("ASCII");
                prop_assert!(mutated.parse::<LicenceId>().is_err(), "{} accepted", mutated);
            }
        }
    }

    /// The claim behind the test above, on the check alone: over the joined middle
    /// segments, every single substitution changes the MOD 37,36 check character.
    #[test]
    fn mod37_36_alone_detects_single_substitutions(payload in "[0-9A-Z]{1,80}") {
        let check = mod37_36(&[&payload]);
        let bytes = payload.as_bytes();
        for position in 0..bytes.len() {
            for other in (b'0'..=b'9').chain(b'A'..=b'Z').filter(|&a| a != bytes[position]) {
                let mut mutated = bytes.to_vec();
                mutated[position] = other;
                let mutated = String::from_utf8(mutated).expect("ASCII");
                prop_assert_ne!(mod37_36(&[&mutated]), check);
            }
        }
    }
}
