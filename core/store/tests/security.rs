//! Keys, encryption at rest, audit tampering and sealed backups.

mod common;

use chrono::Utc;
use common::*;
use tenda_domain::*;
use tenda_store::*;

const CPF: &str = "52998224725";
const CUSTOMER_NAME: &str = "Wilhelmina Quaresma";
const PRODUCT_NAME: &str = "Queijo Canastra Zanzibar";
const SKU: &str = "ZQX-SKU-4471";

/// A store with a product and a customer (name + CPF).
fn populated_without_sales() -> (TempStore, Product, Customer) {
    let mut ts = temp_store();
    let p = product(SKU, PRODUCT_NAME, Some("7891000315507"), 5_990);
    ts.store.save_product(&p).expect("saves");
    let mut c = customer(CUSTOMER_NAME, Some(CPF), 0, 1_000_000);
    c.phone = Some("(11) 98765-4321".into());
    ts.store.save_customer(&c).expect("saves");
    (ts, p, c)
}

/// [`populated_without_sales`] and three sales on the customer's account.
fn populated() -> (TempStore, Product, Customer) {
    let (mut ts, p, c) = populated_without_sales();
    for _ in 0..3 {
        let mut sale = sale_of(std::slice::from_ref(&p), Some(&c));
        sale.consumer_tax_id = c.tax_id.clone();
        ts.store.commit_sale(&commit_of(sale)).expect("commits");
    }
    (ts, p, c)
}

fn assert_no_clear_text(bytes: &[u8], what: &str) {
    for needle in [
        CPF,
        "529.982.247-25",
        CUSTOMER_NAME,
        "Wilhelmina",
        PRODUCT_NAME,
        "Zanzibar",
        SKU,
        "98765-4321",
        "sale.record",
        "CREATE TABLE",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{what} contains `{needle}` in clear"
        );
    }
}

#[test]
fn nothing_is_in_clear_in_the_database_wal_or_backup() {
    let (mut ts, _, _) = populated();
    let wal = ts.path.with_extension("db-wal");
    assert!(
        wal.exists(),
        "WAL mode keeps recent commits in the -wal file"
    );
    // Before a checkpoint the data sits in the WAL; after it, in the main file.
    for file in [
        ts.path.clone(),
        wal.clone(),
        ts.path.with_extension("db-shm"),
    ] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert_no_clear_text(&bytes, &file.display().to_string());
        }
    }
    ts.store.checkpoint().expect("checkpoints");
    assert_no_clear_text(
        &std::fs::read(&ts.path).expect("reads"),
        "database after checkpoint",
    );
    let backup = ts.dir.path().join("store.tbak");
    ts.store
        .write_backup(&backup, &BackupKey::generate())
        .expect("backs up");
    assert_no_clear_text(&std::fs::read(&backup).expect("reads"), "backup");
    // The export goes through a temporary file; none may be left behind.
    let leftovers: Vec<_> = std::fs::read_dir(ts.dir.path())
        .expect("lists")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary export files were left: {leftovers:?}"
    );
}

#[test]
fn the_clear_text_scan_does_find_clear_text() {
    // Control: the scan above would catch an unencrypted file.
    let plain = format!("header {CUSTOMER_NAME} {CPF} trailer");
    assert!(
        std::panic::catch_unwind(|| assert_no_clear_text(plain.as_bytes(), "control")).is_err()
    );
    assert_no_clear_text(b"nothing to see", "control");
}

#[test]
fn a_wrong_key_is_a_clear_error_and_leaves_the_file_untouched() {
    let (ts, _, _) = populated();
    let TempStore {
        dir, path, store, ..
    } = ts;
    drop(store);
    let before = std::fs::read(&path).expect("reads");
    let err = Store::open(&path, &DbKey::generate()).expect_err("wrong key");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert!(
        err.to_string().contains("key is wrong"),
        "message says what went wrong: {err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("reads"),
        before,
        "a failed open writes nothing"
    );
    // A file that is not a database at all gets the same clear error.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x42u8; 8192]).expect("writes");
    assert!(matches!(
        Store::open(&junk, &DbKey::generate()),
        Err(Error::WrongKey)
    ));
}

#[test]
fn keys_are_redacted_in_debug_output() {
    let key = DbKey::generate();
    assert!(!format!("{key:?}").contains(&key.to_hex()));
    assert_eq!(DbKey::from_hex(&key.to_hex()).expect("round trip"), key);
    assert!(matches!(
        DbKey::from_slice(&[0; 31]),
        Err(KeyVaultError::Malformed { len: 31 })
    ));
    assert!(!format!("{:?}", BackupKey::generate()).contains("0x"));
}

#[test]
fn memory_vault_creates_once_then_returns_the_same_key() {
    let vault = MemoryVault::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v.db");
    let mut store =
        Store::open_with_vault(&path, &vault, "device-db").expect("opens with a new key");
    store
        .save_product(&product("A", "A", None, 1))
        .expect("saves");
    drop(store);
    let mut again =
        Store::open_with_vault(&path, &vault, "device-db").expect("same key from the vault");
    assert_eq!(again.product_count().expect("reads"), 1);
    vault.delete("device-db").expect("deletes");
    assert!(vault.load("device-db").expect("reads").is_none());
}

#[test]
fn keyring_vault_stores_keys_in_the_secret_service() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        // scripts/test always provides a session bus with an unlocked gnome-keyring; only a bare
        // `cargo test` outside it lands here.
        assert!(
            std::env::var_os("TENDA_IN_KEYRING_SESSION").is_none(),
            "scripts/test must provide a D-Bus session for the Secret Service"
        );
        eprintln!(
            "SKIPPED keyring_vault_stores_keys_in_the_secret_service: no D-Bus session (run scripts/test)"
        );
        return;
    }
    let vault = KeyringVault::new("tenda-test");
    let account = format!("db-{}", uuid::Uuid::now_v7());
    assert!(
        vault
            .load(&account)
            .expect("the Secret Service answers")
            .is_none()
    );
    let key = vault.load_or_create(&account).expect("creates and stores");
    // A second vault object reads it back from the keystore, not from memory.
    assert_eq!(
        KeyringVault::new("tenda-test")
            .load(&account)
            .expect("reads"),
        Some(key.clone())
    );
    assert_eq!(
        vault.load_or_create(&account).expect("reads"),
        key,
        "an existing key is never replaced"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("k.db");
    Store::open_with_vault(&path, &vault, &account)
        .expect("opens")
        .save_product(&product("K", "K", None, 1))
        .expect("saves");
    assert_eq!(
        Store::open(&path, &key)
            .expect("the stored key opens it")
            .product_count()
            .expect("reads"),
        1
    );

    vault.delete(&account).expect("deletes");
    assert!(vault.load(&account).expect("reads").is_none());
    vault.delete(&account).expect("deleting twice is fine");
}

/// Four audit entries of both kinds: 1 and 3 record sales (kept in the sales' rows), 2 and 4
/// are sign-ins (rows of the log).
fn audited() -> TempStore {
    let (mut ts, p, _) = populated_without_sales();
    for n in 0..4 {
        if n % 2 == 0 {
            let sale = sale_of(std::slice::from_ref(&p), None);
            ts.store.commit_sale(&commit_of(sale)).expect("commits");
        } else {
            ts.store
                .audit(&AuditEvent {
                    actor: Actor::User(UserId::new()),
                    action: "session.sign_in".into(),
                    subject: "user".into(),
                    outcome: Outcome::Succeeded,
                    at: Utc::now(),
                })
                .expect("audits");
        }
    }
    ts
}

fn tampered(sql: &str) -> AuditVerification {
    let mut ts = audited();
    assert_eq!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 4 }
    );
    execute_raw(&ts.path, &ts.key, sql);
    ts.store.verify_audit_chain().expect("reads")
}

fn broken(seq: u64, reason: ChainBreak) -> AuditVerification {
    AuditVerification::Broken { seq, reason }
}

#[test]
fn editing_any_audit_field_is_detected_at_that_entry() {
    for column in ["actor", "action", "subject", "outcome", "at"] {
        let v = tampered(&format!(
            "UPDATE audit_log SET {column} = {column} || 'x' WHERE seq = 2"
        ));
        assert_eq!(v, broken(2, ChainBreak::HashMismatch), "{column}");
    }
    // A sale's entry hashes its actor, its id (the subject) and its time (`created_at`).
    for edit in [
        "audit_actor = audit_actor || 'x'",
        "id = randomblob(16)",
        "created_at = created_at || 'x'",
    ] {
        let v = tampered(&format!("UPDATE sales SET {edit} WHERE audit_seq = 3"));
        assert_eq!(v, broken(3, ChainBreak::HashMismatch), "{edit}");
    }
    assert_eq!(
        tampered("UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 4"),
        broken(4, ChainBreak::BrokenLink)
    );
    assert_eq!(
        tampered("UPDATE sales SET audit_prev_hash = zeroblob(32) WHERE audit_seq = 3"),
        broken(3, ChainBreak::BrokenLink)
    );
    // Re-hashing the edited entry does not help: the next entry's link breaks.
    let mut ts = audited();
    let e2 = ts.store.audit_entries(1, 1).expect("reads").remove(0);
    let forged = tenda_store::audit::entry_hash(
        &e2.prev_hash,
        2,
        &e2.actor.code(),
        "sale.void",
        &e2.subject,
        "succeeded",
        &e2.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    );
    execute_raw(
        &ts.path,
        &ts.key,
        &format!(
            "UPDATE audit_log SET action = 'sale.void', hash = x'{}' WHERE seq = 2",
            hex::encode(forged)
        ),
    );
    assert_eq!(
        ts.store.verify_audit_chain().expect("reads"),
        broken(3, ChainBreak::BrokenLink)
    );
}

#[test]
fn deleting_any_audit_entry_is_detected() {
    let cases = [
        // Deleting a sale deletes the entry its row keeps.
        (
            "DELETE FROM sales WHERE audit_seq = 1",
            1,
            ChainBreak::Missing,
        ),
        (
            "DELETE FROM audit_log WHERE seq = 2",
            2,
            ChainBreak::Missing,
        ),
        // A sale missing between others is named, not the entries around it.
        (
            "DELETE FROM sales WHERE audit_seq = 3",
            3,
            ChainBreak::Missing,
        ),
        (
            "UPDATE sales SET audit_seq = NULL WHERE audit_seq = 1",
            1,
            ChainBreak::Missing,
        ),
        // The newest entries: only the head (the last entry the outbox names) notices.
        (
            "DELETE FROM audit_log WHERE seq = 4",
            4,
            ChainBreak::HeadMismatch,
        ),
        (
            "DELETE FROM audit_log WHERE seq = 4; DELETE FROM sales WHERE audit_seq = 3",
            3,
            ChainBreak::HeadMismatch,
        ),
        (
            "DELETE FROM audit_log; DELETE FROM sales",
            1,
            ChainBreak::HeadMismatch,
        ),
        // The head itself: the outbox entries naming the audit entries removed.
        (
            "DELETE FROM outbox WHERE kind = 'audit_appended'",
            5,
            ChainBreak::HeadMismatch,
        ),
    ];
    for (sql, seq, reason) in cases {
        assert_eq!(tampered(sql), broken(seq, reason), "{sql}");
    }
}

#[test]
fn deleting_the_newest_audit_entries_is_detected_after_their_outbox_entries_are_pruned() {
    let mut ts = audited();
    let last = ts.store.outbox_last_seq().expect("reads");
    ts.store.outbox_mark_pushed(last).expect("acknowledged");
    assert!(ts.store.outbox_prune_pushed().expect("prunes") > 0);
    assert_eq!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 4 },
        "pruning keeps the head"
    );
    execute_raw(&ts.path, &ts.key, "DELETE FROM audit_log WHERE seq = 4");
    // The outbox is empty: the head kept when its entries were pruned still names entry 4.
    assert_eq!(
        ts.store.verify_audit_chain().expect("reads"),
        broken(4, ChainBreak::HeadMismatch)
    );
}

#[test]
fn audit_entries_read_in_order_from_the_log_and_the_sales_rows() {
    let mut ts = audited();
    let all = ts.store.audit_entries(0, 10).expect("reads");
    let seen: Vec<(u64, &str)> = all.iter().map(|e| (e.seq, e.action.as_str())).collect();
    assert_eq!(
        seen,
        [
            (1, "sale.record"),
            (2, "session.sign_in"),
            (3, "sale.record"),
            (4, "session.sign_in")
        ]
    );
    // Pages of any size, from any point, meet without gaps or repeats.
    for after in 0..4 {
        for limit in 1..4 {
            let page = ts.store.audit_entries(after, limit).expect("reads");
            let expected: Vec<u64> = (after + 1..=4).take(limit as usize).collect();
            let got: Vec<u64> = page.iter().map(|e| e.seq).collect();
            assert_eq!(got, expected, "after {after}, limit {limit}");
        }
    }
    assert_eq!(
        all[0].subject,
        format!("sale:{}", ts.store.sale_ids_after(0, 1).expect("reads")[0])
    );
    // A sale missing (tampered with) does not hide the entries after it.
    execute_raw(&ts.path, &ts.key, "DELETE FROM sales WHERE audit_seq = 1");
    let left: Vec<u64> = ts
        .store
        .audit_entries(0, 10)
        .expect("reads")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(left, [2, 3, 4]);
}

#[test]
fn a_backup_restores_onto_a_fresh_device_with_another_key() {
    let (mut ts, p, c) = populated();
    let backup_key = BackupKey::generate();
    let file = ts.dir.path().join("store.tbak");
    let info = ts.store.write_backup(&file, &backup_key).expect("backs up");
    assert!(info.bytes > 0);

    let other = tempfile::tempdir().expect("temp dir");
    let new_key = DbKey::generate();
    let dest = other.path().join("restored.db");
    let mut restored =
        Store::restore_backup(&file, &backup_key, &dest, &new_key).expect("restores");
    assert_eq!(
        restored.product(p.id).expect("reads").map(|x| x.name),
        Some(PRODUCT_NAME.into())
    );
    assert_eq!(
        restored.customer(c.id).expect("reads").map(|x| x.balance),
        ts.store.customer(c.id).expect("reads").map(|x| x.balance)
    );
    assert_eq!(restored.sale_count().expect("reads"), 3);
    assert_eq!(
        restored.outbox_last_seq().expect("reads"),
        ts.store.outbox_last_seq().expect("reads")
    );
    assert_eq!(
        restored.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 3 }
    );
    assert_eq!(
        restored
            .search_products("zanzibar", 5)
            .expect("search index restored")
            .len(),
        1
    );
    assert_eq!(
        restored.applied_migrations().expect("reads"),
        ts.store.applied_migrations().expect("reads")
    );
    drop(restored);
    assert!(
        matches!(Store::open(&dest, &ts.key), Err(Error::WrongKey)),
        "the old device key does not open it"
    );
    assert!(matches!(
        Store::restore_backup(&file, &backup_key, &dest, &new_key),
        Err(Error::Backup(BackupError::DestinationExists))
    ));
}

#[test]
fn tampered_truncated_or_foreign_backups_are_refused() {
    let (mut ts, _, _) = populated();
    let key = BackupKey::generate();
    let file = ts.dir.path().join("store.tbak");
    ts.store.write_backup(&file, &key).expect("backs up");
    let good = std::fs::read(&file).expect("reads");
    let restore = |bytes: &[u8], key: &BackupKey| {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = dir.path().join("b.tbak");
        std::fs::write(&f, bytes).expect("writes");
        let r =
            Store::restore_backup(&f, key, dir.path().join("r.db"), &DbKey::generate()).map(|_| ());
        assert!(
            !dir.path().join("r.db").exists() || r.is_ok(),
            "a refused restore leaves no database behind"
        );
        r
    };
    for pos in [12, 30, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[pos] ^= 0x01;
        assert!(
            matches!(
                restore(&bad, &key),
                Err(Error::Backup(BackupError::Tampered))
            ),
            "flip at {pos}"
        );
    }
    let mut bad = good.clone();
    bad[8] = 9;
    assert!(matches!(
        restore(&bad, &key),
        Err(Error::Backup(BackupError::UnsupportedVersion(9)))
    ));
    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(matches!(
        restore(&bad, &key),
        Err(Error::Backup(BackupError::NotABackup))
    ));
    assert!(matches!(
        restore(&good[..good.len() - 100], &key),
        Err(Error::Backup(BackupError::Tampered))
    ));
    assert!(matches!(
        restore(&good[..20], &key),
        Err(Error::Backup(BackupError::Truncated))
    ));
    assert!(matches!(
        restore(&good[..4], &key),
        Err(Error::Backup(BackupError::Truncated))
    ));
    assert!(
        matches!(
            restore(&good, &BackupKey::generate()),
            Err(Error::Backup(BackupError::Tampered))
        ),
        "wrong backup key"
    );
    restore(&good, &key).expect("the untouched file still restores");
    let _ = Utc::now();
}

#[test]
fn the_a1_certificate_is_kept_only_inside_the_encrypted_database() {
    let mut ts = temp_store();
    let pfx = include_bytes!("../../fiscal/testdata/test-a1-cnpj-06157250000116.pfx").to_vec();
    let owner = Actor::User(seller());
    ts.store
        .save_secret(
            tenda_store::secrets::A1_CERTIFICATE,
            &pfx,
            owner,
            Utc::now(),
        )
        .expect("saves");
    ts.store
        .save_secret(
            tenda_store::secrets::A1_PASSWORD,
            b"minhasenha",
            owner,
            Utc::now(),
        )
        .expect("saves");
    assert_eq!(
        ts.store
            .secret(tenda_store::secrets::A1_CERTIFICATE)
            .expect("reads")
            .as_deref()
            .map(Vec::as_slice),
        Some(pfx.as_slice())
    );
    assert!(matches!(
        ts.store.save_secret("", b"x", owner, Utc::now()),
        Err(Error::InvalidInput { field: "name", .. })
    ));
    assert!(matches!(
        ts.store.save_secret("empty", b"", owner, Utc::now()),
        Err(Error::InvalidInput { field: "value", .. })
    ));
    ts.store.checkpoint().expect("checkpoints");
    let db = std::fs::read(&ts.path).expect("reads");
    let probe = &pfx[pfx.len() / 2..pfx.len() / 2 + 32];
    assert!(
        !db.windows(probe.len()).any(|w| w == probe),
        "certificate bytes are not in clear"
    );
    assert!(
        !db.windows(10).any(|w| w == b"minhasenha"),
        "the password is not in clear"
    );
    let audit = ts.store.audit_entries(0, 10).expect("reads");
    assert!(
        audit.iter().all(|e| !e.subject.contains("minhasenha")),
        "the audit names the secret, not its value"
    );
    ts.store
        .delete_secret(tenda_store::secrets::A1_PASSWORD, owner, Utc::now())
        .expect("deletes");
    assert!(
        ts.store
            .secret(tenda_store::secrets::A1_PASSWORD)
            .expect("reads")
            .is_none()
    );
}

/// The files that hold a store's data (the database and its WAL): length and a hash of the
/// bytes. (The `-shm` file is the readers' shared-memory index: every reader, right key or not,
/// writes its read marks there, and SQLite rebuilds it from the WAL.)
fn files_of(path: &std::path::Path) -> Vec<(String, Option<(usize, u64)>)> {
    use std::hash::{Hash, Hasher};
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let seen = std::fs::read(&name).ok().map(|bytes| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                bytes.hash(&mut h);
                (bytes.len(), h.finish())
            });
            (suffix.to_string(), seen)
        })
        .collect()
}

#[test]
fn a_wrong_key_after_a_crash_leaves_every_file_as_it_was() {
    let (ts, _, _) = populated();
    let TempStore {
        dir: _dir,
        path,
        store,
        ..
    } = ts;
    // A crash: the process ends without closing, so committed pages stay in the WAL.
    std::mem::forget(store);
    let before = files_of(&path);
    assert!(
        before[1].1.is_some_and(|(len, _)| len > 0),
        "the crash left committed pages in the WAL"
    );
    let err = Store::open(&path, &DbKey::generate()).expect_err("wrong key");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert_eq!(
        files_of(&path),
        before,
        "no checkpoint, no truncation: the wrong key wrote nothing to any file"
    );
}
