//! Deriving and keeping each ticket's clocks: after events arrive and after the
//! configuration changes, the affected tickets are folded again (DESIGN 5: the server
//! keeps each clock's current result).

use compact_str::CompactString;
use jiff::Timestamp;

use accord_core::clock::{self, ClockResult, Event};
use accord_core::policy::{Config, TicketFacts};
use accord_store::{ClockRow, Store, StoreError, TicketClocks, Viewer};

/// Tickets derived per transaction: large enough that a batch costs one commit, small
/// enough that a re-derivation of every ticket (after a restart) never holds them all.
const DERIVE_CHUNK: usize = 2_000;

/// How long the deriver lets queued tickets gather before it starts a round: the bound
/// it adds to how soon a reader sees new clocks.
const GATHER: std::time::Duration = std::time::Duration::from_millis(25);

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
    waiting: std::sync::Mutex<std::collections::BTreeSet<String>>,
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

    /// Queues `tickets` for derivation.
    pub fn derive(&self, tickets: Vec<String>) {
        use std::sync::atomic::Ordering;
        if tickets.is_empty() {
            return;
        }
        let mut waiting = lock(&self.queue.waiting);
        // Counted under the lock the deriver takes the tickets under, so a round never
        // counts a request whose tickets it did not take.
        self.queue.outstanding.fetch_add(1, Ordering::SeqCst);
        waiting.extend(tickets);
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
        if lock(&q.waiting).is_empty() {
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
        let tickets: Vec<String> = tickets.into_iter().collect();
        for chunk in tickets.chunks(DERIVE_CHUNK) {
            let config = config.get();
            refresh(&store, &config.config, chunk, crate::wall_clock::now()).await;
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

/// Folds `tickets` again and stores their clocks, in one transaction per call (their
/// events read in one go). Failures are logged, not returned: the events are already
/// durable, and the next change re-derives the ticket.
pub async fn refresh<S: Store>(store: &S, config: &Config, tickets: &[String], now: Timestamp) {
    let bodies = match store.events_of_tickets(tickets).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(tickets = tickets.len(), error = %e, "could not read the tickets' events");
            return;
        }
    };
    let mut derived = Vec::with_capacity(bodies.len());
    for (ticket, bodies) in bodies {
        let events: Result<Vec<Event>, _> = bodies
            .iter()
            .map(|b| serde_json::from_str::<Event>(b))
            .collect();
        match events {
            Ok(events) => {
                let d = derive(config, &ticket, events, now);
                let clocks = rows(&d.clocks, &d.facts.team);
                let notices = crate::notify::notices(
                    config,
                    d.facts.customer.as_deref(),
                    d.facts.priority.as_deref(),
                    &d.clocks,
                    now,
                );
                derived.push(TicketClocks {
                    ticket,
                    customer: d.facts.customer.map(String::from),
                    clocks,
                    notices,
                });
            }
            Err(e) => tracing::error!(ticket, error = %e, "a stored event does not parse"),
        }
    }
    if let Err(e) = store.put_ticket_clocks(derived, now).await {
        tracing::error!(tickets = tickets.len(), error = %e, "could not store the tickets' clocks");
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
