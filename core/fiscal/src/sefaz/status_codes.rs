//! SEFAZ answer codes (`cStat`) with their official text and the correction hint shown to users.

use std::collections::HashMap;
use std::sync::OnceLock;

const BUILTIN_TABLE: &str = include_str!("../../data/cstat.json");

/// What the public table says about a `cStat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    pub code: u16,
    pub message: String,
    /// What the emitter should do about it (empty for successes).
    pub correction: String,
}

#[derive(serde::Deserialize)]
struct Row {
    cod: String,
    msg: Option<String>,
    correct: Option<String>,
}

fn table() -> &'static HashMap<u16, StatusInfo> {
    static TABLE: OnceLock<HashMap<u16, StatusInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows: Vec<Row> =
            serde_json::from_str(BUILTIN_TABLE).expect("the compiled-in cStat table parses");
        rows.into_iter()
            .filter_map(|r| {
                let code = r.cod.trim().parse().ok()?;
                Some((
                    code,
                    StatusInfo {
                        code,
                        message: r.msg.unwrap_or_default(),
                        correction: r.correct.unwrap_or_default(),
                    },
                ))
            })
            .collect()
    })
}

/// The table entry for a code, if the code is known.
pub fn describe(code: u16) -> Option<&'static StatusInfo> {
    table().get(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_knows_the_codes_the_client_branches_on() {
        for code in [
            100, 103, 104, 105, 107, 108, 109, 110, 150, 204, 217, 225, 539, 656,
        ] {
            assert!(
                describe(code).is_some(),
                "cStat {code} is in the public table"
            );
        }
        assert!(describe(225).expect("225").message.contains("Schema"));
    }
}

/// A SEFAZ answer code with its reason as sent (`cStat` + `xMotivo`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Status {
    pub code: u16,
    pub reason: String,
}

impl Status {
    /// The public table's correction hint for this code, for showing to the user.
    pub fn correction_hint(&self) -> Option<&'static str> {
        describe(self.code)
            .map(|info| info.correction.as_str())
            .filter(|hint| !hint.is_empty())
    }

    pub(crate) fn from_element(
        element: &super::xml::Element,
    ) -> Result<Status, super::error::ResponseError> {
        Ok(Status {
            code: super::soap::fields::status_code(element)?,
            reason: super::soap::fields::optional(element, "xMotivo").unwrap_or_default(),
        })
    }
}
