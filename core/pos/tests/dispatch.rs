//! Every permissioned action × every role goes through the same path: refused, it writes one
//! entry — the denied one — and changes nothing; allowed, it writes its audit entry with the
//! change. The roles come from the standard matrix: sellers sell, managers run the register and
//! contingency, owners can do it all.
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
    // Signing out is audited.
    pos.sign_out().expect("sign out");
    assert_eq!(
        entries(pos).last().expect("entry").action,
        "session.sign_out"
    );
}
