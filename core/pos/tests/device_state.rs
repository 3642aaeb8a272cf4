//! One owner of the device's state: changes made from several threads at once are all kept —
//! a scan while a manager's approval is being checked (Argon2, slow), and a manager entering
//! contingency while a checkout runs, sales while a manager takes cash out of the drawer.
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use tenda_domain::Quantity;
use tenda_pos::credentials::Secret;
use tenda_pos::status::SefazMode;
use tenda_pos::{PaymentRequest, PosError};

#[test]
fn a_scan_made_while_an_approval_is_checked_is_kept() {
    let f = fixture(|_| {});
    let pos = f.pos.clone();
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    // Line 0: one kilo of bread, which the manager will void.
    pos.scan("00123".into(), Some(Quantity::from_units(1).expect("1 kg")))
        .expect("bread");

    let done = Arc::new(AtomicBool::new(false));
    let voiding = {
        let pos = pos.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            // The manager's PIN is checked (Argon2) before the ticket changes.
            let result = pos.void_line(0, Some(manager()));
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    // The seller keeps scanning coffee while the approval is being checked.
    let mut scans = 0i64;
    while !done.load(Ordering::SeqCst) {
        pos.scan("CAF500".into(), None).expect("scan");
        scans += 1;
    }
    voiding.join().expect("thread").expect("void approved");
    assert!(scans > 0, "scans ran during the approval");
    let ticket = pos.ticket().expect("ticket");
    // Every coffee scanned is on the ticket, and the bread is gone: neither change overwrote
    // the other (a copy of the ticket written back after the check would drop the scans).
    let coffee: i64 = ticket
        .lines
        .iter()
        .filter(|l| l.name == f.coffee.name)
        .map(|l| l.quantity_thousandths)
        .sum();
    assert_eq!(coffee, scans * 1000, "{ticket:?}");
    assert!(ticket.lines.iter().all(|l| l.name != f.bread.name));
}

#[test]
fn a_manager_entering_contingency_during_checkouts_is_never_overwritten() {
    // SEFAZ unreachable and no automatic contingency: checkouts are refused (turning the state
    // into "contingency required") until the manager's decision lands; after it, they sell.
    let f = fixture(|_| {});
    let pos = f.pos.clone();
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(100_00), Some(manager())).expect("open");

    let done = Arc::new(AtomicBool::new(false));
    let entering = {
        let pos = pos.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let result =
                pos.enter_contingency("Queda do link de internet da loja".into(), Some(manager()));
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    let mut sold = 0u32;
    let mut refused = 0u32;
    while !done.load(Ordering::SeqCst) || sold == 0 {
        if pos.ticket().expect("ticket").lines.is_empty() {
            pos.scan("CAF500".into(), None).expect("scan");
        }
        match futures::executor::block_on(pos.checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(20_00),
        }])) {
            Ok(out) => {
                assert!(out.note.expect("note").contingency);
                sold += 1;
            }
            Err(PosError::ContingencyRequired) => refused += 1,
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    entering
        .join()
        .expect("thread")
        .expect("contingency entered");
    // The manager's decision stands and every sale after it counted: a checkout's stale copy
    // of the state ("required", or "normal") written back would have undone it.
    let state = pos.fiscal_state();
    assert_eq!(state.mode, SefazMode::Contingency, "{state:?}");
    assert_eq!(state.notes_issued, sold, "{state:?}");
    assert_eq!(pos.status().sefaz, SefazMode::Contingency);
    assert!(refused + sold > 0);
    // The same after a restart: what was persisted is what the screens showed.
    let reopened = f.reopen();
    assert_eq!(reopened.fiscal_state().mode, SefazMode::Contingency);
    assert_eq!(reopened.fiscal_state().notes_issued, sold);
}

#[test]
fn sales_made_while_a_manager_takes_cash_out_all_stay_in_the_register() {
    // Automatic contingency: every checkout sells offline. The sangria's approval (Argon2) runs
    // while the seller keeps selling; the register then holds every sale and the withdrawal.
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = f.pos.clone();
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(100_00), Some(manager())).expect("open");

    let done = Arc::new(AtomicBool::new(false));
    let withdrawing = {
        let pos = pos.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let result = pos.cash_out(m(50_00), "sangria".into(), Some(manager()));
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    let mut sold = 0i64;
    while !done.load(Ordering::SeqCst) || sold == 0 {
        pos.scan("CAF500".into(), None).expect("scan");
        futures::executor::block_on(pos.checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(20_00),
        }]))
        .expect("sale");
        sold += 1;
    }
    withdrawing.join().expect("thread").expect("cash out");
    // A copy of the register taken before the approval and written back after it would have
    // dropped the sales made meanwhile from the drawer's count.
    let register = pos.register_session().expect("reads").expect("open");
    assert_eq!(register.sales_count, u32::try_from(sold).expect("count"));
    assert_eq!(register.expected_cash, m(100_00 - 50_00 + 18_90 * sold));
    let reopened = f.reopen();
    assert_eq!(
        reopened
            .register_session()
            .expect("reads")
            .expect("open")
            .expected_cash,
        register.expected_cash,
        "what was persisted is what the screen showed"
    );
}
