#![doc = include_str!("../README.md")]

mod backoffice;
mod counter;
pub mod demo;
pub mod wire;

use std::sync::Arc;

use tauri::{Emitter, Manager};
use tenda_pos::Pos;
use tenda_pos::status::{PosStatus, StatusListener};
use tokio::sync::watch;

pub use wire::UiError;

/// The store this window works on: the register (`Pos`), where its back office lives, and — in
/// demo mode — the embedded server, simulator and the cuttable link.
pub struct Store {
    pub pos: Arc<Pos>,
    /// The sale whose receipt was last printed (sale or reprint): the preview shows it.
    pub last_receipt: std::sync::Mutex<Option<tenda_domain::SaleId>>,
    /// Status changes reach the window while this is kept.
    pub status_subscription: std::sync::OnceLock<Arc<tenda_pos::Subscription>>,
    pub server_url: String,
    pub store_id: uuid::Uuid,
    pub demo: Option<demo::Demo>,
}

/// Filled once the store is open; commands wait for it.
pub struct AppState {
    store: watch::Sender<Option<Result<Arc<Store>, String>>>,
    backoffice: tokio::sync::Mutex<Option<backoffice::Session>>,
}

impl AppState {
    fn new() -> Self {
        AppState {
            store: watch::channel(None).0,
            backoffice: tokio::sync::Mutex::new(None),
        }
    }

    /// The open store, waiting while it opens.
    pub async fn store(&self) -> Result<Arc<Store>, UiError> {
        let mut rx = self.store.subscribe();
        let ready = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| UiError::new("app_stopped", "the app is stopping"))?;
        match ready.as_ref() {
            Some(Ok(store)) => Ok(store.clone()),
            Some(Err(e)) => Err(UiError::new("store_unavailable", e)),
            None => Err(UiError::new("store_unavailable", "not started")),
        }
    }
}

/// Sends every status change to the window as the `status` event.
struct StatusToWindow(tauri::AppHandle);

impl StatusListener for StatusToWindow {
    fn on_status(&self, status: PosStatus) {
        let _ = self.0.emit("status", status);
    }
}

/// Where the app gets its store: the demo (default) or a real server (`--server URL --code C`).
fn options() -> demo::Options {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    demo::Options {
        catalog_size: std::env::var("TENDA_DEMO_CATALOG")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(demo::DEFAULT_CATALOG),
        server: arg("--server").or_else(|| std::env::var("TENDA_SERVER").ok()),
        enrollment_code: arg("--code").or_else(|| std::env::var("TENDA_ENROLLMENT_CODE").ok()),
        data_dir: arg("--data").or_else(|| std::env::var("TENDA_DATA").ok()),
    }
}

/// What SQLite may keep cached across the app's databases (the register's store and, in the
/// demo, the embedded store server): a desktop app, not a server.
const SQLITE_MEMORY_BUDGET: i64 = 32 * 1024 * 1024;

/// glibc gives each thread that allocates its own arena (up to eight per core), and each arena
/// keeps what its thread freed; the core's worker and blocking threads would each hold their
/// own slack. Two arenas serve a desktop app's few busy threads. Large blocks (a page of the
/// back office's catalog as JSON, a receipt's image) are mapped and unmapped on their own
/// rather than left in the heap (glibc's threshold would otherwise grow to 32 MiB), and free
/// heap above 1 MiB goes back to the system: browsing the 300k catalog grew the app by 87 MB
/// without these, 45 MB with them.
fn limit_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)] // a C call with two integers
    // SAFETY: mallopt only changes the allocator's tuning, before any thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Opening a store peaks high (the first load of a large catalog, the demo's import); glibc
/// keeps that peak's freed memory in its arenas unless asked to hand it back.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)] // a C call with no arguments to check
    // SAFETY: malloc_trim only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub fn run() {
    limit_allocator_arenas();
    tenda_store::limit_sqlite_memory(SQLITE_MEMORY_BUDGET);
    tauri::Builder::default()
        .manage(AppState::new())
        .setup(|app| {
            let handle = app.handle().clone();
            // Opening runs on its own thread inside the app's runtime (the store's setup is
            // long: server, simulator, enrollment, first load), so the window shows at once.
            std::thread::spawn(move || {
                let opened = tauri::async_runtime::block_on(demo::open(options()));
                release_freed_memory();
                let state = handle.state::<AppState>();
                match opened {
                    Ok(store) => {
                        match store
                            .pos
                            .subscribe(Arc::new(StatusToWindow(handle.clone())))
                        {
                            Ok(subscription) => {
                                let _ = store.status_subscription.set(subscription);
                                state.store.send_replace(Some(Ok(Arc::new(store))));
                            }
                            Err(e) => {
                                state.store.send_replace(Some(Err(e.to_string())));
                            }
                        }
                    }
                    Err(e) => {
                        state.store.send_replace(Some(Err(e.to_string())));
                    }
                }
                let _ = handle.emit("ready", ());
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            counter::app_info,
            counter::status,
            counter::signed_in,
            counter::sign_in,
            counter::sign_out,
            counter::register_session,
            counter::open_register,
            counter::close_register,
            counter::ticket,
            counter::scan,
            counter::search_products,
            counter::set_quantity,
            counter::void_line,
            counter::set_line_discount,
            counter::set_sale_discount,
            counter::set_consumer_tax_id,
            counter::clear_ticket,
            counter::card_offline_risk,
            counter::accept_card_offline_risk,
            counter::checkout,
            counter::last_receipt_png,
            counter::enter_contingency,
            counter::offline_sales,
            counter::sale_detail,
            counter::reprint,
            counter::cancel_unsynced_sale,
            counter::sync_now,
            counter::set_store_link,
            counter::notes_to_correct,
            counter::correct_note,
            counter::resend_notes,
            counter::cancel_note,
            counter::cancel_by_substitution,
            counter::unused_fiscal_numbers,
            counter::void_unused_numbers,
            counter::bluetooth_scan,
            counter::quit_check,
            counter::register_reports,
            counter::search_customers,
            counter::set_customer,
            backoffice::bo_login,
            backoffice::bo_products,
            backoffice::bo_product_count,
            backoffice::bo_hub,
            backoffice::bo_import_csv,
            backoffice::bo_set_branch_price,
            backoffice::bo_branches,
            backoffice::bo_customers,
            backoffice::bo_save_customer,
            backoffice::bo_users,
            backoffice::bo_create_user,
            backoffice::bo_devices,
            backoffice::bo_revoke_device,
            backoffice::bo_enrollment_code,
            backoffice::bo_settings,
            backoffice::bo_put_setting,
            backoffice::bo_sales,
            backoffice::bo_oversold,
            backoffice::bo_overdraft,
            backoffice::bo_audit,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("tenda-desktop: {e}");
            std::process::exit(1);
        });
}
