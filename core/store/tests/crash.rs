//! Crash test: a child process commits sales in a loop and prints each committed sale id; we
//! kill it with SIGKILL at random moments, reopen the database each time and check that every
//! printed sale is wholly there, no sale is partial, outbox numbers are contiguous, fiscal
//! numbers have no gaps, stock and balances match the sales, and the audit chain verifies.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tenda_domain::*;
use tenda_store::*;

const KILLS: usize = 60;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sales_survive_sigkill_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crash.db");
    let key = DbKey::generate();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut printed: Vec<SaleId> = Vec::new();
    let mut verified_through: u64 = 0;
    let mut kills_with_sales_in_flight = 0;

    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenda-store-crash-child"))
            .arg(&path)
            .env("TENDA_CRASH_KEY", key.to_hex())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("child starts");
        // Early kills land in open/migration/setup; later ones mid-sale.
        std::thread::sleep(Duration::from_millis(5 + rng.below(150)));
        child.kill().expect("SIGKILL delivered");
        let status = child.wait().expect("child reaped");
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut out)
            .expect("reads");
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("piped")
            .read_to_string(&mut err)
            .expect("reads");
        assert!(
            err.is_empty(),
            "round {round} (seed {seed}): the child failed instead of being killed: {err}"
        );
        assert!(!status.success(), "the child only stops when killed");
        let new: Vec<SaleId> = out
            .lines()
            .map(|l| l.parse().expect("child prints sale ids"))
            .collect();
        if !new.is_empty() {
            kills_with_sales_in_flight += 1;
        }
        printed.extend(new);

        let mut store = Store::open(&path, &key)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): reopen failed: {e}"));
        verified_through = verify(&mut store, &printed, verified_through, round, seed);
    }
    assert!(
        printed.len() >= 100,
        "the child committed enough sales to make the test meaningful ({})",
        printed.len()
    );
    assert!(
        kills_with_sales_in_flight >= KILLS / 2,
        "most kills hit a running sale loop"
    );
    eprintln!(
        "crash test: {KILLS} kills, {} printed sales, {:.1?}",
        printed.len(),
        started.elapsed()
    );
}

/// Checks the whole database; sales after local number `through` are checked line by line.
fn verify(store: &mut Store, printed: &[SaleId], through: u64, round: usize, seed: u64) -> u64 {
    let ctx = format!("round {round} (seed {seed})");
    // Outbox: 1, 2, 3… without gaps, and one SaleRecorded per sale.
    let entries = store.outbox_after(0, u32::MAX).expect("reads outbox");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "{ctx}: outbox numbers are contiguous");
    }
    assert_eq!(
        store.outbox_last_seq().expect("reads"),
        entries.len() as u64,
        "{ctx}: counter matches rows"
    );
    let recorded: HashMap<SaleId, &SaleRecorded> = entries
        .iter()
        .filter_map(|e| match &e.mutation {
            Mutation::SaleRecorded(r) => Some((r.sale.id, r)),
            _ => None,
        })
        .collect();
    let audited: HashSet<String> = entries
        .iter()
        .filter_map(|e| match &e.mutation {
            Mutation::AuditAppended { subject, .. } => Some(subject.clone()),
            _ => None,
        })
        .collect();
    let sales = store.sale_count().expect("reads");
    assert_eq!(
        recorded.len() as u64,
        sales,
        "{ctx}: every sale has exactly its outbox mutation, no more"
    );
    assert_eq!(
        store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: sales },
        "{ctx}: the audit chain verifies and has one entry per sale"
    );

    // Every printed sale is there.
    let all_ids: HashSet<SaleId> = store
        .sale_ids_after(0, u32::MAX)
        .expect("reads")
        .into_iter()
        .collect();
    for id in printed {
        assert!(
            all_ids.contains(id),
            "{ctx}: printed sale {id} is missing after the kill"
        );
    }

    // New sales are complete: lines, payments, deltas, fiscal document, outbox, audit.
    let mut last = through;
    for id in store.sale_ids_after(through, u32::MAX).expect("reads") {
        let s = store.sale(id).expect("reads").expect("listed");
        assert_eq!(s.sale.lines.len(), 3, "{ctx}: sale {id} has all its lines");
        assert_eq!(
            s.sale.payments.len(),
            2,
            "{ctx}: sale {id} has all its payments"
        );
        assert_eq!(s.sale.verify(), Ok(()), "{ctx}: sale {id} adds up");
        let r = recorded
            .get(&id)
            .unwrap_or_else(|| panic!("{ctx}: sale {id} has no outbox mutation"));
        assert_eq!(r.stock_deltas.len(), 3);
        assert_eq!(r.balance_deltas.len(), 1);
        assert_eq!(
            r.fiscal.is_some(),
            s.fiscal.is_some(),
            "{ctx}: fiscal document and mutation agree"
        );
        assert!(
            audited.contains(&format!("sale:{id}")),
            "{ctx}: sale {id} is audited"
        );
        last = s.local_number;
    }

    // Fiscal numbers: 1..n without gaps or reuse; nothing reserved and left over (numbers are
    // taken inside the sale transaction).
    let series = FiscalSeries {
        model: 65,
        series: 7,
    };
    let mut numbers: Vec<u32> = recorded
        .values()
        .filter_map(|r| r.fiscal.as_ref().map(|f| f.number))
        .collect();
    numbers.sort_unstable();
    assert!(
        numbers.iter().enumerate().all(|(i, n)| *n == i as u32 + 1),
        "{ctx}: fiscal numbers 1..n without gaps"
    );
    assert!(
        store
            .unused_fiscal_numbers(series)
            .expect("reads")
            .is_empty(),
        "{ctx}: no orphan fiscal numbers"
    );

    // Deltas were applied together with their sales.
    if sales > 0 {
        for i in 0..3 {
            let p = store
                .product_by_sku(&format!("CRASH-{i}"))
                .expect("reads")
                .expect("exists once sales do");
            assert_eq!(
                store.stock_level(p.id).expect("reads"),
                Quantity::from_thousandths(-1000 * sales as i64),
                "{ctx}: stock matches the sales"
            );
        }
        let c = store
            .customer("01900000-0000-7000-8000-00000000c0de".parse().expect("id"))
            .expect("reads")
            .expect("exists");
        assert_eq!(
            c.balance,
            Money::from_centavos(-100 * sales as i64),
            "{ctx}: balance matches the sales"
        );
    }
    last
}
