//! Bulk inserts run on the writer's own connection through rusqlite.
//!
//! Why not sqlx here: through sqlx, every bound text of a multi-row `INSERT … VALUES` is
//! copied into a `String` and an `Arc` of its own before SQLite copies it again, all
//! three freed after, and each statement crosses to sqlx's worker thread. A callgrind
//! profile of `accord bench ingest` put a third of the writer thread's instructions in
//! that binding and freeing (`docs/benchmarks.md`). Here the values are borrowed from
//! the caller's rows and bound straight into the same multi-row statements, on the same
//! connection (inside its open transaction) while sqlx's worker is locked out of it.

use accord_store::{StoreError, StoreResult};
use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::sqlite::SqliteConnection;

/// One value of a row, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Text(s)
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(s: &'a String) -> Self {
        Cell::Text(s)
    }
}

impl<'a> From<&'a Option<String>> for Cell<'a> {
    fn from(s: &'a Option<String>) -> Self {
        s.as_deref().map_or(Cell::Null, Cell::Text)
    }
}

impl From<i64> for Cell<'_> {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<Option<i64>> for Cell<'_> {
    fn from(n: Option<i64>) -> Self {
        n.map_or(Cell::Null, Cell::Int)
    }
}

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
            Cell::Int(n) => ValueRef::Integer(n),
            Cell::Null => ValueRef::Null,
        }))
    }
}

/// Most rows an insert statement takes: its preparation (parsing every placeholder) is
/// paid once per [`on_connection`] (statements are cached only that long).
const ROWS_PER_STATEMENT: usize = 32;

/// Rows of `N` cells each, to be inserted by `INSERT … VALUES` statements of many rows:
/// `head` is the statement up to `VALUES`, `tail` what follows the rows (an
/// `ON CONFLICT` clause, or nothing).
#[derive(Debug)]
pub(crate) struct Rows<'a, const N: usize> {
    head: &'static str,
    tail: std::borrow::Cow<'static, str>,
    rows: Vec<[Cell<'a>; N]>,
}

impl<'a, const N: usize> Rows<'a, N> {
    pub(crate) fn new(head: &'static str, tail: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Rows {
            head,
            tail: tail.into(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, row: [Cell<'a>; N]) {
        self.rows.push(row);
    }

    /// The rows in statements of at most `max_values` bound values (and at most
    /// [`ROWS_PER_STATEMENT`] rows); gives the row count each statement changed, with
    /// how many rows it was given.
    pub(crate) fn insert(
        &self,
        db: &rusqlite::Connection,
        max_values: usize,
    ) -> rusqlite::Result<Vec<(usize, usize)>> {
        let per = (max_values / N).clamp(1, ROWS_PER_STATEMENT);
        let mut changed = Vec::new();
        let mut chunks = self.rows.chunks_exact(per);
        if chunks.len() > 0 {
            let mut statement = db.prepare_cached(&self.sql(per))?;
            for chunk in chunks.by_ref() {
                changed.push((run(&mut statement, chunk)?, per));
            }
        }
        // The rest one row at a time: a statement of the rest's size would be prepared
        // afresh for each size, and parsing a statement costs about what running it does.
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut statement = db.prepare_cached(&self.sql(1))?;
            for row in rest.chunks(1) {
                changed.push((run(&mut statement, row)?, 1));
            }
        }
        Ok(changed)
    }

    fn sql(&self, rows: usize) -> String {
        let mut sql = String::with_capacity(self.head.len() + rows * (N * 3 + 3));
        sql.push_str(self.head);
        sql.push_str(" VALUES ");
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..N {
                sql.push_str(if c == 0 { "?" } else { ", ?" });
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(&self.tail);
        sql
    }
}

/// Binds the cells of `rows` to `statement`'s parameters in order and runs it; gives the
/// rows changed.
fn run<const N: usize>(
    statement: &mut rusqlite::Statement<'_>,
    rows: &[[Cell<'_>; N]],
) -> rusqlite::Result<usize> {
    for (i, cell) in rows.iter().flatten().enumerate() {
        statement.raw_bind_parameter(i + 1, cell)?;
    }
    statement.raw_execute()
}

/// Runs `work` with the raw connection under `conn`, inside its open transaction if any.
///
/// The work is SQLite's own (a few milliseconds for a batch), done on the calling thread
/// while sqlx's worker thread waits for the handle back.
#[allow(unsafe_code)]
pub(crate) async fn on_connection<T>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
) -> StoreResult<T> {
    let mut locked = conn
        .lock_handle()
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    // SAFETY: `locked` keeps sqlx's worker off the handle until it is dropped, after
    // `raw`. A connection made by `from_handle` does not close the handle when dropped
    // (it finalizes only the statements it prepared), and neither it nor its statements
    // outlive this function. rusqlite is pinned to the libsqlite3-sys sqlx links, so both
    // speak to the same SQLite.
    let raw = unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) }
        .map_err(sqlite)?;
    // On a multi-threaded runtime the worker's other tasks move to another thread
    // meanwhile (a test's single-threaded runtime just waits).
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let out = if multi_thread {
        tokio::task::block_in_place(|| work(&raw))
    } else {
        work(&raw)
    }
    .map_err(sqlite);
    drop(raw);
    drop(locked);
    out
}

/// A rusqlite error as the store's: a unique violation is a conflict, as with sqlx.
pub(crate) fn sqlite(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match &e {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.extended_code,
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_statements_of_bounded_size_and_count_what_they_changed() {
        let db = rusqlite::Connection::open_in_memory().expect("db");
        db.execute_batch("CREATE TABLE t (a TEXT PRIMARY KEY, b INTEGER, c TEXT)")
            .expect("table");
        let names: Vec<String> = (0..7).map(|i| format!("r{i}")).collect();
        let evens: Vec<Option<String>> = (0..7)
            .map(|i| (i % 2 == 0).then(|| "even".to_owned()))
            .collect();
        let mut rows = Rows::new("INSERT INTO t (a, b, c)", "ON CONFLICT (a) DO NOTHING");
        for (i, (name, even)) in names.iter().zip(&evens).enumerate() {
            rows.push([name.into(), Cell::Int(i as i64), even.into()]);
        }
        // Six values a statement: two rows each, the last statement one row.
        assert_eq!(
            rows.insert(&db, 6).expect("insert"),
            [(2, 2), (2, 2), (2, 2), (1, 1)]
        );
        // Again: every row conflicts, nothing changes.
        assert_eq!(
            rows.insert(&db, 6).expect("again"),
            [(0, 2), (0, 2), (0, 2), (0, 1)]
        );
        let stored: Vec<(String, i64, Option<String>)> = db
            .prepare("SELECT a, b, c FROM t ORDER BY b")
            .expect("select")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("read");
        assert_eq!(stored.len(), 7);
        assert_eq!(stored[6], ("r6".into(), 6, Some("even".into())));
        assert_eq!(stored[5], ("r5".into(), 5, None));
    }
}
