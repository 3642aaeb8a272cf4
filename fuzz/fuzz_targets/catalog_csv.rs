//! A catalog CSV as the back office uploads it. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tenda_server::catalog::parse_catalog_csv(text);
    }
});
