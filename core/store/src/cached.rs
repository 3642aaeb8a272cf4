//! Write statements of the sale commit that the connection keeps prepared. Diesel prepares its
//! UPDATE and upsert statements afresh on every call (their text may vary with the changeset);
//! these fixed texts are cached by type, so a sale pays no SQL parsing.

use std::borrow::Cow;

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Binary, Integer, Text};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

/// `cached_statement!(Name { field: RustType => SqlType, … } = "SQL with ? marks")`:
/// the fields bind to the `?` marks in order.
macro_rules! cached_statement {
    (@walk $self:ident, $out:ident, $sql:literal, $($field:ident: $sty:ty),*) => {{
        let mut sql = $sql.split('?');
        $out.push_sql(sql.next().expect("split yields at least one part"));
        $(
            $out.push_bind_param::<$sty, _>(&$self.$field)?;
            $out.push_sql(sql.next().expect("one ? per bound field"));
        )*
        Ok(())
    }};
    ($(#[$attr:meta])* $name:ident { $($field:ident: $fty:ty => $sty:ty),* $(,)? }
        = $sql:literal) => {
        $(#[$attr])*
        pub(crate) struct $name {
            $(pub(crate) $field: $fty,)*
        }
        impl QueryId for $name {
            type QueryId = $name;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl QueryFragment<Sqlite> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
                cached_statement!(@walk self, out, $sql, $($field: $sty),*)
            }
        }
        impl<Conn> RunQueryDsl<Conn> for $name {}
    };
}

// No RETURNING in these: SQLite runs it through a temporary b-tree it opens and closes on every
// execution, which costs more than a second, cached SELECT.

cached_statement!(
    /// Starts a write transaction, taking the write lock at once.
    BeginImmediate {} = "BEGIN IMMEDIATE"
);

cached_statement!(
    /// Ends a write transaction.
    Commit {} = "COMMIT"
);

cached_statement!(
    /// Bumps a named counter; no row changes when the counter does not exist. Names are fixed
    /// (a fiscal series').
    BumpCounter { name: Cow<'static, str> => Text } =
        "UPDATE counters SET value = value + 1 WHERE name = ?"
);

cached_statement!(
    /// Adds a delta to a customer's current balance.
    AddBalance { delta: i64 => BigInt, customer_id: Vec<u8> => Binary } =
        "UPDATE customers SET balance = balance + ? WHERE id = ?"
);

cached_statement!(
    /// Marks a reserved fiscal number as used by a sale.
    UseReservedNumber { model: i32 => Integer, series: i32 => Integer, number: i32 => Integer } =
        "UPDATE fiscal_numbers SET state = 'used' \
         WHERE model = ? AND series = ? AND number = ? AND state = 'reserved'"
);

cached_statement!(
    /// Writes a setting, updating its row in place when the key exists (REPLACE would delete the
    /// row and insert it again under a new rowid, writing its old page, the table's last page
    /// and a page of the key's index).
    PutSetting { key: String => Text, value: String => Text, version: i64 => BigInt } =
        "INSERT INTO settings (key, value, version) VALUES (?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version"
);
