//! The one connection that writes, shared in turns.
//!
//! SQLite lets one transaction write at a time. Requests (an ingest answered only when
//! durable, an API change) wait for their turn in the pool. The clock deriver's rows are
//! derived data written in the background, so its writing gives way: between parts of a
//! few tickets (after a least turn) it asks [`Writer::others_waiting`] and, when someone
//! is, commits what it has and queues again for the rest. And its commits do not wait
//! for the disk ([`Relaxed`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{Sqlite, Transaction};

#[derive(Clone, Debug)]
pub(crate) struct Writer {
    pool: SqlitePool,
    /// Callers between asking for the connection and getting it.
    waiting: Arc<AtomicUsize>,
}

impl Writer {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Writer {
            pool,
            waiting: Arc::default(),
        }
    }

    /// A transaction on the writer, once it is this caller's turn.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        let _waiting = Waiting::count(&self.waiting);
        self.pool.begin().await
    }

    /// The writer for a single statement (which commits by itself).
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
        let _waiting = Waiting::count(&self.waiting);
        self.pool.acquire().await
    }

    /// The writer for rows that can be derived again, committed with
    /// `synchronous=NORMAL`.
    pub(crate) async fn relaxed(&self) -> Result<Relaxed, sqlx::Error> {
        let mut relaxed = Relaxed(Some(self.acquire().await?));
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(relaxed.connection())
            .await?;
        Ok(relaxed)
    }

    /// Whether another caller waits for the writer now.
    pub(crate) fn others_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// How many callers wait for the writer now.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// The writer lent with `synchronous=NORMAL`: in WAL mode a commit is then atomic and
/// consistent but reaches the disk only with the next durable commit or checkpoint, so
/// an operating-system crash or power cut can undo the last ones (a crash of the process
/// cannot). Only for rows derived from durable ones and derived again at every start: the
/// clock deriver's. A later durable commit syncs the whole log, so nothing durable ever
/// rests on a lost one.
///
/// [`Relaxed::finish`] hands the connection back durable (`synchronous=FULL`); dropped
/// any other way (an error, a cancelled future), the connection is closed instead, and
/// the pool opens a fresh one with the durable setting.
pub(crate) struct Relaxed(Option<PoolConnection<Sqlite>>);

impl Relaxed {
    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        match &mut self.0 {
            Some(conn) => conn,
            // Taken only by `finish`, which consumes `self`.
            None => unreachable!("a relaxed writer is used after it was handed back"),
        }
    }

    /// Makes the connection durable again and hands it back to the pool.
    pub(crate) async fn finish(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(self.connection())
            .await?;
        self.0.take();
        Ok(())
    }
}

impl Drop for Relaxed {
    fn drop(&mut self) {
        if let Some(conn) = &mut self.0 {
            conn.close_on_drop();
        }
    }
}

/// Counts a caller as waiting for as long as it lives (a caller that gives up, its
/// future dropped, stops counting too).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_counts_as_waiting_until_it_has_the_writer() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("memory database");
        let writer = Writer::new(pool);
        let held = writer.begin().await.expect("first turn");
        assert!(!writer.others_waiting(), "the holder does not count");
        let second = tokio::spawn({
            let writer = writer.clone();
            async move { writer.begin().await.map(drop) }
        });
        while !writer.others_waiting() {
            tokio::task::yield_now().await;
        }
        drop(held);
        second.await.expect("task").expect("second turn");
        assert!(!writer.others_waiting());

        // A caller that gives up stops counting.
        let held = writer.acquire().await.expect("turn");
        let given_up = tokio::time::timeout(std::time::Duration::from_millis(20), writer.begin());
        assert!(given_up.await.is_err(), "the writer is held");
        assert!(!writer.others_waiting());
        drop(held);
    }

    async fn synchronous(writer: &Writer) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *writer.acquire().await.expect("turn"))
            .await
            .expect("pragma")
    }

    #[tokio::test]
    async fn a_relaxed_writer_goes_back_durable_or_not_at_all() {
        let dir = tempfile::tempdir().expect("dir");
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("database");
        let writer = Writer::new(pool);
        const NORMAL: i64 = 1;
        const FULL: i64 = 2;
        assert_eq!(synchronous(&writer).await, FULL);

        let mut relaxed = writer.relaxed().await.expect("relaxed");
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(relaxed.connection())
            .await
            .expect("pragma");
        assert_eq!(mode, NORMAL);
        sqlx::query("CREATE TABLE t (a INTEGER)")
            .execute(relaxed.connection())
            .await
            .expect("write");
        relaxed.finish().await.expect("finish");
        assert_eq!(synchronous(&writer).await, FULL);

        // Given up half-way: the connection is closed, the next one is durable.
        let mut relaxed = writer.relaxed().await.expect("relaxed");
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(relaxed.connection())
            .await
            .expect("write");
        drop(relaxed);
        assert_eq!(synchronous(&writer).await, FULL);
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut *writer.acquire().await.expect("turn"))
            .await
            .expect("count");
        assert_eq!(rows, 1, "what was committed stays");
    }
}
