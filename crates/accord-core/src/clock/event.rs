//! Ticket events (DESIGN 4.1): parsed, de-duplicated and put in the one order that
//! makes a ticket's clocks independent of arrival order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use compact_str::CompactString;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

/// The type of a ticket event, in the order events of the same instant apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Created,
    Updated,
    CustomerReplied,
    AgentReplied,
    Resolved,
    Reopened,
    Closed,
}

/// A ticket event. Attributes are those the event carries: `created` its initial
/// values, `updated` the changed ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: CompactString,
    pub ticket: CompactString,
    #[serde(deserialize_with = "whole_second")]
    pub at: Timestamp,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<CompactString>>,
    /// Custom fields; a `null` value removes the field.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "field_values"
    )]
    pub fields: Option<BTreeMap<CompactString, Option<CompactString>>>,
    /// `agent_replied` only: a private note (`false`) is no reply for any clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
}

/// Times are exact to the second: fractions are truncated (DESIGN 3.1).
fn whole_second<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let t = Timestamp::deserialize(d)?;
    Timestamp::from_second(t.as_second()).map_err(serde::de::Error::custom)
}

/// Field values are text; numbers and booleans are read as their text.
fn field_values<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<CompactString, Option<CompactString>>>, D::Error> {
    let raw: Option<BTreeMap<CompactString, serde_json::Value>> = Option::deserialize(d)?;
    raw.map(|map| {
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::Null => Ok((k, None)),
                serde_json::Value::String(s) => Ok((k, Some(s.into()))),
                serde_json::Value::Number(n) => Ok((k, Some(n.to_string().into()))),
                serde_json::Value::Bool(b) => Ok((k, Some(b.to_string().into()))),
                _ => Err(serde::de::Error::custom(format!(
                    "fields.{k}: expected a text, number or boolean"
                ))),
            })
            .collect()
    })
    .transpose()
}

impl Event {
    /// An event with no attributes.
    pub fn new(
        id: impl Into<CompactString>,
        ticket: &str,
        at: Timestamp,
        kind: EventType,
    ) -> Event {
        Event {
            id: id.into(),
            ticket: ticket.into(),
            at,
            kind,
            customer: None,
            service: None,
            priority: None,
            status: None,
            team: None,
            assignee: None,
            supplier: None,
            tags: None,
            fields: None,
            public: None,
        }
    }

    /// The order events apply in: time, then type, then id (bytewise).
    pub fn apply_order(&self, other: &Event) -> Ordering {
        (self.at, self.kind, self.id.as_bytes()).cmp(&(other.at, other.kind, other.id.as_bytes()))
    }
}

/// Why an event was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The id was seen before with different content: the first is kept.
    RepeatedId { id: CompactString },
    /// A second `created` for a ticket: the first is kept.
    SecondCreated {
        ticket: CompactString,
        id: CompactString,
    },
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::RepeatedId { id } => write!(
                f,
                "event id {id:?} was seen before with different content; the first is kept"
            ),
            Conflict::SecondCreated { ticket, id } => {
                write!(
                    f,
                    "event {id:?} is a second `created` for ticket {ticket:?}; the first is kept"
                )
            }
        }
    }
}

/// Events grouped per ticket, de-duplicated and in apply order. The events stay where
/// they arrived; the groups are lists of their positions, so nothing is moved or copied.
#[derive(Debug, Default)]
pub struct Prepared {
    events: Vec<Event>,
    /// Positions of the kept events, ticket after ticket (tickets bytewise), each
    /// ticket's in apply order.
    order: Vec<u32>,
    /// Each ticket's range in `order`.
    groups: Vec<std::ops::Range<usize>>,
    /// Events set aside, by their position in the input, in input order.
    pub conflicts: Vec<(usize, Conflict)>,
    /// Exact repeats dropped.
    pub duplicates: usize,
}

impl Prepared {
    /// Each ticket (bytewise) with its events in apply order.
    pub fn tickets(&self) -> impl ExactSizeIterator<Item = (&str, TicketEvents<'_>)> {
        self.groups.iter().map(|range| {
            let events = TicketEvents {
                events: &self.events,
                order: &self.order[range.clone()],
            };
            (events.ticket(), events)
        })
    }

    /// One ticket's events in apply order.
    pub fn ticket(&self, ticket: &str) -> Option<TicketEvents<'_>> {
        let k = self
            .groups
            .binary_search_by(|range| {
                self.events[self.order[range.start] as usize]
                    .ticket
                    .as_bytes()
                    .cmp(ticket.as_bytes())
            })
            .ok()?;
        Some(TicketEvents {
            events: &self.events,
            order: &self.order[self.groups[k].clone()],
        })
    }

    /// One ticket's events in apply order, taken out (none when it has none).
    pub fn into_ticket(mut self, ticket: &str) -> Vec<Event> {
        let Some(events) = self.ticket(ticket) else {
            return Vec::new();
        };
        let order: Vec<usize> = events.order.iter().map(|&i| i as usize).collect();
        let mut slots: Vec<Option<Event>> = std::mem::take(&mut self.events)
            .into_iter()
            .map(Some)
            .collect();
        order.into_iter().filter_map(|i| slots[i].take()).collect()
    }
}

/// A ticket's events in apply order (borrowed from [`Prepared`]).
#[derive(Debug, Clone, Copy)]
pub struct TicketEvents<'p> {
    events: &'p [Event],
    order: &'p [u32],
}

impl<'p> TicketEvents<'p> {
    fn ticket(&self) -> &'p str {
        self.order
            .first()
            .map_or("", |&i| self.events[i as usize].ticket.as_str())
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'p Event> + 'p {
        let events = self.events;
        self.order.iter().map(move |&i| &events[i as usize])
    }
}

impl<'p> IntoIterator for TicketEvents<'p> {
    type Item = &'p Event;
    type IntoIter = Box<dyn ExactSizeIterator<Item = &'p Event> + 'p>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

fn fx_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(text)
}

/// Runs of equal keys in a sorted slice, as ranges.
fn runs<K: PartialEq>(sorted: &[K]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= sorted.len() {
            return None;
        }
        let end = start
            + sorted[start..]
                .iter()
                .position(|k| *k != sorted[start])
                .unwrap_or(sorted.len() - start);
        let run = start..end;
        start = end;
        Some(run)
    })
}

/// Groups events per ticket, in arrival order: a repeat of an id with the same content
/// is dropped; one with different content, and a second `created`, are set aside (the
/// first wins, by arrival: DESIGN 3.2).
///
/// Everything is decided on small sorted keys (hashes, ranks, instants) rather than
/// hash maps over the events: at millions of events, sorting compact keys is several
/// times faster than random access into the events.
pub fn prepare(events: impl IntoIterator<Item = Event>) -> Prepared {
    let events: Vec<Event> = events.into_iter().collect();
    let n = events.len();
    assert!(u32::try_from(n).is_ok(), "more than 4 billion events");
    let mut conflicts = Vec::new();
    let mut duplicates = 0;
    let mut keep = vec![true; n];

    // 1. Repeated ids: sorted by (hash of id, position), a repeat follows its first
    // arrival in the same run.
    let mut by_id: Vec<(u64, u32)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (fx_hash(&e.id), i as u32))
        .collect();
    by_id.sort_unstable();
    let hashes: Vec<u64> = by_id.iter().map(|&(h, _)| h).collect();
    for run in runs(&hashes) {
        if run.len() < 2 {
            continue;
        }
        let run = &by_id[run];
        for (k, &(_, later)) in run.iter().enumerate().skip(1) {
            let later = later as usize;
            let first = run[..k]
                .iter()
                .map(|&(_, i)| i as usize)
                .find(|&i| keep[i] && events[i].id == events[later].id);
            if let Some(first) = first {
                keep[later] = false;
                if events[first] == events[later] {
                    duplicates += 1;
                } else {
                    conflicts.push((
                        later,
                        Conflict::RepeatedId {
                            id: events[later].id.clone(),
                        },
                    ));
                }
            }
        }
    }
    drop(hashes);
    drop(by_id);

    // 2. Tickets: sorted by (hash of ticket, position), each run is one ticket in arrival
    // order (checked by name, in case two names share a hash).
    let mut by_ticket: Vec<(u64, u32)> = (0..n)
        .filter(|&i| keep[i])
        .map(|i| (fx_hash(&events[i].ticket), i as u32))
        .collect();
    by_ticket.sort_unstable();
    let hashes: Vec<u64> = by_ticket.iter().map(|&(h, _)| h).collect();
    // One representative position per ticket, and each event's ticket number.
    let mut representatives: Vec<u32> = Vec::new();
    let mut slot = vec![u32::MAX; n];
    for run in runs(&hashes) {
        let run = &by_ticket[run];
        let first_of_run = representatives.len();
        for &(_, i) in run {
            let name = &events[i as usize].ticket;
            let found = representatives[first_of_run..]
                .iter()
                .position(|&r| events[r as usize].ticket == *name);
            let ticket = match found {
                Some(k) => first_of_run + k,
                None => {
                    representatives.push(i);
                    representatives.len() - 1
                }
            };
            slot[i as usize] = ticket as u32;
        }
        // The first `created` of each ticket by arrival wins.
        let mut created_seen: Vec<usize> = Vec::new();
        for &(_, i) in run {
            let i = i as usize;
            if events[i].kind != EventType::Created {
                continue;
            }
            let ticket = slot[i] as usize;
            if created_seen.contains(&ticket) {
                keep[i] = false;
                slot[i] = u32::MAX;
                conflicts.push((
                    i,
                    Conflict::SecondCreated {
                        ticket: events[i].ticket.clone(),
                        id: events[i].id.clone(),
                    },
                ));
            } else {
                created_seen.push(ticket);
            }
        }
    }
    drop(hashes);
    drop(by_ticket);

    // 3. Tickets ranked by name (bytewise), compared on their first 16 bytes first.
    let prefix = |i: u32| {
        let bytes = events[i as usize].ticket.as_bytes();
        let mut head = [0u8; 16];
        let k = bytes.len().min(16);
        head[..k].copy_from_slice(&bytes[..k]);
        u128::from_be_bytes(head)
    };
    let mut ranked: Vec<(u128, u32)> = representatives
        .iter()
        .enumerate()
        .map(|(ticket, &r)| (prefix(r), ticket as u32))
        .collect();
    ranked.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            let name = |t: u32| {
                events[representatives[t as usize] as usize]
                    .ticket
                    .as_bytes()
            };
            name(a.1).cmp(name(b.1))
        })
    });
    let mut rank = vec![0u32; representatives.len()];
    for (r, &(_, ticket)) in ranked.iter().enumerate() {
        rank[ticket as usize] = r as u32;
    }
    drop(ranked);

    // 4. Kept events by (ticket rank, time, type, position); ties in time and type are
    // then put in id order.
    let mut keys: Vec<(u32, i64, EventType, u32)> = (0..n)
        .filter(|&i| keep[i])
        .map(|i| {
            let e = &events[i];
            (rank[slot[i] as usize], e.at.as_second(), e.kind, i as u32)
        })
        .collect();
    keys.sort_unstable();
    let heads: Vec<(u32, i64, EventType)> = keys.iter().map(|&(r, t, k, _)| (r, t, k)).collect();
    let mut order: Vec<u32> = keys.iter().map(|&(.., i)| i).collect();
    for run in runs(&heads) {
        if run.len() > 1 {
            order[run].sort_by(|&a, &b| {
                events[a as usize]
                    .apply_order(&events[b as usize])
                    .then(a.cmp(&b))
            });
        }
    }
    let ranks: Vec<u32> = heads.iter().map(|&(r, ..)| r).collect();
    let groups = runs(&ranks).collect();
    drop(heads);

    conflicts.sort_by_key(|&(position, _)| position);
    Prepared {
        events,
        order,
        groups,
        conflicts,
        duplicates,
    }
}
