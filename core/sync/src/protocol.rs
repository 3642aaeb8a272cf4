//! The device ↔ server wire protocol: JSON over HTTPS, every body carries `protocol`.
//!
//! Endpoints (all `POST`, JSON in and out):
//! - `/api/v1/sync/enroll`: [`EnrollRequest`] → [`EnrollResponse`] (no credential; the code is the secret).
//! - `/api/v1/sync/push`: [`PushRequest`] → [`PushResponse`] (device credential as `Authorization: Bearer`).
//! - `/api/v1/sync/pull`: [`PullRequest`] → [`PullPage`] (device credential).
//!
//! Errors come back as a 4xx/5xx status with an [`ErrorBody`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The protocol version this build speaks. A server refuses bodies that claim a newer one.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest number of mutations a device may push in one request.
pub const MAX_PUSH_BATCH: usize = 1_000;

/// Largest pull page the server hands out.
pub const MAX_PULL_PAGE: u32 = 10_000;

/// Paths of the sync endpoints, relative to the server's base URL.
pub mod paths {
    pub const ENROLL: &str = "/api/v1/sync/enroll";
    pub const PUSH: &str = "/api/v1/sync/push";
    pub const PULL: &str = "/api/v1/sync/pull";
    pub const HEALTH: &str = "/api/v1/health";
    /// Long poll: answers once the server's change version passes the one given (store hubs).
    pub const WAIT: &str = "/api/v1/sync/wait";
    /// A store hub relays one till's mutations to the cloud (hub credential).
    pub const HUB_RELAY: &str = "/api/v1/hub/relay";
    /// A store hub learns the devices of its branch from the cloud (hub credential).
    pub const HUB_DEVICES: &str = "/api/v1/hub/devices";
}

/// The store setting (per branch) naming the branch's hub: its value is a [`HubEndpoint`] as
/// JSON, or empty when the branch has none (the hub was revoked).
pub fn hub_setting_key(branch_id: Uuid) -> String {
    format!("sync.hub.{branch_id}")
}

/// Where the tills of a branch reach their store hub, and the certificate they pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubEndpoint {
    /// `https://192.168.0.10:8443` (or `http://127.0.0.1:…` in tests).
    pub url: String,
    /// SHA-256 (hex) of the hub's self-signed certificate; `None` only for plain-HTTP loopback.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

fn current_protocol() -> u32 {
    PROTOCOL_VERSION
}

/// A device trades a one-time enrollment code for its identity and settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    #[serde(default = "current_protocol")]
    pub protocol: u32,
    pub code: String,
    /// Shown in the back office ("Caixa 2", "Tablet da loja").
    pub device_name: String,
    /// Store settings the device cannot work without (e.g. `fiscal.emitter` for a till), each
    /// found as the key itself or as `<key>.<branch id>`. While one is missing the server
    /// refuses the enrollment and the code stays usable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_settings: Vec<String>,
    /// Present when a store hub enrolls (with a hub code): where the branch's tills reach it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<HubEndpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub protocol: u32,
    pub device_id: Uuid,
    /// The device's secret; the server keeps only its hash. Sent as `Authorization: Bearer`.
    pub credential: String,
    pub settings: DeviceSettings,
}

/// Everything a freshly enrolled device needs to start selling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSettings {
    pub store_id: Uuid,
    pub store_name: String,
    pub branch_id: Uuid,
    pub branch_name: String,
    /// The NFC-e series this device owns (numbers never collide between devices).
    pub nfce_series: u32,
    /// Store policies (contingency, discounts, …) as key → value, same as pulled settings.
    pub policies: BTreeMap<String, String>,
}

/// One outbox entry as it travels: `seq` is the device's 1, 2, 3… numbering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushedMutation {
    pub seq: u64,
    /// The mutation's tag (`sale_recorded`, `stock_adjusted`, …).
    pub kind: String,
    /// The mutation's content, as `tenda_domain::outbox::Mutation` serializes it.
    pub payload: serde_json::Value,
}

impl PushedMutation {
    /// The wire form of a device outbox entry.
    pub fn from_entry(entry: &tenda_domain::OutboxEntry) -> Result<Self, serde_json::Error> {
        let mut value = serde_json::to_value(entry)?;
        let payload = value
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or_default();
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_owned();
        Ok(PushedMutation {
            seq: entry.seq,
            kind,
            payload,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    #[serde(default = "current_protocol")]
    pub protocol: u32,
    pub device: Uuid,
    pub mutations: Vec<PushedMutation>,
}

/// The body of a push, written straight from the device's outbox entries: the same JSON as a
/// [`PushRequest`] of [`PushedMutation::from_entry`] values (an `OutboxEntry` serializes as
/// `{"seq", "kind", "payload"}`), without building a JSON tree per entry first.
pub fn encode_push(
    device: Uuid,
    entries: &[tenda_domain::OutboxEntry],
) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct Body<'a> {
        protocol: u32,
        device: Uuid,
        mutations: &'a [tenda_domain::OutboxEntry],
    }
    serde_json::to_vec(&Body {
        protocol: PROTOCOL_VERSION,
        device,
        mutations: entries,
    })
}

/// The store-wide folio the server gave a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SaleFolio {
    pub sale_id: Uuid,
    pub folio: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub protocol: u32,
    /// Every mutation with `seq <= applied_through` is on the server; the device may drop them.
    pub applied_through: u64,
    /// Folios of the sales in this request (including ones applied by an earlier, lost reply).
    pub folios: Vec<SaleFolio>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    #[serde(default = "current_protocol")]
    pub protocol: u32,
    /// `None` on the very first pull; afterwards the cursor of the last page received.
    pub cursor: Option<String>,
    /// Wanted page size; the server caps it at [`MAX_PULL_PAGE`].
    pub page_size: Option<u32>,
    /// Only customers whose balance changed (the periodic refresh), not the whole change set.
    #[serde(default)]
    pub only: Option<PullScope>,
}

/// Restricts a pull to one kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullScope {
    Balances,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub protocol: u32,
    pub changes: Vec<Change>,
    /// Send this back to get the next page (or, once `more` is false, the next round of changes).
    pub cursor: String,
    pub more: bool,
    /// Present on the first page of a round, so the device can show progress.
    pub totals: Option<PullTotals>,
}

/// How many changes of each kind the current round will deliver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullTotals {
    pub settings: u64,
    pub users: u64,
    pub products: u64,
    pub customers: u64,
    pub stock_levels: u64,
    pub balances: u64,
    /// Folios the cloud gave this device's sales, delivered by its store hub.
    #[serde(default)]
    pub folios: u64,
}

impl PullTotals {
    pub fn total(&self) -> u64 {
        self.settings
            + self.users
            + self.products
            + self.customers
            + self.stock_levels
            + self.balances
            + self.folios
    }
}

/// One server-authoritative change. Catalog and users: last writer wins by `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Setting(SettingRecord),
    User(UserRecord),
    Product(ProductRecord),
    Customer(CustomerRecord),
    StockLevel(StockLevelRecord),
    /// The cloud's folio for one of this device's sales, learned by its store hub after the
    /// device's push was answered (the hub relays later).
    SaleFolio(SaleFolio),
}

/// Long poll for the next change (store hubs answer it; tills use it to see each other's
/// sales within a second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitRequest {
    #[serde(default = "current_protocol")]
    pub protocol: u32,
    /// The version last answered; `None` answers at once with the current one.
    pub after: Option<u64>,
    /// How long to hold the request at most, capped by the server.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitResponse {
    pub protocol: u32,
    /// The store's change version now (greater than `after` unless the wait timed out).
    pub version: u64,
}

/// A device of the hub's branch, as the cloud tells the hub (so the hub accepts its tills'
/// credentials, refuses revoked ones, and starts each till's numbering where the cloud is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubDeviceRecord {
    pub id: Uuid,
    pub name: String,
    /// SHA-256 of the device credential (never the credential itself).
    pub credential_hash: String,
    pub nfce_series: u32,
    pub revoked: bool,
    /// The last mutation of this device the cloud has applied.
    pub last_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubDevicesResponse {
    pub protocol: u32,
    pub devices: Vec<HubDeviceRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingRecord {
    pub key: String,
    pub value: String,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: Uuid,
    pub name: String,
    /// What the user types to log in on a device.
    pub login: String,
    /// `seller`, `manager` or `owner`.
    pub role: String,
    /// PHC string (argon2id) of the user's PIN, verified on the device offline.
    pub credential_hash: String,
    pub active: bool,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub id: Uuid,
    pub sku: String,
    pub gtin: Option<String>,
    pub name: String,
    /// `un`, `kg`, … (the unit the quantity's thousandths refer to).
    pub unit: String,
    /// Price in centavos for this device's branch (a branch override, else the store price).
    pub price_cents: i64,
    /// Fiscal data (NCM, CFOP, taxes) as the domain serializes it.
    pub fiscal: serde_json::Value,
    pub active: bool,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub id: Uuid,
    pub name: String,
    /// CPF or CNPJ digits, if known.
    pub tax_id: Option<String>,
    pub phone: Option<String>,
    /// How far below zero the balance may go, in centavos.
    pub overdraft_limit_cents: i64,
    /// Sum of all balance deltas, in centavos; negative while the customer owes.
    pub balance_cents: i64,
    pub active: bool,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevelRecord {
    pub product_id: Uuid,
    /// Sum of every stock delta of this branch, in thousandths of the product's unit.
    pub quantity: i64,
    pub version: u64,
}

/// Machine-readable reason of a refusal; clients branch on this, never on `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// No or unknown credential (401).
    Unauthorized,
    /// Known credential without the right (revoked device, other store, role) (403).
    Forbidden,
    /// The body is not valid JSON or has a wrong field (400/422).
    InvalidInput,
    /// The body claims a protocol version this server does not speak (400).
    UnsupportedProtocol,
    /// Mutations skip a number; `expected_seq` says which one the server needs next (409).
    SequenceGap,
    /// Too many mutations or too large a body (413).
    TooLarge,
    NotFound,
    Conflict,
    /// The server failed; retry later (500/503).
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// The offending field, when one is to blame (`mutations[3].payload.lines`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With [`ErrorCode::SequenceGap`]: the next sequence number the server will accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// With a refused mutation: its `seq`, so the device knows which entry is at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The domain rule that refused the input (`sale_not_settled`, `pin_too_short`…): the same
    /// code a device gives for the same input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// Reads the `protocol` field of a JSON body before its shape is trusted, so a newer client gets
/// "unsupported protocol" instead of a confusing field error.
pub fn check_protocol(body: &serde_json::Value) -> Result<(), ErrorBody> {
    match body.get("protocol") {
        None => Ok(()),
        Some(serde_json::Value::Number(n)) => match n.as_u64() {
            Some(v) if v >= 1 && v <= u64::from(PROTOCOL_VERSION) => Ok(()),
            Some(v) => Err(ErrorBody {
                code: ErrorCode::UnsupportedProtocol,
                message: format!(
                    "protocol version {v} is not supported; this server speaks 1..={PROTOCOL_VERSION}"
                ),
                field: Some("protocol".into()),
                expected_seq: None,
                seq: None,
                rule: None,
            }),
            None => Err(ErrorBody {
                code: ErrorCode::InvalidInput,
                message: "protocol must be a positive integer".into(),
                field: Some("protocol".into()),
                expected_seq: None,
                seq: None,
                rule: None,
            }),
        },
        Some(_) => Err(ErrorBody {
            code: ErrorCode::InvalidInput,
            message: "protocol must be a positive integer".into(),
            field: Some("protocol".into()),
            expected_seq: None,
            seq: None,
            rule: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Snapshots: a change to the wire format must be a deliberate act.
    #[test]
    fn push_request_wire_format() {
        let req = PushRequest {
            protocol: 1,
            device: Uuid::nil(),
            mutations: vec![PushedMutation {
                seq: 7,
                kind: "stock_adjusted".into(),
                payload: serde_json::json!({"delta": -3}),
            }],
        };
        assert_eq!(
            serde_json::to_string(&req).expect("serializable"),
            r#"{"protocol":1,"device":"00000000-0000-0000-0000-000000000000","mutations":[{"seq":7,"kind":"stock_adjusted","payload":{"delta":-3}}]}"#
        );
    }

    #[test]
    fn encoded_push_reads_as_the_push_request_of_the_same_entries() {
        use tenda_domain::stock::StockReason;
        use tenda_domain::{Actor, DeviceId, Mutation, OutboxEntry, ProductId, Quantity};
        let entries: Vec<OutboxEntry> = (1..=3)
            .map(|seq| OutboxEntry {
                seq,
                mutation: Mutation::StockAdjusted {
                    product_id: ProductId::new(),
                    delta: Quantity::from_thousandths(-250 * seq as i64),
                    reason: StockReason::Loss,
                    actor: Actor::Device(DeviceId::new()),
                    at: chrono::Utc::now(),
                },
            })
            .collect();
        let device = Uuid::now_v7();
        let bytes = encode_push(device, &entries).expect("encodes");
        let read: PushRequest = serde_json::from_slice(&bytes).expect("a push request");
        let expected = PushRequest {
            protocol: PROTOCOL_VERSION,
            device,
            mutations: entries
                .iter()
                .map(PushedMutation::from_entry)
                .collect::<Result<_, _>>()
                .expect("wire form"),
        };
        // The server reads either form the same way, so the two must not drift apart.
        assert_eq!(read, expected);
    }

    #[test]
    fn change_is_tagged_by_type() {
        let c = Change::StockLevel(StockLevelRecord {
            product_id: Uuid::nil(),
            quantity: -1000,
            version: 3,
        });
        assert_eq!(
            serde_json::to_string(&c).expect("serializable"),
            r#"{"type":"stock_level","product_id":"00000000-0000-0000-0000-000000000000","quantity":-1000,"version":3}"#
        );
    }

    #[test]
    fn error_body_wire_format() {
        let e = ErrorBody {
            code: ErrorCode::SequenceGap,
            message: "m".into(),
            field: None,
            expected_seq: Some(4),
            seq: None,
            rule: None,
        };
        assert_eq!(
            serde_json::to_string(&e).expect("serializable"),
            r#"{"code":"sequence_gap","message":"m","expected_seq":4}"#
        );
    }

    #[test]
    fn future_protocol_is_refused_before_shape() {
        let body = serde_json::json!({"protocol": 2, "whatever": true});
        let err = check_protocol(&body).expect_err("version 2 is from the future");
        assert_eq!(err.code, ErrorCode::UnsupportedProtocol);
        assert!(check_protocol(&serde_json::json!({"protocol": 1})).is_ok());
        assert_eq!(
            check_protocol(&serde_json::json!({"protocol": "1"}))
                .expect_err("string")
                .code,
            ErrorCode::InvalidInput
        );
    }
}
