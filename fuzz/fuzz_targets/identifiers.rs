//! GB/T 36904 licence identifiers, USCC (GB 32100), resident IDs (GB 11643), holder ids,
//! licence-type codes and division codes (`domain::identifiers`): parsing never panics, and
//! anything accepted prints as text that parses again to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;

use elicence::domain::identifiers::{
    DivisionCode, HolderId, JurisdictionScope, LicenceId, ResidentId, TypeCode, Uscc,
};

fn round_trip<T>(text: &str)
where
    T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    if let Ok(parsed) = text.parse::<T>() {
        let printed = parsed.to_string();
        let again = printed.parse::<T>().ok().expect("own text");
        assert_eq!(again, parsed);
        assert_eq!(again.to_string(), printed);
        let _ = text;
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip::<LicenceId>(text);
    round_trip::<Uscc>(text);
    round_trip::<ResidentId>(text);
    round_trip::<TypeCode>(text);
    round_trip::<DivisionCode>(text);
    round_trip::<JurisdictionScope>(text);
    round_trip::<HolderId>(text);
    if let Ok(id) = LicenceId::from_urn(text) {
        assert_eq!(LicenceId::from_urn(&id.urn()).expect("own URN"), id);
        assert_eq!(id.with_version(id.version()).expect("own version"), id);
        let _ = id.with_version(id.version().wrapping_add(1));
    }
    if let Ok(holder) = HolderId::parse_bare(text) {
        assert_eq!(HolderId::from_urn(&holder.urn()).expect("own URN"), holder);
    }
    if text.len() >= 17 {
        if let Some(first17) = text.get(..17) {
            let _ = Uscc::check_char(first17);
            if let Ok(uscc) = Uscc::with_check(first17) {
                assert_eq!(&uscc.as_str()[..17], first17);
            }
            let _ = ResidentId::check_char(first17);
            if let Ok(id) = ResidentId::with_check(first17) {
                let (_, month, day) = id.birth_date();
                assert!((1..=12).contains(&month) && (1..=31).contains(&day));
            }
        }
    }
});
