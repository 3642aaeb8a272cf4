//! The simulated authorizer: what SEFAZ checks, remembers and answers, without the HTTP.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use tenda_fiscal::sefaz::endpoints::{Environment, Uf};
use tenda_fiscal::sefaz::status_codes;
use tenda_fiscal::sefaz::xml::{self, Element, NFE_NS};
use tenda_fiscal::xsd::{self, Schema};

use crate::faults::Faults;

const APP_VERSION: &str = "TENDA-SIM-1.0";

/// How the simulated authorizer behaves when nothing is faulty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorConfig {
    /// The environment it serves (tpAmb); other requests get 252.
    pub environment: Environment,
    /// The state it authorizes for (cUF in answers).
    pub uf: Uf,
    /// Time an asynchronous lote takes to process; polls before it get 105.
    pub processing_time: Duration,
    /// Cancellation (110111/110112) is accepted this long after authorization.
    pub cancellation_window: Duration,
    /// Contingency notes (tpEmis 9) arriving later than this after dhEmi are authorized late (150).
    pub contingency_deadline: Duration,
    /// More calls than this within one second earn 656 and a block.
    pub max_requests_per_second: u32,
    /// A rejected note sent again unchanged this many times earns 656 and a block.
    pub max_unchanged_resends: u32,
    /// How long a 656 blocks the emitter.
    pub block_for: Duration,
    /// How long a "timeout after commit" call hangs before the connection is dropped.
    pub hang_for: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            environment: Environment::Homologation,
            uf: Uf::SP,
            processing_time: Duration::from_millis(300),
            cancellation_window: Duration::from_secs(30 * 60),
            contingency_deadline: Duration::from_secs(24 * 60 * 60),
            max_requests_per_second: 40,
            max_unchanged_resends: 1,
            block_for: Duration::from_secs(60),
            hang_for: Duration::from_secs(120),
        }
    }
}

/// The SOAP operations served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Call {
    Status,
    Authorization,
    AuthorizationResult,
    Consult,
    Event,
    Inutilization,
}

impl Call {
    pub fn from_operation(operation: &str) -> Option<Call> {
        Some(match operation {
            "NFeStatusServico4" => Call::Status,
            "NFeAutorizacao4" => Call::Authorization,
            "NFeRetAutorizacao4" => Call::AuthorizationResult,
            "NFeConsultaProtocolo4" => Call::Consult,
            "NFeRecepcaoEvento4" => Call::Event,
            "NFeInutilizacao4" => Call::Inutilization,
            _ => return None,
        })
    }

    fn request_root(self) -> &'static str {
        match self {
            Call::Status => "consStatServ",
            Call::Authorization => "enviNFe",
            Call::AuthorizationResult => "consReciNFe",
            Call::Consult => "consSitNFe",
            Call::Event => "envEvento",
            Call::Inutilization => "inutNFe",
        }
    }

    fn commits(self) -> bool {
        matches!(
            self,
            Call::Authorization | Call::Event | Call::Inutilization
        )
    }
}

/// The answer to one call.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The `ret…` message to put in `nfeResultMsg`.
    pub message: String,
    /// Never answer (timeout after commit).
    pub hang: bool,
}

/// Counters for tests and the bench.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub calls: BTreeMap<String, u64>,
    /// Answers by cStat (lote, note, event and inutilização levels).
    pub status_codes: BTreeMap<u16, u64>,
    pub notes_authorized: u64,
}

/// What the simulator remembers about one note.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoteRecord {
    pub access_key: String,
    pub status: u16,
    pub protocol_number: String,
    pub digest_value: String,
    pub receipt: String,
    #[serde(skip)]
    pub received_at: DateTime<Utc>,
    pub cancelled: bool,
    #[serde(skip)]
    prot_xml: String,
    #[serde(skip)]
    events: Vec<String>,
    cnpj: String,
    series: u16,
    number: u32,
}

#[derive(Debug, Clone)]
struct Inutilization {
    cnpj: String,
    series: u16,
    from: u32,
    to: u32,
}

#[derive(Debug, Default)]
struct Registry {
    notes: HashMap<String, NoteRecord>,
    by_number: HashMap<(String, u16, u32), String>,
    /// Rejected notes: key → (digest, unchanged resends).
    rejected: HashMap<String, (String, u32)>,
    receipts: HashMap<String, (Instant, Vec<String>)>,
    inutilizations: Vec<Inutilization>,
    next_protocol: u64,
    next_receipt: u64,
    recent_calls: VecDeque<Instant>,
    blocked_until: Option<Instant>,
    stats: Stats,
}

/// The simulated authorizer. Thread-safe; every call takes the lock briefly.
pub struct Authority {
    config: SimulatorConfig,
    faults: Mutex<Faults>,
    registry: Mutex<Registry>,
}

fn now_text() -> String {
    local_text(Utc::now())
}

fn local_text(time: DateTime<Utc>) -> String {
    let brt = FixedOffset::west_opt(3 * 3600).expect("-03:00 is a valid offset");
    time.with_timezone(&brt)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn el(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", xml::escape(text))
}

fn reason_for(code: u16) -> String {
    status_codes::describe(code)
        .map(|i| i.message.clone())
        .unwrap_or_else(|| format!("Rejeição: código {code}"))
}

impl Authority {
    pub fn new(config: SimulatorConfig) -> Self {
        Self {
            config,
            faults: Mutex::new(Faults::default()),
            registry: Mutex::new(Registry::default()),
        }
    }

    pub fn config(&self) -> &SimulatorConfig {
        &self.config
    }

    pub fn faults(&self) -> Faults {
        self.lock_faults().clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.lock_faults() = faults;
    }

    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.lock_faults());
    }

    pub fn stats(&self) -> Stats {
        self.lock_registry().stats.clone()
    }

    /// What the simulator holds for a key (None: never authorized or denied).
    pub fn note(&self, access_key: &str) -> Option<NoteRecord> {
        self.lock_registry().notes.get(access_key).cloned()
    }

    pub fn note_count(&self) -> usize {
        self.lock_registry().notes.len()
    }

    /// Lifts a 656 block (tests that provoke one move on).
    pub fn unblock(&self) {
        let mut registry = self.lock_registry();
        registry.blocked_until = None;
        registry.recent_calls.clear();
    }

    fn lock_faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one call whose `message` (e.g. `<enviNFe>`) was taken from `nfeDadosMsg`.
    pub fn handle(&self, call: Call, message_text: &str) -> Reply {
        let faults = self.faults();
        let reply = self.answer(call, message_text, &faults);
        let hang = call.commits() && {
            let mut f = self.lock_faults();
            if f.timeout_after_commit > 0 {
                f.timeout_after_commit -= 1;
                true
            } else {
                false
            }
        };
        Reply {
            message: reply,
            hang,
        }
    }

    fn answer(&self, call: Call, message_text: &str, faults: &Faults) -> String {
        let mut registry = self.lock_registry();
        *registry.stats.calls.entry(format!("{call:?}")).or_default() += 1;
        let parsed = xml::parse(message_text).ok();
        // Consumption control first: a blocked emitter gets nothing else.
        let now = Instant::now();
        while registry
            .recent_calls
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            registry.recent_calls.pop_front();
        }
        registry.recent_calls.push_back(now);
        let over_rate =
            registry.recent_calls.len() as u64 > u64::from(self.config.max_requests_per_second);
        if over_rate {
            registry.blocked_until = Some(now + self.config.block_for);
        }
        let blocked = registry.blocked_until.is_some_and(|t| t > now);
        if faults.throttled || blocked {
            return self.status_only(&mut registry, call, parsed.as_ref(), 656, &reason_for(656));
        }
        if let Some(code) = faults.paused {
            return self.status_only(
                &mut registry,
                call,
                parsed.as_ref(),
                code,
                &reason_for(code),
            );
        }
        let Some(message) = parsed else {
            let code = if call == Call::Authorization {
                225
            } else {
                215
            };
            return self.status_only(&mut registry, call, None, code, &reason_for(code));
        };
        if !message.is(NFE_NS, call.request_root()) {
            let code = if call == Call::Authorization {
                565
            } else {
                215
            };
            return self.status_only(&mut registry, call, Some(&message), code, &reason_for(code));
        }
        match call {
            Call::Status => self.status(&mut registry, message_text, &message),
            Call::Authorization => {
                self.authorization(&mut registry, message_text, &message, faults)
            }
            Call::AuthorizationResult => self.receipt(&mut registry, message_text, &message),
            Call::Consult => self.consult(&mut registry, message_text, &message),
            Call::Event => self.events(&mut registry, message_text, &message),
            Call::Inutilization => self.inutilization(&mut registry, message_text, &message),
        }
    }

    fn count(registry: &mut Registry, code: u16) {
        *registry.stats.status_codes.entry(code).or_default() += 1;
    }

    fn tp_amb(&self) -> u8 {
        self.config.environment.code()
    }

    fn cuf(&self) -> u8 {
        self.config.uf.code()
    }

    /// The message's own answer carrying only a status (for 656, 108/109, schema failures).
    fn status_only(
        &self,
        registry: &mut Registry,
        call: Call,
        message: Option<&Element>,
        code: u16,
        reason: &str,
    ) -> String {
        Self::count(registry, code);
        let amb = self.tp_amb();
        let cuf = self.cuf();
        let head = format!(
            "{}{}{}{}",
            el("tpAmb", &amb.to_string()),
            el("verAplic", APP_VERSION),
            el("cStat", &code.to_string()),
            el("xMotivo", reason)
        );
        let now = now_text();
        match call {
            Call::Status => format!(
                r#"<retConsStatServ xmlns="{NFE_NS}" versao="4.00">{head}{}{}</retConsStatServ>"#,
                el("cUF", &cuf.to_string()),
                el("dhRecbto", &now)
            ),
            Call::Authorization => format!(
                r#"<retEnviNFe xmlns="{NFE_NS}" versao="4.00">{head}{}{}</retEnviNFe>"#,
                el("cUF", &cuf.to_string()),
                el("dhRecbto", &now)
            ),
            Call::AuthorizationResult => {
                let receipt = message
                    .and_then(|m| m.child_text("nRec"))
                    .filter(|r| r.len() == 15 && r.bytes().all(|b| b.is_ascii_digit()))
                    .unwrap_or("000000000000000");
                format!(
                    r#"<retConsReciNFe xmlns="{NFE_NS}" versao="4.00">{}{}{}{}{}{}{}</retConsReciNFe>"#,
                    el("tpAmb", &amb.to_string()),
                    el("verAplic", APP_VERSION),
                    el("nRec", receipt),
                    el("cStat", &code.to_string()),
                    el("xMotivo", reason),
                    el("cUF", &cuf.to_string()),
                    el("dhRecbto", &now)
                )
            }
            Call::Consult => {
                let key = message
                    .and_then(|m| m.child_text("chNFe"))
                    .filter(|k| k.len() == 44 && k.bytes().all(|b| b.is_ascii_digit()))
                    .unwrap_or("00000000000000000000000000000000000000000000");
                format!(
                    r#"<retConsSitNFe xmlns="{NFE_NS}" versao="4.00">{head}{}{}{}</retConsSitNFe>"#,
                    el("cUF", &cuf.to_string()),
                    el("dhRecbto", &now),
                    el("chNFe", key)
                )
            }
            Call::Event => {
                let lote = message
                    .and_then(|m| m.child_text("idLote"))
                    .filter(|r| {
                        !r.is_empty() && r.len() <= 15 && r.bytes().all(|b| b.is_ascii_digit())
                    })
                    .unwrap_or("0");
                format!(
                    r#"<retEnvEvento xmlns="{NFE_NS}" versao="1.00">{}{}{}{}{}{}</retEnvEvento>"#,
                    el("idLote", lote),
                    el("tpAmb", &amb.to_string()),
                    el("verAplic", APP_VERSION),
                    el("cOrgao", &cuf.to_string()),
                    el("cStat", &code.to_string()),
                    el("xMotivo", reason)
                )
            }
            Call::Inutilization => format!(
                r#"<retInutNFe xmlns="{NFE_NS}" versao="4.00"><infInut>{head}{}{}</infInut></retInutNFe>"#,
                el("cUF", &cuf.to_string()),
                el("dhRecbto", &now)
            ),
        }
    }

    fn status(&self, registry: &mut Registry, text: &str, message: &Element) -> String {
        if let Err(code) = self.check_schema(Schema::ConsStatServ, text) {
            return self.status_only(
                registry,
                Call::Status,
                Some(message),
                code,
                &reason_for(code),
            );
        }
        if message.child_text("tpAmb") != Some(&self.tp_amb().to_string()) {
            return self.status_only(registry, Call::Status, Some(message), 252, &reason_for(252));
        }
        Self::count(registry, 107);
        format!(
            r#"<retConsStatServ xmlns="{NFE_NS}" versao="4.00">{}{}{}{}{}{}{}</retConsStatServ>"#,
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION),
            el("cStat", "107"),
            el("xMotivo", &reason_for(107)),
            el("cUF", &self.cuf().to_string()),
            el("dhRecbto", &now_text()),
            el("tMed", &self.average_seconds().to_string()),
        )
    }

    fn average_seconds(&self) -> u64 {
        let ms = u64::try_from(self.config.processing_time.as_millis()).unwrap_or(u64::MAX);
        ms.div_ceil(1000).max(1)
    }

    fn check_schema(&self, schema: Schema, text: &str) -> Result<(), u16> {
        xsd::validate(schema, text).map_err(|_| if schema == Schema::EnviNfe { 225 } else { 215 })
    }

    fn new_protocol(&self, registry: &mut Registry) -> String {
        registry.next_protocol += 1;
        let year = Utc::now().format("%y").to_string();
        format!(
            "{}{:02}{year}{:010}",
            self.tp_amb(),
            self.cuf(),
            registry.next_protocol
        )
    }

    fn new_receipt(&self, registry: &mut Registry) -> String {
        registry.next_receipt += 1;
        format!("{:02}{:013}", self.cuf(), registry.next_receipt)
    }

    fn authorization(
        &self,
        registry: &mut Registry,
        text: &str,
        message: &Element,
        faults: &Faults,
    ) -> String {
        if let Err(code) = self.check_schema(Schema::EnviNfe, text) {
            return self.status_only(
                registry,
                Call::Authorization,
                Some(message),
                code,
                &reason_for(code),
            );
        }
        let synchronous = message.child_text("indSinc") == Some("1");
        let notes: Vec<&Element> = message.children_named("NFe").collect();
        if synchronous && notes.len() != 1 {
            // 452: synchronous processing needs exactly one note.
            return self.status_only(
                registry,
                Call::Authorization,
                Some(message),
                452,
                "Rejeição: Solicitada resposta síncrona para Lote com mais de uma NF-e (indSinc=1)",
            );
        }
        let receipt = self.new_receipt(registry);
        let protocols: Vec<String> = notes
            .iter()
            .map(|note| {
                self.process_note(registry, &text[note.span.clone()], note, &receipt, faults)
            })
            .collect();
        let head = format!(
            "{}{}",
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION)
        );
        let tail = format!(
            "{}{}",
            el("cUF", &self.cuf().to_string()),
            el("dhRecbto", &now_text())
        );
        if synchronous {
            Self::count(registry, 104);
            return format!(
                r#"<retEnviNFe xmlns="{NFE_NS}" versao="4.00">{head}{}{}{tail}{}</retEnviNFe>"#,
                el("cStat", "104"),
                el("xMotivo", &reason_for(104)),
                protocols.concat()
            );
        }
        registry.receipts.insert(
            receipt.clone(),
            (Instant::now() + self.config.processing_time, protocols),
        );
        Self::count(registry, 103);
        format!(
            r#"<retEnviNFe xmlns="{NFE_NS}" versao="4.00">{head}{}{}{tail}<infRec>{}{}</infRec></retEnviNFe>"#,
            el("cStat", "103"),
            el("xMotivo", &reason_for(103)),
            el("nRec", &receipt),
            el("tMed", &self.average_seconds().to_string()),
        )
    }

    /// Checks and registers one note; returns its `protNFe`.
    fn process_note(
        &self,
        registry: &mut Registry,
        raw: &str,
        note: &Element,
        receipt: &str,
        faults: &Faults,
    ) -> String {
        let info = note.child("infNFe");
        let key = info
            .and_then(|i| i.attribute("Id"))
            .and_then(|id| id.strip_prefix("NFe"))
            .unwrap_or("")
            .to_string();
        let digest = tenda_fiscal::sefaz::nfe_proc::digest_value(raw)
            .unwrap_or("")
            .to_string();
        let verdict = self.judge_note(registry, raw, note, &key, &digest, faults);
        let (code, reason) = match verdict {
            Ok(fields) => {
                let late = faults.late_authorization || fields.late;
                let (code, denied) = match faults.reject.get(&key) {
                    Some(&code @ (110 | 301 | 302)) => (code, true),
                    Some(&code) => {
                        let entry = registry
                            .rejected
                            .entry(key.clone())
                            .or_insert((digest.clone(), 0));
                        if entry.0 != digest {
                            *entry = (digest.clone(), 0);
                        }
                        return self.prot(registry, &key, code, &reason_for(code), None, &digest);
                    }
                    None => (if late { 150 } else { 100 }, false),
                };
                let protocol = self.new_protocol(registry);
                let prot = self.prot(
                    registry,
                    &key,
                    code,
                    &reason_for(code),
                    Some(&protocol),
                    &digest,
                );
                registry.rejected.remove(&key);
                registry.by_number.insert(
                    (fields.cnpj.clone(), fields.series, fields.number),
                    key.clone(),
                );
                registry.notes.insert(
                    key.clone(),
                    NoteRecord {
                        access_key: key.clone(),
                        status: code,
                        protocol_number: protocol,
                        digest_value: digest,
                        receipt: receipt.to_string(),
                        received_at: Utc::now(),
                        cancelled: false,
                        prot_xml: prot.clone(),
                        events: Vec::new(),
                        cnpj: fields.cnpj,
                        series: fields.series,
                        number: fields.number,
                    },
                );
                if !denied {
                    registry.stats.notes_authorized += 1;
                }
                return prot;
            }
            Err(rejection) => rejection,
        };
        if !matches!(code, 204 | 539 | 656) && !key.is_empty() {
            let entry = registry
                .rejected
                .entry(key.clone())
                .or_insert((digest.clone(), 0));
            if entry.0 != digest {
                *entry = (digest.clone(), 0);
            }
        }
        self.prot(registry, &key, code, &reason, None, &digest)
    }

    fn prot(
        &self,
        registry: &mut Registry,
        key: &str,
        code: u16,
        reason: &str,
        protocol: Option<&str>,
        digest: &str,
    ) -> String {
        Self::count(registry, code);
        let key = if key.len() == 44 {
            key
        } else {
            "00000000000000000000000000000000000000000000"
        };
        let id = protocol
            .map(|p| format!(r#" Id="ID{p}""#))
            .unwrap_or_default();
        format!(
            r#"<protNFe versao="4.00"><infProt{id}>{}{}{}{}{}{}{}{}</infProt></protNFe>"#,
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION),
            el("chNFe", key),
            el("dhRecbto", &now_text()),
            protocol.map(|p| el("nProt", p)).unwrap_or_default(),
            if digest.is_empty() {
                String::new()
            } else {
                el("digVal", digest)
            },
            el("cStat", &code.to_string()),
            el("xMotivo", reason),
        )
    }

    /// The checks SEFAZ makes on a note, in its order. Err: (cStat, xMotivo).
    fn judge_note(
        &self,
        registry: &mut Registry,
        raw: &str,
        note: &Element,
        key: &str,
        digest: &str,
        _faults: &Faults,
    ) -> Result<NoteFields, (u16, String)> {
        let reject = |code: u16| Err((code, reason_for(code)));
        let info = note.child("infNFe").ok_or((225, reason_for(225)))?;
        let ide = info.child("ide").ok_or((225, reason_for(225)))?;
        let emit = info.child("emit").ok_or((225, reason_for(225)))?;
        if key.len() != 44 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return reject(502);
        }
        if crate::access_key_check_digit(&key[..43]) != key.as_bytes()[43] - b'0' {
            return reject(236);
        }
        let text = |e: &Element, n: &str| e.child_text(n).unwrap_or("").to_string();
        let cnpj = text(emit, "CNPJ");
        let issued = text(ide, "dhEmi");
        let aamm = issued.get(2..4).unwrap_or("").to_string() + issued.get(5..7).unwrap_or("");
        let composed = format!(
            "{:0>2}{}{:0>14}{:0>2}{:0>3}{:0>9}{}{:0>8}{}",
            text(ide, "cUF"),
            aamm,
            cnpj,
            text(ide, "mod"),
            text(ide, "serie"),
            text(ide, "nNF"),
            text(ide, "tpEmis"),
            text(ide, "cNF"),
            text(ide, "cDV"),
        );
        if composed != key {
            return reject(502);
        }
        if text(ide, "tpAmb") != self.tp_amb().to_string() {
            return reject(252);
        }
        match tenda_fiscal::xmldsig::verify_reference(raw, &format!("NFe{key}")) {
            Ok(signature) => {
                if crate::signer_cnpj(&signature)
                    .is_some_and(|signer| signer.get(..8) != cnpj.get(..8))
                {
                    return reject(213);
                }
            }
            Err(_) => return reject(297),
        }
        let series: u16 = text(ide, "serie")
            .parse()
            .map_err(|_| (225, reason_for(225)))?;
        let number: u32 = text(ide, "nNF")
            .parse()
            .map_err(|_| (225, reason_for(225)))?;
        if registry
            .inutilizations
            .iter()
            .any(|i| i.cnpj == cnpj && i.series == series && (i.from..=i.to).contains(&number))
        {
            return reject(206);
        }
        if let Some(existing) = registry.notes.get(key) {
            return Err((
                204,
                format!("Duplicidade de NF-e [nRec:{}]", existing.receipt),
            ));
        }
        if let Some(other) = registry.by_number.get(&(cnpj.clone(), series, number)) {
            let receipt = registry
                .notes
                .get(other)
                .map(|n| n.receipt.clone())
                .unwrap_or_default();
            return Err((
                539,
                format!(
                    "Duplicidade de NF-e com diferença na Chave de Acesso [chNFe: {other}][nRec:{receipt}]"
                ),
            ));
        }
        if let Some((rejected_digest, resends)) = registry.rejected.get_mut(key) {
            if rejected_digest == digest {
                *resends += 1;
                if *resends > self.config.max_unchanged_resends {
                    registry.blocked_until = Some(Instant::now() + self.config.block_for);
                    return reject(656);
                }
            }
        }
        let late = text(ide, "tpEmis") == "9"
            && DateTime::parse_from_rfc3339(&issued).is_ok_and(|issued| {
                Utc::now().signed_duration_since(issued)
                    > chrono::Duration::from_std(self.config.contingency_deadline)
                        .unwrap_or(chrono::Duration::MAX)
            });
        Ok(NoteFields {
            cnpj,
            series,
            number,
            late,
        })
    }

    fn receipt(&self, registry: &mut Registry, text: &str, message: &Element) -> String {
        if let Err(code) = self.check_schema(Schema::ConsReciNfe, text) {
            return self.status_only(
                registry,
                Call::AuthorizationResult,
                Some(message),
                code,
                &reason_for(code),
            );
        }
        let number = message.child_text("nRec").unwrap_or("").to_string();
        let (code, protocols) = match registry.receipts.get(&number) {
            None => (106, String::new()),
            Some((ready_at, _)) if *ready_at > Instant::now() => (105, String::new()),
            Some((_, protocols)) => (104, protocols.concat()),
        };
        Self::count(registry, code);
        format!(
            r#"<retConsReciNFe xmlns="{NFE_NS}" versao="4.00">{}{}{}{}{}{}{}{protocols}</retConsReciNFe>"#,
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION),
            el("nRec", &number),
            el("cStat", &code.to_string()),
            el("xMotivo", &reason_for(code)),
            el("cUF", &self.cuf().to_string()),
            el("dhRecbto", &now_text()),
        )
    }

    fn consult(&self, registry: &mut Registry, text: &str, message: &Element) -> String {
        if let Err(code) = self.check_schema(Schema::ConsSitNfe, text) {
            return self.status_only(
                registry,
                Call::Consult,
                Some(message),
                code,
                &reason_for(code),
            );
        }
        let key = message.child_text("chNFe").unwrap_or("").to_string();
        let (code, reason, body) = match registry.notes.get(&key) {
            None => (217, reason_for(217), String::new()),
            Some(note) => {
                let events: String = note.events.concat();
                if note.cancelled {
                    (101, reason_for(101), format!("{}{events}", note.prot_xml))
                } else {
                    (
                        note.status,
                        reason_for(note.status),
                        format!("{}{events}", note.prot_xml),
                    )
                }
            }
        };
        Self::count(registry, code);
        format!(
            r#"<retConsSitNFe xmlns="{NFE_NS}" versao="4.00">{}{}{}{}{}{}{}{body}</retConsSitNFe>"#,
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION),
            el("cStat", &code.to_string()),
            el("xMotivo", &reason),
            el("cUF", &self.cuf().to_string()),
            el("dhRecbto", &now_text()),
            el("chNFe", &key),
        )
    }

    fn events(&self, registry: &mut Registry, text: &str, message: &Element) -> String {
        let lote = message.child_text("idLote").unwrap_or("0").to_string();
        let events: Vec<&Element> = message.children_named("evento").collect();
        if events.is_empty() || events.len() > 20 {
            return self.status_only(registry, Call::Event, Some(message), 215, &reason_for(215));
        }
        let mut results = String::new();
        for event in events {
            let raw = &text[event.span.clone()];
            let (code, reason, protocol) = self.judge_event(registry, raw, event);
            Self::count(registry, code);
            let info = event.child("infEvento");
            let field = |n: &str| info.and_then(|i| i.child_text(n)).unwrap_or("").to_string();
            let id = protocol
                .as_ref()
                .map(|p| format!(r#" Id="ID{p}""#))
                .unwrap_or_default();
            let key = field("chNFe");
            let tp = field("tpEvento");
            let seq = field("nSeqEvento");
            let description = match tp.as_str() {
                "110111" => "Cancelamento registrado",
                "110112" => "Cancelamento por substituicao registrado",
                _ => "Evento registrado",
            };
            let ret = format!(
                r#"<retEvento versao="1.00"><infEvento{id}>{}{}{}{}{}{}{}{}{}{}{}</infEvento></retEvento>"#,
                el("tpAmb", &self.tp_amb().to_string()),
                el("verAplic", APP_VERSION),
                el("cOrgao", &self.cuf().to_string()),
                el("cStat", &code.to_string()),
                el("xMotivo", &reason),
                if key.len() == 44 {
                    el("chNFe", &key)
                } else {
                    String::new()
                },
                if tp.len() == 6 {
                    el("tpEvento", &tp)
                } else {
                    String::new()
                },
                if protocol.is_some() {
                    el("xEvento", description)
                } else {
                    String::new()
                },
                if !seq.is_empty() && seq.len() <= 2 {
                    el("nSeqEvento", &seq)
                } else {
                    String::new()
                },
                el("dhRegEvento", &now_text()),
                protocol
                    .as_deref()
                    .map(|p| el("nProt", p))
                    .unwrap_or_default(),
            );
            if protocol.is_some() {
                if let Some(note) = registry.notes.get_mut(&key) {
                    note.cancelled = true;
                    note.events.push(format!(
                        r#"<procEventoNFe versao="1.00">{}{}</procEventoNFe>"#,
                        raw.replacen(&format!(r#" xmlns="{NFE_NS}""#), "", 1),
                        ret
                    ));
                }
            }
            results.push_str(&ret);
        }
        Self::count(registry, 128);
        format!(
            r#"<retEnvEvento xmlns="{NFE_NS}" versao="1.00">{}{}{}{}{}{}{results}</retEnvEvento>"#,
            el("idLote", &lote),
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION),
            el("cOrgao", &self.cuf().to_string()),
            el("cStat", "128"),
            el("xMotivo", &reason_for(128)),
        )
    }

    /// (cStat, xMotivo, protocol when registered).
    fn judge_event(
        &self,
        registry: &mut Registry,
        raw: &str,
        event: &Element,
    ) -> (u16, String, Option<String>) {
        let reject = |code: u16| (code, reason_for(code), None);
        let Some(info) = event.child("infEvento") else {
            return reject(215);
        };
        let field = |n: &str| info.child_text(n).unwrap_or("").to_string();
        let tp = field("tpEvento");
        let schema = match tp.as_str() {
            "110111" => Schema::EventoCancelamento,
            "110112" => Schema::EventoCancSubstituicao,
            _ => return reject(491),
        };
        let standalone = if raw.contains(&format!(r#"xmlns="{NFE_NS}""#)) {
            raw.to_string()
        } else {
            raw.replacen("<evento", &format!(r#"<evento xmlns="{NFE_NS}""#), 1)
        };
        if xsd::validate(schema, &standalone).is_err() {
            return reject(215);
        }
        if field("tpAmb") != self.tp_amb().to_string() {
            return reject(252);
        }
        let id = info.attribute("Id").unwrap_or("").to_string();
        if tenda_fiscal::xmldsig::verify_reference(&standalone, &id).is_err() {
            return reject(297);
        }
        let key = field("chNFe");
        let Some(note) = registry.notes.get(&key) else {
            return reject(217);
        };
        if !matches!(note.status, 100 | 150) {
            return reject(580);
        }
        if note.cancelled {
            return reject(573);
        }
        let detail = info.child("detEvento");
        let protocol = detail.and_then(|d| d.child_text("nProt")).unwrap_or("");
        if protocol != note.protocol_number {
            return reject(222);
        }
        let age = Utc::now().signed_duration_since(note.received_at);
        if age
            > chrono::Duration::from_std(self.config.cancellation_window)
                .unwrap_or(chrono::Duration::MAX)
        {
            return (
                501,
                format!(
                    "Rejeição: Pedido de Cancelamento intempestivo (NFC-e autorizada há mais de {} minutos)",
                    self.config.cancellation_window.as_secs() / 60
                ),
                None,
            );
        }
        if tp == "110112" {
            let substitute = detail.and_then(|d| d.child_text("chNFeRef")).unwrap_or("");
            match registry.notes.get(substitute) {
                Some(s) if matches!(s.status, 100 | 150) && !s.cancelled && substitute != key => {}
                _ => {
                    return (
                        217,
                        "Rejeição: NFC-e substituta (chNFeRef) não consta como autorizada".into(),
                        None,
                    );
                }
            }
        }
        let protocol = self.new_protocol(registry);
        (135, reason_for(135), Some(protocol))
    }

    fn inutilization(&self, registry: &mut Registry, text: &str, message: &Element) -> String {
        let info = message.child("infInut");
        let field = |n: &str| info.and_then(|i| i.child_text(n)).unwrap_or("").to_string();
        let (code, reason, protocol) = self.judge_inutilization(registry, text, message);
        Self::count(registry, code);
        let id = protocol
            .as_ref()
            .map(|p| format!(r#" Id="ID{p}""#))
            .unwrap_or_default();
        let echo = |name: &str| {
            let v = field(name);
            if v.is_empty() {
                String::new()
            } else {
                el(name, &v)
            }
        };
        format!(
            r#"<retInutNFe xmlns="{NFE_NS}" versao="4.00"><infInut{id}>{}{}{}{}{}{}{}{}{}{}{}{}{}</infInut></retInutNFe>"#,
            el("tpAmb", &self.tp_amb().to_string()),
            el("verAplic", APP_VERSION),
            el("cStat", &code.to_string()),
            el("xMotivo", &reason),
            el("cUF", &self.cuf().to_string()),
            echo("ano"),
            echo("CNPJ"),
            echo("mod"),
            echo("serie"),
            echo("nNFIni"),
            echo("nNFFin"),
            el("dhRecbto", &now_text()),
            protocol
                .as_deref()
                .map(|p| el("nProt", p))
                .unwrap_or_default(),
        )
    }

    fn judge_inutilization(
        &self,
        registry: &mut Registry,
        text: &str,
        message: &Element,
    ) -> (u16, String, Option<String>) {
        let reject = |code: u16| (code, reason_for(code), None);
        if self.check_schema(Schema::InutNfe, text).is_err() {
            return reject(215);
        }
        let Some(info) = message.child("infInut") else {
            return reject(215);
        };
        let field = |n: &str| info.child_text(n).unwrap_or("").to_string();
        if field("tpAmb") != self.tp_amb().to_string() {
            return reject(252);
        }
        let id = info.attribute("Id").unwrap_or("").to_string();
        match tenda_fiscal::xmldsig::verify_reference(text, &id) {
            Ok(signature) => {
                if crate::signer_cnpj(&signature)
                    .is_some_and(|s| s.get(..8) != field("CNPJ").get(..8))
                {
                    return reject(213);
                }
            }
            Err(_) => return reject(297),
        }
        let cnpj = field("CNPJ");
        let (Ok(series), Ok(from), Ok(to)) = (
            field("serie").parse::<u16>(),
            field("nNFIni").parse::<u32>(),
            field("nNFFin").parse::<u32>(),
        ) else {
            return reject(215);
        };
        if from > to {
            return (
                999,
                "Rejeição: Faixa de inutilização inválida (nNFIni maior que nNFFin)".into(),
                None,
            );
        }
        if registry
            .by_number
            .keys()
            .any(|(c, s, n)| *c == cnpj && *s == series && (from..=to).contains(n))
        {
            return reject(241);
        }
        if let Some(existing) = registry
            .inutilizations
            .iter()
            .find(|i| i.cnpj == cnpj && i.series == series && i.from <= to && from <= i.to)
        {
            return reject(if existing.from == from && existing.to == to {
                563
            } else {
                256
            });
        }
        registry.inutilizations.push(Inutilization {
            cnpj,
            series,
            from,
            to,
        });
        let protocol = self.new_protocol(registry);
        (102, reason_for(102), Some(protocol))
    }
}

struct NoteFields {
    cnpj: String,
    series: u16,
    number: u32,
    late: bool,
}
