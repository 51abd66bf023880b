//! Version prefixes for new migration files: UTC timestamps (`YYYYMMDDHHMMSS`) or zero-padded sequence
//! numbers, continuing whatever the directory already uses.

/// How a directory numbers its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// 14-digit UTC timestamps.
    Timestamp,
    /// Sequence numbers of this width.
    Sequence(usize),
}

/// Splits `0003_add_users.sql` into (`0003`, `_`); None when the name has no numeric prefix.
#[must_use]
pub fn version_prefix(file_name: &str) -> Option<(&str, char)> {
    let digits = file_name.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let sep = file_name[digits..].chars().next()?;
    matches!(sep, '_' | '-' | '.').then_some((&file_name[..digits], sep))
}

/// The scheme of existing versions (timestamps when there are none).
#[must_use]
pub fn scheme(versions: &[&str]) -> Scheme {
    match versions.iter().max_by_key(|v| v.len()) {
        Some(v) if v.len() != 14 => Scheme::Sequence(v.len()),
        _ => Scheme::Timestamp,
    }
}

/// `count` new versions after `existing`, following `scheme`. `now` is `YYYYMMDDHHMMSS` UTC.
/// Timestamps: max(now, latest + 1 s), then one second apart. Sequences: max + 1, same width.
#[must_use]
pub fn next_versions(existing: &[&str], now: &str, count: usize) -> Vec<String> {
    match scheme(existing) {
        Scheme::Timestamp => {
            let latest = existing.iter().filter(|v| v.len() == 14).max().map(|v| add_seconds(v, 1));
            let mut start = now.to_string();
            if let Some(l) = latest
                && l > start
            {
                start = l;
            }
            (0..count).map(|i| add_seconds(&start, i as u64)).collect()
        }
        Scheme::Sequence(width) => {
            let max = existing.iter().filter_map(|v| v.parse::<u64>().ok()).max().unwrap_or(0);
            (1..=count as u64).map(|i| format!("{:0width$}", max + i)).collect()
        }
    }
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Adds seconds to a `YYYYMMDDHHMMSS` timestamp (calendar-correct, UTC).
#[must_use]
pub fn add_seconds(ts: &str, secs: u64) -> String {
    let n = |r: std::ops::Range<usize>| ts.get(r).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let (mut y, mut mo, mut d, h, mi, s) = (n(0..4), n(4..6), n(6..8), n(8..10), n(10..12), n(12..14));
    let total = h * 3600 + mi * 60 + s + secs;
    let (mut days, rem) = (total / 86_400, total % 86_400);
    while days > 0 {
        d += 1;
        if d > days_in_month(y, mo) {
            d = 1;
            mo += 1;
            if mo > 12 {
                mo = 1;
                y += 1;
            }
        }
        days -= 1;
    }
    format!("{y:04}{mo:02}{d:02}{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Milliseconds since the Unix epoch of a `YYYYMMDDHHMMSS` UTC timestamp (drizzle's journal `when`).
#[must_use]
pub fn epoch_millis(ts: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| ts.get(r).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let (y, mo, d) = (n(0..4).max(1970), n(4..6).clamp(1, 12), n(6..8).max(1));
    let days_before_year: u64 = (1970..y).map(|yy| if days_in_month(yy, 2) == 29 { 366 } else { 365 }).sum();
    let days_before_month: u64 = (1..mo).map(|m| days_in_month(y, m)).sum();
    let days = days_before_year + days_before_month + d - 1;
    (days * 86_400 + n(8..10) * 3600 + n(10..12) * 60 + n(12..14)) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_now_or_latest() {
        assert_eq!(next_versions(&[], "20261125140000", 2), vec!["20261125140000", "20261125140001"]);
        assert_eq!(next_versions(&["20991231235959"], "20261125140000", 1), vec!["21000101000000"]);
        assert_eq!(add_seconds("20240228235959", 1), "20240229000000");
        assert_eq!(add_seconds("20230228235959", 1), "20230301000000");
    }

    #[test]
    fn epoch_millis_of_timestamps() {
        assert_eq!(epoch_millis("19700101000000"), 0);
        assert_eq!(epoch_millis("20261125140000"), 1_795_615_200_000);
        assert_eq!(epoch_millis("20240229000001"), 1_709_164_801_000);
        assert_eq!(epoch_millis("20000301000001"), 951_868_801_000);
    }

    #[test]
    fn sequences_keep_their_width() {
        assert_eq!(next_versions(&["0001", "0002"], "20261125140000", 2), vec!["0003", "0004"]);
        assert_eq!(next_versions(&["9"], "x", 1), vec!["10"]);
        assert_eq!(version_prefix("0003_add.sql"), Some(("0003", '_')));
        assert_eq!(version_prefix("V1__x.sql"), None);
    }
}
