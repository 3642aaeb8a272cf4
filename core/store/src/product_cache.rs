//! Products by scanned code, remembered between reads. A reader connection drops its whole
//! page cache whenever another connection commits, so after every sale the first scan read and
//! decrypted the catalog's pages again (most of a ring-up's time). The catalog changes only
//! through this crate's product writes, and each of them advances the store's catalog epoch
//! once its transaction has ended; a remembered answer is good while the epoch it was read at
//! is still the current one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tenda_domain::Product;

/// How many catalog writes a store has finished: shared by the writer and its readers.
#[derive(Debug, Default)]
pub(crate) struct CatalogEpoch(AtomicU64);

impl CatalogEpoch {
    /// Read before a lookup, so an answer read while a product write was committing is tagged
    /// with the epoch before it, and is not used after it.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Called after every transaction that wrote products has ended (committed or not).
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Codes a register scans in a day are a small part of the catalog; past this many the
/// remembered answers are forgotten and gathered again.
const MAX_CODES: usize = 20_000;

#[derive(Default)]
pub(crate) struct ProductCache {
    answers: Mutex<Answers>,
}

#[derive(Default)]
struct Answers {
    epoch: u64,
    by_code: HashMap<String, Option<Product>>,
}

impl ProductCache {
    fn answers(&self) -> std::sync::MutexGuard<'_, Answers> {
        // Whole entries only go in: a panic elsewhere cannot leave one half-made.
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer remembered for `code` at `epoch` (`Some(None)`: no product has that code).
    pub fn get(&self, epoch: u64, code: &str) -> Option<Option<Product>> {
        let answers = self.answers();
        if answers.epoch != epoch {
            return None;
        }
        answers.by_code.get(code).cloned()
    }

    /// Remembers what a read at `epoch` found for `code`. An answer older than those kept is
    /// dropped; a newer one replaces them all.
    pub fn put(&self, epoch: u64, code: &str, found: Option<Product>) {
        let mut answers = self.answers();
        if epoch < answers.epoch {
            return;
        }
        if epoch > answers.epoch || answers.by_code.len() >= MAX_CODES {
            answers.by_code.clear();
            answers.epoch = epoch;
        }
        answers.by_code.insert(code.to_owned(), found);
    }
}
