//! The store-settings schema: which keys the store sets and what each value must be. The server
//! refuses a value a till could not read (a refused setting would make every device's config
//! refresh fail); the till checks each value with the same rule before using it.

use crate::roles::PermissionMatrix;

/// What a setting's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingShape {
    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    Bool,
    /// A whole number within bounds.
    Integer { min: i64, max: i64 },
    /// A JSON object (read by the till into its own type).
    JsonObject,
    /// The JSON of a [`PermissionMatrix`].
    Permissions,
}

/// A setting value that breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct SettingError {
    pub key: String,
    pub reason: String,
}

impl SettingError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "bad_setting"
    }
}

const DAY_MS: i64 = 86_400_000;

/// The shape of a known key; `None` for keys the devices do not read (kept as text).
pub fn shape(key: &str) -> Option<SettingShape> {
    use SettingShape::*;
    let ms = |min| Integer { min, max: DAY_MS };
    Some(match key {
        "policy.contingency"
        | "policy.lockout"
        | "policy.scale_label"
        | "policy.card_offline_limits"
        | "fiscal.emitter" => JsonObject,
        k if k.starts_with("fiscal.emitter.") => JsonObject,
        "policy.permissions" => Permissions,
        "policy.seller_discount_limit_bp" => Integer {
            min: 0,
            max: 10_000,
        },
        "policy.sell_without_stock_check" => Bool,
        // UTC−12:00 to UTC+14:00.
        "policy.utc_offset_minutes" => Integer {
            min: -720,
            max: 840,
        },
        "policy.sefaz_timeout_ms" => ms(0),
        "sync.poll_interval_ms"
        | "sync.catalog_refresh_ms"
        | "sync.balance_refresh_ms"
        | "sync.backoff_min_ms"
        | "sync.backoff_max_ms"
        | "sync.request_timeout_ms" => ms(0),
        "sync.push_batch" => Integer { min: 1, max: 1_000 },
        "sync.pull_page" => Integer {
            min: 1,
            max: 10_000,
        },
        _ => return None,
    })
}

/// Reads a boolean setting.
pub fn parse_bool(key: &str, value: &str) -> Result<bool, SettingError> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(SettingError {
            key: key.to_owned(),
            reason: format!("`{other}` is not true or false"),
        }),
    }
}

/// Checks `value` against the rule of `key` (unknown keys: any text without control
/// characters, at most 4096 bytes).
pub fn check(key: &str, value: &str) -> Result<(), SettingError> {
    let bad = |reason: String| SettingError {
        key: key.to_owned(),
        reason,
    };
    if value.len() > 4096 {
        return Err(bad("at most 4096 bytes".into()));
    }
    match shape(key) {
        None => {
            if value
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
                || value.chars().any(crate::text::is_bidi_control)
            {
                return Err(bad("contains control characters".into()));
            }
        }
        Some(SettingShape::Bool) => {
            parse_bool(key, value)?;
        }
        Some(SettingShape::Integer { min, max }) => {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{value}` is not a whole number")))?;
            if !(min..=max).contains(&n) {
                return Err(bad(format!("must be between {min} and {max}")));
            }
        }
        Some(SettingShape::JsonObject) => {
            let v: serde_json::Value =
                serde_json::from_str(value).map_err(|e| bad(format!("not readable JSON: {e}")))?;
            if !v.is_object() {
                return Err(bad("must be a JSON object".into()));
            }
        }
        Some(SettingShape::Permissions) => {
            serde_json::from_str::<PermissionMatrix>(value)
                .map_err(|e| bad(format!("not a permission matrix: {e}")))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_a_till_cannot_read_are_refused() {
        assert!(check("policy.seller_discount_limit_bp", "500").is_ok());
        assert!(check("policy.seller_discount_limit_bp", "abc").is_err());
        assert!(check("policy.seller_discount_limit_bp", "20000").is_err());
        assert!(check("policy.sell_without_stock_check", "maybe").is_err());
        assert!(check("policy.utc_offset_minutes", "-180").is_ok());
        assert!(check("policy.lockout", "[1,2]").is_err());
        assert!(check("policy.lockout", "{\"max_failures\":5}").is_ok());
        assert!(check("policy.permissions", "{}").is_err());
        let standard = serde_json::to_string(&PermissionMatrix::standard()).expect("json");
        assert!(check("policy.permissions", &standard).is_ok());
        assert!(check("receipt.footer", "Obrigado!\nVolte sempre").is_ok());
        assert!(check("receipt.footer", "a\u{1b}b").is_err());
    }
}
