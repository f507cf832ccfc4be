//! `accord import tickets FILE --from jira|zendesk|zendesk-audits|csv`: help-desk exports
//! turned into Accord ticket events. Event ids derive from the rows, so importing a file
//! twice changes nothing. A bad row is reported with its line and reason and the good
//! rows go in (`--strict`: nothing goes in when a row is bad).
//!
//! What each format can tell (see `docs/import.md`): Zendesk audits are a history and
//! give exact clocks; the CSV exports are snapshots, so their clocks are approximations.

use std::collections::BTreeMap;

use compact_str::CompactString;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use accord_core::clock::{Event, EventType};

/// A rejected row: the line it starts on and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// What an export gave.
#[derive(Debug, Default)]
pub struct Imported {
    pub events: Vec<Event>,
    pub tickets: usize,
    pub rejected: Vec<Rejected>,
}

/// Options shared by the formats.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The zone the export's local times are in (Jira: the exporting user's profile zone;
    /// Zendesk CSV: the account's default zone). Required for those formats.
    pub timezone: Option<TimeZone>,
    /// Sets every ticket's customer (else it comes from the organisation column, as a
    /// slug: `Brightwater Logistics` → `brightwater-logistics`).
    pub customer: Option<CompactString>,
}

/// `Brightwater Logistics` → `brightwater-logistics` (an Accord id).
pub fn slug(s: &str) -> Option<CompactString> {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    (!out.is_empty() && out != "-").then(|| out.into())
}

fn local_time(text: &str, format: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    let dt = jiff::fmt::strtime::parse(format, text.trim())
        .and_then(|t| t.to_datetime())
        .map_err(|_| format!("{text:?} is not a date in the form {format}"))?;
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .map_err(|e| e.to_string())
}

/// Column positions by header, every occurrence (headers repeat: `Comment`, `Labels`).
struct Columns(BTreeMap<String, Vec<usize>>);

impl Columns {
    fn new(headers: &csv::StringRecord) -> Self {
        let mut map: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim_start_matches('\u{feff}').trim();
            map.entry(h.to_owned()).or_default().push(i);
        }
        Columns(map)
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.0
            .get(name)?
            .iter()
            .filter_map(|&i| record.get(i))
            .map(str::trim)
            .find(|v| !v.is_empty() && *v != "-")
    }

    fn all<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Vec<&'r str> {
        self.0
            .get(name)
            .map(|cols| {
                cols.iter()
                    .filter_map(|&i| record.get(i))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn require(&self, names: &[&str]) -> Result<(), String> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !self.0.contains_key(*n))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "this is not the expected export: no column {}",
                missing.join(", ")
            ))
        }
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
}

/// Runs `row` over every record; a row error rejects that row only.
fn rows(
    text: &str,
    required: &[&str],
    mut row: impl FnMut(&Columns, &csv::StringRecord) -> Result<Vec<Event>, String>,
) -> Result<Imported, String> {
    let mut reader = reader(text);
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read the header row: {e}"))?
        .clone();
    let columns = Columns::new(&headers);
    columns.require(required)?;
    let mut out = Imported::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.rejected.push(Rejected {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        match row(&columns, &record) {
            Ok(events) => {
                out.tickets += 1;
                out.events.extend(events);
            }
            Err(reason) => out.rejected.push(Rejected { line, reason }),
        }
    }
    Ok(out)
}

fn need_tz(opts: &Options, format: &str, whose: &str) -> Result<TimeZone, String> {
    opts.timezone.clone().ok_or_else(|| {
        format!("{format} exports write local times without an offset: give the zone they are in with --timezone ({whose})")
    })
}

/// Jira Service Management, "Export Excel CSV (all fields)".
pub fn jira_csv(text: &str, opts: &Options) -> Result<Imported, String> {
    let tz = need_tz(
        opts,
        "Jira",
        "the exporting user's profile zone, e.g. Europe/Berlin",
    )?;
    const DATE: &str = "%d/%b/%y %I:%M %p";
    rows(
        text,
        &["Issue key", "Created", "Priority", "Status"],
        |c, r| {
            let key = c.get(r, "Issue key").ok_or("no Issue key")?;
            let when = |column: &str| -> Result<Option<Timestamp>, String> {
                c.get(r, column)
                    .map(|v| local_time(v, DATE, &tz).map_err(|e| format!("{column}: {e}")))
                    .transpose()
            };
            let created_at = when("Created")?.ok_or("Created is empty")?;
            let reporter = c.get(r, "Reporter Id").unwrap_or_default();
            let mut created = Event::new(
                format!("jira:{key}:created"),
                key,
                created_at,
                EventType::Created,
            );
            created.customer = opts
                .customer
                .clone()
                .or_else(|| c.get(r, "Custom field (Organizations)").and_then(slug));
            created.priority = c.get(r, "Priority").map(|p| p.to_lowercase().into());
            created.status = Some("open".into());
            let labels: Vec<CompactString> = c
                .all(r, "Labels")
                .into_iter()
                .map(CompactString::from)
                .collect();
            if !labels.is_empty() {
                created.tags = Some(labels);
            }
            let mut fields = BTreeMap::new();
            for (name, column) in [
                ("issue_type", "Issue Type"),
                ("request_type", "Custom field (Request Type)"),
            ] {
                if let Some(v) = c.get(r, column) {
                    fields.insert(name.into(), Some(v.into()));
                }
            }
            created.fields = Some(fields);
            let mut events = vec![created];
            for (n, cell) in c.all(r, "Comment").into_iter().enumerate() {
                // `<date>;<author id>;<body>`: the body may hold `;` itself.
                let mut parts = cell.splitn(3, ';');
                let (Some(date), Some(author)) = (parts.next(), parts.next()) else {
                    return Err(format!("Comment {}: expected `date;author;text`", n + 1));
                };
                let at =
                    local_time(date, DATE, &tz).map_err(|e| format!("Comment {}: {e}", n + 1))?;
                let kind = if author == reporter || author.starts_with("qm:") {
                    EventType::CustomerReplied
                } else if author.starts_with("557058:") {
                    continue; // an app (e.g. Automation for Jira) is not an agent
                } else {
                    EventType::AgentReplied // visibility is not exported: taken as public
                };
                events.push(Event::new(
                    format!("jira:{key}:comment:{}", n + 1),
                    key,
                    at,
                    kind,
                ));
            }
            let status = c.get(r, "Status").unwrap_or_default().to_lowercase();
            if status == "waiting for customer"
                && let Some(at) = when("Status Category Changed")?
            {
                let mut wait =
                    Event::new(format!("jira:{key}:waiting"), key, at, EventType::Updated);
                wait.status = Some("waiting_on_customer".into());
                events.push(wait);
            }
            if let Some(at) = when("Resolved")? {
                events.push(Event::new(
                    format!("jira:{key}:resolved"),
                    key,
                    at,
                    EventType::Resolved,
                ));
            }
            Ok(events)
        },
    )
}

/// Zendesk Support "CSV export" of tickets.
pub fn zendesk_csv(text: &str, opts: &Options) -> Result<Imported, String> {
    let tz = need_tz(
        opts,
        "Zendesk CSV",
        "the account's default time zone, e.g. America/New_York",
    )?;
    const DATE: &str = "%Y-%m-%d %H:%M";
    rows(text, &["Id", "Created at", "Status", "Priority"], |c, r| {
        let id = c.get(r, "Id").ok_or("no Id")?;
        let created_at = local_time(
            c.get(r, "Created at").ok_or("Created at is empty")?,
            DATE,
            &tz,
        )
        .map_err(|e| format!("Created at: {e}"))?;
        let ticket = format!("zendesk-{id}");
        let mut created = Event::new(
            format!("zendesk:{id}:created"),
            &ticket,
            created_at,
            EventType::Created,
        );
        created.customer = opts
            .customer
            .clone()
            .or_else(|| c.get(r, "Organization").and_then(slug));
        created.priority = c.get(r, "Priority").map(|p| p.to_lowercase().into());
        created.team = c.get(r, "Group").and_then(slug);
        created.status = Some("open".into());
        let tags: Vec<CompactString> = c
            .get(r, "Tags")
            .map(|t| t.split_whitespace().map(CompactString::from).collect())
            .unwrap_or_default();
        if !tags.is_empty() {
            created.tags = Some(tags);
        }
        if let Some(kind) = c.get(r, "Ticket type") {
            created.fields = Some(
                [("type".into(), Some(kind.to_lowercase().into()))]
                    .into_iter()
                    .collect(),
            );
        }
        let mut events = vec![created];
        if let Some(minutes) = c.get(r, "First reply time in minutes") {
            let minutes: i64 = minutes
                .parse()
                .map_err(|_| format!("First reply time in minutes: {minutes:?} is not a number"))?;
            let at = Timestamp::from_second(created_at.as_second() + minutes * 60)
                .map_err(|e| e.to_string())?;
            events.push(Event::new(
                format!("zendesk:{id}:first-reply"),
                &ticket,
                at,
                EventType::AgentReplied,
            ));
        }
        if let Some(solved) = c.get(r, "Solved at") {
            let at = local_time(solved, DATE, &tz).map_err(|e| format!("Solved at: {e}"))?;
            events.push(Event::new(
                format!("zendesk:{id}:solved"),
                &ticket,
                at,
                EventType::Resolved,
            ));
        }
        Ok(events)
    })
}

/// Zendesk Ticket Audits API: one audit per line, a full history.
pub fn zendesk_audits(text: &str, opts: &Options) -> Result<Imported, String> {
    use serde_json::Value;
    let mut out = Imported::default();
    let mut requester: BTreeMap<String, String> = BTreeMap::new();
    let mut status: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let audit: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                out.rejected.push(Rejected {
                    line: line_no,
                    reason: format!("not valid JSON: {e}"),
                });
                continue;
            }
        };
        let result = (|| -> Result<Vec<Event>, String> {
            let ticket_id = audit
                .get("ticket_id")
                .and_then(Value::as_u64)
                .ok_or("no ticket_id")?;
            let audit_id = audit.get("id").and_then(Value::as_u64).ok_or("no id")?;
            let at: Timestamp = audit
                .get("created_at")
                .and_then(Value::as_str)
                .ok_or("no created_at")?
                .parse()
                .map_err(|_| "created_at is not an RFC 3339 time".to_owned())?;
            let at = Timestamp::from_second(at.as_second()).map_err(|e| e.to_string())?;
            let author = audit.get("author_id").and_then(Value::as_i64).unwrap_or(-1);
            let ticket = format!("zendesk-{ticket_id}");
            let items = audit
                .get("events")
                .and_then(Value::as_array)
                .ok_or("no events")?;
            let creating = items.iter().any(|e| e["type"] == "Create");
            let mut events = Vec::new();
            let mut k = 0;
            let id = |k: &mut u32| {
                *k += 1;
                format!("zendesk:{ticket_id}:{audit_id}:{k}")
            };
            let text_of = |v: &Value| match v {
                Value::String(s) => Some(CompactString::from(s.as_str())),
                Value::Number(n) => Some(n.to_string().into()),
                _ => None,
            };
            if creating {
                let mut created = Event::new(id(&mut k), &ticket, at, EventType::Created);
                created.customer = opts.customer.clone();
                let mut fields = BTreeMap::new();
                for e in items
                    .iter()
                    .filter(|e| e["type"] == "Create" || e["type"] == "Change")
                {
                    let value = &e["value"];
                    match e["field_name"].as_str().unwrap_or_default() {
                        "priority" => created.priority = text_of(value),
                        "status" => {
                            status
                                .insert(ticket.clone(), value.as_str().unwrap_or("new").to_owned());
                        }
                        "requester_id" => {
                            if let Some(r) = text_of(value) {
                                requester.insert(ticket.clone(), r.into());
                            }
                        }
                        "group_id" => created.team = text_of(value),
                        "tags" => {
                            created.tags = value.as_array().map(|t| {
                                t.iter()
                                    .filter_map(|x| x.as_str().map(CompactString::from))
                                    .collect()
                            });
                        }
                        "type" => {
                            if let Some(v) = text_of(value) {
                                fields.insert("type".into(), Some(v));
                            }
                        }
                        name if name.bytes().all(|b| b.is_ascii_digit()) => {
                            fields.insert(name.into(), text_of(value));
                        }
                        _ => {}
                    }
                }
                created.status = Some("open".into());
                created.fields = Some(fields);
                events.push(created);
                return Ok(events);
            }
            let mut update = Event::new(String::new(), &ticket, at, EventType::Updated);
            let mut changed = false;
            let mut fields = BTreeMap::new();
            let mut after_update = Vec::new();
            for e in items {
                match e["type"].as_str().unwrap_or_default() {
                    "Comment" => {
                        let by = e.get("author_id").and_then(Value::as_i64).unwrap_or(author);
                        let kind = if by == -1 {
                            continue; // automation is not an agent
                        } else if requester.get(&ticket).is_some_and(|r| *r == by.to_string()) {
                            EventType::CustomerReplied
                        } else {
                            EventType::AgentReplied
                        };
                        let mut reply = Event::new(id(&mut k), &ticket, at, kind);
                        if kind == EventType::AgentReplied {
                            reply.public =
                                Some(e.get("public").and_then(Value::as_bool).unwrap_or(true));
                        }
                        after_update.push(reply);
                    }
                    "Change" => {
                        let value = &e["value"];
                        match e["field_name"].as_str().unwrap_or_default() {
                            "status" => {
                                let new = value.as_str().unwrap_or_default();
                                let old = status
                                    .insert(ticket.clone(), new.to_owned())
                                    .unwrap_or_default();
                                match new {
                                    "solved" => after_update.push(Event::new(
                                        id(&mut k),
                                        &ticket,
                                        at,
                                        EventType::Resolved,
                                    )),
                                    "closed" => after_update.push(Event::new(
                                        id(&mut k),
                                        &ticket,
                                        at,
                                        EventType::Closed,
                                    )),
                                    "open" | "new" if old == "solved" => {
                                        after_update.push(Event::new(
                                            id(&mut k),
                                            &ticket,
                                            at,
                                            EventType::Reopened,
                                        ));
                                    }
                                    other => {
                                        update.status = Some(
                                            match other {
                                                "pending" => "waiting_on_customer",
                                                "hold" => "waiting_on_third_party",
                                                _ => "open",
                                            }
                                            .into(),
                                        );
                                        changed = true;
                                    }
                                }
                            }
                            "priority" => {
                                update.priority = text_of(value);
                                changed = true;
                            }
                            "group_id" => {
                                update.team = text_of(value);
                                changed = true;
                            }
                            "tags" => {
                                update.tags = value.as_array().map(|t| {
                                    t.iter()
                                        .filter_map(|x| x.as_str().map(CompactString::from))
                                        .collect()
                                });
                                changed = true;
                            }
                            "type" => {
                                fields.insert("type".into(), text_of(value));
                            }
                            name if name.bytes().all(|b| b.is_ascii_digit()) => {
                                fields.insert(name.into(), text_of(value));
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            if !fields.is_empty() {
                update.fields = Some(fields);
                changed = true;
            }
            if changed {
                update.id = format!("zendesk:{ticket_id}:{audit_id}:update").into();
                events.push(update);
            }
            events.extend(after_update);
            Ok(events)
        })();
        match result {
            Ok(events) => {
                if events.iter().any(|e| e.kind == EventType::Created) {
                    out.tickets += 1;
                }
                out.events.extend(events);
            }
            Err(reason) => out.rejected.push(Rejected {
                line: line_no,
                reason,
            }),
        }
    }
    Ok(out)
}

/// A generic CSV: one event per row, columns named as event keys (`ticket`, `at`, `type`,
/// and any of `id`, `customer`, `service`, `priority`, `status`, `team`, `assignee`,
/// `supplier`, `tags` (separated by spaces or `;`), `public`, `fields.NAME`). `at` is RFC
/// 3339, or local time in `--timezone`.
pub fn generic_csv(text: &str, opts: &Options) -> Result<Imported, String> {
    let mut tickets = std::collections::BTreeSet::new();
    let mut imported = rows(text, &["ticket", "at", "type"], |c, r| {
        let ticket = c.get(r, "ticket").ok_or("ticket is empty")?;
        let at_text = c.get(r, "at").ok_or("at is empty")?;
        let at = match at_text.parse::<Timestamp>() {
            Ok(t) => t,
            Err(_) => match &opts.timezone {
                Some(tz) => local_time(at_text, "%Y-%m-%d %H:%M:%S", tz)
                    .or_else(|_| local_time(at_text, "%Y-%m-%d %H:%M", tz))
                    .map_err(|_| {
                        format!("at: {at_text:?} is not RFC 3339 nor YYYY-MM-DD HH:MM[:SS]")
                    })?,
                None => {
                    return Err(format!(
                        "at: {at_text:?} is not an RFC 3339 time (or give --timezone for local times)"
                    ));
                }
            },
        };
        let at = Timestamp::from_second(at.as_second()).map_err(|e| e.to_string())?;
        let kind: EventType = serde_json::from_value(serde_json::Value::String(c.get(r, "type").ok_or("type is empty")?.to_owned()))
            .map_err(|_| "type: expected created, updated, customer_replied, agent_replied, resolved, reopened or closed".to_owned())?;
        let line = r.position().map_or(0, |p| p.line());
        let id = c
            .get(r, "id")
            .map_or_else(|| format!("csv:{ticket}:{line}"), str::to_owned);
        let mut e = Event::new(id, ticket, at, kind);
        let text = |name: &str| c.get(r, name).map(CompactString::from);
        e.customer = opts.customer.clone().or_else(|| text("customer"));
        e.service = text("service");
        e.priority = text("priority");
        e.status = text("status");
        e.team = text("team");
        e.assignee = text("assignee");
        e.supplier = text("supplier");
        e.tags = c.get(r, "tags").map(|t| {
            t.split([' ', ';'])
                .filter(|x| !x.is_empty())
                .map(CompactString::from)
                .collect()
        });
        e.public = match c.get(r, "public") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => return Err(format!("public: {other:?} is not true or false")),
        };
        let fields: BTreeMap<CompactString, Option<CompactString>> =
            c.0.keys()
                .filter_map(|h| {
                    h.strip_prefix("fields.")
                        .map(|f| (f.into(), c.get(r, h).map(CompactString::from)))
                })
                .filter(|(_, v)| v.is_some())
                .collect();
        if !fields.is_empty() {
            e.fields = Some(fields);
        }
        tickets.insert(ticket.to_owned());
        Ok(vec![e])
    })?;
    imported.tickets = tickets.len();
    Ok(imported)
}

/// The formats `--from` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Jira Service Management "Export Excel CSV (all fields)".
    Jira,
    /// Zendesk Support CSV export of tickets.
    Zendesk,
    /// Zendesk Ticket Audits API, one audit per line (a full history).
    ZendeskAudits,
    /// One event per row, columns named as event keys.
    Csv,
}

impl Format {
    /// What this format cannot tell, in words for the summary.
    pub fn caveat(self) -> Option<&'static str> {
        match self {
            Format::Jira => Some(
                "a Jira CSV is a snapshot: comment visibility, status history, pauses, earlier resolutions and \
                 priority changes are not exported, so first-response clocks count every agent comment as public, \
                 resolution clocks see only the last resolve, and pauses are only the current one. \
                 These clocks are approximations; the changelog API gives exact ones.",
            ),
            Format::Zendesk => Some(
                "a Zendesk CSV is a snapshot: it has no comments and no status history, only the first reply \
                 and the latest solve, so next-response, periodic-update and paused clocks cannot be derived and \
                 the rest are approximations. Import the ticket audits for exact clocks.",
            ),
            Format::ZendeskAudits | Format::Csv => None,
        }
    }

    pub fn parse(self, text: &str, opts: &Options) -> Result<Imported, String> {
        match self {
            Format::Jira => jira_csv(text, opts),
            Format::Zendesk => zendesk_csv(text, opts),
            Format::ZendeskAudits => zendesk_audits(text, opts),
            Format::Csv => generic_csv(text, opts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    }

    fn tz(name: &str) -> Options {
        Options {
            timezone: Some(TimeZone::get(name).unwrap()),
            customer: None,
        }
    }

    fn of<'a>(events: &'a [Event], ticket: &str) -> Vec<&'a Event> {
        events.iter().filter(|e| e.ticket == ticket).collect()
    }

    #[test]
    fn jira_rows_become_events_in_the_export_zone() {
        let imported = jira_csv(&fixture("jira-sm-export.csv"), &tz("Europe/Berlin")).unwrap();
        assert_eq!((imported.tickets, imported.rejected.len()), (15, 0));
        let care114 = of(&imported.events, "CARE-114");
        // 27/Mar/26 4:30 PM CET and 30/Mar/26 9:16 AM CEST: across the EU DST change.
        assert_eq!(
            care114[0].at,
            "2026-03-27T15:30:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(care114[0].priority.as_deref(), Some("highest"));
        assert_eq!(care114[0].customer.as_deref(), Some("vexley-manufacturing"));
        let resolved = care114
            .iter()
            .find(|e| e.kind == EventType::Resolved)
            .unwrap();
        assert_eq!(
            resolved.at,
            "2026-03-30T07:16:00Z".parse::<Timestamp>().unwrap()
        );
        // CARE-110: Automation for Jira's public comments are not agent replies.
        let care110 = of(&imported.events, "CARE-110");
        assert_eq!(
            care110
                .iter()
                .filter(|e| e.kind == EventType::AgentReplied)
                .count(),
            1
        );
        // CARE-111: the customer chased before the first agent reply.
        let care111 = of(&imported.events, "CARE-111");
        assert_eq!(care111[1].kind, EventType::CustomerReplied);
        // CARE-115 is waiting for the customer at export time.
        assert!(
            of(&imported.events, "CARE-115")
                .iter()
                .any(|e| e.status.as_deref() == Some("waiting_on_customer"))
        );
        // Ids derive from the rows: a second reading gives the same events.
        assert_eq!(
            imported.events,
            jira_csv(&fixture("jira-sm-export.csv"), &tz("Europe/Berlin"))
                .unwrap()
                .events
        );
    }

    #[test]
    fn a_bad_row_is_named_by_line_and_the_rest_go_in() {
        let text = fixture("jira-sm-export.csv").replace(
            "03/Apr/26 10:00 AM,03/Apr/26 10:00 AM",
            "tomorrow,03/Apr/26 10:00 AM",
        );
        let imported = jira_csv(&text, &tz("Europe/Berlin")).unwrap();
        assert_eq!(imported.tickets, 14);
        assert_eq!(
            imported.rejected,
            [Rejected {
                line: 2,
                reason: "Created: \"tomorrow\" is not a date in the form %d/%b/%y %I:%M %p".into()
            }]
        );
        assert_eq!(
            jira_csv("Summary,Key\nx,y\n", &tz("UTC")).unwrap_err(),
            "this is not the expected export: no column Issue key, Created, Priority, Status"
        );
        assert!(
            jira_csv(&fixture("jira-sm-export.csv"), &Options::default())
                .unwrap_err()
                .contains("--timezone")
        );
    }

    #[test]
    fn zendesk_audits_give_the_full_history() {
        let imported =
            zendesk_audits(&fixture("zendesk-ticket-events.jsonl"), &Options::default()).unwrap();
        assert_eq!((imported.tickets, imported.rejected.len()), (4, 0));
        let t = of(&imported.events, "zendesk-48203");
        let kinds: Vec<EventType> = t.iter().map(|e| e.kind).collect();
        use EventType::*;
        assert_eq!(
            kinds,
            [
                Created,
                Updated,
                Updated,
                AgentReplied,
                Updated,
                CustomerReplied,
                Updated,
                AgentReplied,
                AgentReplied,
                Resolved,
                CustomerReplied,
                Reopened,
                AgentReplied,
                Resolved,
                Closed
            ]
        );
        assert_eq!(t[7].public, Some(false), "an internal note");
        assert_eq!(
            t[2].status.as_deref(),
            Some("waiting_on_customer"),
            "pending"
        );
        let hold = of(&imported.events, "zendesk-48207");
        assert!(
            hold.iter()
                .any(|e| e.status.as_deref() == Some("waiting_on_third_party")),
            "on hold"
        );
        let bad = zendesk_audits("{\"id\":1}\nnot json\n", &Options::default()).unwrap();
        assert_eq!(bad.rejected.len(), 2);
        assert_eq!(
            bad.rejected[0],
            Rejected {
                line: 1,
                reason: "no ticket_id".into()
            }
        );
    }

    #[test]
    fn zendesk_csv_rows_give_first_reply_and_solve() {
        let imported = zendesk_csv(
            &fixture("zendesk-tickets-export.csv"),
            &tz("America/New_York"),
        )
        .unwrap();
        assert_eq!((imported.tickets, imported.rejected.len()), (16, 0));
        let t = of(&imported.events, "zendesk-48207");
        // 2026-03-16 11:20 EDT + 27 minutes.
        assert_eq!(
            t[0].at,
            "2026-03-16T15:20:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(t[1].kind, EventType::AgentReplied);
        assert_eq!(
            t[1].at,
            "2026-03-16T15:47:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(t[0].customer.as_deref(), Some("campfire-co-op"));
        assert_eq!(t[0].team.as_deref(), Some("tier-1-support"));
    }

    #[test]
    fn a_generic_csv_is_one_event_per_row() {
        let text = "ticket,at,type,priority,tags,fields.region,public\n\
                    T-1,2026-11-02T10:00:00Z,created,P1,vip;exec,eu,\n\
                    T-1,2026-11-02 11:30,agent_replied,,,,false\n\
                    T-2,2026-11-02T10:00:00Z,creatd,,,,\n";
        let imported = generic_csv(text, &tz("Europe/Paris")).unwrap();
        assert_eq!(imported.events.len(), 2);
        assert_eq!(
            imported.events[0].tags.as_deref(),
            Some(&["vip".into(), "exec".into()][..])
        );
        assert_eq!(
            imported.events[0].fields.as_ref().unwrap()["region"].as_deref(),
            Some("eu")
        );
        assert_eq!(
            imported.events[1].at,
            "2026-11-02T10:30:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(imported.events[1].public, Some(false));
        assert_eq!(imported.events[1].id, "csv:T-1:3");
        assert_eq!(imported.rejected[0].line, 4);
        assert!(
            imported.rejected[0]
                .reason
                .starts_with("type: expected created"),
            "{:?}",
            imported.rejected
        );
    }

    #[test]
    fn slugs_are_accord_ids() {
        assert_eq!(
            slug("Brightwater Logistics").as_deref(),
            Some("brightwater-logistics")
        );
        assert_eq!(
            slug("Harbor & Pine Outfitters").as_deref(),
            Some("harbor-pine-outfitters")
        );
        assert_eq!(slug("-"), None);
    }
}
