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
// Laid out as declared: what sorting and the fold read of every event (id, ticket,
// time, type, public) shares the first cache line or two, instead of being spread over
// all five (the compiler's order put the time at the end and the id in the middle).
#[repr(C)]
pub struct Event {
    pub id: CompactString,
    pub ticket: CompactString,
    #[serde(deserialize_with = "whole_second")]
    pub at: Timestamp,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// `agent_replied` only: a private note (`false`) is no reply for any clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
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
}

/// Times are exact to the second: fractions are truncated (DESIGN 3.1). Every time of
/// the event stream (events, service records, surveys) is read this way.
pub(crate) fn whole_second<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Timestamp;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 timestamp")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
            if let Some(t) = utc_second(s.as_bytes()) {
                return Ok(t);
            }
            let t: Timestamp = s.parse().map_err(E::custom)?;
            Timestamp::from_second(t.as_second()).map_err(E::custom)
        }
    }
    d.deserialize_str(Visitor)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form nearly every event's time takes, read without the
/// general parser (a replay spends a tenth of its reading there); `None` for anything
/// else, which the general parser then decides. Only valid dates and times are taken,
/// so both ways give the same instant (test `the_common_time_form_reads_as_jiff_does`).
pub(crate) fn utc_second(b: &[u8]) -> Option<Timestamp> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from 1970-01-01 to the civil date (the proleptic Gregorian calendar; the
    // year counted from March so the leap day comes last).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Timestamp::from_second(days * 86_400 + hour * 3_600 + minute * 60 + second).ok()
}

/// Field values are text; numbers and booleans are read as their text, `null` removes
/// the field. Read straight into text, not through a JSON value first.
fn field_values<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<CompactString, Option<CompactString>>>, D::Error> {
    struct FieldValue(Option<CompactString>);
    impl<'de> Deserialize<'de> for FieldValue {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(FieldValueVisitor)
        }
    }
    struct FieldValueVisitor;
    impl serde::de::Visitor<'_> for FieldValueVisitor {
        type Value = FieldValue;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a text, number or boolean")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FieldValue, E> {
            Ok(FieldValue(Some(v.into())))
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<FieldValue, E> {
            Ok(FieldValue(Some(if v { "true" } else { "false" }.into())))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<FieldValue, E> {
            Ok(FieldValue(Some(compact_str::format_compact!("{v}"))))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<FieldValue, E> {
            Ok(FieldValue(Some(compact_str::format_compact!("{v}"))))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<FieldValue, E> {
            // As JSON writes it (1.0 stays "1.0"), the text the field had.
            let n = serde_json::Number::from_f64(v)
                .ok_or_else(|| E::custom("expected a finite number"))?;
            Ok(FieldValue(Some(n.to_string().into())))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<FieldValue, E> {
            Ok(FieldValue(None))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<FieldValue, E> {
            Ok(FieldValue(None))
        }
    }
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = Option<BTreeMap<CompactString, Option<CompactString>>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of fields")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut fields = BTreeMap::new();
            while let Some(key) = map.next_key::<CompactString>()? {
                let FieldValue(value) = map.next_value().map_err(|e: A::Error| {
                    serde::de::Error::custom(format!("fields.{key}: {e}"))
                })?;
                fields.insert(key, value);
            }
            Ok(Some(fields))
        }
    }
    d.deserialize_option(Fields)
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

/// A kept event's place in the ticket order: compared field by field, as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    head: u128,
    /// Length (5 bits, at most 17), seconds (shifted to be positive), type (3 bits).
    rest: u64,
    position: u32,
}

impl Key {
    fn len(&self) -> u32 {
        (self.rest >> 59) as u32
    }

    fn is_created(&self) -> bool {
        self.rest & 7 == EventType::Created as u64
    }
}

/// Length, seconds and type in one word that orders as the triple does: every
/// timestamp lies within ±2^39 seconds of 1970, and there are seven event types.
fn pack(len: u32, seconds: i64, kind: EventType) -> u64 {
    let shifted = (seconds + (1 << 39)) as u64;
    (u64::from(len.min(17)) << 59) | (shifted << 3) | kind as u64
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
    // The ticket key is (head of the name, then length, time and type packed in one
    // word, then position): 32 bytes a key instead of 48, so sorting five million of them
    // moves a third less memory. Lengths over 16 share one value (such names are put in
    // full-name order below anyway).
    let mut by_id: Vec<(u64, u32)> = Vec::with_capacity(n);
    let mut keys: Vec<Key> = Vec::with_capacity(n);
    for (i, e) in events.iter().enumerate() {
        by_id.push((fx_hash(&e.id), i as u32));
        let (head, len) = name_head(&e.ticket);
        keys.push(Key {
            head,
            rest: pack(len, e.at.as_second(), e.kind),
            position: i as u32,
        });
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
    keys.retain(|key| keep[key.position as usize]);
    keys.sort_unstable();
    let name = |key: &Key| events[key.position as usize].ticket.as_bytes();
    let mut k = 0;
    while k < keys.len() {
        let mut end = k + 1;
        while end < keys.len() && keys[end].head == keys[k].head {
            end += 1;
        }
        if keys[k..end].iter().any(|key| key.len() > 16) {
            keys[k..end].sort_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
        }
        k = end;
    }

    // 3. Tickets are runs of one name; within one, ties in time and type go by id.
    // 4. The first `created` of a ticket by arrival wins; later ones are set aside.
    // Both are read off the keys (the type is in the packed word), so an event is
    // touched again only for a tie, a long name or a second `created`: the kept order
    // is compacted in place as it is built.
    let same_ticket = |a: &Key, b: &Key| {
        a.head == b.head && a.len() == b.len() && (a.len() <= 16 || name(a) == name(b))
    };
    let mut order: Vec<u32> = keys.iter().map(|key| key.position).collect();
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut kept = 0;
    let mut k = 0;
    while k < keys.len() {
        let mut end = k + 1;
        while end < keys.len() && same_ticket(&keys[k], &keys[end]) {
            end += 1;
        }
        let mut t = k;
        while t < end {
            let mut tie = t + 1;
            // Same ticket, so the same length: equal packed words are equal time and type.
            while tie < end && keys[tie].rest == keys[t].rest {
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
        let mut created = keys[k..end].iter().filter(|key| key.is_created());
        let first_created = created.clone().map(|key| key.position).min();
        let second_created = created.nth(1).is_some();
        let start = kept;
        for r in k..end {
            let i = order[r];
            if second_created
                && Some(i) != first_created
                && events[i as usize].kind == EventType::Created
            {
                let e = &events[i as usize];
                conflicts.push((
                    i as usize,
                    Conflict::SecondCreated {
                        ticket: e.ticket.clone(),
                        id: e.id.clone(),
                    },
                ));
            } else {
                order[kept] = i;
                kept += 1;
            }
        }
        groups.push(start..kept);
        k = end;
    }
    order.truncate(kept);
    drop(keys);

    conflicts.sort_by_key(|&(position, _)| position);
    Prepared {
        events,
        order,
        groups,
        conflicts,
        duplicates,
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// The packed word orders as (length, seconds, type) over every instant jiff allows,
    /// both sides of 1970, and every type.
    #[test]
    fn the_packed_key_orders_as_its_parts() {
        let instants = [
            Timestamp::MIN.as_second(),
            -1,
            0,
            1,
            1_800_000_000,
            Timestamp::MAX.as_second(),
        ];
        let kinds = [
            EventType::Created,
            EventType::Updated,
            EventType::CustomerReplied,
            EventType::AgentReplied,
            EventType::Resolved,
            EventType::Reopened,
            EventType::Closed,
        ];
        let mut parts = Vec::new();
        for len in [0, 3, 16, 17] {
            for &t in &instants {
                for &kind in &kinds {
                    parts.push((len, t, kind));
                }
            }
        }
        for a in &parts {
            for b in &parts {
                assert_eq!(
                    pack(a.0, a.1, a.2).cmp(&pack(b.0, b.1, b.2)),
                    a.cmp(b),
                    "{a:?} against {b:?}"
                );
            }
        }
        // Lengths over 16 share one value.
        assert_eq!(
            pack(40, 0, EventType::Created),
            pack(17, 0, EventType::Created)
        );
    }
}
