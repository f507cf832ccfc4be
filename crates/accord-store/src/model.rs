//! The records a store keeps and the small types its methods take.

use std::fmt;
use std::str::FromStr;

use accord_core::CustomerId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a token may do. `admin` may do everything; `ingest` may send events; `read` may
/// read (and, bound to a customer, read only that customer's data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Admin,
    Ingest,
    Read,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Admin, Scope::Ingest, Scope::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Ingest => "ingest",
            Scope::Read => "read",
        }
    }

    /// Whether a token of this scope may do what `needed` allows. Admin covers all.
    pub fn allows(self, needed: Scope) -> bool {
        self == Scope::Admin || self == needed
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is none of `admin`, `ingest`, `read`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: expected admin, ingest or read")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// The SHA-256 digest of a token: all a store ever keeps of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest is not the secret, but there is no reason to spread it through logs.
        f.write_str("TokenDigest(..)")
    }
}

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub label: String,
    pub scope: Scope,
    pub customer: Option<CustomerId>,
    pub digest: TokenDigest,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub label: String,
    pub scope: Scope,
    pub customer: Option<CustomerId>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl TokenRecord {
    /// What this token may read.
    pub fn viewer(&self) -> Viewer {
        match &self.customer {
            Some(customer) => Viewer::Customer(customer.clone()),
            None => Viewer::Everything,
        }
    }
}

/// What a caller may read. Every read of customer data takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// An unbound token: every customer's data.
    Everything,
    /// A token bound to one customer: that customer's data and nothing else.
    Customer(CustomerId),
}

impl Viewer {
    pub fn may_see(&self, customer: &CustomerId) -> bool {
        match self {
            Viewer::Everything => true,
            Viewer::Customer(own) => own == customer,
        }
    }

    /// The one customer this viewer is bound to, if any (for filters in SQL).
    pub fn bound_customer(&self) -> Option<&CustomerId> {
        match self {
            Viewer::Everything => None,
            Viewer::Customer(own) => Some(own),
        }
    }
}

/// Who made a change, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Accord itself (first start, later: the watcher's own actions).
    System,
    /// A request authenticated with this token id.
    Token(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Token(id) => write!(f, "token:{id}"),
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the log, increasing.
    pub seq: i64,
    pub at: Timestamp,
    /// `system` or `token:<id>`.
    pub actor: String,
    /// What was done, e.g. `token.create`, `customer.update`.
    pub action: String,
    /// What it was done to, e.g. the token or customer id.
    pub target: String,
    /// The change itself (never a secret).
    pub detail: serde_json::Value,
}

/// A customer of the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    /// e.g. `gold`, `silver`, `bronze`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// IANA time zone name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// One file of an applied configuration (a YAML document file or a file it references,
/// such as an `.ics`), by its path relative to the configuration directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    pub path: String,
    pub text: String,
}

/// A ticket event as stored: its identity and its JSON text (the exact event, so a
/// repeat can be told from a conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub ticket: String,
    /// `created` events decide a ticket's first creation; the rest need no type here.
    pub is_created: bool,
    /// The event as canonical JSON.
    pub body: String,
}

/// An outage or maintenance record as stored: its id, service and span, and the record
/// as canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: String,
    /// `outage` or `maintenance`.
    pub kind: String,
    pub service: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub body: String,
}

impl StoredRecord {
    pub fn from_record(record: &accord_core::availability::ServiceRecord) -> StoredRecord {
        let (from, to) = record.span();
        StoredRecord {
            id: record.id().to_owned(),
            kind: record.kind().to_owned(),
            service: record.service().to_owned(),
            from,
            to,
            body: serde_json::to_string(record).unwrap_or_default(),
        }
    }
}

/// One probe result: was the service up at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub service: String,
    pub at: Timestamp,
    pub up: bool,
}

/// What a batch of probe results did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeOutcome {
    pub accepted: usize,
    /// Results not later than the service's last one: ignored.
    pub stale: usize,
    /// Outages that ended with a good probe, stored as records (their ids).
    pub outages_recorded: Vec<String>,
}

/// A service down now by its probes: failing since `since`, not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OngoingOutage {
    pub service: String,
    pub since: Timestamp,
}

impl OngoingOutage {
    /// The outage as a record, counted as down until `to`.
    pub fn until(&self, to: Timestamp) -> accord_core::availability::Outage {
        probe_outage(&self.service, self.since, to)
    }
}

/// An outage found by probes, as a record: its id `probe:SERVICE:START` is made of the
/// service and the start, so however often it is derived it is the same record.
pub fn probe_outage(
    service: &str,
    since: Timestamp,
    to: Timestamp,
) -> accord_core::availability::Outage {
    accord_core::availability::Outage {
        id: format!("probe:{service}:{}", since.as_second()).into(),
        service: service.into(),
        from: since,
        to,
        impact: accord_core::availability::WHOLE,
    }
}

/// A clock that ended: met or breached, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedClock {
    pub ticket: String,
    /// `sla`, `ola` or `uc`.
    pub agreement_type: String,
    pub agreement: String,
    pub objective: String,
    pub metric: String,
    pub cycle: u32,
    pub customer: Option<String>,
    pub priority: Option<String>,
    /// A breach's case: the `root_cause` category and the `review` step's answers, once
    /// recorded.
    pub cause: Option<String>,
    pub review: Option<serde_json::Map<String, serde_json::Value>>,
    pub breached: bool,
    /// The stop of a met clock, the breach of a breached one.
    pub at: Timestamp,
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    pub accepted: usize,
    /// Exact repeats of events already stored (or repeated in the batch).
    pub duplicates: usize,
    /// The tickets that received new events, in name order.
    pub tickets: Vec<String>,
}

/// One clock, as the at-risk queue keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockRow {
    pub ticket: String,
    pub customer: Option<String>,
    pub team: Option<String>,
    /// `sla`, `ola` or `uc`.
    pub agreement_type: String,
    pub agreement: String,
    pub objective: String,
    pub metric: String,
    pub cycle: u32,
    /// `running`, `paused`, `met`, `breached` or `cancelled`, as of `computed_at`.
    pub state: String,
    /// The ticket's priority when the clock stopped (for an open clock, its current one).
    pub priority: Option<String>,
    pub started_at: Timestamp,
    pub stopped_at: Option<Timestamp>,
    pub breached_at: Option<Timestamp>,
    pub deadline: Option<Timestamp>,
    pub elapsed_seconds: i64,
    pub target_seconds: i64,
}

/// A ticket's clocks as last derived, with its current customer and the milestones of
/// its clocks that are still to be announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketClocks {
    pub ticket: String,
    pub customer: Option<String>,
    pub clocks: Vec<ClockRow>,
    pub notices: Vec<Notice>,
}

/// A fact about a clock that is announced when it falls due (a warning, a breach, …):
/// replaced with its ticket's clocks until it is announced, then kept as an
/// [`Announcement`] for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// The idempotency key: the same fact always has the same key (DESIGN 4.3).
    pub key: String,
    pub ticket: String,
    /// `clock.warning`, `clock.internal_breached`, `clock.breached`, `clock.escalated`.
    pub kind: String,
    pub due_at: Timestamp,
    /// The message, without `id` and `at` (added when it is announced).
    pub body: serde_json::Value,
    /// The `notify` entries it goes to (`webhook:ID`, `team:ID`, `email:ADDRESS`, …).
    pub targets: Vec<String>,
}

/// A fact recorded once: `announced` when its messages went to the outbox, not when it
/// was learnt too late to announce (DESIGN 4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announcement {
    pub key: String,
    pub ticket: String,
    pub kind: String,
    pub at: Timestamp,
    pub announced: bool,
}

/// How late a fact may be learnt and still be announced (DESIGN 4.3: "less than a day").
pub const ANNOUNCE_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

pub use accord_core::clock::fact_key;

/// The steps of a breach response, in the order they are usually done (DESIGN 3.2;
/// decided in `docs/decisions.md`).
pub const CASE_STEPS: [&str; 7] = [
    "team_alerted",
    "owner",
    "root_cause",
    "customer_notified",
    "service_restored",
    "customer_informed",
    "review",
];

/// A breach case: the response to one breach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreachCase {
    /// The breach fact's key (`T-1:sla:first_response:1:breach`).
    pub id: String,
    pub ticket: String,
    pub customer: Option<String>,
    pub agreement_type: String,
    pub agreement: String,
    pub objective: String,
    pub metric: String,
    pub cycle: u32,
    pub breached_at: Timestamp,
    pub opened_at: Timestamp,
    /// `open`, `closed` (every step done) or `withdrawn` (a late event undid the breach).
    pub state: String,
    pub closed_at: Option<Timestamp>,
    /// Step name → `{"at", "by", …the step's fields}`, for the steps done.
    pub steps: serde_json::Map<String, serde_json::Value>,
}

impl BreachCase {
    /// The first step, in [`CASE_STEPS`] order, not done yet.
    pub fn next_step(&self) -> Option<&'static str> {
        CASE_STEPS
            .iter()
            .copied()
            .find(|s| !self.steps.contains_key(*s))
    }
}

/// A breach case to open (nothing happens when it is open already).
#[derive(Debug, Clone, PartialEq)]
pub struct NewBreachCase {
    pub id: String,
    pub ticket: String,
    pub customer: Option<String>,
    pub agreement_type: String,
    pub agreement: String,
    pub objective: String,
    pub metric: String,
    pub cycle: u32,
    pub breached_at: Timestamp,
    /// When Accord told the targets (the automatic `team_alerted` step); `None` for a
    /// breach recorded without being announced.
    pub alerted_at: Option<Timestamp>,
    /// Who gets the case's reminders and its withdrawal.
    pub targets: Vec<String>,
    /// How long a step may linger before its reminder; `None`: no reminders.
    pub remind_after: Option<jiff::SignedDuration>,
}

/// Which breach cases to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub customer: Option<String>,
    pub state: Option<String>,
    pub ticket: Option<String>,
    /// Breached at or after.
    pub from: Option<Timestamp>,
    /// Breached before.
    pub to: Option<Timestamp>,
}

/// One message to one concrete target (a channel or an address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    /// The fact's key and the target: unique per delivery, stable across retries.
    pub id: String,
    pub fact: String,
    pub target: String,
    /// The JSON message as it is sent.
    pub body: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        at: Timestamp,
    },
    /// Failed; tried again at `retry_at`, or dead (kept for an operator) when `None`.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// Which clocks to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClockFilter {
    pub customer: Option<String>,
    /// As of `now`: a running clock whose deadline has passed counts as breached.
    pub state: Option<String>,
    pub agreement: Option<String>,
    pub objective: Option<String>,
    pub metric: Option<String>,
    pub team: Option<String>,
}

/// A stored configuration revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConfig {
    pub revision: i64,
    pub applied_at: Timestamp,
    pub files: Vec<ConfigFile>,
}

/// Largest page a list returns, whatever `limit` asks for.
pub const MAX_PAGE: u32 = 1000;
/// Page size when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 100;

/// One page of a list: at most `limit` items after the opaque cursor `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE,
            after: None,
        }
    }
}

impl PageRequest {
    /// A request for `limit` items (clamped to 1..=MAX_PAGE).
    pub fn new(limit: u32, after: Option<String>) -> Self {
        Self {
            limit: limit.clamp(1, MAX_PAGE),
            after,
        }
    }
}

/// A page of results and the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Cursors are opaque to callers: the key of the last item, hex-encoded with a prefix
/// so a cursor of one list is not mistaken for another's.
pub mod cursor {
    use super::StoreErrorCursor;

    pub fn encode(list: &str, key: &str) -> String {
        format!("{list}.{}", hex::encode(key))
    }

    pub fn decode(list: &str, cursor: &str) -> Result<String, StoreErrorCursor> {
        let bad = || StoreErrorCursor(cursor.to_owned());
        let hex = cursor
            .strip_prefix(list)
            .and_then(|rest| rest.strip_prefix('.'))
            .ok_or_else(bad)?;
        let bytes = hex::decode(hex).map_err(|_| bad())?;
        String::from_utf8(bytes).map_err(|_| bad())
    }
}

/// A cursor that does not decode.
#[derive(Debug)]
pub struct StoreErrorCursor(pub String);

impl From<StoreErrorCursor> for crate::StoreError {
    fn from(e: StoreErrorCursor) -> Self {
        crate::StoreError::BadCursor(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_cover() {
        assert_eq!("read".parse::<Scope>(), Ok(Scope::Read));
        assert_eq!(
            "root".parse::<Scope>().unwrap_err().to_string(),
            "unknown scope \"root\": expected admin, ingest or read"
        );
        assert!(Scope::Admin.allows(Scope::Read));
        assert!(Scope::Admin.allows(Scope::Ingest));
        assert!(!Scope::Read.allows(Scope::Ingest));
        assert!(!Scope::Ingest.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Admin));
    }

    #[test]
    fn cursors_round_trip_and_refuse_strangers() {
        let c = cursor::encode("customers", "acme é");
        assert_eq!(cursor::decode("customers", &c).unwrap(), "acme é");
        assert!(cursor::decode("tokens", &c).is_err());
        assert!(cursor::decode("customers", "customers.zz").is_err());
        assert!(cursor::decode("customers", "customers.abc").is_err());
    }

    #[test]
    fn a_bound_viewer_sees_only_its_customer() {
        let acme: CustomerId = "acme".parse().unwrap();
        let globex: CustomerId = "globex".parse().unwrap();
        let v = Viewer::Customer(acme.clone());
        assert!(v.may_see(&acme));
        assert!(!v.may_see(&globex));
        assert!(Viewer::Everything.may_see(&globex));
    }
}
