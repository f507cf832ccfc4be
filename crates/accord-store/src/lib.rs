//! The storage boundary of Accord.
//!
//! [`Store`] is the one trait every backend implements (SQLite by default, PostgreSQL for
//! several server nodes); the server is generic over it and never sees a driver type.
//! Two invariants live here rather than in the handlers, so every endpoint inherits them:
//!
//! - every read of customer data takes a [`Viewer`], and a viewer bound to one customer
//!   gets nothing of any other customer, whatever the caller asks for;
//! - every change is written together with its [`AuditEntry`], in one transaction, so
//!   the audit log never misses a change and never records one that did not happen.
//!
//! With the `story` feature, [`story::run`] is the shared test suite every backend passes.

#![forbid(unsafe_code)]

mod model;
#[cfg(feature = "story")]
pub mod story;

pub use model::*;

use std::future::Future;

use accord_core::CustomerId;
use jiff::Timestamp;

/// What went wrong in a store, in the store's words (no driver types leak out).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or the viewer may not see it).
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    /// The change contradicts what is stored (a duplicate key, say).
    #[error("{0}")]
    Conflict(String),
    /// An item of a batch contradicts what is stored or another item (a repeated event
    /// id with different content, a second `created` for a ticket). Nothing was written.
    #[error("item {index}: {message}")]
    Rejected { index: usize, message: String },
    /// A pagination cursor that this store did not hand out.
    #[error("the cursor {0:?} is not one this server handed out")]
    BadCursor(String),
    /// The database failed or is unreachable; the detail is for the logs, not the caller.
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Accord's storage. Implementations are cheap to clone (a handle to a pool).
///
/// Methods return `Send` futures so a server generic over the store can run them on any
/// worker thread. Writes take the instant of the change (`at`) from the caller: the store
/// never reads the wall clock.
pub trait Store: Clone + Send + Sync + 'static {
    /// Succeeds when the database answers a trivial query.
    fn health(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// On the very first start only, stores the first admin token and returns `true`; on
    /// every later start returns `false` and stores nothing. Atomic: two nodes starting at
    /// once create one admin token between them.
    fn bootstrap_admin(
        &self,
        token: NewToken,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Stores a new API token (only its digest) and audits it.
    fn create_token(
        &self,
        actor: &Actor,
        token: NewToken,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<TokenRecord>> + Send;

    /// The live (not revoked) token with this digest, if any.
    fn token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = StoreResult<Option<TokenRecord>>> + Send;

    /// Every token, revoked ones included, oldest first.
    fn list_tokens(
        &self,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<TokenRecord>>> + Send;

    /// Revokes a token (idempotent: revoking a revoked token changes nothing and is not
    /// audited again). `NotFound` when no token has that id.
    fn revoke_token(
        &self,
        actor: &Actor,
        id: &str,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<TokenRecord>> + Send;

    /// The configuration in force (the SLA-as-code files last applied), if any.
    fn current_config(&self) -> impl Future<Output = StoreResult<Option<StoredConfig>>> + Send;

    /// Stores a new configuration revision, replaces the customers with `customers` (the
    /// customers it declares) and audits the change, all in one transaction. Returns the
    /// new revision number.
    fn apply_config(
        &self,
        actor: &Actor,
        files: Vec<ConfigFile>,
        customers: Vec<Customer>,
        summary: serde_json::Value,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<i64>> + Send;

    /// The customers this viewer may see, by id.
    fn list_customers(
        &self,
        viewer: &Viewer,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<Customer>>> + Send;

    /// One customer, or `None` when it does not exist or the viewer may not see it (the
    /// two are indistinguishable on purpose: a bound token learns nothing of others).
    fn get_customer(
        &self,
        viewer: &Viewer,
        id: &CustomerId,
    ) -> impl Future<Output = StoreResult<Option<Customer>>> + Send;

    /// Stores a batch of ticket events, all or nothing, committed durably before it
    /// returns. A repeat of a stored id with the same body is a duplicate (not stored
    /// again); with another body, or a second `created` for a ticket, the whole batch is
    /// `Rejected` naming the item.
    fn ingest_events(
        &self,
        events: Vec<StoredEvent>,
    ) -> impl Future<Output = StoreResult<IngestOutcome>> + Send {
        self.ingest(events, Vec::new())
    }

    /// [`Store::ingest_events`] with outage and maintenance records in the same
    /// transaction: a record repeated with other content rejects the batch too, as item
    /// `events.len() + its position`.
    fn ingest(
        &self,
        events: Vec<StoredEvent>,
        records: Vec<StoredRecord>,
    ) -> impl Future<Output = StoreResult<IngestOutcome>> + Send;

    /// The records (bodies, in arrival order) whose span overlaps `[from, to)`.
    fn service_records(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Applies probe results in order: per service, `failures_for_outage` consecutive
    /// failures make an outage from the first of them, recorded (as a record with a
    /// stable id) when a good probe ends it. Results not later than a service's last are
    /// stale and ignored. One transaction.
    fn record_probes(
        &self,
        probes: Vec<ProbeResult>,
        failures_for_outage: u32,
    ) -> impl Future<Output = StoreResult<ProbeOutcome>> + Send;

    /// Services down now by their probes (an outage not yet ended).
    fn ongoing_outages(
        &self,
        failures_for_outage: u32,
    ) -> impl Future<Output = StoreResult<Vec<OngoingOutage>>> + Send;

    /// The clocks that ended (met at their stop, breached at their breach) in
    /// `[from, to)`, as the report counts them; a running clock whose deadline is in
    /// `[from, to)` counts as breached there (as of `to`).
    fn ended_clocks(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = StoreResult<Vec<EndedClock>>> + Send;

    /// A ticket's events (bodies) in arrival order, and its customer as last recorded;
    /// `None` when the ticket does not exist or the viewer may not see it.
    fn ticket_events(
        &self,
        viewer: &Viewer,
        ticket: &str,
    ) -> impl Future<Output = StoreResult<Option<Vec<String>>>> + Send;

    /// The events (bodies, in arrival order) of each of `tickets` that exists.
    fn events_of_tickets(
        &self,
        tickets: &[String],
    ) -> impl Future<Output = StoreResult<std::collections::BTreeMap<String, Vec<String>>>> + Send;

    /// How many events each of `tickets` has stored (a ticket with none is left out): the
    /// clock deriver uses the events a request carried, without reading them back, when
    /// they are all the ticket has.
    fn event_counts(
        &self,
        tickets: &[String],
    ) -> impl Future<Output = StoreResult<std::collections::BTreeMap<String, u64>>> + Send;

    /// Every ticket id, in name order (to re-derive clocks after a configuration change).
    fn ticket_ids(&self) -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Replaces the clocks of each ticket given (and records its current customer), each
    /// ticket's whole in one transaction. The rows are derived and written in the
    /// background, so a store may commit between tickets to let a waiting write go first
    /// (the SQLite store does), and need not make them durable before it returns: the
    /// server derives every clock again when it starts.
    ///
    /// Breach cases follow the clocks as derived at `now`: a breached clock's case is
    /// opened if it was not (history), and an open case whose clock is no longer
    /// breached (a late event) is withdrawn, with `clock.breach_withdrawn` due to those
    /// who were told of the breach.
    fn put_ticket_clocks(
        &self,
        tickets: Vec<TicketClocks>,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The clocks matching `filter` that the viewer may see, as of `now`; with
    /// `by_time_left`, running clocks first by deadline (the at-risk queue).
    fn list_clocks(
        &self,
        viewer: &Viewer,
        filter: &ClockFilter,
        by_time_left: bool,
        now: Timestamp,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<ClockRow>>> + Send;

    /// The earliest instant a stored notice falls due, if any.
    fn next_notice_due(&self) -> impl Future<Output = StoreResult<Option<Timestamp>>> + Send;

    /// Notices due at or before `now`, earliest first.
    fn due_notices(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<Notice>>> + Send;

    /// Records facts once, with their messages, and drops their notices, in one
    /// transaction. A fact already recorded (another watcher was first) is left as it
    /// is and adds no message. Returns how many facts were new.
    fn record_announcements(
        &self,
        facts: Vec<Announcement>,
        messages: Vec<OutboxMessage>,
    ) -> impl Future<Output = StoreResult<usize>> + Send;

    /// The earliest instant a pending message is due, if any.
    fn next_delivery_due(&self) -> impl Future<Output = StoreResult<Option<Timestamp>>> + Send;

    /// Pending messages due at `now`, claimed until `lease_until` (so no other worker
    /// takes them meanwhile; a crash leaves them to be tried again after the lease).
    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<OutboxMessage>>> + Send;

    /// Records the outcome of one attempt.
    fn finish_delivery(
        &self,
        id: &str,
        outcome: DeliveryOutcome,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Messages, oldest first, optionally only those in `state`.
    fn list_outbox(
        &self,
        state: Option<&str>,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<OutboxMessage>>> + Send;

    /// Puts a dead message back to be delivered at `at` (audited). `NotFound` when no
    /// message has that id; a message that is not dead is left as it is.
    fn retry_delivery(
        &self,
        actor: &Actor,
        id: &str,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<OutboxMessage>> + Send;

    /// Recorded facts of a ticket, oldest first.
    fn ticket_announcements(
        &self,
        ticket: &str,
    ) -> impl Future<Output = StoreResult<Vec<Announcement>>> + Send;

    /// Opens breach cases (an open or closed case stays as it is; a withdrawn one whose
    /// breach came back opens again). A case alerted now gets its automatic step and,
    /// with `remind_after`, a reminder notice for its next step.
    fn open_breach_cases(
        &self,
        cases: Vec<NewBreachCase>,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Breach cases the viewer may see, by breach instant then id.
    fn list_breach_cases(
        &self,
        viewer: &Viewer,
        filter: &CaseFilter,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<BreachCase>>> + Send;

    /// One breach case, if the viewer may see it.
    fn breach_case(
        &self,
        viewer: &Viewer,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<BreachCase>>> + Send;

    /// Records a step of a case as done by `actor` at `at`, with its fields (audited);
    /// the case closes when every step is done, and the reminder moves to the next step.
    /// `NotFound` for no such case; `Conflict` when the step is done already or the
    /// case is withdrawn.
    fn record_case_step(
        &self,
        actor: &Actor,
        id: &str,
        step: &str,
        fields: serde_json::Map<String, serde_json::Value>,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<BreachCase>> + Send;

    /// The audit log, oldest first.
    fn list_audit(
        &self,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<AuditEntry>>> + Send;
}
