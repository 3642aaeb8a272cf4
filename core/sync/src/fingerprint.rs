//! Certificate fingerprints: the device pins the server's certificate learned at enrollment.

use sha2::{Digest, Sha256};

/// SHA-256 of a DER certificate as lowercase hex (64 characters).
pub fn sha256_fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Compares fingerprints written with or without `:` separators, in any case.
pub fn fingerprints_match(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != ':')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    a.len() == 64 && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_case_do_not_matter() {
        let f = sha256_fingerprint(b"cert");
        let colons: String = f
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).expect("hex is ascii"))
            .collect::<Vec<_>>()
            .join(":");
        assert!(fingerprints_match(&f, &colons));
        assert!(!fingerprints_match(&f, &sha256_fingerprint(b"other")));
        // An empty pin must never match anything.
        assert!(!fingerprints_match("", ""));
    }
}
