//! The schema's migrations: the SQL files under `migrations/`, embedded, followed by the steps
//! that rewrite rows into forms SQL cannot build (LZ4-packed JSON), written in Rust.

use std::fmt;

use diesel::connection::{BoxableConnection, SimpleConnection};
use diesel::migration::{
    Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Bool, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

use crate::error::{Error, Result, corrupt};

/// Every migration of the device database, in order.
pub const MIGRATIONS: StoreMigrations = StoreMigrations;

const SQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The SQL migrations, then the Rust ones.
#[derive(Clone, Copy, Debug)]
pub struct StoreMigrations;

impl MigrationSource<Sqlite> for StoreMigrations {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<Sqlite>>>> {
        let mut all = MigrationSource::<Sqlite>::migrations(&SQL_MIGRATIONS)?;
        all.push(Box::new(SaleRowsPacked));
        Ok(all)
    }
}

/// A migration written in Rust, named like the SQL ones so it sorts after them.
struct RustMigrationName(&'static str);

impl fmt::Display for RustMigrationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl MigrationName for RustMigrationName {
    fn version(&self) -> MigrationVersion<'_> {
        // "2026-01-01-000008_name" → "20260101000008", as diesel derives SQL versions.
        let prefix = self.0.split('_').next().unwrap_or(self.0);
        MigrationVersion::from(prefix.replace('-', ""))
    }
}

/// Runs in the migration's own transaction, like the SQL ones.
struct InTransaction;

impl MigrationMetadata for InTransaction {}

/// The SQLite connection diesel hands a migration, as a trait object; `as_any_mut` (public but
/// undocumented in diesel 2.3; Cargo.lock holds the version) leads back to the concrete type.
fn sqlite(
    conn: &mut dyn BoxableConnection<Sqlite>,
) -> diesel::migration::Result<&mut SqliteConnection> {
    conn.as_any_mut()
        .downcast_mut::<SqliteConnection>()
        .ok_or_else(|| "the device database is SQLite".into())
}

/// Migration 8: a sale stored once.
///
/// A sale commit writes one page per b-tree it touches, and every page is encrypted and MACed.
/// Before, a sale's lines and payments went to two tables of their own and the whole sale again
/// into its outbox entry. Now:
/// - the lines and payments are packed into the sale's row (`sales.body`);
/// - a `SaleRecorded` outbox entry keeps only what the row does not (local number, register
///   session, fiscal reference, deltas) and reads the sale back from `sales` when pushed;
/// - `stock_deltas` keeps product and quantity only, which is all the pending-stock sums read
///   (the reason and time travel in each delta's mutation);
/// - sales lose their index by register session: a session's opening notes the last sale
///   number before it (`cash_movements.sales_after`) and its cash count scans from there.
///
/// Reverting is possible only while no sale and no stock delta exists: older code cannot read
/// packed rows, and reverting must not lose them.
struct SaleRowsPacked;

const NAME: RustMigrationName = RustMigrationName("2026-01-01-000008_sale_rows_packed");

impl Migration<Sqlite> for SaleRowsPacked {
    fn run(&self, conn: &mut dyn BoxableConnection<Sqlite>) -> diesel::migration::Result<()> {
        let c = sqlite(conn)?;
        c.batch_execute("ALTER TABLE sales ADD COLUMN body BLOB NOT NULL DEFAULT x'';")?;
        pack_sale_bodies(c)?;
        trim_outbox_sales(c)?;
        c.batch_execute(
            "ALTER TABLE cash_movements ADD COLUMN sales_after BIGINT;
             UPDATE cash_movements SET sales_after = coalesce(
               (SELECT min(s.local_number) - 1 FROM sales s
                WHERE s.register_session_id = cash_movements.session_id),
               (SELECT value FROM counters WHERE name = 'sale_local_number'), 0)
             WHERE kind = 'opening';
             DROP INDEX sales_register_session;
             DROP TABLE sale_lines;
             DROP TABLE sale_payments;
             CREATE TABLE stock_deltas_slim (
               id INTEGER PRIMARY KEY,
               product_id BLOB NOT NULL,
               delta BIGINT NOT NULL
             );
             INSERT INTO stock_deltas_slim (id, product_id, delta)
               SELECT id, product_id, delta FROM stock_deltas;
             DROP TABLE stock_deltas;
             ALTER TABLE stock_deltas_slim RENAME TO stock_deltas;",
        )?;
        Ok(())
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<Sqlite>) -> diesel::migration::Result<()> {
        let c = sqlite(conn)?;
        #[derive(QueryableByName)]
        struct Rows {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let rows: Rows = diesel::sql_query(
            "SELECT (SELECT count(*) FROM sales) + (SELECT count(*) FROM stock_deltas) AS n",
        )
        .get_result(c)?;
        if rows.n > 0 {
            return Err(format!(
                "{NAME} cannot be reverted while sales or stock deltas are stored ({} rows): \
                 the schema before it cannot hold packed sales",
                rows.n
            )
            .into());
        }
        c.batch_execute(
            "CREATE TABLE sale_lines (
               line_key INTEGER PRIMARY KEY NOT NULL,
               sale_id BLOB NOT NULL REFERENCES sales(id),
               line_no INTEGER NOT NULL,
               product_id BLOB NOT NULL,
               sku TEXT NOT NULL,
               gtin TEXT,
               name TEXT NOT NULL,
               unit TEXT NOT NULL,
               quantity BIGINT NOT NULL,
               unit_price BIGINT NOT NULL,
               gross BIGINT NOT NULL,
               discount BIGINT NOT NULL,
               total BIGINT NOT NULL,
               fiscal TEXT NOT NULL
             );
             CREATE TABLE sale_payments (
               payment_key INTEGER PRIMARY KEY NOT NULL,
               sale_id BLOB NOT NULL REFERENCES sales(id),
               idx INTEGER NOT NULL,
               amount BIGINT NOT NULL,
               method TEXT NOT NULL
             );
             ALTER TABLE sales DROP COLUMN body;
             ALTER TABLE cash_movements DROP COLUMN sales_after;
             CREATE INDEX sales_register_session ON sales(register_session_id);
             DROP TABLE stock_deltas;
             CREATE TABLE stock_deltas (
               id INTEGER PRIMARY KEY,
               product_id BLOB NOT NULL,
               delta BIGINT NOT NULL,
               reason TEXT NOT NULL,
               sale_id BLOB,
               outbox_seq BIGINT NOT NULL,
               at TEXT NOT NULL
             );",
        )?;
        Ok(())
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        &InTransaction
    }

    fn name(&self) -> &dyn MigrationName {
        &NAME
    }
}

// Migration 8 writes the forms schema 8 defined, spelled out here as JSON and LZ4 framing: a
// past migration must not change because the live types or packing did.

/// Rows of a sale's children were keyed `local_number × 2^20 + n`.
const CHILD_KEYS: i64 = 1 << 20;

/// Schema 8's packing: JSON, LZ4-compressed with its size prepended.
fn pack_v8(value: &serde_json::Value) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(value).map_err(|e| corrupt("packed record", e))?;
    Ok(lz4_flex::block::compress_prepend_size(&json))
}

/// An outbox payload as schema 7 kept it: plain JSON, or packed as [`pack_v8`] does.
fn unpack_v7(bytes: &[u8], packed: bool) -> Result<serde_json::Value> {
    let json = if packed {
        lz4_flex::block::decompress_size_prepended(bytes)
            .map_err(|e| corrupt("outbox mutation", e))?
    } else {
        bytes.to_vec()
    };
    serde_json::from_slice(&json).map_err(|e| corrupt("outbox mutation", e))
}

fn uuid_text(bytes: &[u8], what: &'static str) -> Result<String> {
    Ok(uuid::Uuid::from_slice(bytes)
        .map_err(|e| corrupt(what, e))?
        .to_string())
}

fn json_text(text: &str, what: &'static str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A unit code as schema 7's lines stored it, named as schema 8's JSON names it.
fn unit_v8(code: &str) -> Result<&'static str> {
    Ok(match code.trim().to_ascii_uppercase().as_str() {
        "UN" | "UND" | "UNID" | "PC" | "PCA" => "each",
        "KG" => "kilogram",
        "L" | "LT" => "liter",
        "M" | "MT" => "meter",
        "CX" => "box",
        _ => return Err(corrupt("sale line unit", code.to_owned())),
    })
}

#[derive(QueryableByName)]
struct LegacyLine {
    #[diesel(sql_type = Integer)]
    line_no: i32,
    #[diesel(sql_type = Binary)]
    product_id: Vec<u8>,
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Nullable<Text>)]
    gtin: Option<String>,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(sql_type = BigInt)]
    unit_price: i64,
    #[diesel(sql_type = BigInt)]
    gross: i64,
    #[diesel(sql_type = BigInt)]
    discount: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = Text)]
    fiscal: String,
}

impl LegacyLine {
    /// The line as schema 8's packed body holds it.
    fn to_json(&self) -> Result<serde_json::Value> {
        Ok(serde_json::json!({
            "line_no": self.line_no,
            "product_id": uuid_text(&self.product_id, "sale line product")?,
            "sku": self.sku,
            "gtin": self.gtin.as_deref().map(|g| json_text(g, "sale line gtin")).transpose()?,
            "name": self.name,
            "unit": unit_v8(&self.unit)?,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "gross": self.gross,
            "discount": self.discount,
            "total": self.total,
            "fiscal": json_text(&self.fiscal, "sale line fiscal")?,
        }))
    }
}

#[derive(QueryableByName)]
struct LegacyPayment {
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Text)]
    method: String,
}

#[derive(QueryableByName)]
struct SaleNumber {
    #[diesel(sql_type = BigInt)]
    local_number: i64,
}

/// Moves every sale's lines and payments from their tables into its row.
fn pack_sale_bodies(c: &mut SqliteConnection) -> Result<()> {
    let sales: Vec<SaleNumber> =
        diesel::sql_query("SELECT local_number FROM sales ORDER BY local_number").load(c)?;
    for SaleNumber { local_number } in sales {
        let first = local_number.saturating_mul(CHILD_KEYS);
        let last = first.saturating_add(CHILD_KEYS - 1);
        let lines: Vec<LegacyLine> = diesel::sql_query(
            "SELECT line_no, product_id, sku, gtin, name, unit, quantity, unit_price, gross, \
             discount, total, fiscal FROM sale_lines WHERE line_key BETWEEN ? AND ? \
             ORDER BY line_key",
        )
        .bind::<BigInt, _>(first)
        .bind::<BigInt, _>(last)
        .load(c)?;
        let payments: Vec<LegacyPayment> = diesel::sql_query(
            "SELECT amount, method FROM sale_payments WHERE payment_key BETWEEN ? AND ? \
             ORDER BY payment_key",
        )
        .bind::<BigInt, _>(first)
        .bind::<BigInt, _>(last)
        .load(c)?;
        let lines = lines
            .iter()
            .map(LegacyLine::to_json)
            .collect::<Result<Vec<_>>>()?;
        let payments = payments
            .iter()
            .map(|p| {
                Ok(serde_json::json!({
                    "amount": p.amount,
                    "method": json_text(&p.method, "payment method")?,
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        let body = serde_json::json!({ "lines": lines, "payments": payments });
        diesel::sql_query("UPDATE sales SET body = ? WHERE local_number = ?")
            .bind::<Binary, _>(pack_v8(&body)?)
            .bind::<BigInt, _>(local_number)
            .execute(c)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct LegacyEntry {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Binary)]
    payload: Vec<u8>,
    #[diesel(sql_type = Bool)]
    packed: bool,
}

/// Rewrites each `SaleRecorded` entry without its sale, which now lives only in its row.
fn trim_outbox_sales(c: &mut SqliteConnection) -> Result<()> {
    let entries: Vec<LegacyEntry> = diesel::sql_query(
        "SELECT seq, payload, packed FROM outbox WHERE kind = 'sale_recorded' ORDER BY seq",
    )
    .load(c)?;
    for entry in entries {
        // Schema 7's entry: {"kind": "sale_recorded", "payload": {"sale": …, "local_number": …,
        // "register_session_id", "fiscal", "stock_deltas", "balance_deltas"}}.
        let mutation = unpack_v7(&entry.payload, entry.packed)?;
        if mutation["kind"] != "sale_recorded" {
            return Err(corrupt("outbox mutation", "not a recorded sale"));
        }
        let recorded = &mutation["payload"];
        let number = recorded["local_number"]
            .as_i64()
            .ok_or_else(|| corrupt("outbox mutation", "sale number out of range"))?;
        let sale_id = recorded["sale"]["id"]
            .as_str()
            .ok_or_else(|| corrupt("outbox mutation", "no sale id"))?;
        // The entry will read its sale back from the row: it must be that very sale.
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = Binary)]
            id: Vec<u8>,
        }
        let row: Option<Id> = diesel::sql_query("SELECT id FROM sales WHERE local_number = ?")
            .bind::<BigInt, _>(number)
            .get_result(c)
            .optional()?;
        let row_sale = row.map(|r| uuid_text(&r.id, "sale id")).transpose()?;
        if row_sale.as_deref() != Some(sale_id) {
            return Err(Error::Migration(format!(
                "outbox entry {} records sale {sale_id} under local number {number}, which \
                 holds another sale",
                entry.seq
            )));
        }
        // Schema 8's entry keeps the facts the row lacks.
        let facts = serde_json::json!({
            "local_number": recorded["local_number"],
            "register_session_id": recorded["register_session_id"],
            "fiscal": recorded["fiscal"],
            "stock_deltas": recorded["stock_deltas"],
            "balance_deltas": recorded["balance_deltas"],
        });
        diesel::sql_query("UPDATE outbox SET payload = ?, packed = 1 WHERE seq = ?")
            .bind::<Binary, _>(pack_v8(&facts)?)
            .bind::<BigInt, _>(entry.seq)
            .execute(c)?;
    }
    Ok(())
}
