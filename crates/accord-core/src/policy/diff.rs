//! What applying a configuration changes: each document (an agreement per version) is
//! `added`, `changed` or `removed`, compared by content, never by layout or comments.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::load::{Agreement, Config};
use super::select::in_force_from;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
}

/// One changed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    pub kind: &'static str,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub change: ChangeKind,
}

impl std::fmt::Display for ConfigChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = match self.change {
            ChangeKind::Added => '+',
            ChangeKind::Changed => '~',
            ChangeKind::Removed => '-',
        };
        write!(f, "{sign} {} {}", self.kind, self.id)?;
        if let Some(v) = self.version {
            write!(f, " version {v}")?;
        }
        Ok(())
    }
}

/// Each document of a configuration by (kind, id, version), as comparable content. A
/// calendar's content includes the text of its `.ics` files.
fn contents(
    config: &Config,
    read: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<(&'static str, String, Option<u32>), Value> {
    let mut out = BTreeMap::new();
    let json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    for c in &config.calendars {
        let ics: BTreeMap<String, Option<String>> = c
            .doc
            .holidays
            .iter()
            .filter_map(|h| match h {
                crate::calendar::HolidayDoc::Ics(path) => Some((path.clone(), read(path))),
                _ => None,
            })
            .collect();
        out.insert(
            ("calendar", c.id.clone(), None),
            serde_json::json!({"doc": json(serde_json::to_value(&c.doc)), "ics": ics}),
        );
    }
    for d in &config.customers {
        out.insert(
            ("customer", d.id.value.clone(), None),
            json(serde_json::to_value(d)),
        );
    }
    for d in &config.services {
        out.insert(
            ("service", d.id.value.clone(), None),
            json(serde_json::to_value(d)),
        );
    }
    for d in &config.teams {
        out.insert(
            ("team", d.id.value.clone(), None),
            json(serde_json::to_value(d)),
        );
    }
    for d in &config.suppliers {
        out.insert(
            ("supplier", d.id.value.clone(), None),
            json(serde_json::to_value(d)),
        );
    }
    for d in &config.channels {
        out.insert(
            ("channel", d.id.value.clone(), None),
            json(serde_json::to_value(d)),
        );
    }
    for a in &config.agreements {
        out.insert(
            ("agreement", a.id().to_owned(), Some(a.doc.version)),
            json(serde_json::to_value(&a.doc)),
        );
    }
    out
}

/// The changes from `old` to `new`, ordered by kind, id and version. `read_old` and
/// `read_new` give each side's `.ics` texts by the path written in the calendar.
pub fn diff(
    old: &Config,
    read_old: &dyn Fn(&str) -> Option<String>,
    new: &Config,
    read_new: &dyn Fn(&str) -> Option<String>,
) -> Vec<ConfigChange> {
    let before = contents(old, read_old);
    let after = contents(new, read_new);
    let mut changes = Vec::new();
    for (key, value) in &after {
        let change = match before.get(key) {
            None => ChangeKind::Added,
            Some(old) if old != value => ChangeKind::Changed,
            Some(_) => continue,
        };
        changes.push(ConfigChange {
            kind: key.0,
            id: key.1.clone(),
            version: key.2,
            change,
        });
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        changes.push(ConfigChange {
            kind: key.0,
            id: key.1.clone(),
            version: key.2,
            change: ChangeKind::Removed,
        });
    }
    changes.sort_by(|a, b| (a.kind, &a.id, a.version).cmp(&(b.kind, &b.id, b.version)));
    changes
}

/// The agreement versions among `changes` that were already in force at `now` in `old`
/// and are changed or removed: rewriting them rewrites history (every clock started
/// under them is re-derived), so it must be asked for on purpose.
pub fn retroactive<'a>(
    old: &'a Config,
    changes: &[ConfigChange],
    now: Timestamp,
) -> Vec<&'a Agreement> {
    changes
        .iter()
        .filter(|c| c.kind == "agreement" && c.change != ChangeKind::Added)
        .filter_map(|c| {
            old.agreements
                .iter()
                .find(|a| a.id() == c.id && Some(a.doc.version) == c.version)
        })
        .filter(|a| in_force_from(a).is_none_or(|from| from <= now))
        .collect()
}
