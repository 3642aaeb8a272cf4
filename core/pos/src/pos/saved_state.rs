//! The register session and the fiscal (contingency) state as saved in the device store.
//!
//! A checkout changes both (its payments, its offline note) but does not save them: that would
//! be one more page, encrypted, MACed and made durable, in every sale's commit. Each is saved
//! instead as of a sale number, whenever it changes otherwise (the register opened, moved,
//! refunded or closed; a contingency transition), and opening the device brings it up to date
//! from the rows of the sales recorded since, which hold everything a checkout added.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tenda_domain::DeviceId;
use tenda_store::Store;

use super::{json, keys, storage};
use crate::contingency::FiscalState;
use crate::error::{PosError, PosResult};
use crate::register::RegisterSession;

/// A state and the last sale it counts.
#[derive(Serialize, Deserialize)]
struct AsOfSale<T> {
    through_sale: u64,
    state: T,
}

/// The register's setting: `None` once closed.
pub(crate) fn register_setting(
    register: Option<&RegisterSession>,
    through_sale: u64,
) -> PosResult<(String, String)> {
    setting(keys::REGISTER, register, through_sale)
}

/// The fiscal state's setting.
pub(crate) fn fiscal_setting(
    state: &FiscalState,
    through_sale: u64,
) -> PosResult<(String, String)> {
    setting(keys::FISCAL_STATE, state, through_sale)
}

fn setting<T: Serialize>(key: &str, state: T, through_sale: u64) -> PosResult<(String, String)> {
    Ok((
        key.to_owned(),
        json(&AsOfSale {
            through_sale,
            state,
        })?,
    ))
}

/// The device's states as they stand after its last sale.
pub(crate) struct CurrentState {
    pub register: Option<RegisterSession>,
    pub fiscal: FiscalState,
    pub last_sale: u64,
}

/// Reads both states and counts in what each sale recorded by `device` since added to them.
pub(crate) fn load(store: &mut Store, device: DeviceId) -> PosResult<CurrentState> {
    let last_sale = store.last_sale_number().map_err(storage)?;
    let register: AsOfSale<Option<RegisterSession>> =
        read(store, keys::REGISTER)?.unwrap_or(AsOfSale {
            through_sale: last_sale,
            state: None,
        });
    let fiscal: AsOfSale<FiscalState> = read(store, keys::FISCAL_STATE)?.unwrap_or(AsOfSale {
        through_sale: last_sale,
        state: FiscalState::Normal,
    });
    let mut current = CurrentState {
        register: register.state,
        fiscal: fiscal.state,
        last_sale,
    };
    // Only an open register and a contingency period count sales.
    let counts_sales = matches!(current.fiscal, FiscalState::Contingency { .. });
    let from = [
        current.register.as_ref().map(|_| register.through_sale),
        counts_sales.then_some(fiscal.through_sale),
    ]
    .into_iter()
    .flatten()
    .min();
    let Some(from) = from.filter(|&n| n < last_sale) else {
        return Ok(current);
    };
    for sale in store.sale_effects_after(from).map_err(storage)? {
        if sale.device_id != device {
            continue;
        }
        if let Some(session) = current.register.as_mut()
            && sale.local_number > register.through_sale
            && sale.register_session_id == Some(session.id)
        {
            session
                .tally
                .add_sale(&sale.payments)
                .map_err(|e| corrupt_state("register", e))?;
        }
        if let FiscalState::Contingency { notes_issued, .. } = &mut current.fiscal
            && sale.local_number > fiscal.through_sale
            && sale.offline_note
        {
            *notes_issued = notes_issued.saturating_add(1);
        }
    }
    Ok(current)
}

fn read<T: DeserializeOwned>(store: &mut Store, key: &str) -> PosResult<Option<AsOfSale<T>>> {
    store.setting(key).map_err(storage)
}

fn corrupt_state(what: &str, e: impl std::fmt::Display) -> PosError {
    PosError::Internal {
        detail: format!("the saved {what} cannot count its sales: {e}"),
    }
}
