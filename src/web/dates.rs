//! Dates and times as a citizen reads them: in China Standard Time (UTC+8, no daylight saving),
//! `2026年6月1日` in Chinese and `1 June 2026` in English, and a time of day only where it
//! matters (a check, an expiry), with its time zone named. The registry's answers and stored
//! values stay RFC 3339 in UTC; only the pages convert.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Utc};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// China Standard Time.
fn cst() -> FixedOffset {
    // Invariant: eight hours is within a day, which is all `east_opt` checks.
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// What a page may be handed: an RFC 3339 instant (converted to China Standard Time) or a plain
/// `YYYY-MM-DD` date (a calendar date, shown as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Instant(DateTime<FixedOffset>),
    Day(NaiveDate),
}

fn parse(text: &str) -> Option<When> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(When::Instant(t.with_timezone(&cst())));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(When::Day)
}

/// Whether `text` is a date or an RFC 3339 instant that [`date`] would rewrite.
pub fn is_date(text: &str) -> bool {
    parse(text).is_some()
}

/// The calendar day of `text` in China Standard Time: `2026年6月1日`, or `1 June 2026` when
/// `en`. Text that is neither a date nor an instant comes back unchanged.
pub fn date(text: &str, en: bool) -> String {
    match parse(text) {
        Some(When::Instant(t)) => day(t.date_naive(), en),
        Some(When::Day(d)) => day(d, en),
        None => text.to_owned(),
    }
}

/// The day and the time to the minute in China Standard Time, with the zone named:
/// `2026年6月1日 08:00（北京时间）`, or `1 June 2026, 08:00 China Standard Time (UTC+8)`. A plain
/// date has no time of day and is shown as [`date`] shows it.
pub fn date_time(text: &str, en: bool) -> String {
    match parse(text) {
        Some(When::Instant(t)) => {
            let (h, m) = (t.hour(), t.minute());
            if en {
                format!(
                    "{}, {h:02}:{m:02} China Standard Time (UTC+8)",
                    day(t.date_naive(), en)
                )
            } else {
                format!("{} {h:02}:{m:02}（北京时间）", day(t.date_naive(), en))
            }
        }
        Some(When::Day(d)) => day(d, en),
        None => text.to_owned(),
    }
}

/// [`date_time`] of an instant the service holds.
pub fn instant(t: DateTime<Utc>, en: bool) -> String {
    date_time(&t.to_rfc3339(), en)
}

fn day(d: NaiveDate, en: bool) -> String {
    if en {
        let month = MONTHS[d.month0() as usize];
        format!("{} {month} {}", d.day(), d.year())
    } else {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_is_shown_on_its_day_in_china_standard_time() {
        assert_eq!(date("2026-06-01T00:00:00Z", false), "2026年6月1日");
        assert_eq!(date("2026-06-01T00:00:00Z", true), "1 June 2026");
        // 16:00 UTC is midnight in Beijing: the next day there.
        assert_eq!(date("2026-05-31T16:00:00Z", false), "2026年6月1日");
        assert_eq!(date("2026-05-31T15:59:59Z", false), "2026年5月31日");
        assert_eq!(date("2026-12-31T23:30:00+08:00", true), "31 December 2026");
        assert_eq!(date("2026-11-26T16:42:37.622915Z", false), "2026年11月27日");
    }

    #[test]
    fn a_plain_date_is_a_calendar_day_not_shifted() {
        assert_eq!(date("1949-12-31", false), "1949年12月31日");
        assert_eq!(date("1949-12-31", true), "31 December 1949");
        assert_eq!(date_time("2010-06-01", false), "2010年6月1日");
    }

    #[test]
    fn a_time_names_its_zone() {
        assert_eq!(
            date_time("2026-06-01T00:00:00Z", false),
            "2026年6月1日 08:00（北京时间）"
        );
        assert_eq!(
            date_time("2026-06-01T15:05:59Z", true),
            "1 June 2026, 23:05 China Standard Time (UTC+8)"
        );
        let t = DateTime::parse_from_rfc3339("2026-01-31T20:00:00Z").unwrap();
        assert_eq!(
            instant(t.with_timezone(&Utc), false),
            "2026年2月1日 04:00（北京时间）"
        );
    }

    #[test]
    fn other_text_is_left_alone() {
        for text in ["", "10年", "2026-13-01", "2026-02-30", "长期", "2026/06/01"] {
            assert_eq!(date(text, false), text);
            assert_eq!(date_time(text, true), text);
            assert!(!is_date(text), "{text}");
        }
        assert!(is_date("2026-02-28") && is_date("2026-06-01T00:00:00Z"));
    }
}
