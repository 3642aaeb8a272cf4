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
    /// Runs blocking `work` on the core's blocking threads and waits for it from any executor
    /// (or none), without a stop on an async worker first.
    pub async fn run_blocking<T, F>(&self, work: F) -> PosResult<T>
    where
        F: FnOnce() -> PosResult<T> + Send + 'static,
        T: Send + 'static,
    {
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
