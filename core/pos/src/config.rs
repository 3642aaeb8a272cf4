//! The device's settings as the point of sale needs them: who it is, how it issues notes, and the
//! store's policies. Kept in the encrypted store (setting `pos.config`), set at enrollment and
//! refreshed from the server.

use serde::{Deserialize, Serialize};
use tenda_devices::{DanfeOptions, PrinterProfile};
use tenda_domain::{DeviceId, PermissionMatrix};
use tenda_fiscal::nfce::EmitterSettings;

use crate::checkout::scale_label::ScaleLabelFormat;
use crate::contingency::ContingencyPolicy;
use crate::credentials::LockoutPolicy;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosConfig {
    pub device_id: DeviceId,
    /// The emitter and this device's own NFC-e series.
    pub emitter: EmitterSettings,
    /// Store's offset from UTC in minutes (Brasília: −180), for dhEmi and printed times.
    pub utc_offset_minutes: i32,
    pub contingency: ContingencyPolicy,
    pub lockout: LockoutPolicy,
    pub permissions: PermissionMatrix,
    pub scale_label: ScaleLabelFormat,
    /// Sell even when the known stock is short ("sell without stock check"). Off = closed
    /// inventory: a sale beyond the known stock is refused.
    pub sell_without_stock_check: bool,
    pub printer_profile: PrinterProfile,
    pub danfe: DanfeOptions,
    /// How long the sale waits for SEFAZ before consulting and falling back to contingency.
    pub sefaz_timeout_ms: u64,
    /// How the device syncs with its server (store settings `sync.*`).
    #[serde(default)]
    pub sync: crate::sync_link::SyncSettings,
    /// The owner's limits on card payments taken offline (store-and-forward, at the store's risk).
    #[serde(default)]
    pub card_offline_limits: tenda_devices::card::OfflineLimits,
}

impl PosConfig {
    /// Sensible defaults for a new device of `emitter`'s store.
    pub fn new(device_id: DeviceId, emitter: EmitterSettings) -> PosConfig {
        PosConfig {
            device_id,
            emitter,
            utc_offset_minutes: -180,
            contingency: ContingencyPolicy::default(),
            lockout: LockoutPolicy::default(),
            permissions: PermissionMatrix::standard(),
            scale_label: ScaleLabelFormat::default(),
            sell_without_stock_check: true,
            printer_profile: PrinterProfile::mm80(),
            danfe: DanfeOptions::default(),
            sefaz_timeout_ms: 5_000,
            sync: crate::sync_link::SyncSettings::default(),
            card_offline_limits: Default::default(),
        }
    }
}
