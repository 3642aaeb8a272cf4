//! The core's own tokio runtime. Every async method of `Pos` runs its work here, and every
//! worker lives here, so nothing depends on whether the caller's thread has a runtime (a uniffi
//! call from a host thread has none; a Tauri command has its own).

use std::future::Future;

use crate::error::{PosError, PosResult};

pub(crate) struct CoreRuntime {
    /// Owned by the core; `None` only while being dropped.
    owned: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

impl CoreRuntime {
    pub fn new() -> PosResult<CoreRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tenda-core")
            .enable_all()
            .build()
            .map_err(|e| PosError::Internal {
                detail: format!("starting the core's runtime: {e}"),
            })?;
        let handle = runtime.handle().clone();
        Ok(CoreRuntime {
            owned: Some(runtime),
            handle,
        })
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Runs `work` on the core's runtime and waits for it from any executor (or none: the
    /// returned future needs no tokio context to be polled).
    pub async fn run<T, F>(&self, work: F) -> PosResult<T>
    where
        F: Future<Output = PosResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.handle
            .spawn(work)
            .await
            .map_err(|e| PosError::Internal {
                detail: format!("core task: {e}"),
            })?
    }
}

impl CoreRuntime {
    /// Runs blocking `work` off the async workers and waits for it from any executor (or none),
    /// without a stop on an async worker first.
    ///
    /// On a thread of a multi-threaded tokio runtime (one of its workers, or a thread in its
    /// `block_on`, as a desktop app's command is) the work runs right there: `block_in_place`
    /// hands the worker's other tasks to another thread, and the caller is spared two thread
    /// hand-offs. Anywhere else (a current-thread runtime, which has nowhere to move its tasks,
    /// or a host thread polling the future, as the bindings do) it goes to one of the core's
    /// blocking threads, so the caller's thread never blocks.
    pub async fn run_blocking<T, F>(&self, work: F) -> PosResult<T>
    where
        F: FnOnce() -> PosResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let on_multi_threaded_runtime = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_multi_threaded_runtime {
            return tokio::task::block_in_place(work);
        }
        self.handle
            .spawn_blocking(work)
            .await
            .map_err(|e| PosError::Internal {
                detail: format!("blocking task: {e}"),
            })?
    }
}

impl Drop for CoreRuntime {
    fn drop(&mut self) {
        // The last `Pos` may be dropped inside an async task (even one of this runtime's own):
        // a blocking shutdown would panic there. Tasks are aborted; nothing waits.
        if let Some(rt) = self.owned.take() {
            rt.shutdown_background();
        }
    }
}

/// A background task that stops when its handle is dropped.
pub(crate) struct TaskHandle(Option<tokio::task::JoinHandle<()>>);

impl TaskHandle {
    pub fn new(handle: tokio::task::JoinHandle<()>) -> TaskHandle {
        TaskHandle(Some(handle))
    }

    /// Stops the task and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
            let _ = h.await;
        }
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}
