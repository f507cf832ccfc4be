//! Deriving and keeping each ticket's clocks: after events arrive and after the
//! configuration changes, the affected tickets are folded again (DESIGN 5: the server
//! keeps each clock's current result).

use compact_str::CompactString;
use jiff::Timestamp;

use accord_core::clock::{self, ClockResult, Event};
use accord_core::policy::{Config, TicketFacts};
use accord_store::{ClockRow, Store, StoreError, TicketClocks, Viewer};

/// Tickets derived per store call: large enough that a batch is counted, read and stored
/// in one go, small enough that a re-derivation of every ticket (after a restart) never
/// holds them all.
const DERIVE_CHUNK: usize = 2_000;

/// Most events the queue holds for the deriver; past it, tickets are queued without their
/// events, which are read back from the store (a backlog stays small in memory).
const HELD_EVENTS: usize = 200_000;

/// How long the deriver lets queued tickets gather before it starts a round: the bound
/// it adds to how soon a reader sees new clocks.
const GATHER: std::time::Duration = std::time::Duration::from_millis(25);

/// Each of `tickets` with the events of `events` that are its.
fn carried(tickets: Vec<String>, events: Vec<Event>) -> Vec<(String, Option<Vec<Event>>)> {
    let mut by_ticket: std::collections::BTreeMap<String, Option<Vec<Event>>> =
        tickets.into_iter().map(|t| (t, Some(Vec::new()))).collect();
    for e in events {
        if let Some(Some(held)) = by_ticket.get_mut(e.ticket.as_str()) {
            held.push(e);
        }
    }
    by_ticket.into_iter().collect()
}

/// The tickets queued for the deriver.
#[derive(Debug, Default)]
struct Waiting {
    /// Each ticket with the events requests carried for it since it was queued, or
    /// `None` when they are to be read from the store (queued by other means, or past
    /// [`HELD_EVENTS`]).
    tickets: std::collections::BTreeMap<String, Option<Vec<Event>>>,
    /// Events held in `tickets`.
    held: usize,
}

impl Waiting {
    fn add(&mut self, ticket: String, events: Option<Vec<Event>>) {
        let events = events.filter(|e| self.held + e.len() <= HELD_EVENTS);
        match self.tickets.entry(ticket) {
            std::collections::btree_map::Entry::Vacant(v) => {
                self.held += events.as_ref().map_or(0, Vec::len);
                v.insert(events);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => match (o.get_mut(), events) {
                (Some(held), Some(more)) => {
                    self.held += more.len();
                    held.extend(more);
                }
                (slot, _) => {
                    // Either side unknown: the store has them all.
                    self.held -= slot.as_ref().map_or(0, Vec::len);
                    *slot = None;
                }
            },
        }
    }
}

/// The clock deriver: events are acknowledged once durable, and their tickets' clocks
/// are derived right after by one background task. Tickets queued while it works are
/// merged, so a ticket touched by many batches under load is folded once, and no two
/// derivations of one ticket race (an older result can never overwrite a newer one).
/// Readers of stored clocks wait for the queue to drain ([`Pending::settled`]), so they
/// never see clocks older than an acknowledged event.
#[derive(Debug, Clone)]
pub struct Pending {
    queue: std::sync::Arc<Queue>,
    /// Dropped with the last handle, which ends the deriver.
    _alive: std::sync::Arc<tokio::sync::watch::Sender<()>>,
}

#[derive(Debug)]
struct Queue {
    /// Tickets waiting, merged.
    waiting: std::sync::Mutex<Waiting>,
    /// Requests not yet finished (queued or being derived).
    outstanding: std::sync::atomic::AtomicUsize,
    /// Wakes the deriver.
    work: tokio::sync::Notify,
    /// Tells [`Pending::settled`] waiters that the queue drained.
    drained: tokio::sync::Notify,
    /// Told each time stored clocks changed (the watcher re-plans).
    clocks_changed: std::sync::Arc<tokio::sync::Notify>,
}

impl Pending {
    /// Starts the deriver for `store`; it folds with the configuration in force when it
    /// runs, and stops once every handle is dropped.
    pub fn start<S: Store>(
        store: S,
        config: crate::live_config::ConfigHandle,
        clocks_changed: std::sync::Arc<tokio::sync::Notify>,
    ) -> Self {
        let queue = std::sync::Arc::new(Queue {
            waiting: Default::default(),
            outstanding: Default::default(),
            work: Default::default(),
            drained: Default::default(),
            clocks_changed,
        });
        let (alive, handles_gone) = tokio::sync::watch::channel(());
        tokio::spawn(run_deriver(queue.clone(), handles_gone, store, config));
        Pending {
            queue,
            _alive: std::sync::Arc::new(alive),
        }
    }

    /// Queues `tickets` for derivation (their events are read from the store).
    pub fn derive(&self, tickets: Vec<String>) {
        self.queue(tickets.into_iter().map(|t| (t, None)).collect());
    }

    /// Queues `tickets` for derivation after a request stored `events` (all of the
    /// request's events, repeats too). When those are all a ticket has stored, it is
    /// derived from them without reading them back.
    pub fn derive_stored(&self, tickets: Vec<String>, events: Vec<Event>) {
        self.queue(carried(tickets, events));
    }

    fn queue(&self, tickets: Vec<(String, Option<Vec<Event>>)>) {
        use std::sync::atomic::Ordering;
        if tickets.is_empty() {
            return;
        }
        let mut waiting = lock(&self.queue.waiting);
        // Counted under the lock the deriver takes the tickets under, so a round never
        // counts a request whose tickets it did not take.
        self.queue.outstanding.fetch_add(1, Ordering::SeqCst);
        for (ticket, events) in tickets {
            waiting.add(ticket, events);
        }
        drop(waiting);
        self.queue.work.notify_one();
    }

    /// Waits until no derivation is queued or under way (at most `limit`).
    pub async fn settled(&self, limit: std::time::Duration) {
        use std::sync::atomic::Ordering;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let drained = self.queue.drained.notified();
            if self.queue.outstanding.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return;
            }
        }
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn run_deriver<S: Store>(
    q: std::sync::Arc<Queue>,
    mut handles_gone: tokio::sync::watch::Receiver<()>,
    store: S,
    config: crate::live_config::ConfigHandle,
) {
    use std::sync::atomic::Ordering;
    loop {
        let notified = q.work.notified();
        if lock(&q.waiting).tickets.is_empty() {
            tokio::select! {
                () = notified => continue,
                // Every handle dropped (a stopped server): nothing can queue work again.
                Err(_) = handles_gone.changed() => return,
            }
        }
        drop(notified);
        // Let a burst gather: under load, tickets of several batches are derived in
        // one transaction (a ticket in more than one of them, once).
        tokio::time::sleep(GATHER).await;
        let (taken, tickets) = {
            let mut waiting = lock(&q.waiting);
            (
                q.outstanding.load(Ordering::SeqCst),
                std::mem::take(&mut *waiting),
            )
        };
        let mut tickets = tickets.tickets.into_iter().peekable();
        while tickets.peek().is_some() {
            let chunk: Vec<(String, Option<Vec<Event>>)> =
                tickets.by_ref().take(DERIVE_CHUNK).collect();
            let config = config.get();
            let done = refresh(&store, &config.config, chunk, crate::wall_clock::now()).await;
            tracing::debug!(
                from_requests = done.carried,
                read_back = done.read,
                "tickets' clocks derived"
            );
            q.clocks_changed.notify_one();
        }
        if taken > 0 && q.outstanding.fetch_sub(taken, Ordering::SeqCst) == taken {
            q.drained.notify_waiters();
        }
    }
}

/// A ticket's stored events, parsed.
pub async fn load_events<S: Store>(
    store: &S,
    viewer: &Viewer,
    ticket: &str,
) -> Result<Option<Vec<Event>>, StoreError> {
    let Some(bodies) = store.ticket_events(viewer, ticket).await? else {
        return Ok(None);
    };
    let events = bodies
        .iter()
        .map(|b| {
            serde_json::from_str::<Event>(b)
                .map_err(|e| StoreError::Backend(format!("stored event does not parse: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(events))
}

/// A ticket as of `now`: its events in apply order (de-duplicated), its facts and status,
/// and its clocks.
pub struct Derived {
    pub events: Vec<Event>,
    pub facts: TicketFacts,
    pub status: CompactString,
    pub clocks: Vec<ClockResult>,
}

pub fn derive(config: &Config, ticket: &str, events: Vec<Event>, now: Timestamp) -> Derived {
    let events = clock::prepare(events).into_ticket(ticket);
    let (facts, status) = clock::ticket_facts(&events, now);
    let clocks = clock::fold_ticket(config, ticket, &events, now);
    Derived {
        events,
        facts,
        status,
        clocks,
    }
}

/// Folds `tickets` again and stores their clocks, in one store call (each ticket's
/// clocks replaced whole; the store may commit between tickets to let a request go
/// first). A ticket
/// comes with the events requests carried for it, or `None`; those events are used when
/// they are all the ticket has stored (counted in one query), and otherwise its events
/// are read (in one go for the call). Failures are logged, not returned: the events are
/// already durable, and the next change re-derives the ticket.
async fn refresh<S: Store>(
    store: &S,
    config: &Config,
    tickets: Vec<(String, Option<Vec<Event>>)>,
    now: Timestamp,
) -> Refreshed {
    let n = tickets.len();
    let carried: Vec<String> = tickets
        .iter()
        .filter(|(_, e)| e.is_some())
        .map(|(t, _)| t.clone())
        .collect();
    // Either store call with no tickets is answered without a query.
    let counts = match store.event_counts(&carried).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(tickets = n, error = %e, "could not count the tickets' events");
            return Refreshed::default();
        }
    };
    let mut known = Vec::with_capacity(n);
    let mut to_read = Vec::new();
    for (ticket, events) in tickets {
        match events {
            Some(events) if counts.get(&ticket) == Some(&distinct_ids(&events)) => {
                known.push((ticket, events));
            }
            _ => to_read.push(ticket),
        }
    }
    let bodies = match store.events_of_tickets(&to_read).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(tickets = n, error = %e, "could not read the tickets' events");
            return Refreshed::default();
        }
    };
    let mut derived = Vec::with_capacity(n);
    let done = Refreshed {
        carried: known.len(),
        read: to_read.len(),
    };
    for (ticket, events) in known {
        derived.push(ticket_clocks(config, ticket, events, now));
    }
    for (ticket, bodies) in bodies {
        let events: Result<Vec<Event>, _> = bodies
            .iter()
            .map(|b| serde_json::from_str::<Event>(b))
            .collect();
        match events {
            Ok(events) => derived.push(ticket_clocks(config, ticket, events, now)),
            Err(e) => tracing::error!(ticket, error = %e, "a stored event does not parse"),
        }
    }
    if let Err(e) = store.put_ticket_clocks(derived, now).await {
        tracing::error!(tickets = n, error = %e, "could not store the tickets' clocks");
        return Refreshed::default();
    }
    done
}

/// How the tickets of a [`refresh`] got their events.
#[derive(Debug, Default, Clone, Copy)]
struct Refreshed {
    /// From the requests that carried them.
    carried: usize,
    /// Read from the store.
    read: usize,
}

/// How many events of distinct ids `events` holds (repeats are stored once).
fn distinct_ids(events: &[Event]) -> u64 {
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.len() as u64
}

/// A ticket's clocks and notices, derived from all its events, as stored.
fn ticket_clocks(
    config: &Config,
    ticket: String,
    events: Vec<Event>,
    now: Timestamp,
) -> TicketClocks {
    let d = derive(config, &ticket, events, now);
    let clocks = rows(&d.clocks, &d.facts.team);
    let notices = crate::notify::notices(
        config,
        d.facts.customer.as_deref(),
        d.facts.priority.as_deref(),
        &d.clocks,
        now,
    );
    TicketClocks {
        ticket,
        customer: d.facts.customer.map(String::from),
        clocks,
        notices,
    }
}

fn rows(clocks: &[ClockResult], team: &Option<CompactString>) -> Vec<ClockRow> {
    clocks
        .iter()
        .map(|c| ClockRow {
            ticket: c.ticket.to_string(),
            customer: None,
            team: team.as_ref().map(ToString::to_string),
            agreement_type: c.agreement_type.as_str().to_owned(),
            agreement: c.agreement.to_string(),
            objective: c.objective.to_string(),
            metric: c.metric.as_str().to_owned(),
            cycle: c.cycle,
            state: c.state.as_str().to_owned(),
            priority: c.priority.as_ref().map(ToString::to_string),
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            breached_at: c.breached_at,
            deadline: c.deadline,
            elapsed_seconds: c.elapsed_seconds,
            target_seconds: c.target_seconds,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use accord_core::policy::SourceFile;
    use accord_store::{ClockFilter, PageRequest, StoredEvent};

    fn examples() -> Config {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let files: Vec<SourceFile> = std::fs::read_dir(&dir)
            .expect("examples")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .map(|path| SourceFile {
                path: path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                text: std::fs::read_to_string(&path).expect("example"),
            })
            .collect();
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string());
        accord_core::policy::load(&files, &read)
            .map_err(|e| format!("{e:?}"))
            .expect("the examples load")
            .config
    }

    fn event(id: &str, ticket: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "id": id, "ticket": ticket, "at": "2026-11-02T09:00:00Z", "type": "updated"
        }))
        .expect("event")
    }

    async fn all_clocks(store: &impl Store, now: Timestamp) -> Vec<ClockRow> {
        let page = PageRequest {
            limit: 100_000,
            after: None,
        };
        store
            .list_clocks(
                &Viewer::Everything,
                &ClockFilter::default(),
                false,
                now,
                &page,
            )
            .await
            .expect("clocks")
            .items
    }

    /// A ticket derived from the events its requests carried gets the clocks it gets
    /// from its events read back; one with events stored before (several requests,
    /// late and repeated events) is read back.
    #[tokio::test]
    async fn clocks_from_carried_events_are_the_clocks_from_the_store() {
        let dir = tempfile::tempdir().expect("dir");
        let store = accord_store_sqlite::SqliteStore::open_in(dir.path())
            .await
            .expect("store");
        let config = examples();
        let now: Timestamp = "2026-11-20T00:00:00Z".parse().expect("now");
        let spec = accord_core::synthetic::Spec::examples(
            300,
            "2026-10-01T00:00:00Z".parse().expect("from"),
            "2026-11-01T00:00:00Z".parse().expect("to"),
            5,
        );
        let events: Vec<Event> = accord_core::synthetic::generate(&spec).collect();
        let (mut carried_total, mut read_total) = (0, 0);
        for batch in events.chunks(97) {
            let stored = batch
                .iter()
                .map(|e| StoredEvent {
                    id: e.id.to_string(),
                    ticket: e.ticket.to_string(),
                    is_created: e.kind == clock::EventType::Created,
                    body: serde_json::to_string(e).expect("body"),
                })
                .collect();
            let outcome = store.ingest_events(stored).await.expect("ingest");
            let done = refresh(
                &store,
                &config,
                carried(outcome.tickets, batch.to_vec()),
                now,
            )
            .await;
            carried_total += done.carried;
            read_total += done.read;
        }
        assert!(
            carried_total > 100 && read_total > 0,
            "both ways taken: {carried_total} carried, {read_total} read"
        );
        let from_requests = all_clocks(&store, now).await;
        assert!(from_requests.len() > 600, "{}", from_requests.len());

        let every: Vec<(String, Option<Vec<Event>>)> = store
            .ticket_ids()
            .await
            .expect("ids")
            .into_iter()
            .map(|t| (t, None))
            .collect();
        let done = refresh(&store, &config, every, now).await;
        assert_eq!((done.carried, done.read), (0, 300));
        let from_store = all_clocks(&store, now).await;
        assert_eq!(from_store.len(), from_requests.len());
        let differ: Vec<_> = from_requests
            .iter()
            .zip(&from_store)
            .filter(|(a, b)| a != b)
            .collect();
        assert!(
            differ.is_empty(),
            "{} differ, the first: {:#?}",
            differ.len(),
            differ[0]
        );
    }

    #[test]
    fn queued_events_merge_until_one_side_is_unknown_and_stay_bounded() {
        let mut w = Waiting::default();
        w.add("T-1".into(), Some(vec![event("a", "T-1")]));
        w.add(
            "T-1".into(),
            Some(vec![event("b", "T-1"), event("a", "T-1")]),
        );
        w.add("T-2".into(), Some(vec![event("c", "T-2")]));
        assert_eq!(w.held, 4);
        let ids = |w: &Waiting, t: &str| -> Option<Vec<String>> {
            w.tickets[t]
                .as_ref()
                .map(|e| e.iter().map(|e| e.id.to_string()).collect())
        };
        assert_eq!(
            ids(&w, "T-1"),
            Some(vec!["a".into(), "b".into(), "a".into()])
        );
        assert_eq!(distinct_ids(w.tickets["T-1"].as_deref().expect("held")), 2);
        // Queued without events (a configuration change): read from the store, and the
        // events held for it are let go; later events do not bring it back.
        w.add("T-1".into(), None);
        w.add("T-1".into(), Some(vec![event("d", "T-1")]));
        assert_eq!((ids(&w, "T-1"), w.held), (None, 1));
        // Past the bound, a ticket is queued without its events.
        w.held = HELD_EVENTS;
        w.add("T-3".into(), Some(vec![event("e", "T-3")]));
        assert_eq!((ids(&w, "T-3"), w.held), (None, HELD_EVENTS));
    }
}
