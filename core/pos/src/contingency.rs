//! The NFC-e contingency state machine (ARCHITECTURE.md), pure: events in, a new state and the
//! transition to audit out. No clock, no I/O — the caller passes the time and persists the state.
//!
//! ```text
//! Normal ──unreachable──▶ ContingencyRequired ──manager + justification──▶ Contingency
//!    ▲         (automatic policy: straight to Contingency)                       │
//!    │                                                              SEFAZ answers │
//!    └──────────── backlog drained ◀──────────── Draining ◀─────────────────────┘
//! ```

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Shortest and longest justification SEFAZ accepts in `xJust` (NT: 15–256 characters).
pub const JUSTIFICATION_MIN_CHARS: usize = 15;
pub const JUSTIFICATION_MAX_CHARS: usize = 256;

/// How the store wants contingency handled (set by the owner, synced from the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContingencyPolicy {
    /// Enter contingency without a manager when SEFAZ is unreachable, using `automatic_justification`.
    pub automatic: bool,
    pub automatic_justification: String,
    /// Most notes that may be issued in one contingency period before a refusal.
    pub max_notes: u32,
    /// Longest a contingency period may last before new notes are refused.
    pub max_hours: u32,
}

impl Default for ContingencyPolicy {
    fn default() -> Self {
        ContingencyPolicy {
            automatic: false,
            automatic_justification: "Sem comunicacao com a SEFAZ: falha de conexao com a internet"
                .to_owned(),
            max_notes: 500,
            max_hours: 24,
        }
    }
}

/// Who put the register into contingency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContingencyAuthority {
    /// A manager's credentials were checked; their id and name are kept for the audit.
    Manager { user_id: String, name: String },
    /// The store's policy allowed automatic entry.
    Policy,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FiscalState {
    /// Notes are authorized online, one by one.
    Normal,
    /// SEFAZ or the link is unreachable; fiscal sales wait for a manager (or the policy).
    ContingencyRequired {
        since: DateTime<Utc>,
        reason: String,
    },
    /// Notes are issued offline (tpEmis=9) and queued for transmission.
    Contingency {
        entered_at: DateTime<Utc>,
        justification: String,
        authority: ContingencyAuthority,
        notes_issued: u32,
    },
    /// SEFAZ answers again: the backlog goes out oldest first while new sales go out normally.
    Draining { since: DateTime<Utc>, backlog: u32 },
}

/// What the machine reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContingencyEvent {
    /// Timeouts, cStat 108/109, transport errors — after a consult also failed.
    SefazUnreachable { at: DateTime<Utc>, reason: String },
    /// A manager's credentials were verified by the caller.
    ManagerAuthorized {
        at: DateTime<Utc>,
        user_id: String,
        name: String,
        justification: String,
    },
    /// A contingency note was signed and committed.
    ContingencyNoteIssued { at: DateTime<Utc> },
    /// A status probe (or an authorization) succeeded. `backlog` = contingency notes still queued.
    SefazAvailable { at: DateTime<Utc>, backlog: u32 },
    /// The transmission worker emptied (or shrank) the backlog.
    BacklogChanged { at: DateTime<Utc>, backlog: u32 },
}

/// A state change, ready for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContingencyTransition {
    pub from: &'static str,
    pub to: &'static str,
    pub at: DateTime<Utc>,
    /// Human-readable reason, free of personal data.
    pub detail: String,
}

/// How the next fiscal sale's note must be issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Emission {
    /// Try synchronous online authorization (tpEmis=1).
    Online,
    /// Sign offline, tpEmis=9, with this entry time and justification.
    Contingency {
        entered_at: DateTime<Utc>,
        justification: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContingencyError {
    #[error(
        "justification must have {JUSTIFICATION_MIN_CHARS} to {JUSTIFICATION_MAX_CHARS} characters, it has {0}"
    )]
    Justification(usize),
    #[error("contingency requires a manager's authorization before fiscal sales can continue")]
    AuthorizationRequired,
    #[error("contingency limit reached: {0}")]
    LimitExceeded(ContingencyLimit),
    #[error("the register is not in contingency")]
    NotInContingency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContingencyLimit {
    MaxNotes(u32),
    MaxHours(u32),
}

impl std::fmt::Display for ContingencyLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContingencyLimit::MaxNotes(n) => write!(f, "at most {n} notes per contingency period"),
            ContingencyLimit::MaxHours(h) => write!(f, "at most {h} hours in contingency"),
        }
    }
}

/// Checks a justification the way SEFAZ will (`xJust`: 15–256 characters after trimming).
pub fn validate_justification(text: &str) -> Result<String, ContingencyError> {
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if !(JUSTIFICATION_MIN_CHARS..=JUSTIFICATION_MAX_CHARS).contains(&chars) {
        return Err(ContingencyError::Justification(chars));
    }
    Ok(trimmed.to_owned())
}

impl FiscalState {
    pub fn name(&self) -> &'static str {
        match self {
            FiscalState::Normal => "normal",
            FiscalState::ContingencyRequired { .. } => "contingency_required",
            FiscalState::Contingency { .. } => "contingency",
            FiscalState::Draining { .. } => "draining",
        }
    }

    /// Applies an event. Returns the new state and, when the state kind changed, the transition
    /// to audit. Errors leave the state as it was (the caller keeps `self`).
    pub fn apply(
        &self,
        event: ContingencyEvent,
        policy: &ContingencyPolicy,
    ) -> Result<(FiscalState, Option<ContingencyTransition>), ContingencyError> {
        use ContingencyEvent as E;
        use FiscalState as S;
        let next = match (self, event) {
            // Unreachable: from Normal or Draining, enter (or ask for) contingency.
            (S::Normal | S::Draining { .. }, E::SefazUnreachable { at, reason }) => {
                if policy.automatic {
                    let justification = validate_justification(&policy.automatic_justification)?;
                    Some((
                        S::Contingency {
                            entered_at: at,
                            justification,
                            authority: ContingencyAuthority::Policy,
                            notes_issued: 0,
                        },
                        at,
                        format!("automatic by store policy: {reason}"),
                    ))
                } else {
                    Some((
                        S::ContingencyRequired {
                            since: at,
                            reason: reason.clone(),
                        },
                        at,
                        reason,
                    ))
                }
            }
            // Already waiting or already in contingency: nothing new.
            (S::ContingencyRequired { .. } | S::Contingency { .. }, E::SefazUnreachable { .. }) => {
                None
            }
            // A manager may enter contingency when it is required, or pre-emptively.
            (
                S::Normal | S::ContingencyRequired { .. } | S::Draining { .. },
                E::ManagerAuthorized {
                    at,
                    user_id,
                    name,
                    justification,
                },
            ) => {
                let justification = validate_justification(&justification)?;
                let detail = format!("authorized by manager {name}");
                Some((
                    S::Contingency {
                        entered_at: at,
                        justification,
                        authority: ContingencyAuthority::Manager { user_id, name },
                        notes_issued: 0,
                    },
                    at,
                    detail,
                ))
            }
            (S::Contingency { .. }, E::ManagerAuthorized { .. }) => None,
            (
                S::Contingency {
                    entered_at,
                    justification,
                    authority,
                    notes_issued,
                },
                E::ContingencyNoteIssued { at },
            ) => {
                check_limits(*entered_at, *notes_issued, at, policy)?;
                return Ok((
                    S::Contingency {
                        entered_at: *entered_at,
                        justification: justification.clone(),
                        authority: authority.clone(),
                        notes_issued: notes_issued + 1,
                    },
                    None,
                ));
            }
            (_, E::ContingencyNoteIssued { .. }) => return Err(ContingencyError::NotInContingency),
            (S::Contingency { .. }, E::SefazAvailable { at, backlog }) => Some(if backlog == 0 {
                (S::Normal, at, "SEFAZ answers; no note pending".to_owned())
            } else {
                (
                    S::Draining { since: at, backlog },
                    at,
                    format!("SEFAZ answers; {backlog} notes to transmit"),
                )
            }),
            (S::ContingencyRequired { .. }, E::SefazAvailable { at, backlog }) => {
                Some(if backlog == 0 {
                    (S::Normal, at, "SEFAZ answers again".to_owned())
                } else {
                    (
                        S::Draining { since: at, backlog },
                        at,
                        format!("SEFAZ answers; {backlog} notes to transmit"),
                    )
                })
            }
            (S::Normal, E::SefazAvailable { .. }) => None,
            (S::Draining { since, .. }, E::SefazAvailable { backlog, at })
            | (S::Draining { since, .. }, E::BacklogChanged { backlog, at }) => {
                if backlog == 0 {
                    Some((S::Normal, at, "backlog transmitted".to_owned()))
                } else {
                    return Ok((
                        S::Draining {
                            since: *since,
                            backlog,
                        },
                        None,
                    ));
                }
            }
            // The backlog only drives Draining; elsewhere it is informational.
            (
                S::Normal | S::ContingencyRequired { .. } | S::Contingency { .. },
                E::BacklogChanged { .. },
            ) => None,
        };
        Ok(match next {
            None => (self.clone(), None),
            Some((state, at, detail)) => {
                let transition = (state.name() != self.name()).then(|| ContingencyTransition {
                    from: self.name(),
                    to: state.name(),
                    at,
                    detail,
                });
                (state, transition)
            }
        })
    }

    /// How a fiscal sale made now must be issued, or why it cannot be.
    pub fn emission(
        &self,
        now: DateTime<Utc>,
        policy: &ContingencyPolicy,
    ) -> Result<Emission, ContingencyError> {
        match self {
            FiscalState::Normal | FiscalState::Draining { .. } => Ok(Emission::Online),
            FiscalState::ContingencyRequired { .. } => Err(ContingencyError::AuthorizationRequired),
            FiscalState::Contingency {
                entered_at,
                justification,
                notes_issued,
                ..
            } => {
                check_limits(*entered_at, *notes_issued, now, policy)?;
                Ok(Emission::Contingency {
                    entered_at: *entered_at,
                    justification: justification.clone(),
                })
            }
        }
    }
}

fn check_limits(
    entered_at: DateTime<Utc>,
    notes_issued: u32,
    now: DateTime<Utc>,
    policy: &ContingencyPolicy,
) -> Result<(), ContingencyError> {
    if notes_issued >= policy.max_notes {
        return Err(ContingencyError::LimitExceeded(ContingencyLimit::MaxNotes(
            policy.max_notes,
        )));
    }
    if now - entered_at >= Duration::hours(i64::from(policy.max_hours)) {
        return Err(ContingencyError::LimitExceeded(ContingencyLimit::MaxHours(
            policy.max_hours,
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
            .single()
            .expect("valid date")
            + Duration::minutes(minutes)
    }

    fn manual() -> ContingencyPolicy {
        ContingencyPolicy {
            automatic: false,
            max_notes: 3,
            max_hours: 2,
            ..Default::default()
        }
    }

    const JUST: &str = "Queda da internet no bairro";

    fn unreachable(at: i64) -> ContingencyEvent {
        ContingencyEvent::SefazUnreachable {
            at: t(at),
            reason: "timeout".into(),
        }
    }

    fn manager(at: i64, justification: &str) -> ContingencyEvent {
        ContingencyEvent::ManagerAuthorized {
            at: t(at),
            user_id: "u-1".into(),
            name: "Ana".into(),
            justification: justification.into(),
        }
    }

    fn in_contingency(policy: &ContingencyPolicy) -> FiscalState {
        let (s, _) = FiscalState::Normal
            .apply(unreachable(0), policy)
            .expect("normal → required");
        let (s, _) = s
            .apply(manager(1, JUST), policy)
            .expect("required → contingency");
        s
    }

    #[test]
    fn full_cycle_is_audited_at_every_kind_change() {
        let p = manual();
        let mut s = FiscalState::Normal;
        let mut path = vec![];
        for e in [
            unreachable(0),
            manager(1, JUST),
            ContingencyEvent::ContingencyNoteIssued { at: t(2) },
            ContingencyEvent::ContingencyNoteIssued { at: t(3) },
            ContingencyEvent::SefazAvailable {
                at: t(10),
                backlog: 2,
            },
            ContingencyEvent::BacklogChanged {
                at: t(11),
                backlog: 1,
            },
            ContingencyEvent::BacklogChanged {
                at: t(12),
                backlog: 0,
            },
        ] {
            let (n, tr) = s.apply(e, &p).expect("valid cycle");
            if let Some(tr) = tr {
                path.push((tr.from, tr.to));
            }
            s = n;
        }
        // Exactly the four transitions of the design; note issuance is not a transition.
        assert_eq!(
            path,
            vec![
                ("normal", "contingency_required"),
                ("contingency_required", "contingency"),
                ("contingency", "draining"),
                ("draining", "normal"),
            ]
        );
        assert_eq!(s, FiscalState::Normal);
    }

    #[test]
    fn automatic_policy_skips_the_manager() {
        let p = ContingencyPolicy {
            automatic: true,
            ..manual()
        };
        let (s, tr) = FiscalState::Normal
            .apply(unreachable(0), &p)
            .expect("automatic entry");
        assert!(matches!(
            s,
            FiscalState::Contingency {
                authority: ContingencyAuthority::Policy,
                ..
            }
        ));
        assert_eq!(tr.expect("audited").to, "contingency");
    }

    #[test]
    fn justification_bounds_are_15_and_256_chars_after_trim() {
        assert!(validate_justification(&"a".repeat(14)).is_err());
        assert!(validate_justification(&"a".repeat(15)).is_ok());
        assert!(
            validate_justification(&"ç".repeat(256)).is_ok(),
            "counted in chars, not bytes"
        );
        assert!(validate_justification(&"a".repeat(257)).is_err());
        assert_eq!(
            validate_justification("   curta demais   "),
            Err(ContingencyError::Justification(12))
        );
        // A rejected justification leaves the state untouched (the caller keeps the old one).
        let (req, _) = FiscalState::Normal
            .apply(unreachable(0), &manual())
            .expect("required");
        assert_eq!(
            req.apply(manager(1, "curta"), &manual()),
            Err(ContingencyError::Justification(5))
        );
    }

    #[test]
    fn sales_wait_while_contingency_is_required() {
        let (req, _) = FiscalState::Normal
            .apply(unreachable(0), &manual())
            .expect("required");
        assert_eq!(
            req.emission(t(1), &manual()),
            Err(ContingencyError::AuthorizationRequired)
        );
        assert_eq!(
            FiscalState::Normal.emission(t(1), &manual()),
            Ok(Emission::Online)
        );
        let draining = FiscalState::Draining {
            since: t(0),
            backlog: 4,
        };
        assert_eq!(
            draining.emission(t(1), &manual()),
            Ok(Emission::Online),
            "new sales go out normally"
        );
    }

    #[test]
    fn max_notes_limit_refuses_the_next_note() {
        let p = manual();
        let mut s = in_contingency(&p);
        for i in 0..3 {
            assert!(matches!(
                s.emission(t(2 + i), &p),
                Ok(Emission::Contingency { .. })
            ));
            s = s
                .apply(ContingencyEvent::ContingencyNoteIssued { at: t(2 + i) }, &p)
                .expect("under limit")
                .0;
        }
        assert_eq!(
            s.emission(t(6), &p),
            Err(ContingencyError::LimitExceeded(ContingencyLimit::MaxNotes(
                3
            )))
        );
        assert!(
            s.apply(ContingencyEvent::ContingencyNoteIssued { at: t(6) }, &p)
                .is_err()
        );
    }

    #[test]
    fn max_hours_limit_counts_from_entry() {
        let p = manual();
        let s = in_contingency(&p); // entered at t(1)
        assert!(s.emission(t(1 + 119), &p).is_ok());
        assert_eq!(
            s.emission(t(1 + 120), &p),
            Err(ContingencyError::LimitExceeded(ContingencyLimit::MaxHours(
                2
            )))
        );
    }

    #[test]
    fn every_state_event_pair_is_defined() {
        // Exhaustive: each state × each event either transitions, stays, or errors — never panics,
        // and a note can only be issued in contingency.
        let p = manual();
        let states = vec![
            FiscalState::Normal,
            FiscalState::ContingencyRequired {
                since: t(0),
                reason: "x".into(),
            },
            in_contingency(&p),
            FiscalState::Draining {
                since: t(0),
                backlog: 2,
            },
        ];
        let events = || {
            vec![
                unreachable(5),
                manager(5, JUST),
                ContingencyEvent::ContingencyNoteIssued { at: t(5) },
                ContingencyEvent::SefazAvailable {
                    at: t(5),
                    backlog: 0,
                },
                ContingencyEvent::SefazAvailable {
                    at: t(5),
                    backlog: 3,
                },
                ContingencyEvent::BacklogChanged {
                    at: t(5),
                    backlog: 0,
                },
                ContingencyEvent::BacklogChanged {
                    at: t(5),
                    backlog: 1,
                },
            ]
        };
        let mut table = vec![];
        for s in &states {
            for e in events() {
                let label = format!("{e:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let out = match s.apply(e, &p) {
                    Ok((n, _)) => n.name().to_owned(),
                    Err(_) => "error".to_owned(),
                };
                table.push(format!("{} + {label} → {out}", s.name()));
            }
        }
        let expected = [
            "normal + SefazUnreachable → contingency_required",
            "normal + ManagerAuthorized → contingency",
            "normal + ContingencyNoteIssued → error",
            "normal + SefazAvailable → normal",
            "normal + SefazAvailable → normal",
            "normal + BacklogChanged → normal",
            "normal + BacklogChanged → normal",
            "contingency_required + SefazUnreachable → contingency_required",
            "contingency_required + ManagerAuthorized → contingency",
            "contingency_required + ContingencyNoteIssued → error",
            "contingency_required + SefazAvailable → normal",
            "contingency_required + SefazAvailable → draining",
            "contingency_required + BacklogChanged → contingency_required",
            "contingency_required + BacklogChanged → contingency_required",
            "contingency + SefazUnreachable → contingency",
            "contingency + ManagerAuthorized → contingency",
            "contingency + ContingencyNoteIssued → contingency",
            "contingency + SefazAvailable → normal",
            "contingency + SefazAvailable → draining",
            "contingency + BacklogChanged → contingency",
            "contingency + BacklogChanged → contingency",
            "draining + SefazUnreachable → contingency_required",
            "draining + ManagerAuthorized → contingency",
            "draining + ContingencyNoteIssued → error",
            "draining + SefazAvailable → normal",
            "draining + SefazAvailable → draining",
            "draining + BacklogChanged → normal",
            "draining + BacklogChanged → draining",
        ];
        assert_eq!(table, expected);
    }

    #[test]
    fn manager_authority_is_kept_for_the_audit() {
        let s = in_contingency(&manual());
        let FiscalState::Contingency {
            authority,
            justification,
            ..
        } = s
        else {
            panic!("expected contingency, got {s:?}");
        };
        assert_eq!(
            authority,
            ContingencyAuthority::Manager {
                user_id: "u-1".into(),
                name: "Ana".into()
            }
        );
        assert_eq!(justification, JUST);
    }
}
