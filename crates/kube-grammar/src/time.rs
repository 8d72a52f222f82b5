//! Timestamps in the forms the Kubernetes API uses: RFC 3339 with whole seconds for object metadata,
//! RFC 3339 with nanoseconds (trailing zeros trimmed, as Go's `RFC3339Nano`) for log lines.

use jiff::Timestamp;

/// Now, as metadata timestamps are written (`2026-11-21T16:00:00Z`).
pub fn now_rfc3339() -> String {
    seconds_rfc3339(Timestamp::now())
}

/// `seconds` from now, in metadata form (used for `deletionTimestamp`).
pub fn rfc3339_in(seconds: i64) -> String {
    let now = Timestamp::now().as_second();
    Timestamp::from_second(now.saturating_add(seconds)).map(|t| t.to_string()).unwrap_or_else(|_| now_rfc3339())
}

/// A timestamp truncated to whole seconds, in metadata form.
pub fn seconds_rfc3339(ts: Timestamp) -> String {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts).to_string()
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_nanos() -> i64 {
    Timestamp::now().as_nanosecond() as i64
}

/// Formats Unix nanoseconds as Go's `RFC3339Nano` in UTC: `2006-01-02T15:04:05.999999999Z`, with
/// trailing zeros of the fraction trimmed (and no fraction at all when it is zero).
pub fn format_rfc3339_nano(nanos: i64, out: &mut Vec<u8>) {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000) as u32;
    let (y, mo, d, h, mi, s) = civil_from_unix(secs);
    use std::io::Write as _;
    let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if frac != 0 {
        let mut digits = format!("{frac:09}");
        while digits.ends_with('0') {
            digits.pop();
        }
        out.push(b'.');
        out.extend_from_slice(digits.as_bytes());
    }
    out.push(b'Z');
}

/// Parses an RFC 3339 timestamp into Unix nanoseconds. The kubelet's form
/// (`2006-01-02T15:04:05.999999999Z`) takes a fast path: log lines carry one each.
pub fn parse_rfc3339_nanos(s: &str) -> Option<i64> {
    parse_utc_fast(s.as_bytes()).or_else(|| s.parse::<Timestamp>().ok().map(|t| t.as_nanosecond() as i64))
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` only; anything else is `None` (and goes the slow way).
fn parse_utc_fast(b: &[u8]) -> Option<i64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b.last() != Some(&b'Z')
    {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, sec) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let frac = &b[19..b.len() - 1];
    let nanos = match frac {
        [] => 0,
        [b'.', rest @ ..] if !rest.is_empty() && rest.len() <= 9 => digits(rest)? * 10i64.pow(9 - rest.len() as u32),
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec) * 1_000_000_000 + nanos)
}

/// Days-from-civil inverse (Howard Hinnant's algorithm): Unix seconds to UTC calendar fields.
fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, ((rem % 3600) / 60) as u32, (rem % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nano(n: i64) -> String {
        let mut v = Vec::new();
        format_rfc3339_nano(n, &mut v);
        String::from_utf8(v).expect("ascii")
    }

    #[test]
    fn rfc3339_nano_matches_go() {
        assert_eq!(nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(nano(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456789Z");
        assert_eq!(nano(1_700_000_000_120_000_000), "2023-11-14T22:13:20.12Z");
        assert_eq!(nano(951_782_400_000_000_001), "2000-02-29T00:00:00.000000001Z");
    }

    #[test]
    fn parse_roundtrips_and_agrees_with_jiff() {
        for n in [0i64, 1_700_000_000_123_456_789, 4_102_444_799_999_999_999] {
            assert_eq!(parse_rfc3339_nanos(&nano(n)), Some(n));
            let jiff = Timestamp::from_nanosecond(i128::from(n)).expect("in range").to_string();
            assert_eq!(parse_rfc3339_nanos(&jiff), Some(n));
        }
        assert_eq!(parse_rfc3339_nanos("yesterday"), None);
        // The fast path and jiff agree, including fractions of every length and leap years.
        for t in [
            "2024-02-29T23:59:59.5Z",
            "1999-12-31T00:00:00Z",
            "2026-11-21T16:00:00.000000001Z",
            "2026-03-01T12:34:56.123Z",
        ] {
            assert_eq!(
                parse_utc_fast(t.as_bytes()),
                t.parse::<Timestamp>().ok().map(|x| x.as_nanosecond() as i64),
                "{t}"
            );
        }
        assert_eq!(
            parse_rfc3339_nanos("2026-11-21T17:00:00+01:00"),
            parse_rfc3339_nanos("2026-11-21T16:00:00Z"),
            "offsets go the slow way"
        );
        assert_eq!(parse_utc_fast(b"2026-13-01T00:00:00Z"), None);
    }
}
