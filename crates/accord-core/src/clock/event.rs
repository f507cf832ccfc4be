//! Ticket events (DESIGN 4.1): parsed, de-duplicated and put in the one order that
//! makes a ticket's clocks independent of arrival order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

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
    pub id: String,
    pub ticket: String,
    #[serde(deserialize_with = "whole_second")]
    pub at: Timestamp,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Custom fields; a `null` value removes the field.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "field_values"
    )]
    pub fields: Option<BTreeMap<String, Option<String>>>,
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
) -> Result<Option<BTreeMap<String, Option<String>>>, D::Error> {
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(d)?;
    raw.map(|map| {
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::Null => Ok((k, None)),
                serde_json::Value::String(s) => Ok((k, Some(s))),
                serde_json::Value::Number(n) => Ok((k, Some(n.to_string()))),
                serde_json::Value::Bool(b) => Ok((k, Some(b.to_string()))),
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
    pub fn new(id: String, ticket: &str, at: Timestamp, kind: EventType) -> Event {
        Event {
            id,
            ticket: ticket.to_owned(),
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
    RepeatedId { id: String },
    /// A second `created` for a ticket: the first is kept.
    SecondCreated { ticket: String, id: String },
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

/// Events grouped per ticket, de-duplicated and in apply order.
#[derive(Debug, Default)]
pub struct Prepared {
    pub tickets: BTreeMap<String, Vec<Event>>,
    /// Events set aside, by their position in the input.
    pub conflicts: Vec<(usize, Conflict)>,
    /// Exact repeats dropped.
    pub duplicates: usize,
}

/// Groups events per ticket, in arrival order: a repeat of an id with the same content
/// is dropped; one with different content, and a second `created`, are set aside (the
/// first wins, by arrival: DESIGN 3.2).
pub fn prepare(events: impl IntoIterator<Item = Event>) -> Prepared {
    let events: Vec<Event> = events.into_iter().collect();
    let mut out = Prepared::default();
    // Decide what to keep with indexes that borrow the ids, so no event is copied.
    let mut keep = vec![true; events.len()];
    {
        // Ids are not adversarial here (the server checks conflicts in the store): a fast
        // hash is fine.
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        seen.reserve(events.len());
        let mut created: FxHashMap<&str, usize> = FxHashMap::default();
        for (position, event) in events.iter().enumerate() {
            if let Some(&first) = seen.get(event.id.as_str()) {
                keep[position] = false;
                if events[first] == *event {
                    out.duplicates += 1;
                } else {
                    out.conflicts.push((
                        position,
                        Conflict::RepeatedId {
                            id: event.id.clone(),
                        },
                    ));
                }
                continue;
            }
            if event.kind == EventType::Created {
                if created.contains_key(event.ticket.as_str()) {
                    keep[position] = false;
                    out.conflicts.push((
                        position,
                        Conflict::SecondCreated {
                            ticket: event.ticket.clone(),
                            id: event.id.clone(),
                        },
                    ));
                    continue;
                }
                created.insert(&event.ticket, position);
            }
            seen.insert(&event.id, position);
        }
    }
    // Group in two passes: number the tickets and count their events, then move each
    // event once into a group allocated at its final size (growing vectors would copy
    // these large events again and again).
    let mut slot_of_event: Vec<u32> = Vec::with_capacity(events.len());
    let mut sizes: Vec<usize> = Vec::new();
    {
        let mut slots: FxHashMap<&str, u32> = FxHashMap::default();
        for (event, keep) in events.iter().zip(&keep) {
            if !keep {
                slot_of_event.push(u32::MAX);
                continue;
            }
            let next = sizes.len() as u32;
            let slot = *slots.entry(event.ticket.as_str()).or_insert(next);
            if slot == next {
                sizes.push(0);
            }
            sizes[slot as usize] += 1;
            slot_of_event.push(slot);
        }
    }
    let mut groups: Vec<Vec<Event>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (event, slot) in events.into_iter().zip(slot_of_event) {
        if slot != u32::MAX {
            groups[slot as usize].push(event);
        }
    }
    let mut groups: Vec<(String, Vec<Event>)> = groups
        .into_iter()
        .filter_map(|g| Some((g.first()?.ticket.clone(), g)))
        .collect();
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, events) in &mut groups {
        events.sort_by(Event::apply_order);
    }
    out.tickets = groups.into_iter().collect();
    out
}
