//! Every permissioned action × every role goes through the same path: refused, it writes one
//! entry — the denied one — and changes nothing; allowed, it writes its audit entry with the
//! change. The roles come from the standard matrix: sellers sell, managers run the register and
//! contingency, owners can do it all. The actions on sales and notes run against the SEFAZ
//! simulator on loopback, each on a sale made for it.
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::*;
use tenda_domain::{Action, Discount, PermissionMatrix, Quantity, Role};
use tenda_pos::credentials::Secret;
use tenda_pos::register::PaymentKind;
use tenda_pos::status::SefazMode;
use tenda_pos::{AuditFilter, AuditRow, CountedAmount, Pos, PosResult};

/// A user of each role, with their PIN.
const ROLES: [(&str, &str); 3] = [("bia", "1357"), ("caio", "2468"), ("dona", "9999")];

fn entries(pos: &Pos) -> Vec<AuditRow> {
    pos.audit_entries(0, 100_000).expect("audit")
}

/// What the standard matrix lets each of them do: the table asks the matrix, so a change to the
/// matrix changes the expectations with it.
fn allowed(login: &str, action: Action) -> bool {
    let role = match login {
        "bia" => Role::Seller,
        "caio" => Role::Manager,
        _ => Role::Owner,
    };
    PermissionMatrix::standard().allows(role, action)
}

/// One action: what it needs, and how to run it on a signed-in register.
struct Case {
    name: &'static str,
    action: Action,
    /// Entries an allowed run writes (the contingency entry also records the state change; a
    /// report, which changes nothing, writes none).
    allowed_entries: usize,
    /// The allowed run's entry.
    audited_as: &'static str,
    run: fn(&Pos) -> PosResult<()>,
    /// Whether the state it changes is unchanged (for refusals).
    unchanged: fn(&Pos) -> bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "cash_in",
            action: Action::OpenRegister,
            allowed_entries: 1,
            audited_as: "open_register",
            run: |p| p.cash_in(m(10_00), "troco".into(), None),
            unchanged: |p| {
                p.register_session()
                    .expect("reads")
                    .expect("open")
                    .expected_cash
                    == m(100_00)
            },
        },
        Case {
            name: "cash_out",
            action: Action::OpenRegister,
            allowed_entries: 1,
            audited_as: "open_register",
            run: |p| p.cash_out(m(10_00), "sangria".into(), None),
            unchanged: |p| {
                p.register_session()
                    .expect("reads")
                    .expect("open")
                    .expected_cash
                    == m(100_00)
            },
        },
        Case {
            name: "line discount above the seller's limit",
            action: Action::DiscountAboveLimit,
            allowed_entries: 1,
            audited_as: "ticket.discount_above_limit",
            run: |p| p.set_line_discount(0, Some(Discount::Percent(20_00)), None),
            unchanged: |p| p.ticket().expect("ticket").discount == m(0),
        },
        Case {
            name: "sale discount above the seller's limit",
            action: Action::DiscountAboveLimit,
            allowed_entries: 1,
            audited_as: "ticket.discount_above_limit",
            run: |p| p.set_sale_discount(Some(Discount::Percent(10_00)), None),
            unchanged: |p| p.ticket().expect("ticket").discount == m(0),
        },
        Case {
            name: "void_line",
            action: Action::VoidLine,
            // Audited when made (and again with the sale it belongs to, if paid).
            allowed_entries: 1,
            audited_as: "ticket.void_line",
            run: |p| p.void_line(0, None),
            unchanged: |p| p.ticket().expect("ticket").lines.len() == 1,
        },
        Case {
            name: "enter_contingency",
            action: Action::AuthorizeContingency,
            // One entry, naming the transition it made.
            allowed_entries: 1,
            audited_as: "authorize_contingency",
            run: |p| {
                p.enter_contingency("Queda do link de internet da loja".into(), None)
                    .map(|_| ())
            },
            unchanged: |p| p.fiscal_state().mode == SefazMode::Normal,
        },
        Case {
            name: "close_register",
            action: Action::CloseRegister,
            allowed_entries: 1,
            audited_as: "close_register",
            run: |p| {
                p.close_register(
                    vec![CountedAmount {
                        kind: PaymentKind::Cash,
                        amount: m(100_00),
                    }],
                    None,
                )
                .map(|_| ())
            },
            unchanged: |p| p.register_session().expect("reads").is_some(),
        },
        // Reports change nothing, but who may read them is checked the same way, and a refusal
        // is audited like any other.
        Case {
            name: "sales_report",
            action: Action::ViewReports,
            allowed_entries: 0,
            audited_as: "",
            run: |p| {
                let now = chrono::Utc::now();
                p.sales_report(now - chrono::Duration::days(1), now, None)
                    .map(|_| ())
            },
            unchanged: |_| true,
        },
        Case {
            name: "oversold_report",
            action: Action::ViewReports,
            allowed_entries: 0,
            audited_as: "",
            run: |p| p.oversold_report(None).map(|_| ()),
            unchanged: |_| true,
        },
        Case {
            name: "contingency_notes_report",
            action: Action::ViewReports,
            allowed_entries: 0,
            audited_as: "",
            run: |p| p.contingency_notes_report(None).map(|_| ()),
            unchanged: |_| true,
        },
        Case {
            name: "audit_report",
            action: Action::ViewReports,
            allowed_entries: 0,
            audited_as: "",
            run: |p| p.audit_report(AuditFilter::default(), None).map(|_| ()),
            unchanged: |_| true,
        },
    ]
}

#[test]
fn every_action_by_every_role_is_authorized_executed_and_audited_once() {
    for (login, pin) in ROLES {
        let f = fixture(|_| {});
        let pos = &f.pos;
        pos.sign_in(login.into(), Secret::Pin(pin.into()))
            .expect("sign in");
        // Set-up with a manager's approval (audited, not part of the table).
        pos.open_register(m(100_00), Some(manager())).expect("open");
        pos.scan("CAF500".into(), Some(Quantity::from_units(1).expect("1")))
            .expect("scan");
        for case in cases() {
            let before = entries(pos);
            let result = (case.run)(pos);
            let after = entries(pos);
            let new = &after[before.len()..];
            if allowed(login, case.action) {
                result.unwrap_or_else(|e| panic!("{login} {}: {e:?}", case.name));
                assert_eq!(
                    new.len(),
                    case.allowed_entries,
                    "{login} {}: {new:?}",
                    case.name
                );
                assert!(new.iter().all(|e| e.outcome == "succeeded"), "{new:?}");
                if let Some(entry) = new.first() {
                    assert_eq!(entry.action, case.audited_as, "{login} {}", case.name);
                }
            } else {
                let err = result.expect_err("refused");
                assert_eq!(err.code(), "forbidden", "{login} {}", case.name);
                assert_eq!(
                    new.len(),
                    1,
                    "{login} {}: only the refusal: {new:?}",
                    case.name
                );
                assert_eq!(new[0].outcome, "denied");
                assert_eq!(new[0].action, case.action.code());
                assert!(
                    (case.unchanged)(pos),
                    "{login} {}: nothing changed",
                    case.name
                );
            }
        }
        assert!(pos.verify_audit().expect("verify").intact);
    }
}

#[test]
fn an_approval_is_audited_when_given_and_an_abandoned_ticket_with_its_lines() {
    let f = fixture(|_| {});
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    pos.scan("CAF500".into(), None).expect("scan");
    pos.scan("CAF500".into(), None).expect("scan");
    let before = entries(pos).len();
    pos.void_line(0, Some(manager())).expect("void approved");
    let new: Vec<_> = entries(pos).split_off(before);
    let actions: Vec<&str> = new.iter().map(|e| e.action.as_str()).collect();
    // The manager's PIN checked, and the approval itself — before (and whether or not) the
    // ticket is ever paid.
    assert_eq!(
        actions,
        ["session.approve", "approval.void_line"],
        "{new:?}"
    );
    // Abandoning the ticket: one entry with its lines and total.
    let before = entries(pos).len();
    pos.clear_ticket().expect("abandon");
    let new: Vec<_> = entries(pos).split_off(before);
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].action, "ticket.abandon");
    assert!(
        new[0].subject.contains("total=1890") && new[0].subject.contains(&f.coffee.name),
        "{}",
        new[0].subject
    );
    // An empty ticket leaves nothing to record.
    let before = entries(pos).len();
    pos.clear_ticket().expect("nothing to abandon");
    assert_eq!(entries(pos).len(), before);
    // Someone signing in over the session takes the register as it is: the ticket left
    // behind is abandoned first, with its lines.
    pos.scan("CAF500".into(), None).expect("scan");
    let before = entries(pos).len();
    pos.sign_in("caio".into(), Secret::Pin("2468".into()))
        .expect("manager signs in");
    let new: Vec<_> = entries(pos).split_off(before);
    let actions: Vec<&str> = new.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["session.sign_in", "ticket.abandon"], "{new:?}");
    assert!(pos.ticket().expect("ticket").lines.is_empty());
    // Signing out is audited.
    pos.sign_out().expect("sign out");
    assert_eq!(
        entries(pos).last().expect("entry").action,
        "session.sign_out"
    );
}

/// The actions on sales and notes, which need SEFAZ or a sale to act on.
#[derive(Clone, Copy, Debug)]
enum SaleCase {
    Reprint,
    CancelUnsynced,
    CancelNote,
    CancelBySubstitution,
    CorrectNote,
    InutilizeNumbers,
    AbandonCardCharges,
}

impl SaleCase {
    const ALL: [SaleCase; 7] = [
        SaleCase::Reprint,
        SaleCase::CancelUnsynced,
        SaleCase::CancelNote,
        SaleCase::CancelBySubstitution,
        SaleCase::CorrectNote,
        SaleCase::InutilizeNumbers,
        SaleCase::AbandonCardCharges,
    ];

    fn action(self) -> Action {
        match self {
            SaleCase::Reprint => Action::Reprint,
            SaleCase::CancelUnsynced | SaleCase::AbandonCardCharges => Action::VoidSale,
            SaleCase::CancelNote
            | SaleCase::CancelBySubstitution
            | SaleCase::CorrectNote
            | SaleCase::InutilizeNumbers => Action::CancelNote,
        }
    }

    /// The store's own entries for the change (a void, a note's new status, the numbers
    /// voided), written with the authorization's.
    fn store_entries(self) -> usize {
        match self {
            SaleCase::Reprint | SaleCase::CancelBySubstitution | SaleCase::AbandonCardCharges => 0,
            SaleCase::CancelUnsynced | SaleCase::CorrectNote | SaleCase::InutilizeNumbers => 1,
            SaleCase::CancelNote => 2,
        }
    }
}

/// What the sale cases act on, made before the table runs.
struct Sales {
    authorized: tenda_pos::SaleOutcome,
    superseded_key: String,
    kept: tenda_pos::SaleOutcome,
    rejected: tenda_pos::SaleOutcome,
    plain: tenda_domain::SaleId,
    card_charged: bool,
}

fn note_status(pos: &Pos, sale: tenda_domain::SaleId) -> tenda_domain::FiscalStatus {
    pos.inspect_store(|s| s.fiscal_document(sale))
        .expect("read")
        .expect("note")
        .status
}

fn sale_status(pos: &Pos, sale: tenda_domain::SaleId) -> tenda_store::SaleStatus {
    pos.inspect_store(|s| s.sale(sale))
        .expect("read")
        .expect("sale")
        .status
}

/// A rejected note, three authorized ones (two of them for one purchase), a sale without a
/// note, two numbers reserved and never used, and a card charged for a ticket left unpaid.
async fn sales(f: &Fixture, sim: &tenda_sefaz_sim::Simulator) -> Sales {
    let pos = &f.pos;
    // Offline: a contingency note, which SEFAZ then rejects.
    pos.set_link(tenda_pos::status::LinkState::Offline)
        .expect("link");
    let rejected = sell_coffee(pos).await;
    let key = rejected.note.clone().expect("note").access_key;
    sim.update_faults(|faults| {
        faults.reject.insert(key.clone(), 778);
    });
    pos.set_link(tenda_pos::status::LinkState::Online)
        .expect("link");
    let summary = pos.transmit_backlog(false).await.expect("transmit");
    assert_eq!(summary.rejected, 1, "{summary:?}");
    let authorized = sell_coffee(pos).await;
    let superseded_key = sell_coffee(pos).await.note.expect("note").access_key;
    let kept = sell_coffee(pos).await;
    for sale in [&authorized, &kept] {
        assert_eq!(
            note_status(pos, sale.sale_id),
            tenda_domain::FiscalStatus::Authorized
        );
    }
    let plain = sale_without_note(f);
    let series = tenda_store::FiscalSeries {
        model: 65,
        series: pos.config().emitter.series,
    };
    for _ in 0..2 {
        pos.inspect_store(|s| s.reserve_fiscal_number(series))
            .expect("reserve");
    }
    // A card goes through, the second is declined: the ticket keeps its charged card.
    use tenda_devices::sim::{SimCardBehaviour, SimulatedCardReader};
    let reader = SimulatedCardReader::new();
    pos.pair_card_reader(std::sync::Arc::new(reader.clone()))
        .expect("pair");
    reader.script([
        SimCardBehaviour::Approve,
        SimCardBehaviour::Decline("saldo insuficiente".into()),
    ]);
    pos.scan("CAF500".into(), None).expect("scan");
    let split = vec![
        tenda_pos::PaymentRequest::Card {
            amount: m(10_00),
            kind: tenda_devices::card::CardKind::Credit,
        },
        tenda_pos::PaymentRequest::Card {
            amount: m(8_90),
            kind: tenda_devices::card::CardKind::Debit,
        },
    ];
    pos.checkout(split).await.expect_err("declined");
    Sales {
        authorized,
        superseded_key,
        kept,
        rejected,
        plain,
        card_charged: reader.charges().len() == 1,
    }
}

async fn run_sale_case(case: SaleCase, pos: &Pos, sales: &Sales) -> PosResult<()> {
    let why = "Cliente desistiu da compra no caixa".to_owned();
    match case {
        SaleCase::Reprint => pos.reprint(sales.authorized.sale_id).await.map(|_| ()),
        SaleCase::CancelUnsynced => pos.cancel_unsynced_sale(sales.plain, why, true, None),
        SaleCase::CancelNote => pos
            .cancel_sale(sales.authorized.sale_id, why, None)
            .await
            .map(|_| ()),
        SaleCase::CancelBySubstitution => pos
            .cancel_by_substitution(
                sales.kept.sale_id,
                sales.superseded_key.clone(),
                "NFC-e emitida em duplicidade apos timeout".into(),
                None,
            )
            .await
            .map(|_| ()),
        SaleCase::CorrectNote => {
            let mut fiscal = tenda_domain::FiscalData::simples_nacional("09012200");
            fiscal.cfop = "5102".into();
            let correction = tenda_pos::NoteCorrection {
                lines: vec![tenda_pos::LineFiscalCorrection { line: 0, fiscal }],
                ..Default::default()
            };
            pos.correct_note(sales.rejected.sale_id, correction, None)
                .map(|_| ())
        }
        SaleCase::InutilizeNumbers => pos
            .inutilize_unused_numbers("Numeros reservados e nao usados".into(), None)
            .await
            .map(|voided| assert_eq!(voided.len(), 1, "one range")),
        SaleCase::AbandonCardCharges => pos
            .abandon_card_charges(None)
            .await
            .map(|n| assert_eq!(n, 1, "the charged card")),
    }
}

/// Whether what `case` would change is as it was.
async fn sale_case_unchanged(case: SaleCase, pos: &Pos, sales: &Sales) -> bool {
    use tenda_domain::FiscalStatus;
    match case {
        SaleCase::Reprint => true,
        SaleCase::CancelUnsynced => {
            sale_status(pos, sales.plain) == tenda_store::SaleStatus::Completed
        }
        SaleCase::CancelNote => {
            note_status(pos, sales.authorized.sale_id) == FiscalStatus::Authorized
                && sale_status(pos, sales.authorized.sale_id) == tenda_store::SaleStatus::Completed
        }
        SaleCase::CancelBySubstitution => !pos
            .fiscal_events()
            .expect("events")
            .iter()
            .any(|e| e.kind == "substitution"),
        SaleCase::CorrectNote => note_status(pos, sales.rejected.sale_id) == FiscalStatus::Rejected,
        SaleCase::InutilizeNumbers => pos.unused_fiscal_numbers().expect("unused").len() == 2,
        // The charge is still held for the ticket: a manager still finds one to drop.
        SaleCase::AbandonCardCharges => {
            pos.abandon_card_charges(Some(manager()))
                .await
                .expect("abandon")
                == 1
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sale_and_note_action_by_every_role_is_authorized_executed_and_audited_once() {
    for (login, pin) in ROLES {
        let f = fixture(|c| c.contingency.automatic = true);
        let pos = &f.pos;
        let sim = tenda_sefaz_sim::Simulator::start(tenda_sefaz_sim::SimulatorConfig::default())
            .await
            .expect("simulator");
        pos.set_sefaz_route(simulator_route(&sim, 3000, 30000))
            .expect("SEFAZ route");
        pos.sign_in(login.into(), Secret::Pin(pin.into()))
            .expect("sign in");
        pos.open_register(m(100_00), Some(manager())).expect("open");
        let sales = sales(&f, &sim).await;
        assert!(sales.card_charged, "one card charged for the open ticket");
        for case in SaleCase::ALL {
            let before = entries(pos);
            let result = run_sale_case(case, pos, &sales).await;
            let after = entries(pos);
            let new = &after[before.len()..];
            if allowed(login, case.action()) {
                result.unwrap_or_else(|e| panic!("{login} {case:?}: {e:?}"));
                assert!(new.iter().all(|e| e.outcome == "succeeded"), "{new:?}");
                // The authorization's own entry, exactly once, last: the store's entries for
                // the change come first in the same transaction.
                let authorized: Vec<_> = new
                    .iter()
                    .filter(|e| e.action == case.action().code())
                    .collect();
                assert_eq!(authorized.len(), 1, "{login} {case:?}: {new:?}");
                assert_eq!(
                    new.last().map(|e| &e.action),
                    Some(&case.action().code().to_owned())
                );
                assert_eq!(
                    new.len(),
                    1 + case.store_entries(),
                    "{login} {case:?}: {new:?}"
                );
                assert!(
                    matches!(case, SaleCase::Reprint)
                        || !sale_case_unchanged(case, pos, &sales).await,
                    "{login} {case:?}: done"
                );
            } else {
                let err = result.expect_err("refused");
                assert_eq!(err.code(), "forbidden", "{login} {case:?}");
                assert_eq!(new.len(), 1, "{login} {case:?}: only the refusal: {new:?}");
                assert_eq!(new[0].outcome, "denied");
                assert_eq!(new[0].action, case.action().code());
                assert!(
                    sale_case_unchanged(case, pos, &sales).await,
                    "{login} {case:?}: nothing changed"
                );
            }
        }
        assert!(pos.verify_audit().expect("verify").intact);
    }
}

#[test]
fn only_the_owner_installs_the_certificate_and_every_attempt_is_audited() {
    // Installing the store's certificate always asks for the credentials of whoever approves
    // it (checked and audited as `session.approve`), and then their permission.
    let pfx = tenda_fiscal::samples::PUBLIC_TEST_PFX.to_vec();
    for (login, pin) in ROLES {
        let f = fixture(|_| {});
        let pos = &f.pos;
        let before = entries(pos).len();
        let approval = tenda_pos::Approval {
            login: login.into(),
            secret: Secret::Pin(pin.into()),
        };
        let result = pos.install_certificate(pfx.clone(), "minhasenha".into(), approval);
        let new: Vec<_> = entries(pos).split_off(before);
        let actions: Vec<(&str, &str)> = new
            .iter()
            .map(|e| (e.action.as_str(), e.outcome.as_str()))
            .collect();
        if allowed(login, Action::ManageSettings) {
            result.unwrap_or_else(|e| panic!("{login}: {e:?}"));
            assert_eq!(
                actions,
                [
                    ("session.approve", "succeeded"),
                    ("manage_settings", "succeeded")
                ],
                "{login}"
            );
        } else {
            assert_eq!(result.expect_err("refused").code(), "forbidden", "{login}");
            assert_eq!(
                actions,
                [
                    ("session.approve", "succeeded"),
                    ("manage_settings", "denied")
                ],
                "{login}"
            );
        }
    }
}
