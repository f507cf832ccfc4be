//! Synthetic ticket histories for demos and benchmarks: realistic mixes of priorities,
//! customers, replies, pauses, hand-offs, supplier waits, priority changes, reopenings,
//! and (on request) late and duplicate events. Deterministic for a seed.

use compact_str::CompactString;
use jiff::Timestamp;

use crate::clock::{Event, EventType};

/// A small, fast, seedable generator (splitmix64): the same seed gives the same history
/// on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// One of `items` with the given weights.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u64)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.next_u64() % total.max(1);
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub tickets: usize,
    /// Tickets are created uniformly in `[from, to)`.
    pub from: Timestamp,
    pub to: Timestamp,
    pub seed: u64,
    /// Customers with weights.
    pub customers: Vec<(CompactString, u64)>,
    pub services: Vec<CompactString>,
    /// Priorities, highest first, with weights.
    pub priorities: Vec<(CompactString, u64)>,
    /// The team that first takes tickets, and teams tickets are handed to.
    pub desk_team: CompactString,
    pub other_teams: Vec<CompactString>,
    pub suppliers: Vec<CompactString>,
    /// Percent of events delivered late (after later events of their ticket) and
    /// delivered twice.
    pub late_percent: u64,
    pub duplicate_percent: u64,
    /// Ticket ids are `{prefix}{n}`.
    pub ticket_prefix: String,
}

impl Spec {
    /// The customers, services, teams and suppliers of `examples/`.
    pub fn examples(tickets: usize, from: Timestamp, to: Timestamp, seed: u64) -> Spec {
        let s = |v: &[&str]| {
            v.iter()
                .map(|x| CompactString::from(*x))
                .collect::<Vec<_>>()
        };
        Spec {
            tickets,
            from,
            to,
            seed,
            customers: vec![
                ("acme".into(), 35),
                ("umbrella".into(), 25),
                ("globex".into(), 25),
                ("initech".into(), 15),
            ],
            services: s(&["email", "vpn", "erp", "workplace"]),
            priorities: vec![
                ("critical".into(), 5),
                ("high".into(), 15),
                ("moderate".into(), 40),
                ("low".into(), 40),
            ],
            desk_team: "servicedesk".into(),
            other_teams: s(&["network"]),
            suppliers: s(&["telco"]),
            late_percent: 2,
            duplicate_percent: 1,
            ticket_prefix: "T-".into(),
        }
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

fn event(id: String, ticket: &str, at: i64, kind: EventType) -> Event {
    Event::new(
        id,
        ticket,
        Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH),
        kind,
    )
}

/// The events of ticket number `n`, in time order.
pub fn ticket_events(spec: &Spec, rng: &mut Rng, n: usize) -> Vec<Event> {
    let ticket = format!("{}{n:06}", spec.ticket_prefix);
    let mut out = Vec::with_capacity(8);
    let mut seq = 0;
    let next_id = |seq: &mut u32| {
        *seq += 1;
        format!("{ticket}-{seq}")
    };
    let mut t = rng.range(
        spec.from.as_second(),
        spec.to.as_second().max(spec.from.as_second() + 1),
    );
    let priority = rng.weighted(&spec.priorities).clone();
    let mut created = event(next_id(&mut seq), &ticket, t, EventType::Created);
    created.customer = Some(rng.weighted(&spec.customers).clone());
    created.service = Some(rng.pick(&spec.services).clone());
    created.priority = Some(priority.clone());
    created.status = Some("open".into());
    created.team = Some(spec.desk_team.clone());
    created.fields = Some(
        [(
            CompactString::const_new("channel"),
            Some(CompactString::from(
                *rng.pick(&["email", "portal", "phone"]),
            )),
        )]
        .into_iter()
        .collect(),
    );
    out.push(created);
    let critical = spec.priorities.first().is_some_and(|(p, _)| *p == priority);

    if rng.chance(20) {
        t += rng.range(MINUTE, 20 * MINUTE);
        let mut note = event(next_id(&mut seq), &ticket, t, EventType::AgentReplied);
        note.public = Some(false);
        out.push(note);
    }
    t += if critical {
        rng.range(2 * MINUTE, 40 * MINUTE)
    } else {
        rng.range(5 * MINUTE, 6 * HOUR)
    };
    out.push(event(
        next_id(&mut seq),
        &ticket,
        t,
        EventType::AgentReplied,
    ));

    if rng.chance(5) && spec.priorities.len() > 1 {
        t += rng.range(10 * MINUTE, 2 * HOUR);
        let mut up = event(next_id(&mut seq), &ticket, t, EventType::Updated);
        up.priority = Some(spec.priorities[0].0.clone());
        out.push(up);
    }
    if rng.chance(30) {
        t += rng.range(10 * MINUTE, 2 * HOUR);
        let mut wait = event(next_id(&mut seq), &ticket, t, EventType::Updated);
        wait.status = Some("waiting_on_customer".into());
        out.push(wait);
        t += rng.range(HOUR, 48 * HOUR);
        out.push(event(
            next_id(&mut seq),
            &ticket,
            t,
            EventType::CustomerReplied,
        ));
        let mut back = event(
            next_id(&mut seq),
            &ticket,
            t + rng.range(0, 30 * MINUTE),
            EventType::Updated,
        );
        t = back.at.as_second();
        back.status = Some("open".into());
        out.push(back);
        t += rng.range(5 * MINUTE, 4 * HOUR);
        out.push(event(
            next_id(&mut seq),
            &ticket,
            t,
            EventType::AgentReplied,
        ));
    }
    if !spec.other_teams.is_empty() && rng.chance(10) {
        t += rng.range(10 * MINUTE, 3 * HOUR);
        let mut hand = event(next_id(&mut seq), &ticket, t, EventType::Updated);
        hand.team = Some(rng.pick(&spec.other_teams).clone());
        out.push(hand);
        t += rng.range(30 * MINUTE, 10 * HOUR);
        let mut back = event(next_id(&mut seq), &ticket, t, EventType::Updated);
        back.team = Some(spec.desk_team.clone());
        out.push(back);
    }
    if !spec.suppliers.is_empty() && rng.chance(5) {
        t += rng.range(10 * MINUTE, 2 * HOUR);
        let mut wait = event(next_id(&mut seq), &ticket, t, EventType::Updated);
        wait.status = Some("waiting_on_third_party".into());
        wait.supplier = Some(rng.pick(&spec.suppliers).clone());
        out.push(wait);
        t += rng.range(20 * MINUTE, 8 * HOUR);
        let mut back = event(next_id(&mut seq), &ticket, t, EventType::Updated);
        back.status = Some("open".into());
        out.push(back);
    }
    t += if critical {
        rng.range(30 * MINUTE, 6 * HOUR)
    } else {
        rng.range(HOUR, 5 * 24 * HOUR)
    };
    out.push(event(next_id(&mut seq), &ticket, t, EventType::Resolved));
    if rng.chance(5) {
        t += rng.range(HOUR, 3 * 24 * HOUR);
        out.push(event(next_id(&mut seq), &ticket, t, EventType::Reopened));
        t += rng.range(HOUR, 2 * 24 * HOUR);
        out.push(event(next_id(&mut seq), &ticket, t, EventType::Resolved));
    }
    if rng.chance(50) {
        t += rng.range(24 * HOUR, 5 * 24 * HOUR);
        out.push(event(next_id(&mut seq), &ticket, t, EventType::Closed));
    }
    out
}

/// The whole history as a stream, ticket after ticket. Late events are delivered after
/// the next event of their ticket; duplicates are delivered twice in a row.
pub fn generate(spec: &Spec) -> impl Iterator<Item = Event> + '_ {
    let mut rng = Rng::new(spec.seed);
    (1..=spec.tickets).flat_map(move |n| {
        let mut events = ticket_events(spec, &mut rng, n);
        let mut k = 1;
        while k + 1 < events.len() {
            if rng.chance(spec.late_percent) {
                events.swap(k, k + 1);
                k += 1;
            }
            k += 1;
        }
        let mut delivered = Vec::with_capacity(events.len() + 1);
        for e in events {
            if rng.chance(spec.duplicate_percent) {
                delivered.push(e.clone());
            }
            delivered.push(e);
        }
        delivered
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(n: usize) -> Spec {
        Spec::examples(
            n,
            "2026-10-01T00:00:00Z".parse().unwrap(),
            "2026-11-01T00:00:00Z".parse().unwrap(),
            7,
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let a: Vec<Event> = generate(&spec(200)).collect();
        let b: Vec<Event> = generate(&spec(200)).collect();
        assert_eq!(a, b);
        let mut other = spec(200);
        other.seed = 8;
        assert_ne!(a, generate(&other).collect::<Vec<_>>());
    }

    #[test]
    fn the_mix_is_realistic() {
        let events: Vec<Event> = generate(&spec(2000)).collect();
        let count = |k: EventType| events.iter().filter(|e| e.kind == k).count();
        let per_ticket = events.len() as f64 / 2000.0;
        assert!(
            (4.0..9.0).contains(&per_ticket),
            "{per_ticket} events per ticket"
        );
        assert!(count(EventType::Reopened) > 40, "reopenings");
        assert!(
            events
                .iter()
                .any(|e| e.status.as_deref() == Some("waiting_on_customer")),
            "pauses"
        );
        assert!(
            events.iter().any(|e| e.supplier.is_some()),
            "supplier waits"
        );
        assert!(
            events.iter().any(|e| e.team.as_deref() == Some("network")),
            "hand-offs"
        );
        // Late and duplicate deliveries are there, and `prepare` undoes them.
        let prepared = crate::clock::prepare(events.clone());
        assert!(prepared.duplicates > 0);
        assert!(prepared.conflicts.is_empty());
        let late = events
            .windows(2)
            .filter(|w| w[0].ticket == w[1].ticket && w[0].at > w[1].at)
            .count();
        assert!(late > 0, "some events arrive after later ones");
        let created: std::collections::HashSet<&str> = events
            .iter()
            .filter(|e| e.kind == EventType::Created)
            .map(|e| e.ticket.as_str())
            .collect();
        assert_eq!(created.len(), 2000);
    }
}
