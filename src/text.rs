//! Small text helpers that several stages print with, kept in one place so their output cannot
//! drift apart.

/// A byte count for people: `812 B`, `1.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Percent-encodes everything but the purl spec's unreserved characters, so `:` in an epoch and
/// `+` in a version cannot be misread as separators (`1:2.3+b1` → `1%3A2.3%2Bb1`).
pub fn purl_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Shortens text quoted from an untrusted file in a warning, so a hostile file cannot flood the
/// report.
pub fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(human_size(3 << 50), "3.0 PiB");
    }

    #[test]
    fn purl_separators_are_escaped() {
        assert_eq!(purl_encode("1:2.36+b1"), "1%3A2.36%2Bb1");
        assert_eq!(purl_encode("@babel"), "%40babel");
    }
}
