//! Faults a test (or the admin endpoint) switches on.

use std::collections::BTreeMap;

/// What the simulator does wrong, on purpose. Serialized as JSON by the admin endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Every SOAP call gets an HTML "503 Service Unavailable" page, as from a proxy.
    pub down: bool,
    /// Added before answering each SOAP call.
    pub latency_ms: u64,
    /// The next N calls that change state (authorization, events, inutilização) are processed
    /// and committed, then never answered: the client times out.
    pub timeout_after_commit: u32,
    /// 108 (paused briefly) or 109 (paused without forecast) for every service.
    pub paused: Option<u16>,
    /// 656 (consumo indevido) for every call.
    pub throttled: bool,
    /// Notes (by access key) to refuse with the given cStat. 110/301/302 deny use (the note is
    /// registered as denied); any other code rejects it.
    pub reject: BTreeMap<String, u16>,
    /// Authorize with 150 (late) instead of 100.
    pub late_authorization: bool,
    /// Process the call, then answer with a broken document.
    pub malformed_answers: Option<Malformation>,
}

/// Broken answers seen in the wild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Malformation {
    /// The answer is cut in the middle.
    Truncated,
    /// The message is in a namespace other than the NF-e one.
    WrongNamespace,
    /// HTTP 200 with an HTML page (a captive portal or a misrouted proxy).
    HtmlPage,
    /// HTTP 200 with an empty body.
    Empty,
}
