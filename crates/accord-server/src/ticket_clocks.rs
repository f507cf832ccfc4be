//! Deriving and keeping each ticket's clocks: after events arrive and after the
//! configuration changes, the affected tickets are folded again (DESIGN 5: the server
//! keeps each clock's current result).

use compact_str::CompactString;
use jiff::Timestamp;

use accord_core::clock::{self, ClockResult, Event};
use accord_core::policy::{Config, TicketFacts};
use accord_store::{ClockRow, Store, StoreError, TicketClocks, Viewer};

/// Derivations of clocks under way: events are acknowledged once durable, and their
/// tickets' clocks are derived right after, in the background; readers of stored clocks
/// wait for those to finish, so they never see clocks older than an acknowledged event.
#[derive(Debug, Clone, Default)]
pub struct Pending(
    std::sync::Arc<(std::sync::atomic::AtomicUsize, tokio::sync::Notify)>,
    /// Told each time stored clocks changed (the watcher re-plans).
    std::sync::Arc<tokio::sync::Notify>,
);

impl Pending {
    /// Derivations that tell `clocks_changed` when they stored clocks.
    pub fn new(clocks_changed: std::sync::Arc<tokio::sync::Notify>) -> Self {
        Pending(Default::default(), clocks_changed)
    }

    /// Derives `tickets`' clocks in the background.
    pub fn spawn<S: Store>(
        &self,
        store: S,
        config: std::sync::Arc<crate::live_config::LiveConfig>,
        tickets: Vec<String>,
    ) {
        use std::sync::atomic::Ordering;
        if tickets.is_empty() {
            return;
        }
        self.0.0.fetch_add(1, Ordering::SeqCst);
        let pending = self.clone();
        tokio::spawn(async move {
            refresh(&store, &config.config, &tickets, crate::wall_clock::now()).await;
            pending.1.notify_one();
            if pending.0.0.fetch_sub(1, Ordering::SeqCst) == 1 {
                pending.0.1.notify_waiters();
            }
        });
    }

    /// Waits until no derivation is under way (at most `limit`).
    pub async fn settled(&self, limit: std::time::Duration) {
        use std::sync::atomic::Ordering;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.0.1.notified();
            if self.0.0.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
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
                let notices =
                    crate::notify::notices(config, d.facts.customer.as_deref(), &d.clocks);
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
    if let Err(e) = store.put_ticket_clocks(derived).await {
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
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            breached_at: c.breached_at,
            deadline: c.deadline,
            elapsed_seconds: c.elapsed_seconds,
            target_seconds: c.target_seconds,
        })
        .collect()
}
