//! The process-wide budget for SQLite's memory (its own test binary: the limit is global).

mod common;

use common::*;
use tenda_domain::Product;
use tenda_store::{LoadProgress, limit_sqlite_memory, sqlite_memory_in_use};

const BUDGET: i64 = 2 * 1024 * 1024;

fn load(ts: &mut TempStore, n: u64) {
    let products: Vec<Product> = (0..n)
        .map(|i| {
            product(
                &format!("M{i}"),
                &format!("Produto de memória número {i}"),
                Some(&ean13(i)),
                100,
            )
        })
        .collect();
    ts.store
        .load_catalog(products, &mut |_: &LoadProgress| {})
        .expect("loads");
}

#[test]
fn page_caches_stay_within_the_budget_once_it_is_set() {
    // Without a budget, a bulk load keeps its pages cached (its cache is widened for the load):
    // this is the memory the budget is for.
    let mut unbounded = temp_store();
    load(&mut unbounded, 40_000);
    let held = sqlite_memory_in_use();
    assert!(
        held > 3 * BUDGET,
        "the load alone holds {held} bytes, enough to show the budget at work"
    );
    drop(unbounded);

    assert_eq!(limit_sqlite_memory(BUDGET), 0, "no limit was set before");
    let mut bounded = temp_store();
    load(&mut bounded, 40_000);
    let held = sqlite_memory_in_use();
    // Soft: SQLite recycles cached pages past the budget; what it must keep (the open
    // statements, the schema, the pages of the transaction at hand) may overshoot a little.
    assert!(
        held < BUDGET + BUDGET / 2,
        "with a {BUDGET}-byte budget SQLite holds {held} bytes"
    );
    // Everything is still there: the budget costs re-reads, never data.
    assert!(
        bounded
            .store
            .product_by_code(&ean13(39_999))
            .expect("reads")
            .is_some()
    );
}
