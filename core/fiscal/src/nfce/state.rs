//! Brazilian states (UF): IBGE codes and the per-state NFC-e rules Tenda needs.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::deadline::DeadlineRule;
use super::input::Environment;
use super::qr::QrVersion;

macro_rules! ufs {
    ($($uf:ident = $code:literal),* $(,)?) => {
        /// A Brazilian state (unidade federativa).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Uf { $($uf),* }

        impl Uf {
            pub const ALL: &'static [Uf] = &[$(Uf::$uf),*];

            /// The IBGE code (`cUF`).
            pub fn code(self) -> u8 {
                match self { $(Uf::$uf => $code),* }
            }

            pub fn from_code(code: u8) -> Option<Uf> {
                match code { $($code => Some(Uf::$uf),)* _ => None }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(Uf::$uf => stringify!($uf)),* }
            }
        }

        impl FromStr for Uf {
            type Err = UnknownUf;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_uppercase().as_str() {
                    $(stringify!($uf) => Ok(Uf::$uf),)*
                    _ => Err(UnknownUf(s.to_owned())),
                }
            }
        }
    };
}

ufs! {
    RO = 11, AC = 12, AM = 13, RR = 14, PA = 15, AP = 16, TO = 17, MA = 21, PI = 22, CE = 23,
    RN = 24, PB = 25, PE = 26, AL = 27, SE = 28, BA = 29, MG = 31, ES = 32, RJ = 33, SP = 35,
    PR = 41, SC = 42, RS = 43, MS = 50, MT = 51, GO = 52, DF = 53,
}

impl fmt::Display for Uf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Brazilian state (UF)")]
pub struct UnknownUf(pub String);

/// The rules of one state that shape an NFC-e. Defaults follow NT 2025.001 (QR v3) and the
/// common 24-hour contingency window; a store's settings override them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRules {
    pub qr_version: QrVersion,
    pub contingency_deadline: DeadlineRule,
}

impl StateRules {
    pub fn for_uf(_uf: Uf) -> StateRules {
        // Every state currently accepts QR v3 and a 24-hour window by default; states that
        // grant "end of the next business day" are configured by the store (see DeadlineRule).
        StateRules {
            qr_version: QrVersion::V3,
            contingency_deadline: DeadlineRule::default(),
        }
    }
}

/// Per-state public URLs: the consultation page written in `urlChave` and the QR-code URL.
struct StateUrls {
    /// (uf, environment) → "consulta por chave" URL.
    url_chave: HashMap<(Uf, Environment), String>,
    /// (uf, environment) → QR-code base URL.
    qr_code: HashMap<(Uf, Environment), String>,
}

const URI_CONSULTA_JSON: &str = include_str!("../../data/uri_consulta_nfce.json");
const WSNFE_XML: &str = include_str!("../../data/wsnfe_4.00_mod65.xml");

fn state_urls() -> &'static StateUrls {
    static URLS: OnceLock<StateUrls> = OnceLock::new();
    URLS.get_or_init(|| {
        let mut url_chave = HashMap::new();
        let parsed: HashMap<String, HashMap<String, String>> =
            serde_json::from_str(URI_CONSULTA_JSON)
                .expect("the bundled uri_consulta_nfce.json is valid (tested)");
        for (env, states) in parsed {
            let environment = match env.as_str() {
                "1" => Environment::Production,
                _ => Environment::Homologation,
            };
            for (uf, url) in states {
                if let Ok(uf) = uf.parse::<Uf>() {
                    url_chave.insert((uf, environment), url);
                }
            }
        }
        StateUrls {
            url_chave,
            qr_code: parse_qr_urls(WSNFE_XML),
        }
    })
}

/// Reads `<UF><sigla>..</sigla><homologacao|producao><NfeConsultaQR>url</..>` entries.
fn parse_qr_urls(xml: &str) -> HashMap<(Uf, Environment), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = HashMap::new();
    let mut uf: Option<Uf> = None;
    let mut environment = None;
    let mut path: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.name().into_inner().to_owned();
                match name.as_str() {
                    "homologacao" => environment = Some(Environment::Homologation),
                    "producao" => environment = Some(Environment::Production),
                    "UF" => uf = None,
                    _ => {}
                }
                path.push(name);
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let raw: &str = &t;
                let text = quick_xml::escape::unescape(raw)
                    .map(|c| c.trim().to_owned())
                    .unwrap_or_default();
                match path.last().map(String::as_str) {
                    Some("sigla") => uf = text.parse().ok(),
                    Some("NfeConsultaQR") => {
                        if let (Some(uf), Some(env)) = (uf, environment) {
                            out.insert((uf, env), text);
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// The "consulta por chave de acesso" URL for `urlChave` and the DANFE.
pub fn url_chave(uf: Uf, environment: Environment) -> Option<&'static str> {
    state_urls()
        .url_chave
        .get(&(uf, environment))
        .map(String::as_str)
}

/// The base URL of the state's QR-code consultation service.
pub fn qr_code_url(uf: Uf, environment: Environment) -> Option<&'static str> {
    state_urls()
        .qr_code
        .get(&(uf, environment))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_urls_in_both_environments() {
        for &uf in Uf::ALL {
            for env in [Environment::Production, Environment::Homologation] {
                let chave = url_chave(uf, env).unwrap_or_else(|| panic!("{uf} {env:?} urlChave"));
                // urlChave is a TString of 21..85 characters in the schema.
                assert!((21..=85).contains(&chave.len()), "{uf}: {chave}");
                let qr = qr_code_url(uf, env).unwrap_or_else(|| panic!("{uf} {env:?} QR URL"));
                assert!(
                    qr.starts_with("http"),
                    "the QR pattern needs a scheme: {qr}"
                );
            }
        }
        assert_eq!(
            url_chave(Uf::SP, Environment::Production),
            Some("https://www.nfce.fazenda.sp.gov.br/NFCeConsultaPublica")
        );
    }

    #[test]
    fn codes_round_trip() {
        for &uf in Uf::ALL {
            assert_eq!(Uf::from_code(uf.code()), Some(uf));
            assert_eq!(uf.as_str().parse::<Uf>(), Ok(uf));
        }
        assert_eq!(Uf::SP.code(), 35);
        assert!("XX".parse::<Uf>().is_err());
    }
}
