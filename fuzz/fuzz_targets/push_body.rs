//! A push body, as any authenticated device could send it: parsed, numbered and every mutation
//! read through the domain rules. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenda_server::auth::AuthedDevice;
use tenda_server::http::JsonBody;
use tenda_server::mutation::PushBody;

fuzz_target!(|data: &[u8]| {
    let Ok(JsonBody(body)) = JsonBody::<PushBody>::parse(data) else {
        return;
    };
    let device = AuthedDevice {
        id: body.device.to_string(),
        store_id: uuid::Uuid::nil().to_string(),
        branch_id: uuid::Uuid::nil().to_string(),
    };
    let _ = tenda_server::push::check_request(&body, &device);
});
