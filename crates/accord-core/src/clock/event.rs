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

/// A ticket name's first 16 bytes, big-endian (zero-padded), and its length: names of
/// up to 16 bytes are identified and ordered bytewise by these alone.
fn name_head(name: &str) -> (u128, u32) {
    let bytes = name.as_bytes();
    let mut head = [0u8; 16];
    let k = bytes.len().min(16);
    head[..k].copy_from_slice(&bytes[..k]);
    (u128::from_be_bytes(head), bytes.len() as u32)
}

/// Groups events per ticket, in arrival order: a repeat of an id with the same content
/// is dropped; one with different content, and a second `created`, are set aside (the
/// first wins, by arrival: DESIGN 3.2).
///
/// Everything is decided on small sorted keys read in one pass over the events, so the
/// events themselves are touched again only for the rare cases the keys cannot settle
/// (equal id hashes, ticket names over 16 bytes, ties in time and type).
pub fn prepare(events: impl IntoIterator<Item = Event>) -> Prepared {
    let events: Vec<Event> = events.into_iter().collect();
    let n = events.len();
    assert!(u32::try_from(n).is_ok(), "more than 4 billion events");
    let mut conflicts = Vec::new();
    let mut duplicates = 0;
    let mut keep = vec![true; n];

    // One pass over the events for every key.
    let mut by_id: Vec<(u64, u32)> = Vec::with_capacity(n);
    let mut keys: Vec<(u128, u32, i64, EventType, u32)> = Vec::with_capacity(n);
    for (i, e) in events.iter().enumerate() {
        by_id.push((fx_hash(&e.id), i as u32));
        let (head, len) = name_head(&e.ticket);
        keys.push((head, len, e.at.as_second(), e.kind, i as u32));
    }

    // 1. Repeated ids: sorted by (hash of id, position), a repeat follows its first
    // arrival in the same run.
    by_id.sort_unstable();
    let mut k = 0;
    while k < n {
        let mut end = k + 1;
        while end < n && by_id[end].0 == by_id[k].0 {
            end += 1;
        }
        let run = &by_id[k..end];
        for (j, &(_, later)) in run.iter().enumerate().skip(1) {
            let later = later as usize;
            let first = run[..j]
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
        k = end;
    }
    drop(by_id);

    // 2. Kept events by (ticket, time, type, position). Names over 16 bytes that share
    // their head are put in full-name order afterwards.
    keys.retain(|key| keep[key.4 as usize]);
    keys.sort_unstable();
    let name = |key: &(u128, u32, i64, EventType, u32)| events[key.4 as usize].ticket.as_bytes();
    let mut k = 0;
    while k < keys.len() {
        let mut end = k + 1;
        while end < keys.len() && keys[end].0 == keys[k].0 {
            end += 1;
        }
        if keys[k..end].iter().any(|key| key.1 > 16) {
            keys[k..end].sort_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
        }
        k = end;
    }

    // 3. Tickets are runs of one name; within one, ties in time and type go by id.
    let same_ticket = |a: &(u128, u32, i64, EventType, u32),
                       b: &(u128, u32, i64, EventType, u32)| {
        a.0 == b.0 && a.1 == b.1 && (a.1 <= 16 || name(a) == name(b))
    };
    let mut order: Vec<u32> = keys.iter().map(|key| key.4).collect();
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut k = 0;
    while k < keys.len() {
        let mut end = k + 1;
        while end < keys.len() && same_ticket(&keys[k], &keys[end]) {
            end += 1;
        }
        let mut t = k;
        while t < end {
            let mut tie = t + 1;
            while tie < end && keys[tie].2 == keys[t].2 && keys[tie].3 == keys[t].3 {
                tie += 1;
            }
            if tie - t > 1 {
                order[t..tie].sort_by(|&a, &b| {
                    events[a as usize]
                        .apply_order(&events[b as usize])
                        .then(a.cmp(&b))
                });
            }
            t = tie;
        }
        groups.push(k..end);
        k = end;
    }
    drop(keys);

    // 4. The first `created` of a ticket by arrival wins; later ones are set aside.
    let mut kept_order: Vec<u32> = Vec::with_capacity(order.len());
    let mut kept_groups = Vec::with_capacity(groups.len());
    for range in groups {
        let group = &order[range];
        let first_created = group
            .iter()
            .copied()
            .filter(|&i| events[i as usize].kind == EventType::Created)
            .min();
        let start = kept_order.len();
        for &i in group {
            let e = &events[i as usize];
            if e.kind == EventType::Created && Some(i) != first_created {
                conflicts.push((
                    i as usize,
                    Conflict::SecondCreated {
                        ticket: e.ticket.clone(),
                        id: e.id.clone(),
                    },
                ));
            } else {
                kept_order.push(i);
            }
        }
        if kept_order.len() > start {
            kept_groups.push(start..kept_order.len());
        }
    }

    conflicts.sort_by_key(|&(position, _)| position);
    Prepared {
        events,
        order: kept_order,
        groups: kept_groups,
        conflicts,
        duplicates,
    }
}
