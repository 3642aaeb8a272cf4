//! The TypeScript declarations in `ui/src/bindings/` are generated from the Rust types that
//! cross the IPC boundary. This test regenerates them and fails when the committed files differ
//! (run it with `UPDATE_BINDINGS=1` to write them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

fn generate(out: &Path) {
    // Integers are centavos, thousandths and counters: far below 2^53, so `number`.
    let app = Config::new().with_large_int("number").with_out_dir(out);
    let server = Config::new()
        .with_large_int("number")
        .with_out_dir(out.join("server"));
    macro_rules! export {
        ($cfg:expr, $($t:ty),* $(,)?) => {
            $(<$t>::export_all(&$cfg).expect(concat!("exporting ", stringify!($t)));)*
        };
    }
    use tenda_desktop::wire::*;
    export!(
        app,
        UiError,
        AppInfo,
        ApprovalInput,
        CountedAmount,
        BluetoothDevice,
        ImportReport,
        CustomerInput,
        UserInput,
        QuitCheck,
        OwnerInput,
        RegisterReports,
        tenda_pos::status::PosStatus,
        tenda_pos::authorize::Operator,
        tenda_pos::register::RegisterView,
        tenda_pos::register::ClosingReport,
        tenda_pos::TicketView,
        tenda_pos::ProductView,
        tenda_pos::CardOfflineRisk,
        tenda_pos::PaymentRequest,
        tenda_pos::SaleOutcome,
        tenda_pos::OfflineSaleRow,
        tenda_pos::SaleDetail,
        tenda_pos::ReprintOutcome,
        tenda_pos::SyncNowOutcome,
        tenda_domain::Discount,
        tenda_pos::CustomerView,
        tenda_pos::NoteToCorrect,
        tenda_pos::ConsumerCorrection,
        tenda_pos::LineFiscalCorrection,
        tenda_pos::CancellationOutcome,
        tenda_pos::VoidedRange,
        tenda_pos::TransmissionSummary,
    );
    export!(
        server,
        tenda_server::backoffice::LoginResponse,
        tenda_server::backoffice::BranchView,
        tenda_server::backoffice::UserView,
        tenda_server::backoffice::DeviceView,
        tenda_server::backoffice::SaleView,
        tenda_server::backoffice::AuditView,
        tenda_server::backoffice::ProductCount,
        tenda_server::hub::HubStatus,
        tenda_server::catalog::ProductView,
        tenda_server::catalog::CustomerView,
        tenda_server::IssuedCode,
        tenda_server::reports::OversoldItem,
        tenda_server::reports::OverdraftItem,
    );
}

fn read_tree(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("reading bindings dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).expect("reading a binding");
                out.insert(
                    path.strip_prefix(root).expect("under root").to_path_buf(),
                    text,
                );
            }
        }
    }
    out
}

#[test]
fn typescript_bindings_match_the_rust_types() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        generate(&committed);
        return;
    }
    let fresh = tempfile::tempdir().expect("temp dir");
    generate(fresh.path());
    let (want, have) = (read_tree(fresh.path()), read_tree(&committed));
    let stale: Vec<_> = want
        .iter()
        .filter(|(p, t)| have.get(*p) != Some(*t))
        .map(|(p, _)| p.display().to_string())
        .chain(
            have.keys()
                .filter(|p| !want.contains_key(*p))
                .map(|p| p.display().to_string()),
        )
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/bindings is out of date for {stale:?}: run UPDATE_BINDINGS=1 cargo test -p tenda-desktop --test bindings"
    );
}
