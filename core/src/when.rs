//! Times as people type them: "3d", "in 3 days", "2026-12-01", RFC 3339. Shared by the CLI and the app.

use backstory_crdt::Timestamp;
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone};

/// Why a time did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad time `{0}`: use a date (2026-12-01), a local date and time (2026-12-01T18:00), \
     RFC 3339 (2026-12-01T18:00:00Z) or a duration from now (3d, 12h, 30m, 1w2d, \"in 3 days\")"
)]
pub struct BadTime(pub String);

/// Parses `input` as an instant, with `now` for durations.
pub fn parse(input: &str, now: Timestamp) -> Result<Timestamp, BadTime> {
    let s = input.trim();
    let bad = || BadTime(input.to_string());
    if s.is_empty() {
        return Err(bad());
    }
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Timestamp(t.timestamp_millis()));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return local(naive).ok_or_else(bad);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return local(date.and_hms_opt(0, 0, 0).ok_or_else(bad)?).ok_or_else(bad);
    }
    let millis = duration_millis(s).ok_or_else(bad)?;
    Ok(now.plus_millis(millis))
}

/// Parses a duration such as `24h`, `3d` or `90m`.
pub fn parse_duration(input: &str) -> Result<std::time::Duration, BadTime> {
    duration_millis(input.trim())
        .filter(|ms| *ms > 0)
        .map(|ms| std::time::Duration::from_millis(ms as u64))
        .ok_or_else(|| BadTime(input.to_string()))
}

fn local(naive: NaiveDateTime) -> Option<Timestamp> {
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| Timestamp(t.timestamp_millis()))
}

/// `3d`, `+3d`, `1w2d`, `12h 30m`, `in 3 days`, `2 hours` → milliseconds.
fn duration_millis(s: &str) -> Option<i64> {
    let s = s.strip_prefix("in ").unwrap_or(s);
    let s = s.strip_prefix('+').unwrap_or(s).trim();
    let mut total: i64 = 0;
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let ms: i64 = match unit.to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(ms)?)?;
        any = true;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    #[test]
    fn durations() {
        assert_eq!(parse("3d", NOW), Ok(NOW.plus_millis(3 * 86_400_000)));
        assert_eq!(parse("+2h", NOW), Ok(NOW.plus_millis(7_200_000)));
        assert_eq!(parse("in 3 days", NOW), Ok(NOW.plus_millis(3 * 86_400_000)));
        assert_eq!(parse("1w2d", NOW), Ok(NOW.plus_millis(9 * 86_400_000)));
        assert_eq!(parse("12h 30m", NOW), Ok(NOW.plus_millis(45_000_000)));
        assert_eq!(parse("5s", NOW), Ok(NOW.plus_millis(5000)));
        assert_eq!(parse("now", NOW), Ok(NOW));
    }

    #[test]
    fn absolute_times() {
        assert_eq!(
            parse("2026-12-01T10:00:00Z", NOW),
            Ok(Timestamp(1_796_119_200_000))
        );
        assert_eq!(
            parse("2026-12-01T12:00:00+02:00", NOW),
            Ok(Timestamp(1_796_119_200_000))
        );
        assert!(parse("2026-12-01", NOW).is_ok());
        assert!(parse("2026-12-01T18:00", NOW).is_ok());
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "soon",
            "3",
            "3x",
            "d3",
            "2026-13-01",
            "in",
            "+",
            "1d x",
            "99999999999999999999d",
        ] {
            assert_eq!(parse(bad, NOW), Err(BadTime(bad.to_string())), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse(&s, NOW);
        }

        #[test]
        fn durations_add_up(d in 0i64..1000, h in 0i64..1000, m in 0i64..1000) {
            let text = format!("{d}d{h}h{m}m");
            prop_assert_eq!(
                parse(&text, NOW),
                Ok(NOW.plus_millis(d * 86_400_000 + h * 3_600_000 + m * 60_000))
            );
        }

        #[test]
        fn rfc3339_round_trips(secs in 0i64..4_000_000_000) {
            let t = DateTime::from_timestamp(secs, 0).expect("in range");
            prop_assert_eq!(parse(&t.to_rfc3339(), NOW), Ok(Timestamp(secs * 1000)));
        }
    }
}
