//! Accord's embedded default store: one SQLite file.
//!
//! The file runs in WAL mode with `synchronous=FULL`, so a committed change survives a
//! crash or power loss, with foreign keys on and a busy timeout. All writes go through one
//! connection (SQLite allows one writer at a time; queueing them in the pool is cheaper
//! than retrying on `SQLITE_BUSY`), reads through a small pool of read-only connections
//! that WAL lets run beside the writer. The schema is migrated on open from migrations
//! compiled into the binary.

// Denied, not forbidden: `bulk` lends sqlx's connection handle to rusqlite (one
// measured hot path, its one `unsafe` explained where it is).
#![deny(unsafe_code)]

mod bulk;
mod writer;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use accord_core::CustomerId;
use accord_store::{
    Actor, Announcement, AuditEntry, BreachCase, CaseFilter, ClockFilter, ClockRow, ConfigFile,
    Customer, DeliveryOutcome, EndedClock, IngestOutcome, NewBreachCase, NewToken, Notice,
    OngoingOutage, OutboxMessage, Page, PageRequest, ProbeOutcome, ProbeResult, Scope, Store,
    StoreError, StoreResult, StoredConfig, StoredEvent, StoredRecord, TicketClocks, TokenDigest,
    TokenRecord, Viewer, cursor,
};
use jiff::Timestamp;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use std::collections::HashMap;

use sqlx::{QueryBuilder, Row, SqlSafeStr, Sqlite, Transaction};

/// The migrations, oldest first, compiled in so a deployed binary needs no files beside it.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (2, "config", include_str!("../migrations/0002_config.sql")),
    (3, "events", include_str!("../migrations/0003_events.sql")),
    (
        4,
        "notifications",
        include_str!("../migrations/0004_notifications.sql"),
    ),
    (
        5,
        "breach_cases",
        include_str!("../migrations/0005_breach_cases.sql"),
    ),
    (
        6,
        "service_records",
        include_str!("../migrations/0006_service_records.sql"),
    ),
    (
        7,
        "clock_priority",
        include_str!("../migrations/0007_clock_priority.sql"),
    ),
    (
        8,
        "unused_indexes",
        include_str!("../migrations/0008_unused_indexes.sql"),
    ),
];

/// Most values bound in one statement (SQLite allows 32,766; this keeps statements
/// moderate).
const BIND_CHUNK: usize = 900;

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "accord.db";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the SQLite database {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the SQLite database {path}: {source}")]
    Migrate {
        path: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// A handle to the SQLite store; clones share the pools.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: writer::Writer,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating and migrating when needed) the database file at `path`.
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(|source| OpenError::Open {
                path: shown.clone(),
                source,
            })?;
        migrator()
            .run(&writer)
            .await
            .map_err(|source| OpenError::Migrate {
                path: shown.clone(),
                source,
            })?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base.read_only(true))
            .await
            .map_err(|source| OpenError::Open {
                path: shown,
                source,
            })?;
        Ok(Self {
            writer: writer::Writer::new(writer),
            reader,
        })
    }

    /// Opens `accord.db` inside `data_dir`.
    pub async fn open_in(data_dir: &Path) -> Result<Self, OpenError> {
        Self::open(&data_dir.join(DATABASE_FILE)).await
    }

    /// Closes the pools, waiting for running queries (used on shutdown).
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Runs statements built before the transaction (binding thousands of values is done
/// while the one writer connection still serves others) and gives each one's row count.
async fn run_built(
    tx: &mut Transaction<'_, Sqlite>,
    statements: &mut [QueryBuilder<Sqlite>],
) -> StoreResult<Vec<u64>> {
    let mut counts = Vec::with_capacity(statements.len());
    for q in statements {
        counts.push(
            q.build()
                .execute(&mut **tx)
                .await
                .map_err(backend)?
                .rows_affected(),
        );
    }
    Ok(counts)
}

/// `prefix` followed by `(?, ?, …)` binding `values`, then `suffix`.
fn in_list<'v>(
    prefix: &str,
    values: impl IntoIterator<Item = &'v str>,
    suffix: &str,
) -> QueryBuilder<Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(prefix);
    q.push("(");
    let mut list = q.separated(", ");
    for v in values {
        list.push_bind(v.to_owned());
    }
    q.push(")");
    q.push(suffix);
    q
}

impl SqliteStore {
    /// The common batch, settled without reading anything back first: events whose ids
    /// are new, creating tickets not created before. The inserts themselves tell whether
    /// that held (an id already stored or a ticket already created changes fewer rows
    /// than asked); if not, nothing is kept and `None` sends the batch down the path that
    /// decides item by item. A batch with a repeat of its own is sent there at once.
    async fn ingest_new_events(
        &self,
        events: &[StoredEvent],
    ) -> StoreResult<Option<IngestOutcome>> {
        let mut duplicates = 0;
        let mut fresh: Vec<&StoredEvent> = Vec::with_capacity(events.len());
        let mut in_batch: HashMap<&str, &str> = HashMap::with_capacity(events.len());
        let mut created: Vec<(&str, &str)> = Vec::new();
        let mut created_tickets = std::collections::HashSet::new();
        for e in events {
            match in_batch.get(e.id.as_str()) {
                Some(body) if *body == e.body => {
                    duplicates += 1;
                    continue;
                }
                Some(_) => return Ok(None),
                None => {}
            }
            in_batch.insert(&e.id, &e.body);
            if e.is_created {
                if !created_tickets.insert(e.ticket.as_str()) {
                    return Ok(None);
                }
                created.push((&e.ticket, &e.id));
            }
            fresh.push(e);
        }
        let tickets: std::collections::BTreeSet<&str> =
            fresh.iter().map(|e| e.ticket.as_str()).collect();

        // Every creation and every event must be new (change one row each); a ticket's
        // row may be there already.
        let mut creations = bulk::Rows::new(
            "INSERT INTO tickets (ticket, created_id)",
            "ON CONFLICT (ticket) DO UPDATE SET created_id = excluded.created_id \
             WHERE tickets.created_id IS NULL",
        );
        for (ticket, id) in &created {
            creations.push([(*ticket).into(), (*id).into()]);
        }
        let mut touched = bulk::Rows::new("INSERT OR IGNORE INTO tickets (ticket)", "");
        for ticket in tickets.iter().filter(|t| !created_tickets.contains(*t)) {
            touched.push([(*ticket).into()]);
        }
        let mut inserts = bulk::Rows::new(
            "INSERT INTO ticket_events (id, ticket, body)",
            "ON CONFLICT (id) DO NOTHING",
        );
        for e in &fresh {
            inserts.push([(&e.id).into(), (&e.ticket).into(), (&e.body).into()]);
        }

        let mut tx = self.writer.begin().await.map_err(backend)?;
        let all_new = bulk::on_connection(&mut tx, |db| {
            let all = |counts: Vec<(usize, usize)>| counts.iter().all(|(done, n)| done == n);
            Ok(all(creations.insert(db, BIND_CHUNK)?) && {
                touched.insert(db, BIND_CHUNK)?;
                all(inserts.insert(db, BIND_CHUNK)?)
            })
        })
        .await?;
        if !all_new {
            tx.rollback().await.map_err(backend)?;
            return Ok(None);
        }
        tx.commit().await.map_err(backend)?;
        Ok(Some(IngestOutcome {
            accepted: fresh.len(),
            duplicates,
            tickets: tickets.into_iter().map(str::to_owned).collect(),
        }))
    }
}

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Maps a driver error into the store's words; unique-key violations are conflicts.
/// Which records of a batch are new, and how many repeat a stored or earlier one
/// exactly; a repeat with other content rejects the batch (as item `offset + k`).
async fn check_records<'r>(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    records: &'r [StoredRecord],
    offset: usize,
) -> StoreResult<(Vec<&'r StoredRecord>, usize)> {
    let mut stored: HashMap<String, String> = HashMap::new();
    for chunk in records.chunks(BIND_CHUNK) {
        let mut q = in_list(
            "SELECT id, body FROM service_records WHERE id IN ",
            chunk.iter().map(|r| r.id.as_str()),
            "",
        );
        for row in q.build().fetch_all(&mut **tx).await.map_err(backend)? {
            stored.insert(
                row.try_get("id").map_err(backend)?,
                row.try_get("body").map_err(backend)?,
            );
        }
    }
    let mut fresh = Vec::new();
    let mut duplicates = 0;
    let mut in_batch: HashMap<&str, &str> = HashMap::new();
    for (k, r) in records.iter().enumerate() {
        let earlier = in_batch
            .get(r.id.as_str())
            .copied()
            .or(stored.get(&r.id).map(String::as_str));
        match earlier {
            Some(body) if body == r.body => duplicates += 1,
            Some(_) => {
                return Err(StoreError::Rejected {
                    index: offset + k,
                    message: format!(
                        "record id {:?} was received before with different content",
                        r.id
                    ),
                });
            }
            None => {
                in_batch.insert(&r.id, &r.body);
                fresh.push(r);
            }
        }
    }
    Ok((fresh, duplicates))
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(db.message().to_owned());
    }
    StoreError::Backend(e.to_string())
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} {value:?} does not parse"))
}

fn parse_time(s: &str) -> StoreResult<Timestamp> {
    s.parse().map_err(|_| corrupt("timestamp", s))
}

fn epoch(s: i64) -> StoreResult<Timestamp> {
    Timestamp::from_second(s).map_err(|_| corrupt("instant", &s.to_string()))
}

fn parse_customer(s: &str) -> StoreResult<CustomerId> {
    s.parse().map_err(|_| corrupt("customer id", s))
}

async fn audit(
    tx: &mut Transaction<'_, Sqlite>,
    actor: &Actor,
    at: Timestamp,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(at.to_string())
    .bind(actor.to_string())
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

const TOKEN_COLUMNS: &str = "seq, id, label, scope, customer_id, created_at, revoked_at";

fn token_from_row(row: &SqliteRow) -> StoreResult<TokenRecord> {
    let scope: String = row.try_get("scope").map_err(backend)?;
    let created_at: String = row.try_get("created_at").map_err(backend)?;
    let revoked_at: Option<String> = row.try_get("revoked_at").map_err(backend)?;
    let customer: Option<String> = row.try_get("customer_id").map_err(backend)?;
    Ok(TokenRecord {
        id: row.try_get("id").map_err(backend)?,
        label: row.try_get("label").map_err(backend)?,
        scope: Scope::from_str(&scope).map_err(|_| corrupt("scope", &scope))?,
        customer: customer.as_deref().map(parse_customer).transpose()?,
        created_at: parse_time(&created_at)?,
        revoked_at: revoked_at.as_deref().map(parse_time).transpose()?,
    })
}

fn customer_from_row(row: &SqliteRow) -> StoreResult<Customer> {
    let id: String = row.try_get("id").map_err(backend)?;
    Ok(Customer {
        id: parse_customer(&id)?,
        name: row.try_get("name").map_err(backend)?,
        tier: row.try_get("tier").map_err(backend)?,
        region: row.try_get("region").map_err(backend)?,
        timezone: row.try_get("timezone").map_err(backend)?,
    })
}

/// The number a numeric cursor of `list` holds (0 for the first page).
const OUTBOX_COLUMNS: &str = "id, fact, target, body, state, attempts, next_attempt_at, last_error, created_at, delivered_at";

fn outbox_from_row(row: &SqliteRow) -> StoreResult<OutboxMessage> {
    let attempts: i64 = row.try_get("attempts").map_err(backend)?;
    let delivered: Option<i64> = row.try_get("delivered_at").map_err(backend)?;
    Ok(OutboxMessage {
        id: row.try_get("id").map_err(backend)?,
        fact: row.try_get("fact").map_err(backend)?,
        target: row.try_get("target").map_err(backend)?,
        body: row.try_get("body").map_err(backend)?,
        state: row.try_get("state").map_err(backend)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: epoch(row.try_get("next_attempt_at").map_err(backend)?)?,
        last_error: row.try_get("last_error").map_err(backend)?,
        created_at: epoch(row.try_get("created_at").map_err(backend)?)?,
        delivered_at: delivered.map(epoch).transpose()?,
    })
}

const CASE_COLUMNS: &str = "seq, id, ticket, customer, agreement_type, agreement, objective, metric, cycle, \
     breached_at, opened_at, state, closed_at, steps";

fn case_from_row(row: &SqliteRow) -> StoreResult<BreachCase> {
    let steps: String = row.try_get("steps").map_err(backend)?;
    let closed_at: Option<i64> = row.try_get("closed_at").map_err(backend)?;
    let cycle: i64 = row.try_get("cycle").map_err(backend)?;
    Ok(BreachCase {
        id: row.try_get("id").map_err(backend)?,
        ticket: row.try_get("ticket").map_err(backend)?,
        customer: row.try_get("customer").map_err(backend)?,
        agreement_type: row.try_get("agreement_type").map_err(backend)?,
        agreement: row.try_get("agreement").map_err(backend)?,
        objective: row.try_get("objective").map_err(backend)?,
        metric: row.try_get("metric").map_err(backend)?,
        cycle: u32::try_from(cycle).map_err(|_| corrupt("cycle", &cycle.to_string()))?,
        breached_at: epoch(row.try_get("breached_at").map_err(backend)?)?,
        opened_at: epoch(row.try_get("opened_at").map_err(backend)?)?,
        state: row.try_get("state").map_err(backend)?,
        closed_at: closed_at.map(epoch).transpose()?,
        steps: serde_json::from_str(&steps).map_err(|_| corrupt("case steps", &steps))?,
    })
}

async fn case_in(tx: &mut Transaction<'_, Sqlite>, id: &str) -> StoreResult<Option<BreachCase>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM breach_cases WHERE id = ?1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend)?
        .as_ref()
        .map(case_from_row)
        .transpose()
}

/// Drops the pending reminder of case `id` of `ticket` (found through the notices'
/// ticket index, not by scanning every notice).
async fn drop_reminder(
    tx: &mut Transaction<'_, Sqlite>,
    id: &str,
    ticket: &str,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM notices WHERE ticket = ?2 AND kind = 'breach_case.step_due'
           AND json_extract(body, '$.case') = ?1",
    )
    .bind(id)
    .bind(ticket)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Puts the reminder of an open case on its next step: due `remind_after` after the
/// last progress, once per step (a step already reminded of is not reminded again).
async fn schedule_reminder(tx: &mut Transaction<'_, Sqlite>, id: &str) -> StoreResult<()> {
    let sql =
        format!("SELECT {CASE_COLUMNS}, remind_after, targets FROM breach_cases WHERE id = ?1");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend)?
    else {
        return Ok(());
    };
    let case = case_from_row(&row)?;
    let remind_after: Option<i64> = row.try_get("remind_after").map_err(backend)?;
    let targets: String = row.try_get("targets").map_err(backend)?;
    drop_reminder(tx, id, &case.ticket).await?;
    let (Some(remind_after), Some(step), "open") =
        (remind_after, case.next_step(), case.state.as_str())
    else {
        return Ok(());
    };
    let last_progress = case
        .steps
        .values()
        .filter_map(|s| s.get("at")?.as_str()?.parse::<Timestamp>().ok())
        .chain([case.opened_at])
        .max()
        .unwrap_or(case.opened_at);
    let body = serde_json::json!({
        "type": "breach_case.step_due",
        "case": case.id,
        "step": step,
        "ticket": case.ticket,
        "customer": case.customer,
        "agreement": case.agreement,
        "agreement_type": case.agreement_type,
        "objective": case.objective,
        "metric": case.metric,
        "cycle": case.cycle,
        "breached_at": case.breached_at,
    });
    sqlx::query(
        "INSERT INTO notices (key, ticket, kind, due_at, body, targets)
         SELECT ?1, ?2, 'breach_case.step_due', ?3, ?4, ?5
         WHERE NOT EXISTS (SELECT 1 FROM announcements WHERE key = ?1)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(format!("{}:step_due:{step}", case.id))
    .bind(&case.ticket)
    .bind(last_progress.as_second() + remind_after)
    .bind(body.to_string())
    .bind(targets)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Tickets whose clocks are written between two chances for a waiting request to take
/// the writer (well under a millisecond of writing).
const CLOCK_PART: usize = 8;

/// Tickets the deriver writes in a turn before it gives way, however many wait: under
/// a load that always has a request waiting, the clocks still keep up (a few tenths of
/// a millisecond).
const CLOCK_TURN_MIN: usize = 64;

/// The statements that replace the clocks of some tickets, built before the writer is
/// taken.
struct ClockPart<'a> {
    /// The tickets as one JSON array: one prepared statement serves any number.
    names: String,
    customers: bulk::Rows<'a, 2>,
    rows: bulk::Rows<'a, 16>,
    cases: bulk::Rows<'a, 13>,
    /// The case ids of the clocks still breached, as a JSON array.
    still_breached: String,
    notices: Vec<QueryBuilder<Sqlite>>,
}

impl<'a> ClockPart<'a> {
    fn new(
        tickets: &'a [TicketClocks],
        breached: &'a [(&'a TicketClocks, &'a ClockRow, String)],
        now: Timestamp,
    ) -> StoreResult<Self> {
        let names: Vec<&str> = tickets.iter().map(|t| t.ticket.as_str()).collect();
        let names =
            serde_json::to_string(&names).map_err(|e| StoreError::Backend(e.to_string()))?;
        // Every ticket has its row (its events were stored first); only the customer
        // changes.
        let mut customers = bulk::Rows::new(
            "INSERT INTO tickets (ticket, customer)",
            "ON CONFLICT (ticket) DO UPDATE SET customer = excluded.customer \
             WHERE tickets.customer IS NOT excluded.customer",
        );
        let mut rows = bulk::Rows::new(
            "INSERT INTO clocks (ticket, agreement_type, metric, cycle, customer, team, agreement, \
             objective, state, started_at, stopped_at, breached_at, deadline, elapsed_seconds, \
             target_seconds, priority)",
            "",
        );
        for t in tickets {
            customers.push([(&t.ticket).into(), (&t.customer).into()]);
            for c in &t.clocks {
                rows.push([
                    (&t.ticket).into(),
                    (&c.agreement_type).into(),
                    (&c.metric).into(),
                    i64::from(c.cycle).into(),
                    (&t.customer).into(),
                    (&c.team).into(),
                    (&c.agreement).into(),
                    (&c.objective).into(),
                    (&c.state).into(),
                    c.started_at.as_second().into(),
                    c.stopped_at.map(|t| t.as_second()).into(),
                    c.breached_at.map(|t| t.as_second()).into(),
                    c.deadline.map(|t| t.as_second()).into(),
                    c.elapsed_seconds.into(),
                    c.target_seconds.into(),
                    (&c.priority).into(),
                ]);
            }
        }
        let mut notices = Vec::new();
        let notice_rows: Vec<&Notice> = tickets.iter().flat_map(|t| t.notices.iter()).collect();
        for chunk in notice_rows.chunks(BIND_CHUNK / 6) {
            // A fact already recorded is not due again. A breach whose case was withdrawn
            // and that is reached again is a new fact: a new key, from its instant.
            let mut q = QueryBuilder::<Sqlite>::new(
                "WITH v (key, ticket, kind, due_at, body, targets) AS (",
            );
            q.push_values(chunk, |mut b, n| {
                b.push_bind(n.key.clone())
                    .push_bind(n.ticket.clone())
                    .push_bind(n.kind.clone())
                    .push_bind(n.due_at.as_second())
                    .push_bind(n.body.to_string())
                    .push_bind(serde_json::Value::from(n.targets.clone()).to_string());
            });
            q.push(
                "), k AS (SELECT CASE WHEN v.kind = 'clock.breached' AND EXISTS \
                 (SELECT 1 FROM breach_cases c WHERE c.id = v.key AND c.state = 'withdrawn') \
                 THEN v.key || ':again:' || v.due_at ELSE v.key END AS key, \
                 ticket, kind, due_at, body, targets FROM v) \
                 INSERT INTO notices (key, ticket, kind, due_at, body, targets) \
                 SELECT * FROM k WHERE NOT EXISTS (SELECT 1 FROM announcements a WHERE a.key = k.key) \
                 ON CONFLICT (key) DO NOTHING",
            );
            notices.push(q);
        }
        Ok(ClockPart {
            names,
            customers,
            rows,
            cases: breach_case_rows(breached, now),
            still_breached: serde_json::to_string(
                &breached.iter().map(|(_, _, key)| key).collect::<Vec<_>>(),
            )
            .map_err(|e| StoreError::Backend(e.to_string()))?,
            notices,
        })
    }

    /// Deletes the tickets' clocks and derived notices, withdraws the cases of breaches
    /// they no longer have, and inserts their clocks, their customer and the cases of
    /// their breaches; adds the withdrawn cases to `withdrawn`. Statements are cached
    /// for the connection lent, so every part after the first reuses them.
    fn replace(
        &self,
        db: &rusqlite::Connection,
        now: Timestamp,
        withdrawn: &mut Vec<(String, String)>,
    ) -> rusqlite::Result<()> {
        db.prepare_cached("DELETE FROM clocks WHERE ticket IN (SELECT value FROM json_each(?1))")?
            .execute([&self.names])?;
        // Only the clocks' own notices: a withdrawal or a case reminder is not derived.
        db.prepare_cached(
            "DELETE FROM notices WHERE kind IN ('clock.warning', 'clock.internal_breached', \
             'clock.breached', 'clock.escalated') AND ticket IN (SELECT value FROM json_each(?1))",
        )?
        .execute([&self.names])?;
        // Withdrawn before the cases are opened: the new ones are breached, and the
        // withdrawal does not have to look at them.
        let mut withdraw = db.prepare_cached(WITHDRAW_BREACH_CASES)?;
        let mut rows = withdraw.query(rusqlite::params![
            self.names,
            self.still_breached,
            now.as_second()
        ])?;
        while let Some(row) = rows.next()? {
            withdrawn.push((row.get(0)?, row.get(1)?));
        }
        self.customers.insert(db, BIND_CHUNK)?;
        self.rows.insert(db, BIND_CHUNK)?;
        self.cases.insert(db, BIND_CHUNK)?;
        Ok(())
    }
}

/// The breached clocks of `tickets`, each with its case id.
fn breached_clocks(tickets: &[TicketClocks]) -> Vec<(&TicketClocks, &ClockRow, String)> {
    tickets
        .iter()
        .flat_map(|t| t.clocks.iter().map(move |c| (t, c)))
        .filter(|(_, c)| c.breached_at.is_some())
        .map(|(t, c)| {
            let key =
                accord_store::fact_key(&t.ticket, &c.agreement_type, &c.metric, c.cycle, "breach");
            (t, c, key)
        })
        .collect()
}

/// The rows that open a case for every breached clock (or reopen one a late event had
/// withdrawn).
fn breach_case_rows<'a>(
    breached: &'a [(&'a TicketClocks, &'a ClockRow, String)],
    now: Timestamp,
) -> bulk::Rows<'a, 13> {
    // A withdrawn case breached again recently is the watcher's to announce and reopen;
    // an older one will never be announced, so it reopens here.
    let tail = format!(
        "ON CONFLICT (id) DO UPDATE SET state = 'open', closed_at = NULL, \
         breached_at = excluded.breached_at WHERE breach_cases.state = 'withdrawn' \
         AND excluded.breached_at < {}",
        (now - accord_store::ANNOUNCE_WINDOW).as_second()
    );
    let mut rows = bulk::Rows::new(
        "INSERT INTO breach_cases (id, ticket, customer, agreement_type, agreement, objective, \
         metric, cycle, breached_at, opened_at, state, steps, targets)",
        tail,
    );
    for (t, c, key) in breached {
        rows.push([
            key.into(),
            (&t.ticket).into(),
            (&t.customer).into(),
            (&c.agreement_type).into(),
            (&c.agreement).into(),
            (&c.objective).into(),
            (&c.metric).into(),
            i64::from(c.cycle).into(),
            c.breached_at.map(|b| b.as_second()).into(),
            now.as_second().into(),
            "open".into(),
            "{}".into(),
            "[]".into(),
        ]);
    }
    rows
}

/// Withdraws the open or closed cases of the tickets in `?1` (a JSON array of names)
/// whose clocks are no longer breached (`?2`: the case ids that still are), at `?3`; gives
/// each withdrawn case's id and ticket.
const WITHDRAW_BREACH_CASES: &str = "UPDATE breach_cases SET state = 'withdrawn', closed_at = ?3
     WHERE state IN ('open', 'closed')
       AND ticket IN (SELECT value FROM json_each(?1))
       AND id NOT IN (SELECT value FROM json_each(?2))
     RETURNING id, ticket";

/// For each case just withdrawn (id, ticket): its reminder is dropped, and those who were
/// alerted of the breach are told.
async fn announce_withdrawals(
    tx: &mut Transaction<'_, Sqlite>,
    withdrawn: &[(String, String)],
    now: Timestamp,
) -> StoreResult<()> {
    for (id, ticket) in withdrawn {
        drop_reminder(tx, id, ticket).await?;
        // Told only to those who were told of the breach (Accord alerted them).
        sqlx::query(
            "INSERT INTO notices (key, ticket, kind, due_at, body, targets)
             SELECT id || ':withdrawn:' || breached_at, ticket, 'clock.breach_withdrawn', ?2,
                    json_object('type', 'clock.breach_withdrawn', 'case', id, 'ticket', ticket,
                                'customer', customer, 'agreement', agreement,
                                'agreement_type', agreement_type, 'objective', objective,
                                'metric', metric, 'cycle', cycle,
                                'breached_at', strftime('%Y-%m-%dT%H:%M:%SZ', breached_at, 'unixepoch')),
                    targets
             FROM breach_cases
             WHERE id = ?1 AND json_extract(steps, '$.team_alerted.by') = 'accord'
               AND NOT EXISTS (SELECT 1 FROM announcements
                               WHERE key = breach_cases.id || ':withdrawn:' || breach_cases.breached_at)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(id)
        .bind(now.as_second())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

fn numeric_cursor(list: &str, after: &Option<String>) -> StoreResult<i64> {
    match after {
        None => Ok(0),
        Some(c) => cursor::decode(list, c)?
            .parse()
            .map_err(|_| StoreError::BadCursor(c.clone())),
    }
}

/// Rows fetched in `seq` order (`limit + 1` of them) as a page of items; `key` makes
/// the cursor from an item's `seq` and the item.
fn page_of<T>(
    rows: &[SqliteRow],
    limit: u32,
    list: &str,
    item: impl Fn(&SqliteRow) -> StoreResult<T>,
    key: impl Fn(i64, &T) -> String,
) -> StoreResult<Page<T>> {
    let items = rows
        .iter()
        .map(|row| Ok((row.try_get::<i64, _>("seq").map_err(backend)?, item(row)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    let page = paginate(items, limit, list, |(seq, t)| key(*seq, t));
    Ok(Page {
        items: page.items.into_iter().map(|(_, t)| t).collect(),
        next: page.next,
    })
}

/// Splits `limit + 1` fetched rows into a page and the cursor of its last item.
fn paginate<T>(mut items: Vec<T>, limit: u32, list: &str, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = limit as usize;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| cursor::encode(list, &key(last)))
    } else {
        None
    };
    Page { items, next }
}

async fn insert_token(
    tx: &mut Transaction<'_, Sqlite>,
    actor: &Actor,
    token: &NewToken,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, label, scope, customer_id, digest, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&token.id)
    .bind(&token.label)
    .bind(token.scope.as_str())
    .bind(token.customer.as_ref().map(CustomerId::as_str))
    .bind(token.digest.0.as_slice())
    .bind(at.to_string())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    audit(
        tx,
        actor,
        at,
        "token.create",
        &token.id,
        serde_json::json!({
            "label": token.label,
            "scope": token.scope,
            "customer": token.customer,
        }),
    )
    .await
}

impl Store for SqliteStore {
    async fn health(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn bootstrap_admin(&self, token: NewToken, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let done =
            sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('bootstrapped', ?1)")
                .bind(at.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_token(&mut tx, &Actor::System, &token, at).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn create_token(
        &self,
        actor: &Actor,
        token: NewToken,
        at: Timestamp,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        insert_token(&mut tx, actor, &token, at).await?;
        tx.commit().await.map_err(backend)?;
        Ok(TokenRecord {
            id: token.id,
            label: token.label,
            scope: token.scope,
            customer: token.customer,
            created_at: at,
            revoked_at: None,
        })
    }

    async fn token_by_digest(&self, digest: &TokenDigest) -> StoreResult<Option<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE digest = ?1 AND revoked_at IS NULL"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(digest.0.as_slice())
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    async fn list_tokens(&self, page: &PageRequest) -> StoreResult<Page<TokenRecord>> {
        let after: i64 = numeric_cursor("tokens", &page.after)?;
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        page_of(&rows, page.limit, "tokens", token_from_row, |seq, _| {
            seq.to_string()
        })
    }

    async fn revoke_token(
        &self,
        actor: &Actor,
        id: &str,
        at: Timestamp,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let changed = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        )
        .bind(at.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if changed > 0 {
            audit(
                &mut tx,
                actor,
                at,
                "token.revoke",
                id,
                serde_json::json!({}),
            )
            .await?;
        }
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound {
                what: "token",
                id: id.to_owned(),
            })?;
        let record = token_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(record)
    }

    async fn current_config(&self) -> StoreResult<Option<StoredConfig>> {
        let row = sqlx::query(
            "SELECT revision, applied_at, files FROM config_revisions ORDER BY revision DESC LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let applied_at: String = row.try_get("applied_at").map_err(backend)?;
        let files: String = row.try_get("files").map_err(backend)?;
        Ok(Some(StoredConfig {
            revision: row.try_get("revision").map_err(backend)?,
            applied_at: parse_time(&applied_at)?,
            files: serde_json::from_str::<Vec<ConfigFile>>(&files)
                .map_err(|_| corrupt("configuration files", &files))?,
        }))
    }

    async fn apply_config(
        &self,
        actor: &Actor,
        files: Vec<ConfigFile>,
        customers: Vec<Customer>,
        summary: serde_json::Value,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let files =
            serde_json::to_string(&files).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let revision = sqlx::query(
            "INSERT INTO config_revisions (applied_at, actor, files) VALUES (?1, ?2, ?3)",
        )
        .bind(at.to_string())
        .bind(actor.to_string())
        .bind(files)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .last_insert_rowid();
        sqlx::query("DELETE FROM customers")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for c in &customers {
            sqlx::query(
                "INSERT INTO customers (id, name, tier, region, timezone) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(c.id.as_str())
            .bind(&c.name)
            .bind(&c.tier)
            .bind(&c.region)
            .bind(&c.timezone)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        audit(
            &mut tx,
            actor,
            at,
            "config.apply",
            &format!("revision {revision}"),
            summary,
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(revision)
    }

    async fn list_customers(
        &self,
        viewer: &Viewer,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let after = match &page.after {
            None => String::new(),
            Some(c) => cursor::decode("customers", c)?,
        };
        // The viewer filter is part of the query itself: a bound viewer cannot page past it.
        let rows = sqlx::query(
            "SELECT id, name, tier, region, timezone FROM customers
             WHERE id > ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id LIMIT ?3",
        )
        .bind(after)
        .bind(viewer.bound_customer().map(CustomerId::as_str))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        let items = rows
            .iter()
            .map(customer_from_row)
            .collect::<StoreResult<_>>()?;
        Ok(paginate(items, page.limit, "customers", |c: &Customer| {
            c.id.to_string()
        }))
    }

    async fn get_customer(
        &self,
        viewer: &Viewer,
        id: &CustomerId,
    ) -> StoreResult<Option<Customer>> {
        if !viewer.may_see(id) {
            return Ok(None);
        }
        sqlx::query("SELECT id, name, tier, region, timezone FROM customers WHERE id = ?1")
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?
            .as_ref()
            .map(customer_from_row)
            .transpose()
    }

    async fn ingest(
        &self,
        events: Vec<StoredEvent>,
        records: Vec<StoredRecord>,
    ) -> StoreResult<IngestOutcome> {
        if records.is_empty()
            && let Some(outcome) = self.ingest_new_events(&events).await?
        {
            return Ok(outcome);
        }
        // Set-based: one lookup of the ids and one of the tickets already stored, then
        // multi-row inserts; the decisions are made in item order, as one at a time would.
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let mut stored: HashMap<String, String> = HashMap::new();
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        for chunk in ids.chunks(BIND_CHUNK) {
            let mut q = in_list(
                "SELECT id, body FROM ticket_events WHERE id IN ",
                chunk.iter().copied(),
                "",
            );
            for row in q.build().fetch_all(&mut *tx).await.map_err(backend)? {
                stored.insert(
                    row.try_get("id").map_err(backend)?,
                    row.try_get("body").map_err(backend)?,
                );
            }
        }
        let created_tickets: Vec<&str> = events
            .iter()
            .filter(|e| e.is_created)
            .map(|e| e.ticket.as_str())
            .collect();
        let mut already_created: HashMap<String, String> = HashMap::new();
        for chunk in created_tickets.chunks(BIND_CHUNK) {
            let mut q = in_list(
                "SELECT ticket, created_id FROM tickets WHERE created_id IS NOT NULL AND ticket IN ",
                chunk.iter().copied(),
                "",
            );
            for row in q.build().fetch_all(&mut *tx).await.map_err(backend)? {
                already_created.insert(
                    row.try_get("ticket").map_err(backend)?,
                    row.try_get("created_id").map_err(backend)?,
                );
            }
        }

        let mut duplicates = 0;
        let mut fresh: Vec<&StoredEvent> = Vec::with_capacity(events.len());
        let mut in_batch: HashMap<&str, (usize, &str)> = HashMap::new();
        let mut created_in_batch: HashMap<&str, (usize, &str)> = HashMap::new();
        for (index, e) in events.iter().enumerate() {
            if let Some(&(first, body)) = in_batch.get(e.id.as_str()) {
                if body == e.body {
                    duplicates += 1;
                    continue;
                }
                return Err(StoreError::Rejected {
                    index,
                    message: format!(
                        "event id {:?} appears twice in this request with different content (first as item {first})",
                        e.id
                    ),
                });
            }
            in_batch.insert(&e.id, (index, &e.body));
            match stored.get(&e.id) {
                Some(body) if *body == e.body => {
                    duplicates += 1;
                    continue;
                }
                Some(_) => {
                    return Err(StoreError::Rejected {
                        index,
                        message: format!(
                            "event id {:?} was received before with different content",
                            e.id
                        ),
                    });
                }
                None => {}
            }
            if e.is_created {
                if let Some(&(first, id)) = created_in_batch.get(e.ticket.as_str()) {
                    return Err(StoreError::Rejected {
                        index,
                        message: format!(
                            "ticket {:?} is created twice in this request (first by event {id:?}, item {first})",
                            e.ticket
                        ),
                    });
                }
                if let Some(id) = already_created.get(&e.ticket) {
                    return Err(StoreError::Rejected {
                        index,
                        message: format!(
                            "ticket {:?} was already created (by event {id:?})",
                            e.ticket
                        ),
                    });
                }
                created_in_batch.insert(&e.ticket, (index, &e.id));
            }
            fresh.push(e);
        }
        let (fresh_records, record_duplicates) =
            check_records(&mut tx, &records, events.len()).await?;
        duplicates += record_duplicates;
        for chunk in fresh_records.chunks(BIND_CHUNK / 6) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO service_records (id, kind, service, from_at, to_at, body) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(&r.id)
                    .push_bind(&r.kind)
                    .push_bind(&r.service)
                    .push_bind(r.from.as_second())
                    .push_bind(r.to.as_second())
                    .push_bind(&r.body);
            });
            q.build().execute(&mut *tx).await.map_err(backend)?;
        }

        let mut tickets = std::collections::BTreeSet::new();
        for e in &fresh {
            tickets.insert(e.ticket.as_str());
        }
        let ticket_list: Vec<&str> = tickets.iter().copied().collect();
        for chunk in ticket_list.chunks(BIND_CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT OR IGNORE INTO tickets (ticket) ");
            q.push_values(chunk, |mut b, t| {
                b.push_bind(*t);
            });
            q.build().execute(&mut *tx).await.map_err(backend)?;
        }
        let created: Vec<(&str, &str)> = created_in_batch
            .iter()
            .map(|(t, (_, id))| (*t, *id))
            .collect();
        for chunk in created.chunks(BIND_CHUNK / 2) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO tickets (ticket, created_id) ");
            q.push_values(chunk, |mut b, (t, id)| {
                b.push_bind(*t).push_bind(*id);
            });
            q.push(" ON CONFLICT (ticket) DO UPDATE SET created_id = excluded.created_id");
            q.build().execute(&mut *tx).await.map_err(backend)?;
        }
        for chunk in fresh.chunks(BIND_CHUNK / 3) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT INTO ticket_events (id, ticket, body) ");
            q.push_values(chunk, |mut b, e| {
                b.push_bind(&e.id).push_bind(&e.ticket).push_bind(&e.body);
            });
            q.build().execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(IngestOutcome {
            accepted: fresh.len() + fresh_records.len(),
            duplicates,
            tickets: tickets.into_iter().map(str::to_owned).collect(),
        })
    }

    async fn service_records(&self, from: Timestamp, to: Timestamp) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT body FROM service_records WHERE from_at < ?2 AND to_at > ?1 ORDER BY seq",
        )
        .bind(from.as_second())
        .bind(to.as_second())
        .fetch_all(&self.reader)
        .await
        .map_err(backend)
    }

    async fn record_probes(
        &self,
        probes: Vec<ProbeResult>,
        failures_for_outage: u32,
    ) -> StoreResult<ProbeOutcome> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let mut outcome = ProbeOutcome::default();
        let threshold = i64::from(failures_for_outage.max(1));
        for probe in &probes {
            let state: Option<(i64, Option<i64>, i64)> = sqlx::query_as(
                "SELECT failures, first_failure_at, last_at FROM probe_state WHERE service = ?1",
            )
            .bind(&probe.service)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let at = probe.at.as_second();
            let (failures, first_failure) = match state {
                Some((_, _, last)) if at <= last => {
                    outcome.stale += 1;
                    continue;
                }
                Some((failures, first, _)) => (failures, first),
                None => (0, None),
            };
            outcome.accepted += 1;
            let (failures, first_failure) = if probe.up {
                if failures >= threshold
                    && let Some(since) = first_failure
                {
                    // The outage ends with this good probe: recorded once, under an id
                    // made of its service and start, so a replay of the probes cannot
                    // record it twice.
                    let outage = accord_core::availability::ServiceRecord::Outage(
                        accord_store::probe_outage(&probe.service, epoch(since)?, probe.at),
                    );
                    let record = StoredRecord::from_record(&outage);
                    sqlx::query(
                        "INSERT INTO service_records (id, kind, service, from_at, to_at, body) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&record.id)
                    .bind(&record.kind)
                    .bind(&record.service)
                    .bind(record.from.as_second())
                    .bind(record.to.as_second())
                    .bind(&record.body)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    outcome.outages_recorded.push(record.id);
                }
                (0, None)
            } else {
                (failures + 1, first_failure.or(Some(at)))
            };
            sqlx::query(
                "INSERT INTO probe_state (service, failures, first_failure_at, last_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (service) DO UPDATE SET \
                 failures = excluded.failures, first_failure_at = excluded.first_failure_at, \
                 last_at = excluded.last_at",
            )
            .bind(&probe.service)
            .bind(failures)
            .bind(first_failure)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn ongoing_outages(&self, failures_for_outage: u32) -> StoreResult<Vec<OngoingOutage>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT service, first_failure_at FROM probe_state \
             WHERE failures >= ?1 AND first_failure_at IS NOT NULL ORDER BY service",
        )
        .bind(i64::from(failures_for_outage.max(1)))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|(service, since)| {
                Ok(OngoingOutage {
                    service,
                    since: epoch(since)?,
                })
            })
            .collect()
    }

    async fn ended_clocks(&self, from: Timestamp, to: Timestamp) -> StoreResult<Vec<EndedClock>> {
        let rows = sqlx::query(
            "SELECT c.ticket, c.agreement_type, c.agreement, c.objective, c.metric, c.cycle, \
                    c.customer, c.priority, c.state, \
                    CASE c.state WHEN 'met' THEN c.stopped_at WHEN 'breached' THEN c.breached_at \
                        ELSE c.deadline END AS ended, \
                    json_extract(b.steps, '$.root_cause.category') AS cause, \
                    json_extract(b.steps, '$.review') AS review \
             FROM clocks c \
             LEFT JOIN breach_cases b ON c.state <> 'met' AND b.id = \
                 c.ticket || ':' || c.agreement_type || ':' || c.metric || ':' || c.cycle || ':breach' \
             WHERE (c.state = 'met' AND c.stopped_at >= ?1 AND c.stopped_at < ?2) \
                OR (c.state = 'breached' AND c.breached_at >= ?1 AND c.breached_at < ?2) \
                OR (c.state = 'running' AND c.deadline >= ?1 AND c.deadline < ?2)",
        )
        .bind(from.as_second())
        .bind(to.as_second())
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let cycle: i64 = row.try_get("cycle").map_err(backend)?;
                let state: String = row.try_get("state").map_err(backend)?;
                Ok(EndedClock {
                    ticket: row.try_get("ticket").map_err(backend)?,
                    agreement_type: row.try_get("agreement_type").map_err(backend)?,
                    agreement: row.try_get("agreement").map_err(backend)?,
                    objective: row.try_get("objective").map_err(backend)?,
                    metric: row.try_get("metric").map_err(backend)?,
                    cycle: u32::try_from(cycle)
                        .map_err(|_| corrupt("cycle", &cycle.to_string()))?,
                    customer: row.try_get("customer").map_err(backend)?,
                    priority: row.try_get("priority").map_err(backend)?,
                    cause: row.try_get("cause").map_err(backend)?,
                    review: row
                        .try_get::<Option<String>, _>("review")
                        .map_err(backend)?
                        .map(|text| {
                            serde_json::from_str(&text).map_err(|_| corrupt("review", &text))
                        })
                        .transpose()?,
                    // A running clock past its deadline (not derived since) breached there.
                    breached: state != "met",
                    at: epoch(row.try_get("ended").map_err(backend)?)?,
                })
            })
            .collect()
    }

    async fn events_of_tickets(
        &self,
        tickets: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, Vec<String>>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> =
            std::collections::BTreeMap::new();
        for chunk in tickets.chunks(BIND_CHUNK) {
            let mut q = in_list(
                "SELECT ticket, body FROM ticket_events WHERE ticket IN ",
                chunk.iter().map(String::as_str),
                " ORDER BY seq",
            );
            for row in q.build().fetch_all(&self.reader).await.map_err(backend)? {
                let ticket: String = row.try_get("ticket").map_err(backend)?;
                out.entry(ticket)
                    .or_default()
                    .push(row.try_get("body").map_err(backend)?);
            }
        }
        Ok(out)
    }

    async fn ticket_events(
        &self,
        viewer: &Viewer,
        ticket: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT customer FROM tickets WHERE ticket = ?1")
                .bind(ticket)
                .fetch_optional(&self.reader)
                .await
                .map_err(backend)?;
        let Some(customer) = row else {
            return Ok(None);
        };
        if let Some(bound) = viewer.bound_customer()
            && customer.as_deref() != Some(bound.as_str())
        {
            return Ok(None);
        }
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM ticket_events WHERE ticket = ?1 ORDER BY seq")
                .bind(ticket)
                .fetch_all(&self.reader)
                .await
                .map_err(backend)?;
        Ok(Some(bodies))
    }

    async fn event_counts(
        &self,
        tickets: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, u64>> {
        let mut out = std::collections::BTreeMap::new();
        for chunk in tickets.chunks(BIND_CHUNK) {
            // Counted on the (ticket, seq) index alone: no event body is read.
            let mut q = in_list(
                "SELECT ticket, count(*) AS n FROM ticket_events WHERE ticket IN ",
                chunk.iter().map(String::as_str),
                " GROUP BY ticket",
            );
            for row in q.build().fetch_all(&self.reader).await.map_err(backend)? {
                let n: i64 = row.try_get("n").map_err(backend)?;
                out.insert(
                    row.try_get("ticket").map_err(backend)?,
                    u64::try_from(n).map_err(|_| corrupt("event count", &n.to_string()))?,
                );
            }
        }
        Ok(out)
    }

    async fn ticket_ids(&self) -> StoreResult<Vec<String>> {
        sqlx::query_scalar("SELECT ticket FROM tickets ORDER BY ticket")
            .fetch_all(&self.reader)
            .await
            .map_err(backend)
    }

    async fn put_ticket_clocks(
        &self,
        tickets: Vec<TicketClocks>,
        now: Timestamp,
    ) -> StoreResult<()> {
        // Every statement is built first: the writer connection is held only to run them.
        let breached: Vec<_> = tickets.chunks(CLOCK_PART).map(breached_clocks).collect();
        let mut parts = tickets
            .chunks(CLOCK_PART)
            .zip(&breached)
            .map(|(part, breached)| ClockPart::new(part, breached, now))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut next = 0;
        while next < parts.len() {
            // Derived rows need not reach the disk before the call returns: a restart
            // derives every clock again (`writer::Relaxed`).
            let mut turn = self.writer.relaxed().await.map_err(backend)?;
            let mut tx = sqlx::Connection::begin(turn.connection())
                .await
                .map_err(backend)?;
            // Derived rows give way: when a request waits for the writer (an ingest is
            // answered only once durable), the parts written so far are committed, each
            // ticket whole, and the rest wait their turn.
            let writer = &self.writer;
            let mut withdrawn = Vec::new();
            let written = bulk::on_connection(&mut tx, |db| {
                let mut written = 0;
                for part in &parts[next..] {
                    part.replace(db, now, &mut withdrawn)?;
                    written += 1;
                    if written * CLOCK_PART >= CLOCK_TURN_MIN && writer.others_waiting() {
                        break;
                    }
                }
                Ok(written)
            })
            .await?;
            announce_withdrawals(&mut tx, &withdrawn, now).await?;
            // Cases before notices: whether a breach is a new fact depends on its case's
            // state.
            for part in &mut parts[next..next + written] {
                run_built(&mut tx, &mut part.notices).await?;
            }
            tx.commit().await.map_err(backend)?;
            turn.finish().await.map_err(backend)?;
            next += written;
        }
        Ok(())
    }

    async fn list_clocks(
        &self,
        viewer: &Viewer,
        filter: &ClockFilter,
        by_time_left: bool,
        now: Timestamp,
        page: &PageRequest,
    ) -> StoreResult<Page<ClockRow>> {
        // Cursors are positions in the ordered result (the order mixes computed states,
        // so a keyset would need the same expressions; positions keep it simple).
        let offset: i64 = numeric_cursor("clocks", &page.after)?;
        let order = if by_time_left {
            "ORDER BY (state <> 'running'), deadline, ticket, agreement_type, metric, cycle"
        } else {
            "ORDER BY ticket, agreement_type, metric, cycle"
        };
        // As of `now`, a running clock past its deadline has breached there.
        let sql = format!(
            "SELECT * FROM (
                SELECT ticket, customer, team, agreement_type, agreement, objective, metric, cycle,
                    CASE WHEN state = 'running' AND deadline <= ?1 THEN 'breached' ELSE state END AS state,
                    started_at, stopped_at,
                    CASE WHEN state = 'running' AND deadline <= ?1 THEN deadline ELSE breached_at END AS breached_at,
                    CASE WHEN state = 'running' AND deadline <= ?1 THEN NULL ELSE deadline END AS deadline,
                    elapsed_seconds, target_seconds, priority
                FROM clocks)
             WHERE (?2 IS NULL OR customer = ?2) AND (?3 IS NULL OR customer = ?3)
               AND (?4 IS NULL OR state = ?4) AND (?5 IS NULL OR agreement = ?5)
               AND (?6 IS NULL OR objective = ?6) AND (?7 IS NULL OR metric = ?7)
               AND (?8 IS NULL OR team = ?8)
             {order} LIMIT ?9 OFFSET ?10"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.as_second())
            .bind(viewer.bound_customer().map(CustomerId::as_str))
            .bind(&filter.customer)
            .bind(&filter.state)
            .bind(&filter.agreement)
            .bind(&filter.objective)
            .bind(&filter.metric)
            .bind(&filter.team)
            .bind(i64::from(page.limit) + 1)
            .bind(offset)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        let time = |v: Option<i64>| v.map(epoch).transpose();
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let cycle: i64 = row.try_get("cycle").map_err(backend)?;
            items.push(ClockRow {
                ticket: row.try_get("ticket").map_err(backend)?,
                customer: row.try_get("customer").map_err(backend)?,
                team: row.try_get("team").map_err(backend)?,
                agreement_type: row.try_get("agreement_type").map_err(backend)?,
                agreement: row.try_get("agreement").map_err(backend)?,
                objective: row.try_get("objective").map_err(backend)?,
                metric: row.try_get("metric").map_err(backend)?,
                cycle: u32::try_from(cycle).map_err(|_| corrupt("cycle", &cycle.to_string()))?,
                state: row.try_get("state").map_err(backend)?,
                priority: row.try_get("priority").map_err(backend)?,
                started_at: time(Some(row.try_get("started_at").map_err(backend)?))?
                    .unwrap_or(Timestamp::UNIX_EPOCH),
                stopped_at: time(row.try_get("stopped_at").map_err(backend)?)?,
                breached_at: time(row.try_get("breached_at").map_err(backend)?)?,
                deadline: time(row.try_get("deadline").map_err(backend)?)?,
                elapsed_seconds: row.try_get("elapsed_seconds").map_err(backend)?,
                target_seconds: row.try_get("target_seconds").map_err(backend)?,
            });
        }
        let limit = page.limit as usize;
        let next = (items.len() > limit)
            .then(|| cursor::encode("clocks", &(offset + i64::from(page.limit)).to_string()));
        items.truncate(limit);
        Ok(Page { items, next })
    }

    async fn next_notice_due(&self) -> StoreResult<Option<Timestamp>> {
        let due: Option<i64> = sqlx::query_scalar("SELECT MIN(due_at) FROM notices")
            .fetch_one(&self.reader)
            .await
            .map_err(backend)?;
        due.map(epoch).transpose()
    }

    async fn due_notices(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<Notice>> {
        let rows = sqlx::query(
            "SELECT key, ticket, kind, due_at, body, targets FROM notices
             WHERE due_at <= ?1 ORDER BY due_at, key LIMIT ?2",
        )
        .bind(now.as_second())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body").map_err(backend)?;
                let targets: String = row.try_get("targets").map_err(backend)?;
                Ok(Notice {
                    key: row.try_get("key").map_err(backend)?,
                    ticket: row.try_get("ticket").map_err(backend)?,
                    kind: row.try_get("kind").map_err(backend)?,
                    due_at: epoch(row.try_get("due_at").map_err(backend)?)?,
                    body: serde_json::from_str(&body).map_err(|_| corrupt("notice body", &body))?,
                    targets: serde_json::from_str(&targets)
                        .map_err(|_| corrupt("notice targets", &targets))?,
                })
            })
            .collect()
    }

    async fn record_announcements(
        &self,
        facts: Vec<Announcement>,
        messages: Vec<OutboxMessage>,
    ) -> StoreResult<usize> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let mut new_facts = std::collections::HashSet::new();
        for fact in &facts {
            let inserted = sqlx::query(
                "INSERT INTO announcements (key, ticket, kind, at, announced) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(&fact.key)
            .bind(&fact.ticket)
            .bind(&fact.kind)
            .bind(fact.at.as_second())
            .bind(fact.announced)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted > 0 {
                new_facts.insert(fact.key.as_str());
            }
            sqlx::query("DELETE FROM notices WHERE key = ?1")
                .bind(&fact.key)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        for m in messages
            .iter()
            .filter(|m| new_facts.contains(m.fact.as_str()))
        {
            sqlx::query(
                "INSERT INTO outbox (id, fact, target, body, state, attempts, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&m.id)
            .bind(&m.fact)
            .bind(&m.target)
            .bind(&m.body)
            .bind(m.next_attempt_at.as_second())
            .bind(m.created_at.as_second())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(new_facts.len())
    }

    async fn next_delivery_due(&self) -> StoreResult<Option<Timestamp>> {
        let due: Option<i64> =
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'")
                .fetch_one(&self.reader)
                .await
                .map_err(backend)?;
        due.map(epoch).transpose()
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let sql = format!(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE seq IN (
                 SELECT seq FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?2
                 ORDER BY next_attempt_at, seq LIMIT ?3)
             RETURNING {OUTBOX_COLUMNS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lease_until.as_second())
            .bind(now.as_second())
            .bind(i64::from(limit))
            .fetch_all(&mut *self.writer.acquire().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        let mut messages = rows
            .iter()
            .map(outbox_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        messages.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(messages)
    }

    async fn finish_delivery(&self, id: &str, outcome: DeliveryOutcome) -> StoreResult<()> {
        let q = match &outcome {
            DeliveryOutcome::Delivered { at } => sqlx::query(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?2,
                 last_error = NULL WHERE id = ?1 AND state = 'pending'",
            )
            .bind(id)
            .bind(at.as_second()),
            DeliveryOutcome::Failed { error, retry_at } => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
                 state = CASE WHEN ?3 IS NULL THEN 'dead' ELSE 'pending' END,
                 next_attempt_at = COALESCE(?3, next_attempt_at)
                 WHERE id = ?1 AND state = 'pending'",
            )
            .bind(id)
            .bind(error)
            .bind(retry_at.map(|t| t.as_second())),
        };
        q.execute(&mut *self.writer.acquire().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn list_outbox(
        &self,
        state: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<OutboxMessage>> {
        let after = numeric_cursor("outbox", &page.after)?;
        let sql = format!(
            "SELECT seq, {OUTBOX_COLUMNS} FROM outbox WHERE seq > ?1 AND (?2 IS NULL OR state = ?2)
             ORDER BY seq LIMIT ?3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(state)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        page_of(&rows, page.limit, "outbox", outbox_from_row, |seq, _| {
            seq.to_string()
        })
    }

    async fn retry_delivery(
        &self,
        actor: &Actor,
        id: &str,
        at: Timestamp,
    ) -> StoreResult<OutboxMessage> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let changed = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, attempts = 0
             WHERE id = ?1 AND state = 'dead'",
        )
        .bind(id)
        .bind(at.as_second())
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if changed > 0 {
            audit(
                &mut tx,
                actor,
                at,
                "notification.retry",
                id,
                serde_json::json!({}),
            )
            .await?;
        }
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound {
                what: "notification",
                id: id.to_owned(),
            })?;
        let message = outbox_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(message)
    }

    async fn ticket_announcements(&self, ticket: &str) -> StoreResult<Vec<Announcement>> {
        let rows = sqlx::query(
            "SELECT key, ticket, kind, at, announced FROM announcements WHERE ticket = ?1 ORDER BY at, key",
        )
        .bind(ticket)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(Announcement {
                    key: row.try_get("key").map_err(backend)?,
                    ticket: row.try_get("ticket").map_err(backend)?,
                    kind: row.try_get("kind").map_err(backend)?,
                    at: epoch(row.try_get("at").map_err(backend)?)?,
                    announced: row.try_get("announced").map_err(backend)?,
                })
            })
            .collect()
    }

    async fn open_breach_cases(
        &self,
        cases: Vec<NewBreachCase>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if cases.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await.map_err(backend)?;
        for case in &cases {
            let steps = match case.alerted_at {
                Some(at) => serde_json::json!({"team_alerted": {"at": at, "by": "accord"}}),
                None => serde_json::json!({}),
            };
            sqlx::query(
                "INSERT INTO breach_cases (id, ticket, customer, agreement_type, agreement, objective,
                     metric, cycle, breached_at, opened_at, state, steps, targets, remind_after)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'open', ?11, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET
                     state = CASE WHEN state = 'withdrawn' THEN 'open' ELSE state END,
                     closed_at = CASE WHEN state = 'withdrawn' THEN NULL ELSE closed_at END,
                     breached_at = CASE WHEN state = 'withdrawn' THEN excluded.breached_at
                                   ELSE breached_at END,
                     steps = CASE
                         WHEN json_extract(excluded.steps, '$.team_alerted') IS NOT NULL
                              AND json_extract(steps, '$.team_alerted') IS NULL
                         THEN json_set(steps, '$.team_alerted', json_extract(excluded.steps, '$.team_alerted'))
                         ELSE steps END,
                     targets = excluded.targets,
                     remind_after = excluded.remind_after",
            )
            .bind(&case.id)
            .bind(&case.ticket)
            .bind(&case.customer)
            .bind(&case.agreement_type)
            .bind(&case.agreement)
            .bind(&case.objective)
            .bind(&case.metric)
            .bind(i64::from(case.cycle))
            .bind(case.breached_at.as_second())
            .bind(now.as_second())
            .bind(steps.to_string())
            .bind(serde_json::Value::from(case.targets.clone()).to_string())
            .bind(case.remind_after.map(|d| d.as_secs()))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            schedule_reminder(&mut tx, &case.id).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn list_breach_cases(
        &self,
        viewer: &Viewer,
        filter: &CaseFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<BreachCase>> {
        let (after_at, after_seq) = match &page.after {
            None => (i64::MIN, 0),
            Some(c) => cursor::decode("cases", c)?
                .split_once(':')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| StoreError::BadCursor(c.clone()))?,
        };
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM breach_cases
             WHERE (breached_at, seq) > (?1, ?2)
               AND (?3 IS NULL OR customer = ?3) AND (?4 IS NULL OR customer = ?4)
               AND (?5 IS NULL OR state = ?5) AND (?6 IS NULL OR ticket = ?6)
               AND (?7 IS NULL OR breached_at >= ?7) AND (?8 IS NULL OR breached_at < ?8)
             ORDER BY breached_at, seq LIMIT ?9"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after_at)
            .bind(after_seq)
            .bind(viewer.bound_customer().map(|c| c.as_str().to_owned()))
            .bind(&filter.customer)
            .bind(&filter.state)
            .bind(&filter.ticket)
            .bind(filter.from.map(|t| t.as_second()))
            .bind(filter.to.map(|t| t.as_second()))
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        page_of(&rows, page.limit, "cases", case_from_row, |seq, c| {
            format!("{}:{seq}", c.breached_at.as_second())
        })
    }

    async fn breach_case(&self, viewer: &Viewer, id: &str) -> StoreResult<Option<BreachCase>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM breach_cases WHERE id = ?1 AND (?2 IS NULL OR customer = ?2)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(viewer.bound_customer().map(|c| c.as_str().to_owned()))
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?
            .as_ref()
            .map(case_from_row)
            .transpose()
    }

    async fn record_case_step(
        &self,
        actor: &Actor,
        id: &str,
        step: &str,
        fields: serde_json::Map<String, serde_json::Value>,
        at: Timestamp,
    ) -> StoreResult<BreachCase> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let mut case = case_in(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "breach case",
                id: id.to_owned(),
            })?;
        if case.state == "withdrawn" {
            return Err(StoreError::Conflict(format!(
                "breach case {id:?} was withdrawn: a late event undid the breach"
            )));
        }
        if let Some(done) = case.steps.get(step) {
            return Err(StoreError::Conflict(format!(
                "step {step} of breach case {id:?} was done already (by {} at {})",
                done["by"].as_str().unwrap_or("?"),
                done["at"].as_str().unwrap_or("?")
            )));
        }
        let mut record = serde_json::Map::new();
        record.insert("at".into(), serde_json::json!(at));
        record.insert("by".into(), serde_json::json!(actor.to_string()));
        record.extend(fields.clone());
        case.steps
            .insert(step.to_owned(), serde_json::Value::Object(record));
        if case.next_step().is_none() {
            case.state = "closed".into();
            case.closed_at = Some(at);
        }
        sqlx::query("UPDATE breach_cases SET steps = ?2, state = ?3, closed_at = ?4 WHERE id = ?1")
            .bind(id)
            .bind(serde_json::Value::Object(case.steps.clone()).to_string())
            .bind(&case.state)
            .bind(case.closed_at.map(|t| t.as_second()))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        audit(
            &mut tx,
            actor,
            at,
            "breach_case.step",
            id,
            serde_json::json!({"step": step, "fields": fields}),
        )
        .await?;
        schedule_reminder(&mut tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(case)
    }

    async fn list_audit(&self, page: &PageRequest) -> StoreResult<Page<AuditEntry>> {
        let after: i64 = numeric_cursor("audit", &page.after)?;
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, target, detail FROM audit_log
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .bind(after)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        let items = rows
            .iter()
            .map(|row| {
                let at: String = row.try_get("at").map_err(backend)?;
                let detail: String = row.try_get("detail").map_err(backend)?;
                Ok(AuditEntry {
                    seq: row.try_get("seq").map_err(backend)?,
                    at: parse_time(&at)?,
                    actor: row.try_get("actor").map_err(backend)?,
                    action: row.try_get("action").map_err(backend)?,
                    target: row.try_get("target").map_err(backend)?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|_| corrupt("audit detail", &detail))?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(paginate(items, page.limit, "audit", |e: &AuditEntry| {
            e.seq.to_string()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clocks_of(ticket: String) -> TicketClocks {
        let started_at: Timestamp = "2026-03-02T09:00:00Z".parse().expect("instant");
        TicketClocks {
            clocks: vec![ClockRow {
                ticket: ticket.clone(),
                customer: None,
                team: None,
                agreement_type: "sla".into(),
                agreement: "acme-gold".into(),
                objective: "first-response".into(),
                metric: "first_response".into(),
                cycle: 0,
                state: "met".into(),
                priority: None,
                started_at,
                stopped_at: Some(started_at),
                breached_at: None,
                deadline: None,
                elapsed_seconds: 60,
                target_seconds: 3600,
            }],
            ticket,
            customer: Some("acme".into()),
            notices: Vec::new(),
        }
    }

    /// The clock deriver's rows give way: a request that comes while they are written
    /// waits for the deriver's least turn, not for all of them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_waits_for_a_turn_of_the_clocks_not_for_all() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open_in(dir.path()).await.expect("store");
        let now: Timestamp = "2026-03-03T00:00:00Z".parse().expect("instant");
        let tickets: Vec<TicketClocks> =
            (0..5_000).map(|i| clocks_of(format!("T-{i:05}"))).collect();
        // The writer is busy; the clocks queue for it first, then a request.
        let busy = store.writer.acquire().await.expect("writer");
        let put = tokio::spawn({
            let store = store.clone();
            async move { store.put_ticket_clocks(tickets, now).await }
        });
        while store.writer.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        let request = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .ingest_events(vec![StoredEvent {
                        id: "e-1".into(),
                        ticket: "T-00000".into(),
                        is_created: true,
                        body: "{}".into(),
                    }])
                    .await
            }
        });
        while store.writer.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        drop(busy);
        request.await.expect("task").expect("ingest");
        let before: i64 = sqlx::query_scalar("SELECT count(*) FROM clocks")
            .fetch_one(&store.reader)
            .await
            .expect("count");
        // A request waited from the start: the deriver wrote its least turn, no more.
        assert_eq!(
            before as usize,
            CLOCK_TURN_MIN.div_ceil(CLOCK_PART) * CLOCK_PART,
            "the request had the writer after {before} of 5000 tickets' clocks"
        );
        assert!(!put.is_finished());
        put.await.expect("task").expect("clocks");
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM clocks")
            .fetch_one(&store.reader)
            .await
            .expect("count");
        assert_eq!(stored, 5_000, "every ticket's clock is there in the end");
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *store.writer.acquire().await.expect("writer"))
            .await
            .expect("pragma");
        assert_eq!(mode, 2, "the writer is durable again (FULL)");
    }
}
