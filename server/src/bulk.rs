//! Writing many rows of one table at once, the fastest way each backend offers: multi-row
//! `INSERT`s on SQLite (chunked under its bound-value limit), `COPY … FROM STDIN` on PostgreSQL.
//!
//! A row type opts in with [`bulk_rows!`]; code written once for both backends then calls
//! [`BulkInsert::insert_rows`] on whichever connection it holds.

use diesel::QueryResult;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

/// SQLite refuses a statement with more bound values than this (its default
/// `SQLITE_MAX_VARIABLE_NUMBER`).
pub const SQLITE_MAX_BINDS: usize = 32_766;

/// Rows per SQLite `INSERT` in bulk writes. Every full chunk is the same statement, which diesel
/// prepares once per connection and keeps (parsing a statement of thousands of placeholders
/// costs more than running it); only the last, shorter chunk is prepared afresh. 128 rows of the
/// widest table (16 columns) stay far below [`SQLITE_MAX_BINDS`].
pub const SQLITE_ROWS_PER_INSERT: usize = 128;
const _: () = assert!(SQLITE_ROWS_PER_INSERT * 16 <= SQLITE_MAX_BINDS);

/// Rows per SQLite `INSERT` for a table of `columns` columns.
pub const fn rows_per_insert(columns: usize) -> usize {
    SQLITE_MAX_BINDS / columns
}

/// A row type that can be written in bulk (see [`bulk_rows!`]).
pub trait Rows: Sized {
    fn insert_sqlite(conn: &mut SqliteConnection, rows: &[Self]) -> QueryResult<()>;
    fn insert_pg(conn: &mut PgConnection, rows: &[Self]) -> QueryResult<()>;
}

/// Bulk writes on either backend's connection.
pub trait BulkInsert {
    /// Inserts every row (in the caller's transaction); no rows is no statement.
    fn insert_rows<R: Rows>(&mut self, rows: &[R]) -> QueryResult<()>;
}

impl BulkInsert for SqliteConnection {
    fn insert_rows<R: Rows>(&mut self, rows: &[R]) -> QueryResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        R::insert_sqlite(self, rows)
    }
}

impl BulkInsert for PgConnection {
    fn insert_rows<R: Rows>(&mut self, rows: &[R]) -> QueryResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        R::insert_pg(self, rows)
    }
}

/// Implements [`Rows`] for an `Insertable` row struct without borrowed fields, written to
/// `$table` (a `schema` module). The struct must have at most 16 columns and say
/// `#[diesel(treat_none_as_default_value = false)]`: otherwise diesel writes SQLite batches one
/// statement per row (to honour `DEFAULT`), and PostgreSQL's binary `COPY` needs every value.
#[macro_export]
macro_rules! bulk_rows {
    ($row:ident, $table:ident) => {
        impl $crate::bulk::Rows for $row {
            fn insert_sqlite(
                conn: &mut ::diesel::sqlite::SqliteConnection,
                rows: &[Self],
            ) -> ::diesel::QueryResult<()> {
                const N: usize = $crate::bulk::SQLITE_ROWS_PER_INSERT;
                let mut full = rows.chunks_exact(N);
                for chunk in &mut full {
                    let chunk: &[Self; N] = chunk.try_into().expect("chunks_exact yields N rows");
                    ::diesel::RunQueryDsl::execute(
                        ::diesel::insert_into($table::table).values(chunk),
                        conn,
                    )?;
                }
                let rest = full.remainder();
                if !rest.is_empty() {
                    ::diesel::RunQueryDsl::execute(
                        ::diesel::insert_into($table::table).values(rest),
                        conn,
                    )?;
                }
                Ok(())
            }

            fn insert_pg(
                conn: &mut ::diesel::pg::PgConnection,
                rows: &[Self],
            ) -> ::diesel::QueryResult<()> {
                ::diesel::ExecuteCopyFromDsl::execute(
                    ::diesel::copy_from($table::table).from_insertable(rows),
                    conn,
                )?;
                Ok(())
            }
        }
    };
}
