//! The executor: the one way an authorized action lands. The execution spends its
//! authorization, and its audit entry joins the change, which commits in one store
//! transaction — through `Store::record_local_change`, or through the store operation the
//! action needs (voiding a sale, updating a note), which carries the change with it. So an
//! action is never written without its entry, nor its entry without the action.

use tenda_domain::Outcome;
use tenda_store::{LocalChange, Store};

use super::{Pos, lock, storage};
use crate::authorize::Execution;
use crate::error::PosResult;

/// Commits `change` with `execution`'s entry through `commit`, in the store the caller holds
/// (for executions that must hold it beside other state).
pub(crate) fn execute_in<T>(
    store: &mut Store,
    execution: Execution,
    mut change: LocalChange,
    commit: impl FnOnce(&mut Store, &LocalChange) -> tenda_store::Result<T>,
) -> PosResult<T> {
    change.audit.push(execution.entry(Outcome::Succeeded)?);
    commit(store, &change).map_err(storage)
}

/// A plain change: settings, mutations and rows, written by `Store::record_local_change`.
pub(crate) fn record(store: &mut Store, change: &LocalChange) -> tenda_store::Result<()> {
    store.record_local_change(change).map(|_| ())
}

impl Pos {
    /// Commits `change` with `execution`'s entry through `commit`, in one transaction.
    pub(crate) fn execute<T>(
        &self,
        execution: Execution,
        change: LocalChange,
        commit: impl FnOnce(&mut Store, &LocalChange) -> tenda_store::Result<T>,
    ) -> PosResult<T> {
        execute_in(&mut lock(&self.inner.store), execution, change, commit)
    }

    /// The execution failed after it was authorized (SEFAZ refused the event): its entry is
    /// written as denied, alone, and the execution is spent.
    pub(crate) fn execution_refused(&self, execution: Execution) -> PosResult<()> {
        let change = LocalChange {
            audit: vec![execution.entry(Outcome::Denied)?],
            ..Default::default()
        };
        record(&mut lock(&self.inner.store), &change).map_err(storage)
    }
}
