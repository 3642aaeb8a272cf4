//! Sends signed notes to SEFAZ and turns every answer into a per-note [`NoteOutcome`].
//!
//! The POS's background worker calls [`Transmitter::transmit`] with its queue (contingency
//! backlog or fresh notes). Lotes of up to 50 notes / 500 KB go out oldest first, a few in
//! parallel, are polled after `tMed`, and every doubtful case is settled by consulting the
//! protocol before anything is sent again, so a sale never gets a second document.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use sha2::{Digest, Sha256};

use super::authorization::{
    MAX_LOTE_BYTES, MAX_NOTES_PER_LOTE, NoteProtocol, ReceiptAnswer, SubmissionAnswer,
};
use super::client::SefazClient;
use super::consult::ProtocolQuery;
use super::error::SefazError;
use super::nfe_proc;
use super::outcome::{
    Authorization, Availability, Deferral, DeferralReason, NoteOutcome, Rejection, RejectionKind,
};
use super::status_codes::Status;

/// A signed note waiting for SEFAZ.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingNote {
    pub access_key: String,
    /// The signed `<NFe>` document.
    pub signed_xml: String,
    /// When the sale was made; lotes go out oldest first.
    pub issued_at: DateTime<Utc>,
    /// A previous attempt may have reached SEFAZ: consult before sending.
    pub consult_first: bool,
}

impl PendingNote {
    /// A freshly signed note (never sent before).
    pub fn from_signed(note: &crate::nfce::SignedNfce) -> Self {
        Self {
            access_key: note.access_key.as_str().to_string(),
            signed_xml: note.xml.clone(),
            issued_at: note.issued_at.with_timezone(&Utc),
            consult_first: false,
        }
    }
}

/// The outcome of one note.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoteReport {
    pub access_key: String,
    pub outcome: NoteOutcome,
}

/// Everything one transmission run learned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransmissionReport {
    /// One report per note given, oldest first.
    pub notes: Vec<NoteReport>,
    pub availability: Availability,
    /// Lotes sent (including single synchronous notes).
    pub lotes_sent: u32,
}

/// Limits and pacing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransmissionPolicy {
    pub max_notes_per_lote: usize,
    pub max_lote_bytes: usize,
    /// Lotes in flight at once. SEFAZ counts requests per emitter; keep this small.
    pub max_parallel_lotes: usize,
    /// A single note goes out with indSinc=1 (answer in the same call).
    pub synchronous_single_note: bool,
    /// Never poll a receipt sooner than this, even if `tMed` is 0.
    pub min_poll_delay: Duration,
    /// Polls of one receipt before giving up for this run (the notes are then consulted later).
    pub max_polls: u32,
    /// How long to stop calling after 656 (SEFAZ blocks the emitter for about an hour).
    pub throttle_pause: Duration,
    /// How long to stop calling after 108/109.
    pub unavailable_pause: Duration,
    /// How long to wait after a transport failure.
    pub transport_pause: Duration,
}

impl Default for TransmissionPolicy {
    fn default() -> Self {
        Self {
            max_notes_per_lote: MAX_NOTES_PER_LOTE,
            max_lote_bytes: MAX_LOTE_BYTES,
            max_parallel_lotes: 5,
            synchronous_single_note: true,
            min_poll_delay: Duration::from_millis(500),
            max_polls: 6,
            throttle_pause: Duration::from_secs(60 * 60),
            unavailable_pause: Duration::from_secs(5 * 60),
            transport_pause: Duration::from_secs(30),
        }
    }
}

/// Backoff memory, to persist between runs (serde) so a restart does not hammer SEFAZ.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackoffState {
    /// No call is made before this time.
    pub paused_until: Option<DateTime<Utc>>,
    pub pause_reason: Option<DeferralReason>,
    /// Notes rejected by SEFAZ, by access key: the SHA-256 of the rejected XML and the status.
    /// The same XML is never sent again; a corrected, re-signed one is.
    pub rejected: BTreeMap<String, RejectedNote>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RejectedNote {
    pub xml_sha256: String,
    pub status: Status,
}

/// Sends notes and keeps the backoff state between runs.
#[derive(Debug)]
pub struct Transmitter {
    client: SefazClient,
    policy: TransmissionPolicy,
    state: Mutex<BackoffState>,
    next_lote_id: AtomicU64,
}

/// Per-run shared flags.
struct Run {
    halt: AtomicBool,
    availability: Mutex<Availability>,
    lotes: AtomicU64,
}

impl Transmitter {
    pub fn new(client: SefazClient, policy: TransmissionPolicy) -> Self {
        Self::with_state(client, policy, BackoffState::default())
    }

    /// Resumes with a backoff state saved from an earlier run.
    pub fn with_state(
        client: SefazClient,
        policy: TransmissionPolicy,
        state: BackoffState,
    ) -> Self {
        let seed = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(1) % 999_999_999_999_000;
        Self {
            client,
            policy,
            state: Mutex::new(state),
            next_lote_id: AtomicU64::new(seed.max(1)),
        }
    }

    pub fn client(&self) -> &SefazClient {
        &self.client
    }

    /// The backoff state to persist.
    pub fn backoff_state(&self) -> BackoffState {
        self.lock_state().clone()
    }

    /// Forget a pause (e.g. after a manual status check showed SEFAZ operating).
    pub fn clear_pause(&self) {
        let mut state = self.lock_state();
        state.paused_until = None;
        state.pause_reason = None;
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, BackoffState> {
        // A panic while holding the lock cannot leave the state half-written (plain
        // assignments), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lote_id(&self) -> u64 {
        let id = self.next_lote_id.fetch_add(1, Ordering::Relaxed);
        id % 999_999_999_999_999 + 1
    }

    /// Sends the notes (oldest first, lotes ≤ 50 / 500 KB, a few lotes in parallel) and
    /// returns one outcome per note. Never panics on SEFAZ's answers; nothing is dropped.
    pub async fn transmit(&self, mut notes: Vec<PendingNote>) -> TransmissionReport {
        notes.sort_by_key(|n| n.issued_at);
        let run = Run {
            halt: AtomicBool::new(false),
            availability: Mutex::new(Availability::Available),
            lotes: AtomicU64::new(0),
        };
        let mut results: Vec<Option<NoteOutcome>> = vec![None; notes.len()];

        if let Some(deferral) = self.current_pause() {
            let availability = match &deferral.reason {
                DeferralReason::SefazUnavailable { status } => Availability::Unavailable {
                    status: status.clone(),
                },
                DeferralReason::Throttled { .. } => Availability::Throttled {
                    until: deferral.retry_after,
                },
                other => Availability::Unreachable {
                    detail: format!("{other:?}"),
                },
            };
            return TransmissionReport {
                notes: notes
                    .into_iter()
                    .map(|n| NoteReport {
                        outcome: NoteOutcome::Deferred(Deferral {
                            consult_first: n.consult_first,
                            ..deferral.clone()
                        }),
                        access_key: n.access_key,
                    })
                    .collect(),
                availability,
                lotes_sent: 0,
            };
        }

        // Local checks: malformed input and unchanged rejected notes never leave the device.
        let mut to_consult = Vec::new();
        let mut to_send = Vec::new();
        for (i, note) in notes.iter().enumerate() {
            if let Some(outcome) = self.refuse_locally(note) {
                results[i] = Some(outcome);
            } else if note.consult_first {
                to_consult.push(i);
            } else {
                to_send.push(i);
            }
        }

        // Doubtful notes: consult first; only the ones SEFAZ does not know are sent.
        let consulted: Vec<(usize, Option<NoteOutcome>)> = stream::iter(to_consult)
            .map(|i| {
                let notes = &notes;
                let run = &run;
                async move { (i, self.settle_by_consulting(&notes[i], run).await) }
            })
            .buffer_unordered(self.policy.max_parallel_lotes.max(1))
            .collect()
            .await;
        for (i, outcome) in consulted {
            match outcome {
                Some(outcome) => results[i] = Some(outcome),
                None => to_send.push(i),
            }
        }
        to_send.sort_unstable();

        let lotes = self.make_lotes(&notes, &to_send);
        let single = to_send.len() == 1 && self.policy.synchronous_single_note;
        let lote_results: Vec<Vec<(usize, NoteOutcome)>> = stream::iter(lotes)
            .map(|lote| {
                let notes = &notes;
                let run = &run;
                async move {
                    if run.halt.load(Ordering::SeqCst) {
                        return self.halted(&lote, notes);
                    }
                    self.send_lote(&lote, notes, single, run, true, true).await
                }
            })
            .buffer_unordered(self.policy.max_parallel_lotes.max(1))
            .collect()
            .await;
        for (i, outcome) in lote_results.into_iter().flatten() {
            results[i] = Some(outcome);
        }

        let availability = run
            .availability
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let notes = notes
            .into_iter()
            .zip(results)
            .map(|(note, outcome)| NoteReport {
                outcome: outcome.unwrap_or_else(|| {
                    NoteOutcome::Deferred(self.deferral(
                        DeferralReason::Unsettled {
                            detail: "not processed in this run".into(),
                        },
                        Duration::ZERO,
                        note.consult_first,
                    ))
                }),
                access_key: note.access_key,
            })
            .collect();
        TransmissionReport {
            notes,
            availability,
            lotes_sent: u32::try_from(run.lotes.load(Ordering::SeqCst)).unwrap_or(u32::MAX),
        }
    }

    fn current_pause(&self) -> Option<Deferral> {
        let state = self.lock_state();
        let until = state.paused_until?;
        if until <= Utc::now() {
            return None;
        }
        Some(Deferral {
            reason: state
                .pause_reason
                .clone()
                .unwrap_or(DeferralReason::Unsettled {
                    detail: "paused".into(),
                }),
            retry_after: until,
            consult_first: false,
        })
    }

    fn refuse_locally(&self, note: &PendingNote) -> Option<NoteOutcome> {
        let invalid = |reason: &str| {
            Some(NoteOutcome::Rejected(Rejection {
                status: Status {
                    code: 0,
                    reason: reason.into(),
                },
                kind: RejectionKind::Invalid,
                correction_hint: None,
                repeated: false,
            }))
        };
        match nfe_proc::access_key(&note.signed_xml) {
            None => return invalid("the XML is not a note with an infNFe Id"),
            Some(key) if key != note.access_key => {
                return invalid("the XML's access key differs from the note's access key");
            }
            Some(_) => {}
        }
        if nfe_proc::digest_value(&note.signed_xml).is_none() {
            return invalid("the note is not signed");
        }
        let state = self.lock_state();
        let rejected = state.rejected.get(&note.access_key)?;
        (rejected.xml_sha256 == sha256_hex(&note.signed_xml)).then(|| {
            NoteOutcome::Rejected(Rejection {
                correction_hint: rejected.status.correction_hint().map(str::to_string),
                status: rejected.status.clone(),
                kind: rejection_kind(rejected.status.code),
                repeated: true,
            })
        })
    }

    fn make_lotes(&self, notes: &[PendingNote], order: &[usize]) -> Vec<Vec<usize>> {
        // Room for the enviNFe wrapper around the notes.
        let budget = self
            .policy
            .max_lote_bytes
            .min(MAX_LOTE_BYTES)
            .saturating_sub(200);
        let max_notes = self.policy.max_notes_per_lote.clamp(1, MAX_NOTES_PER_LOTE);
        let mut lotes: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut bytes = 0;
        for &i in order {
            let size = notes[i].signed_xml.len();
            if !current.is_empty() && (current.len() == max_notes || bytes + size > budget) {
                lotes.push(std::mem::take(&mut current));
                bytes = 0;
            }
            current.push(i);
            bytes += size;
        }
        if !current.is_empty() {
            lotes.push(current);
        }
        lotes
    }

    fn halted(&self, lote: &[usize], notes: &[PendingNote]) -> Vec<(usize, NoteOutcome)> {
        let deferral = self.current_pause().unwrap_or_else(|| {
            self.deferral(
                DeferralReason::Unsettled {
                    detail: "run stopped".into(),
                },
                Duration::ZERO,
                false,
            )
        });
        lote.iter()
            .map(|&i| {
                (
                    i,
                    NoteOutcome::Deferred(Deferral {
                        consult_first: notes[i].consult_first,
                        ..deferral.clone()
                    }),
                )
            })
            .collect()
    }

    /// Sends one lote and settles each of its notes. `may_split`: after a lote-level schema
    /// rejection, each note is sent alone once to find the faulty one.
    async fn send_lote(
        &self,
        lote: &[usize],
        notes: &[PendingNote],
        single: bool,
        run: &Run,
        may_split: bool,
        may_resend: bool,
    ) -> Vec<(usize, NoteOutcome)> {
        let synchronous = single && lote.len() == 1;
        let xmls: Vec<&str> = lote.iter().map(|&i| notes[i].signed_xml.as_str()).collect();
        run.lotes.fetch_add(1, Ordering::SeqCst);
        let answer = self.client.submit(self.lote_id(), synchronous, &xmls).await;
        let protocols = match answer {
            Ok(SubmissionAnswer::Processed { protocols, .. }) => protocols,
            Ok(SubmissionAnswer::Received { receipt, .. }) => {
                match self
                    .poll(&receipt.number, receipt.average_seconds, run)
                    .await
                {
                    Ok(protocols) => protocols,
                    Err(deferral) => {
                        return self
                            .after_lost_lote(lote, notes, deferral, run, may_resend)
                            .await;
                    }
                }
            }
            Ok(SubmissionAnswer::NotAccepted { status }) => {
                if let Some(deferral) = self.pause_for(&status, run) {
                    return lote
                        .iter()
                        .map(|&i| (i, NoteOutcome::Deferred(deferral.clone())))
                        .collect();
                }
                if rejection_kind(status.code) == RejectionKind::Schema
                    && lote.len() > 1
                    && may_split
                {
                    let mut out = Vec::new();
                    for &i in lote {
                        out.extend(
                            Box::pin(self.send_lote(&[i], notes, true, run, false, may_resend))
                                .await,
                        );
                    }
                    return out;
                }
                return lote
                    .iter()
                    .map(|&i| (i, self.rejected(&notes[i], status.clone())))
                    .collect();
            }
            Err(error) => {
                let deferral = self.transport_failure(&error, run);
                if error.may_have_been_processed() {
                    return self
                        .after_lost_lote(lote, notes, deferral, run, may_resend)
                        .await;
                }
                return lote
                    .iter()
                    .map(|&i| (i, NoteOutcome::Deferred(deferral.clone())))
                    .collect();
            }
        };
        let mut out = Vec::with_capacity(lote.len());
        for &i in lote {
            let note = &notes[i];
            let outcome = match protocols.iter().find(|p| p.access_key == note.access_key) {
                Some(protocol) => self.settle_protocol(note, protocol, run).await,
                // SEFAZ processed the lote but said nothing of this note: find out later.
                None => NoteOutcome::Deferred(self.deferral(
                    DeferralReason::Unsettled {
                        detail: "lote answer has no protocol for this note".into(),
                    },
                    Duration::ZERO,
                    true,
                )),
            };
            out.push((i, outcome));
        }
        out
    }

    /// The lote may or may not have been processed: consult each note; resend the ones
    /// SEFAZ does not know, once.
    async fn after_lost_lote(
        &self,
        lote: &[usize],
        notes: &[PendingNote],
        deferral: Deferral,
        run: &Run,
        may_resend: bool,
    ) -> Vec<(usize, NoteOutcome)> {
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for &i in lote {
            if run.halt.load(Ordering::SeqCst) {
                out.push((
                    i,
                    NoteOutcome::Deferred(Deferral {
                        consult_first: true,
                        ..deferral.clone()
                    }),
                ));
                continue;
            }
            match self.settle_by_consulting(&notes[i], run).await {
                Some(outcome) => out.push((i, outcome)),
                None => unknown.push(i),
            }
        }
        if !unknown.is_empty() && may_resend && !run.halt.load(Ordering::SeqCst) {
            // Known not to be at SEFAZ: a resend cannot duplicate anything. Once per run, so a
            // server that keeps failing is not hammered.
            let resent =
                Box::pin(self.send_lote(&unknown, notes, unknown.len() == 1, run, true, false))
                    .await;
            out.extend(resent);
        } else {
            out.extend(unknown.into_iter().map(|i| {
                (
                    i,
                    NoteOutcome::Deferred(Deferral {
                        consult_first: true,
                        ..deferral.clone()
                    }),
                )
            }));
        }
        out
    }

    /// Polls a receipt until processed. Err: the notes' fate is unknown.
    async fn poll(
        &self,
        receipt: &str,
        average_seconds: u32,
        run: &Run,
    ) -> Result<Vec<NoteProtocol>, Deferral> {
        let mut delay =
            Duration::from_secs(u64::from(average_seconds)).max(self.policy.min_poll_delay);
        for _ in 0..self.policy.max_polls.max(1) {
            tokio::time::sleep(delay).await;
            match self.client.receipt_result(receipt).await {
                Ok(ReceiptAnswer::Processed { protocols, .. }) => return Ok(protocols),
                Ok(ReceiptAnswer::Processing { .. }) => {}
                Ok(ReceiptAnswer::NotProcessed { status }) => {
                    if let Some(deferral) = self.pause_for(&status, run) {
                        return Err(Deferral {
                            consult_first: true,
                            ..deferral
                        });
                    }
                    return Err(self.deferral(
                        DeferralReason::Unsettled {
                            detail: format!("receipt answer {}: {}", status.code, status.reason),
                        },
                        Duration::ZERO,
                        true,
                    ));
                }
                Err(error) => {
                    let deferral = self.transport_failure(&error, run);
                    if !error.may_have_been_processed() {
                        return Err(Deferral {
                            consult_first: true,
                            ..deferral
                        });
                    }
                }
            }
            delay = (delay * 2).min(Duration::from_secs(30));
        }
        Err(self.deferral(
            DeferralReason::Unsettled {
                detail: "lote still processing".into(),
            },
            Duration::ZERO,
            true,
        ))
    }

    /// Consults a note. None: SEFAZ does not have it (217), so it may be sent.
    async fn settle_by_consulting(&self, note: &PendingNote, run: &Run) -> Option<NoteOutcome> {
        if run.halt.load(Ordering::SeqCst) {
            return Some(NoteOutcome::Deferred(Deferral {
                consult_first: true,
                ..self.halted_deferral()
            }));
        }
        match self.client.consult(&note.access_key).await {
            Ok(query) => self.settle_query(note, &query, run),
            Err(error) => {
                let deferral = self.transport_failure(&error, run);
                Some(NoteOutcome::Deferred(Deferral {
                    consult_first: true,
                    ..deferral
                }))
            }
        }
    }

    fn halted_deferral(&self) -> Deferral {
        self.current_pause().unwrap_or_else(|| {
            self.deferral(
                DeferralReason::Unsettled {
                    detail: "run stopped".into(),
                },
                Duration::ZERO,
                true,
            )
        })
    }

    fn settle_query(
        &self,
        note: &PendingNote,
        query: &ProtocolQuery,
        run: &Run,
    ) -> Option<NoteOutcome> {
        if query.is_unknown() {
            return None;
        }
        if let Some(deferral) = self.pause_for(&query.status, run) {
            return Some(NoteOutcome::Deferred(Deferral {
                consult_first: true,
                ..deferral
            }));
        }
        if let Some(protocol) = &query.protocol {
            if matches!(protocol.status.code, 100 | 150) || is_denial(protocol.status.code) {
                return Some(self.accept_protocol(note, protocol));
            }
        }
        Some(NoteOutcome::Deferred(self.deferral(
            DeferralReason::Unsettled {
                detail: format!(
                    "consult answer {}: {}",
                    query.status.code, query.status.reason
                ),
            },
            self.policy.transport_pause,
            true,
        )))
    }

    /// Turns one `protNFe` into the note's outcome (consulting on duplicates).
    async fn settle_protocol(
        &self,
        note: &PendingNote,
        protocol: &NoteProtocol,
        run: &Run,
    ) -> NoteOutcome {
        let status = &protocol.status;
        match status.code {
            100 | 150 => self.accept_protocol(note, protocol),
            code if is_denial(code) => self.accept_protocol(note, protocol),
            // Already at SEFAZ under this key: its protocol is the answer.
            204 => match self.settle_by_consulting(note, run).await {
                Some(outcome) => outcome,
                None => NoteOutcome::Deferred(self.deferral(
                    DeferralReason::Unsettled {
                        detail: "204 duplicate, but the key is not found".into(),
                    },
                    self.policy.transport_pause,
                    true,
                )),
            },
            // This number is authorized under another key: that document is the sale's.
            539 => {
                let other = key_in_reason(&status.reason);
                match other {
                    Some(authorized_key) => match self.client.consult(&authorized_key).await {
                        Ok(query) => NoteOutcome::AlreadyAuthorized {
                            protocol_number: query.protocol.and_then(|p| p.protocol_number),
                            authorized_key,
                            status: status.clone(),
                        },
                        Err(error) => {
                            let deferral = self.transport_failure(&error, run);
                            NoteOutcome::Deferred(Deferral {
                                consult_first: true,
                                ..deferral
                            })
                        }
                    },
                    None => NoteOutcome::AlreadyAuthorized {
                        authorized_key: String::new(),
                        protocol_number: None,
                        status: status.clone(),
                    },
                }
            }
            _ => match self.pause_for(status, run) {
                Some(deferral) => NoteOutcome::Deferred(deferral),
                None => self.rejected(note, status.clone()),
            },
        }
    }

    fn accept_protocol(&self, note: &PendingNote, protocol: &NoteProtocol) -> NoteOutcome {
        let ours = nfe_proc::digest_value(&note.signed_xml);
        if let (Some(theirs), Some(ours)) = (protocol.digest_value.as_deref(), ours) {
            if theirs != ours {
                // SEFAZ authorized a different XML under this key; ours must not be issued.
                return NoteOutcome::AlreadyAuthorized {
                    authorized_key: note.access_key.clone(),
                    protocol_number: protocol.protocol_number.clone(),
                    status: protocol.status.clone(),
                };
            }
        }
        self.lock_state().rejected.remove(&note.access_key);
        let authorization = Authorization {
            status: protocol.status.clone(),
            protocol_number: protocol.protocol_number.clone(),
            received_at: protocol.received_at,
            late: protocol.status.code == 150,
            nfe_proc: nfe_proc::nfe_proc(&note.signed_xml, &protocol.xml),
        };
        if is_denial(protocol.status.code) {
            NoteOutcome::Denied(authorization)
        } else {
            NoteOutcome::Authorized(authorization)
        }
    }

    fn rejected(&self, note: &PendingNote, status: Status) -> NoteOutcome {
        self.lock_state().rejected.insert(
            note.access_key.clone(),
            RejectedNote {
                xml_sha256: sha256_hex(&note.signed_xml),
                status: status.clone(),
            },
        );
        NoteOutcome::Rejected(Rejection {
            correction_hint: status.correction_hint().map(str::to_string),
            kind: rejection_kind(status.code),
            status,
            repeated: false,
        })
    }

    /// 108/109 and 656 stop the run and pause future runs.
    fn pause_for(&self, status: &Status, run: &Run) -> Option<Deferral> {
        let (reason, pause, availability) = match status.code {
            108 | 109 => (
                DeferralReason::SefazUnavailable {
                    status: status.clone(),
                },
                self.policy.unavailable_pause,
                Availability::Unavailable {
                    status: status.clone(),
                },
            ),
            656 => {
                let until = Utc::now() + self.policy.throttle_pause;
                (
                    DeferralReason::Throttled {
                        status: status.clone(),
                    },
                    self.policy.throttle_pause,
                    Availability::Throttled { until },
                )
            }
            _ => return None,
        };
        run.halt.store(true, Ordering::SeqCst);
        *run.availability.lock().unwrap_or_else(|p| p.into_inner()) = availability;
        let deferral = self.deferral(reason.clone(), pause, false);
        let mut state = self.lock_state();
        if state.paused_until.is_none_or(|t| t < deferral.retry_after) {
            state.paused_until = Some(deferral.retry_after);
            state.pause_reason = Some(reason);
        }
        Some(deferral)
    }

    fn transport_failure(&self, error: &SefazError, run: &Run) -> Deferral {
        let detail = error_chain(error);
        {
            let mut availability = run.availability.lock().unwrap_or_else(|p| p.into_inner());
            if matches!(*availability, Availability::Available) {
                *availability = Availability::Unreachable {
                    detail: detail.clone(),
                };
            }
        }
        if !error.may_have_been_processed() {
            // Nothing reached SEFAZ: stop this run rather than fail every lote the same way.
            run.halt.store(true, Ordering::SeqCst);
            let deferral = self.deferral(
                DeferralReason::Transport {
                    detail: detail.clone(),
                },
                self.policy.transport_pause,
                false,
            );
            if !self.policy.transport_pause.is_zero() {
                let mut state = self.lock_state();
                if state.paused_until.is_none_or(|t| t < deferral.retry_after) {
                    state.paused_until = Some(deferral.retry_after);
                    state.pause_reason = Some(deferral.reason.clone());
                }
            }
            return deferral;
        }
        self.deferral(
            DeferralReason::Transport { detail },
            self.policy.transport_pause,
            true,
        )
    }

    fn deferral(&self, reason: DeferralReason, wait: Duration, consult_first: bool) -> Deferral {
        let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        Deferral {
            reason,
            retry_after: Utc::now() + wait,
            consult_first,
        }
    }
}

fn is_denial(code: u16) -> bool {
    matches!(code, 110 | 301 | 302 | 303)
}

fn rejection_kind(code: u16) -> RejectionKind {
    match code {
        215 | 225 | 243 => RejectionKind::Schema,
        _ => RejectionKind::Other,
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The key in a 539 reason: "… [chNFe: 3519…]" (with or without the space).
fn key_in_reason(reason: &str) -> Option<String> {
    let start = reason.find("chNFe:")? + "chNFe:".len();
    let key: String = reason[start..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (key.len() == 44).then_some(key)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_other_key_in_a_539_reason() {
        let key = "35251106157250000116650010000000011000000019";
        assert_eq!(
            key_in_reason(&format!(
                "Rejeicao: Duplicidade de NF-e com diferenca na Chave de Acesso [chNFe: {key}][nRec:351000000000001]"
            )),
            Some(key.to_string())
        );
        assert_eq!(
            key_in_reason("Duplicidade [chNFe:123]"),
            None,
            "a short key is not a key"
        );
    }
}
