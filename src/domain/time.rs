//! Timestamps as the registry writes them: RFC 3339 in whole seconds, UTC, `Z`
//! (`2026-01-01T00:00:00Z`), the same text as chrono's
//! `to_rfc3339_opts(SecondsFormat::Secs, true)`, written without chrono's format machinery,
//! which costs more than the rest of a verification answer's dates together.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::{Serialize, Serializer};

/// The current instant in whole seconds, the precision signers write (`proof.created`,
/// `validFrom`). Defaults the registry fills in ("from now") use it, so that a key registered
/// and used within the same second is already valid for a proof dated that second.
pub fn now_in_seconds() -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(Utc::now(), 0)
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn seconds(t: DateTime<Utc>) -> String {
    let mut buf = [0; LEN];
    match write(t, &mut buf) {
        Some(text) => text.to_owned(),
        None => t.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// Appends `t` as [`seconds`] writes it.
pub fn write_seconds(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let mut buf = [0; LEN];
    match write(t, &mut buf) {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => out.extend_from_slice(seconds(t).as_bytes()),
    }
}

/// A time that serialises as [`seconds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub DateTime<Utc>);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; LEN];
        match write(self.0, &mut buf) {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_str(&seconds(self.0)),
        }
    }
}

const LEN: usize = 20;

/// Writes `t` into `buf`; `None` for what the fixed layout cannot hold (years outside
/// 0000–9999, a leap second), which [`seconds`] leaves to chrono.
fn write(t: DateTime<Utc>, buf: &mut [u8; LEN]) -> Option<&str> {
    let year = u32::try_from(t.year()).ok().filter(|&y| y <= 9999)?;
    if t.nanosecond() >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut v = value;
        for i in (at..at + digits).rev() {
            // `v % 10` < 10.
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    for (at, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ] {
        buf[at] = sep;
    }
    std::str::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn chrono_form(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    #[test]
    fn edges_match_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
            .expect("a leap second")
            .and_utc();
        let cases = [
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 9, 5, 7).unwrap(),
            Utc.timestamp_opt(1_767_225_600, 999_999_999).unwrap(),
            leap,
        ];
        for t in cases {
            assert_eq!(seconds(t), chrono_form(t), "{t:?}");
            assert_eq!(
                serde_json::to_string(&Seconds(t)).unwrap(),
                serde_json::to_string(&chrono_form(t)).unwrap()
            );
        }
    }

    proptest! {
        #[test]
        fn any_time_matches_chrono(secs in -70_000_000_000i64..260_000_000_000, nanos in 0u32..1_000_000_000) {
            let t = Utc.timestamp_opt(secs, nanos).unwrap();
            prop_assert_eq!(seconds(t), chrono_form(t));
        }
    }
}
