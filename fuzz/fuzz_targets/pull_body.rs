//! A pull body and its cursor. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenda_server::http::JsonBody;
use tenda_sync::protocol::PullRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(JsonBody(req)) = JsonBody::<PullRequest>::parse(data) {
        let _ = tenda_server::pull::check_request(&req);
    }
});
