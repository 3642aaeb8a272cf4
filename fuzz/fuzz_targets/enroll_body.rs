//! An enrollment body, which anyone may send without a credential. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenda_server::http::JsonBody;
use tenda_sync::protocol::EnrollRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(JsonBody(req)) = JsonBody::<EnrollRequest>::parse(data) {
        let _ = tenda_server::enroll::check_request(&req);
        let _ = tenda_server::auth::normalize_code(&req.code);
    }
});
