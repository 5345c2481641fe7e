//! GB/T 36904 licence identifiers, USCC (GB 32100), resident IDs (GB 11643), holder ids,
//! licence-type codes and division codes (`domain::identifiers`): parsing never panics, and
//! anything accepted prints back to the same text and parses again to the same value.
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
        assert_eq!(printed, text);
        assert_eq!(printed.parse::<T>().ok().expect("own text"), parsed);
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
        assert_eq!(id.urn(), text);
        assert_eq!(id.with_version(id.version()).expect("own version"), id);
        let _ = id.with_version(id.version().wrapping_add(1));
    }
    if let Ok(holder) = HolderId::parse_bare(text) {
        assert_eq!(HolderId::from_urn(&holder.urn()).expect("own URN"), holder);
    }
    if text.len() >= 17 {
        if let Some(first17) = text.get(..17) {
            if let Ok(c) = Uscc::check_char(first17) {
                Uscc::with_check(first17).expect("check char computed");
                let _ = c;
            }
            if ResidentId::check_char(first17).is_ok() {
                let id = ResidentId::with_check(first17).expect("check char computed");
                let _ = id.birth_date();
            }
        }
    }
});
