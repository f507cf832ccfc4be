//! The one loader of SLA-as-code: YAML files in, a checked [`Config`] out, or every
//! mistake located by file, line, column and key path, with a "did you mean" for
//! misspelt keys and values. Used by `accord validate`, `accord apply`, the server's
//! `PUT /v1/config` and every offline command.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use super::model::*;
use super::units::{BusinessDuration, Percent};
use crate::calendar::{Calendar, CalendarDoc};

/// One YAML file of SLA-as-code: its path relative to the configuration directory, and
/// its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// A mistake (or, in warnings, a doubt), located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Path of the key at fault inside its document (`objectives[1].target`).
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A calendar of the configuration, ready for queries.
#[derive(Debug, Clone)]
pub struct CalendarDef {
    pub id: String,
    pub doc: CalendarDoc,
    pub calendar: Arc<Calendar>,
}

/// What an objective promises, by metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// A ticket clock: open seconds.
    Time(BusinessDuration),
    /// Availability, or an experience share of good answers.
    Percent(Percent),
    /// An experience average (a floor for csat, a ceiling for ces).
    Average(f64),
}

/// One version of an agreement, checked.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub doc: AgreementDoc,
    /// The file it came from.
    pub file: String,
    /// `targets[i]` is the target of `doc.objectives[i]`.
    pub targets: Vec<Target>,
    /// When this version is in force, as UTC seconds `[from, until)`: its `effective`
    /// dates turned into instants in its calendar's zone once, at load.
    pub in_force: (Option<i64>, Option<i64>),
}

impl Agreement {
    pub fn id(&self) -> &str {
        &self.doc.id.value
    }
}

/// A whole, checked configuration. Agreements keep configuration order: files in name
/// order, documents in file order.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub calendars: Vec<CalendarDef>,
    pub customers: Vec<CustomerDoc>,
    pub services: Vec<ServiceDoc>,
    pub teams: Vec<TeamDoc>,
    pub suppliers: Vec<SupplierDoc>,
    pub channels: Vec<ChannelDoc>,
    pub agreements: Vec<Agreement>,
}

impl Config {
    pub fn calendar(&self, id: &str) -> Option<&CalendarDef> {
        self.calendars.iter().find(|c| c.id == id)
    }
}

/// A loaded configuration and its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

const KINDS: [&str; 7] = [
    "calendar",
    "agreement",
    "customer",
    "service",
    "team",
    "supplier",
    "channel",
];

/// The keys `when` may use, besides `fields.NAME`.
pub const WHEN_KEYS: [&str; 7] = [
    "customer", "service", "priority", "team", "assignee", "supplier", "tags",
];

/// Loads and checks a set of files. `read` gives the text of another file (an `.ics`),
/// by its path relative to the configuration directory.
pub fn load(
    files: &[SourceFile],
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut files: Vec<&SourceFile> = files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut errors = Vec::new();
    let mut parsed = Parsed::default();
    for file in files {
        parse_file(file, &mut parsed, &mut errors, read);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut checker = Checker {
        parsed: &parsed,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let agreements = checker.check();
    if !checker.errors.is_empty() {
        return Err(checker.errors);
    }
    let warnings = checker.warnings;
    Ok(Loaded {
        config: Config {
            calendars: parsed.calendars.into_iter().map(|(def, _)| def).collect(),
            customers: parsed.customers.into_iter().map(|(d, _)| d).collect(),
            services: parsed.services.into_iter().map(|(d, _)| d).collect(),
            teams: parsed.teams.into_iter().map(|(d, _)| d).collect(),
            suppliers: parsed.suppliers.into_iter().map(|(d, _)| d).collect(),
            channels: parsed.channels.into_iter().map(|(d, _)| d).collect(),
            agreements,
        },
        warnings,
    })
}

#[derive(Default)]
struct Parsed {
    calendars: Vec<(CalendarDef, String)>,
    customers: Vec<(CustomerDoc, String)>,
    services: Vec<(ServiceDoc, String)>,
    teams: Vec<(TeamDoc, String)>,
    suppliers: Vec<(SupplierDoc, String)>,
    channels: Vec<(ChannelDoc, String)>,
    agreements: Vec<(AgreementDoc, String)>,
}

/// `kind` and `id`, read first to know what a document is.
#[derive(Deserialize)]
struct DocHead {
    #[serde(default)]
    kind: Option<Spanned<String>>,
}

/// One document of a file: its text with every other line blanked (so parsers report
/// lines of the whole file), and whether it is an item of a top-level list.
pub(crate) struct Document {
    pub(crate) masked: String,
    pub(crate) as_list_item: bool,
    pub(crate) first_line: usize,
}

fn mask(lines: &[&str], first: usize, last: usize) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if (first..=last).contains(&i) {
                *line
            } else {
                ""
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn split_documents(text: &str, file: &str) -> Result<Vec<Document>, Diagnostic> {
    let lines: Vec<&str> = text.lines().collect();
    let first_content = lines.iter().position(|l| {
        !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.starts_with("---")
    });
    let Some(first_content) = first_content else {
        return Ok(Vec::new());
    };
    if lines[first_content].starts_with('-') && !lines[first_content].starts_with("---") {
        // A top-level list of documents: find where each item starts.
        let items: Vec<Spanned<serde::de::IgnoredAny>> =
            serde_saphyr::from_str(text).map_err(|e| saphyr_diagnostic(file, "", &e))?;
        let starts: Vec<usize> = items
            .iter()
            .map(|s| (s.referenced.line().max(1) - 1) as usize)
            .collect();
        return Ok(starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let last = starts
                    .get(i + 1)
                    .map_or(lines.len().saturating_sub(1), |&next| next - 1);
                Document {
                    masked: mask(&lines, start, last),
                    as_list_item: true,
                    first_line: start + 1,
                }
            })
            .collect());
    }
    let mut documents = Vec::new();
    let mut start = 0;
    for (i, line) in lines.iter().enumerate() {
        let marker =
            line.starts_with("---") && (line.len() == 3 || line[3..].starts_with([' ', '\t']));
        if marker {
            if i > start {
                documents.push((start, i - 1));
            }
            start = i + 1;
        }
    }
    if start < lines.len() {
        documents.push((start, lines.len() - 1));
    }
    Ok(documents
        .into_iter()
        .map(|(first, last)| Document {
            masked: mask(&lines, first, last),
            as_list_item: false,
            first_line: first + 1,
        })
        .filter(|d| {
            d.masked
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect())
}

/// Deserializes one document, tracking the key path for errors.
pub(crate) fn parse_typed<T: DeserializeOwned>(
    doc: &Document,
    file: &str,
) -> Result<T, Diagnostic> {
    let mut path = String::new();
    let result = if doc.as_list_item {
        serde_saphyr::with_deserializer_from_str(&doc.masked, |de| {
            serde_path_to_error::deserialize::<_, Vec<T>>(de).map_err(|e| {
                path = e.path().to_string();
                e.into_inner()
            })
        })
        .map(|mut items| items.remove(0))
    } else {
        serde_saphyr::with_deserializer_from_str(&doc.masked, |de| {
            serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
                path = e.path().to_string();
                e.into_inner()
            })
        })
    };
    result.map_err(|e| {
        let path = path.strip_prefix("[0]").unwrap_or(&path);
        let path = path.strip_prefix('.').unwrap_or(path);
        let path = if path == "." { "" } else { path };
        saphyr_diagnostic(file, path, &e)
    })
}

fn saphyr_diagnostic(file: &str, path: &str, e: &serde_saphyr::Error) -> Diagnostic {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or(&text).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 5 column 5: message" → message
    let message = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first, |(_, m)| m),
        None => first,
    };
    let location = e.location();
    Diagnostic {
        file: file.to_owned(),
        line: location.as_ref().map(Location::line).filter(|&l| l > 0),
        column: location.as_ref().map(Location::column).filter(|&c| c > 0),
        path: path.to_owned(),
        message: with_suggestion(message),
    }
}

/// The closest of `candidates` to `word`, when close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|&(d, c)| d > 0 && d <= (c.len().max(word.len()) / 3).max(1) + 1)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Adds "did you mean" to serde's unknown field/variant messages.
fn with_suggestion(message: &str) -> String {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.strip_prefix(p));
    let Some(rest) = unknown else {
        return message.to_owned();
    };
    let Some((word, tail)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let expected: Vec<&str> = tail
        .split_once("expected one of ")
        .or_else(|| tail.split_once("expected "))
        .map(|(_, list)| {
            list.split(", ")
                .map(|s| s.trim().trim_matches('`'))
                .collect()
        })
        .unwrap_or_default();
    match closest(word, expected.iter().copied()) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message.to_owned(),
    }
}

fn at<T>(
    file: &str,
    path: impl Into<String>,
    spanned: &Spanned<T>,
    message: impl Into<String>,
) -> Diagnostic {
    let loc = &spanned.referenced;
    Diagnostic {
        file: file.to_owned(),
        line: Some(loc.line()).filter(|&l| l > 0),
        column: Some(loc.column()).filter(|&c| c > 0),
        path: path.into(),
        message: message.into(),
    }
}

fn at_line(
    file: &str,
    line: usize,
    path: impl Into<String>,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: Some(line as u64),
        column: None,
        path: path.into(),
        message: message.into(),
    }
}

/// `dir/of/file.yaml` + `holidays/x.ics` → `dir/of/holidays/x.ics`, with `..` resolved.
pub fn relative_to(file: &str, path: &str) -> String {
    let mut parts: Vec<&str> = file.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn parse_file(
    file: &SourceFile,
    parsed: &mut Parsed,
    errors: &mut Vec<Diagnostic>,
    read: &dyn Fn(&str) -> Result<String, String>,
) {
    let name = file.path.as_str();
    let documents = match split_documents(&file.text, name) {
        Ok(d) => d,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    for doc in documents {
        let head: DocHead = match parse_typed(&doc, name) {
            Ok(h) => h,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let Some(kind) = head.kind else {
            errors.push(at_line(
                name,
                doc.first_line,
                "",
                "a document needs a `kind`: calendar, agreement, customer, service, team, supplier or channel",
            ));
            continue;
        };
        let result = match kind.value.as_str() {
            "calendar" => parse_typed::<CalendarDoc>(&doc, name).and_then(|c| {
                let read_relative = |p: &str| read(&relative_to(name, p));
                let calendar = c.build(&read_relative).map_err(|e| match e {
                    crate::calendar::CalendarError::Invalid { path, message } => {
                        at_line(name, doc.first_line, path, message)
                    }
                    other => at_line(name, doc.first_line, "", other.to_string()),
                })?;
                let id = c.id.clone().unwrap_or_default();
                if id.is_empty() {
                    return Err(at_line(
                        name,
                        doc.first_line,
                        "id",
                        "a calendar in SLA-as-code needs an `id`",
                    ));
                }
                parsed.calendars.push((
                    CalendarDef {
                        id,
                        doc: c,
                        calendar: Arc::new(calendar),
                    },
                    name.to_owned(),
                ));
                Ok(())
            }),
            "agreement" => parse_typed::<AgreementDoc>(&doc, name)
                .map(|d| parsed.agreements.push((d, name.to_owned()))),
            "customer" => parse_typed::<CustomerDoc>(&doc, name)
                .map(|d| parsed.customers.push((d, name.to_owned()))),
            "service" => parse_typed::<ServiceDoc>(&doc, name)
                .map(|d| parsed.services.push((d, name.to_owned()))),
            "team" => {
                parse_typed::<TeamDoc>(&doc, name).map(|d| parsed.teams.push((d, name.to_owned())))
            }
            "supplier" => parse_typed::<SupplierDoc>(&doc, name)
                .map(|d| parsed.suppliers.push((d, name.to_owned()))),
            "channel" => parse_typed::<ChannelDoc>(&doc, name)
                .map(|d| parsed.channels.push((d, name.to_owned()))),
            other => {
                let hint = closest(other, KINDS)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                Err(at(
                    name,
                    "kind",
                    &kind,
                    format!(
                        "unknown kind `{other}`, expected one of calendar, agreement, customer, service, team, supplier, channel{hint}"
                    ),
                ))
            }
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
}

struct Checker<'a> {
    parsed: &'a Parsed,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn ids<'b, T>(
        &self,
        items: &'b [(T, String)],
        id: impl Fn(&'b T) -> &'b Spanned<String>,
    ) -> BTreeSet<&'b str> {
        items.iter().map(|(d, _)| id(d).value.as_str()).collect()
    }

    /// An error for `reference` when it is not among `known`, with a suggestion.
    fn reference(
        &mut self,
        file: &str,
        path: String,
        reference: &Spanned<String>,
        what: &str,
        known: &BTreeSet<&str>,
    ) {
        if known.contains(reference.value.as_str()) {
            return;
        }
        let hint = closest(&reference.value, known.iter().copied())
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        self.errors.push(at(
            file,
            path,
            reference,
            format!("unknown {what} `{}`{hint}", reference.value),
        ));
    }

    fn unique<T>(
        &mut self,
        what: &str,
        items: &[(T, String)],
        id: impl Fn(&T) -> &Spanned<String>,
    ) {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (doc, file) in items {
            let spanned = id(doc);
            if let Some(first) = seen.insert(spanned.value.as_str(), file.as_str()) {
                self.errors.push(at(
                    file,
                    "id",
                    spanned,
                    format!(
                        "the {what} id `{}` is already used (in {first})",
                        spanned.value
                    ),
                ));
            }
            if let Err(e) = crate::id::check_id(&spanned.value) {
                self.errors.push(at(file, "id", spanned, e.to_string()));
            }
        }
    }

    fn check(&mut self) -> Vec<Agreement> {
        let p = self.parsed;
        self.unique("customer", &p.customers, |d| &d.id);
        self.unique("service", &p.services, |d| &d.id);
        self.unique("team", &p.teams, |d| &d.id);
        self.unique("supplier", &p.suppliers, |d| &d.id);
        self.unique("channel", &p.channels, |d| &d.id);
        let mut calendar_ids: BTreeMap<&str, &str> = BTreeMap::new();
        for (c, file) in &p.calendars {
            if c.id == "24x7" {
                self.errors.push(at_line(
                    file,
                    1,
                    "id",
                    "`24x7` is built in; give this calendar another id",
                ));
            } else if let Some(first) = calendar_ids.insert(&c.id, file) {
                self.errors.push(at_line(
                    file,
                    1,
                    "id",
                    format!("the calendar id `{}` is already used (in {first})", c.id),
                ));
            }
        }
        for (c, file) in &p.customers {
            if let Some(tz) = &c.timezone
                && jiff::tz::db().get(&tz.value).is_err()
            {
                self.errors.push(at(
                    file,
                    "timezone",
                    tz,
                    format!(
                        "unknown time zone {:?}: expected an IANA name such as Europe/Paris",
                        tz.value
                    ),
                ));
            }
        }
        let mut calendars: BTreeSet<&str> = calendar_ids.keys().copied().collect();
        calendars.insert("24x7");
        let customers = self.ids(&p.customers, |d| &d.id);
        let services = self.ids(&p.services, |d| &d.id);
        let teams = self.ids(&p.teams, |d| &d.id);
        let suppliers = self.ids(&p.suppliers, |d| &d.id);
        let channels: HashMap<&str, ChannelType> = p
            .channels
            .iter()
            .map(|(c, _)| (c.id.value.as_str(), c.channel_type))
            .collect();

        for (c, file) in &p.channels {
            if let Some(q) = &c.quiet_hours {
                self.reference(
                    file,
                    "quiet_hours.calendar".into(),
                    &q.calendar,
                    "calendar",
                    &calendars,
                );
            }
            if c.channel_type == ChannelType::Email {
                let to = c.to.as_deref().unwrap_or_default();
                if to.is_empty() {
                    self.errors.push(at(
                        file,
                        "to",
                        &c.id,
                        "an email channel needs `to`: the addresses it sends to",
                    ));
                }
                for (i, address) in to.iter().enumerate() {
                    if !address.contains('@') {
                        self.errors.push(at(
                            file,
                            format!("to[{i}]"),
                            &c.id,
                            format!("{address:?} is not an e-mail address"),
                        ));
                    }
                }
            }
            if c.channel_type != ChannelType::Email && c.url.is_none() {
                self.errors.push(at(
                    file,
                    "url",
                    &c.id,
                    format!(
                        "a {} channel needs a `url`",
                        match c.channel_type {
                            ChannelType::Chat => "chat",
                            _ => "webhook",
                        }
                    ),
                ));
            }
        }
        for (t, file) in &p.teams {
            for (i, n) in t.notify.iter().enumerate() {
                self.notify_target(file, format!("notify[{i}]"), n, &channels, &teams);
            }
        }

        let mut agreements = Vec::new();
        let mut versions: HashMap<&str, Vec<(u32, &Effective, &str)>> = HashMap::new();
        let default_effective = Effective {
            from: jiff::civil::Date::MIN,
            to: None,
        };
        for (doc, file) in &p.agreements {
            let a = self.agreement(
                doc, file, &calendars, &customers, &services, &teams, &suppliers, &channels,
            );
            let list = versions.entry(doc.id.value.as_str()).or_default();
            let effective = doc.effective.as_ref().unwrap_or(&default_effective);
            for (v, e, other_file) in list.iter() {
                if *v == doc.version {
                    self.errors.push(at(
                        file,
                        "version",
                        &doc.id,
                        format!(
                            "agreement `{}` has version {} twice (also in {other_file})",
                            doc.id.value, doc.version
                        ),
                    ));
                } else if overlaps(effective, e) {
                    self.errors.push(at(file, "effective", &doc.id, format!(
                        "the effective dates of version {} of `{}` overlap those of version {v}", doc.version, doc.id.value)));
                }
            }
            list.push((doc.version, effective, file));
            if let Some(a) = a {
                agreements.push(a);
            }
        }
        self.overlap_warnings(&agreements);
        agreements
    }

    fn notify_target(
        &mut self,
        file: &str,
        path: String,
        target: &Spanned<String>,
        channels: &HashMap<&str, ChannelType>,
        teams: &BTreeSet<&str>,
    ) {
        let Some((kind, id)) = target.value.split_once(':') else {
            self.errors.push(at(file, path, target, format!("`{}` is not a notify target: expected webhook:ID, chat:ID, email:ID, email:ADDRESS or team:ID", target.value)));
            return;
        };
        let wanted = match kind {
            "webhook" => ChannelType::Webhook,
            "chat" => ChannelType::Chat,
            "email" if id.contains('@') => return,
            "email" => ChannelType::Email,
            "team" => {
                if !teams.contains(id) {
                    let hint = closest(id, teams.iter().copied())
                        .map(|k| format!("; did you mean `team:{k}`?"))
                        .unwrap_or_default();
                    self.errors
                        .push(at(file, path, target, format!("unknown team `{id}`{hint}")));
                }
                return;
            }
            other => {
                self.errors.push(at(
                    file,
                    path,
                    target,
                    format!("unknown notify type `{other}`: expected webhook, chat, email or team"),
                ));
                return;
            }
        };
        match channels.get(id) {
            Some(&t) if t == wanted => {}
            Some(_) => self.errors.push(at(
                file,
                path,
                target,
                format!("channel `{id}` is not a {kind} channel"),
            )),
            None => {
                let hint = closest(id, channels.keys().copied())
                    .map(|k| format!("; did you mean `{kind}:{k}`?"))
                    .unwrap_or_default();
                self.errors.push(at(
                    file,
                    path,
                    target,
                    format!("unknown channel `{id}`{hint}"),
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn agreement(
        &mut self,
        doc: &AgreementDoc,
        file: &str,
        calendars: &BTreeSet<&str>,
        customers: &BTreeSet<&str>,
        services: &BTreeSet<&str>,
        teams: &BTreeSet<&str>,
        suppliers: &BTreeSet<&str>,
        channels: &HashMap<&str, ChannelType>,
    ) -> Option<Agreement> {
        let before = self.errors.len();
        if let Err(e) = crate::id::check_id(&doc.id.value) {
            self.errors.push(at(file, "id", &doc.id, e.to_string()));
        }
        match (doc.level, &doc.customer) {
            (Level::Customer, None) => self.errors.push(at(file, "customer", &doc.id, "a customer-level agreement needs `customer`")),
            (Level::Corporate, Some(c)) => self.errors.push(at(file, "customer", c, "a corporate agreement covers every customer: remove `customer` or set `level: customer`")),
            _ => {}
        }
        if let Some(c) = &doc.customer {
            self.reference(file, "customer".into(), c, "customer", customers);
        }
        if doc.level == Level::Service && doc.services.is_empty() {
            self.errors.push(at(
                file,
                "services",
                &doc.id,
                "a service-level agreement needs `services`",
            ));
        }
        if doc.level != Level::Service && !doc.services.is_empty() {
            self.errors.push(at(
                file,
                "services",
                &doc.services[0],
                "`services` belongs to a service-level agreement (`level: service`)",
            ));
        }
        for (i, s) in doc.services.iter().enumerate() {
            self.reference(file, format!("services[{i}]"), s, "service", services);
        }
        match (doc.agreement_type, &doc.team) {
            (AgreementType::Ola, None) => self.errors.push(at(
                file,
                "team",
                &doc.id,
                "an ola needs the `team` that promises it",
            )),
            (AgreementType::Ola, Some(t)) => self.reference(file, "team".into(), t, "team", teams),
            (_, Some(t)) => self
                .errors
                .push(at(file, "team", t, "`team` belongs to an ola")),
            _ => {}
        }
        match (doc.agreement_type, &doc.supplier) {
            (AgreementType::Uc, None) => self.errors.push(at(
                file,
                "supplier",
                &doc.id,
                "an underpinning contract (uc) needs its `supplier`",
            )),
            (AgreementType::Uc, Some(s)) => {
                self.reference(file, "supplier".into(), s, "supplier", suppliers)
            }
            (_, Some(s)) => self.errors.push(at(
                file,
                "supplier",
                s,
                "`supplier` belongs to an underpinning contract (type: uc)",
            )),
            _ => {}
        }
        if let Some(c) = &doc.calendar {
            self.reference(file, "calendar".into(), c, "calendar", calendars);
        }
        if let Some(e) = &doc.effective
            && let Some(to) = e.to
            && to < e.from
        {
            self.errors.push(at(
                file,
                "effective.to",
                &doc.id,
                format!("the version ends ({to}) before it starts ({})", e.from),
            ));
        }
        if doc.priorities.as_ref().is_some_and(Vec::is_empty) {
            self.errors.push(at(
                file,
                "priorities",
                &doc.id,
                "`priorities` must list at least one priority",
            ));
        }

        let mut targets = Vec::new();
        let mut objective_ids: HashMap<&str, usize> = HashMap::new();
        for (i, o) in doc.objectives.iter().enumerate() {
            let path = |key: &str| format!("objectives[{i}].{key}");
            if let Some(first) = objective_ids.insert(o.id.value.as_str(), i) {
                self.errors.push(at(
                    file,
                    path("id"),
                    &o.id,
                    format!(
                        "objective id `{}` is already used by objectives[{first}]",
                        o.id.value
                    ),
                ));
            }
            targets.push(self.target(file, &path("target"), o));
            if let Some(c) = &o.calendar {
                self.reference(file, path("calendar"), c, "calendar", calendars);
            }
            if let Some(when) = &o.when {
                for key in when.value.keys() {
                    if WHEN_KEYS.contains(&key.as_str())
                        || key.strip_prefix("fields.").is_some_and(|f| !f.is_empty())
                    {
                        continue;
                    }
                    let hint = if matches!(key.as_str(), "region" | "type") {
                        format!("; custom ticket fields are matched as `fields.{key}`")
                    } else {
                        closest(key, WHEN_KEYS)
                            .map(|k| format!("; did you mean `{k}`?"))
                            .unwrap_or_default()
                    };
                    self.errors.push(at(file, path("when"), when, format!(
                        "unknown ticket field `{key}` in `when`: expected customer, service, priority, team, assignee, supplier, tags or fields.NAME{hint}")));
                }
            }
            if let (Some(internal), Target::Time(target)) = (&o.internal_target, targets[i]) {
                if !o.metric.is_ticket_clock() {
                    self.errors.push(at(
                        file,
                        path("internal_target"),
                        internal,
                        "`internal_target` is for ticket clocks",
                    ));
                } else if internal.value >= target {
                    self.errors.push(at(
                        file,
                        path("internal_target"),
                        internal,
                        format!(
                            "the internal target ({}) must be earlier than the target ({target})",
                            internal.value
                        ),
                    ));
                }
            }
            for w in &o.warn_at {
                if w.is_zero() || w.above_whole() {
                    self.errors.push(at(
                        file,
                        path("warn_at"),
                        &o.id,
                        format!("a warning threshold is above 0% and at most 100% (got {w})"),
                    ));
                }
            }
            if let Some(c) = &o.compliance
                && c.above_whole()
            {
                self.errors.push(at(
                    file,
                    path("compliance"),
                    &o.id,
                    format!("a compliance goal is at most 100% (got {c})"),
                ));
            }
            for (j, e) in o.escalate.iter().enumerate() {
                if e.at.is_zero() {
                    self.errors.push(at(
                        file,
                        format!("objectives[{i}].escalate[{j}].at"),
                        &o.id,
                        "an escalation level is above 0%",
                    ));
                }
                for (k, n) in e.notify.iter().enumerate() {
                    self.notify_target(
                        file,
                        format!("objectives[{i}].escalate[{j}].notify[{k}]"),
                        n,
                        channels,
                        teams,
                    );
                }
            }
            for (k, n) in o.notify.iter().enumerate() {
                self.notify_target(
                    file,
                    format!("objectives[{i}].notify[{k}]"),
                    n,
                    channels,
                    teams,
                );
            }
            if let Some(r) = &o.reopen
                && o.metric != Metric::Resolution
            {
                self.errors.push(at(
                    file,
                    path("reopen"),
                    r,
                    "`reopen` is for resolution objectives",
                ));
            }
            match (&o.service, o.metric) {
                (None, Metric::Availability) => self.errors.push(at(file, path("service"), &o.id, "an availability objective needs the `service` it measures")),
                (Some(s), Metric::Availability) => self.reference(file, path("service"), s, "service", services),
                (Some(s), _) => self.errors.push(at(file, path("service"), s, "`service` is for availability objectives; match tickets with `when: {service: [...]}`")),
                _ => {}
            }
            if o.metric != Metric::Availability && o.measure.is_some() {
                self.errors.push(at(
                    file,
                    path("measure"),
                    &o.id,
                    "`measure` is for availability objectives",
                ));
            }
            if o.metric != Metric::Availability
                && (o.exclude.is_some() || o.maintenance_notice.is_some())
            {
                self.errors.push(at(
                    file,
                    path("exclude"),
                    &o.id,
                    "`exclude` and `maintenance_notice` are for availability objectives",
                ));
            }
            if o.metric.is_ticket_clock()
                && o.pause_when.is_none()
                && doc.agreement_type == AgreementType::Uc
            {
                // fine: a uc clock pauses by its own rule
            }
        }
        if !doc.credits.is_empty() && doc.fee.is_none() {
            self.errors.push(at(
                file,
                "credits",
                &doc.id,
                "credits are a share of the fee: the agreement needs a `fee`",
            ));
        }
        for (i, credit) in doc.credits.iter().enumerate() {
            let ids: BTreeSet<&str> = doc.objectives.iter().map(|o| o.id.value.as_str()).collect();
            self.reference(
                file,
                format!("credits[{i}].objective"),
                &credit.objective,
                "objective",
                &ids,
            );
            if credit.tiers.is_empty() {
                self.errors.push(at(
                    file,
                    format!("credits[{i}].tiers"),
                    &credit.objective,
                    "a credit entry needs at least one tier",
                ));
            }
            for (j, t) in credit.tiers.iter().enumerate() {
                if t.below.above_whole() || t.below.is_zero() {
                    self.errors.push(at(
                        file,
                        format!("credits[{i}].tiers[{j}].below"),
                        &credit.objective,
                        format!(
                            "a tier bound is above 0% and at most 100% (got {})",
                            t.below
                        ),
                    ));
                }
            }
        }
        if self.errors.len() > before {
            return None;
        }
        let tz = doc
            .calendar
            .as_ref()
            .and_then(|c| self.parsed.calendars.iter().find(|(d, _)| d.id == c.value))
            .map_or(jiff::tz::TimeZone::UTC, |(d, _)| {
                d.calendar.time_zone().clone()
            });
        let start_of = |date: jiff::civil::Date| {
            date.to_zoned(tz.clone())
                .ok()
                .map(|z| z.timestamp().as_second())
        };
        let in_force = match &doc.effective {
            None => (None, None),
            Some(e) => (
                start_of(e.from),
                e.to.and_then(|to| to.tomorrow().ok()).and_then(start_of),
            ),
        };
        Some(Agreement {
            doc: doc.clone(),
            file: file.to_owned(),
            targets,
            in_force,
        })
    }

    fn target(&mut self, file: &str, path: &str, o: &ObjectiveDoc) -> Target {
        let fallback = Target::Time(BusinessDuration(1));
        let raw = &o.target;
        let result = match (o.metric, &raw.value) {
            (m, RawTarget::Text(t)) if m.is_ticket_clock() => {
                t.parse::<BusinessDuration>().map(Target::Time)
            }
            (m, RawTarget::Number(_)) if m.is_ticket_clock() => {
                Err("a ticket clock's target is a duration such as 30m or 4h".to_owned())
            }
            (Metric::Availability, RawTarget::Text(t)) => t.parse::<Percent>().and_then(|p| {
                if p.above_whole() || p.is_zero() {
                    Err(format!(
                        "an availability target is above 0% and at most 100% (got {p})"
                    ))
                } else {
                    Ok(Target::Percent(p))
                }
            }),
            (Metric::Availability, RawTarget::Number(_)) => {
                Err("an availability target is a percentage such as 99.9%".to_owned())
            }
            (m, RawTarget::Text(t)) => t.parse::<Percent>().map(Target::Percent).map_err(|_| {
                format!(
                    "a {m} target is a share of good answers (90%) or an average ({})",
                    if m == Metric::Csat {
                        "4.2, on 1-5"
                    } else {
                        "3, on 1-7"
                    }
                )
            }),
            (m, RawTarget::Number(n)) => {
                let max = if m == Metric::Csat { 5.0 } else { 7.0 };
                if (1.0..=max).contains(n) {
                    Ok(Target::Average(*n))
                } else {
                    Err(format!("a {m} average is between 1 and {max} (got {n})"))
                }
            }
        };
        match result {
            Ok(t) => t,
            Err(message) => {
                self.errors.push(at(file, path, raw, message));
                fallback
            }
        }
    }

    /// Warns about objectives that can never match, and about objectives of different
    /// agreements at the same level that match the same tickets for the same metric
    /// (the one listed first wins: DESIGN 3.2).
    fn overlap_warnings(&mut self, agreements: &[Agreement]) {
        let known: HashMap<&str, BTreeSet<&str>> = [
            (
                "customer",
                self.parsed
                    .customers
                    .iter()
                    .map(|(d, _)| d.id.value.as_str())
                    .collect(),
            ),
            (
                "service",
                self.parsed
                    .services
                    .iter()
                    .map(|(d, _)| d.id.value.as_str())
                    .collect(),
            ),
            (
                "team",
                self.parsed
                    .teams
                    .iter()
                    .map(|(d, _)| d.id.value.as_str())
                    .collect(),
            ),
            (
                "supplier",
                self.parsed
                    .suppliers
                    .iter()
                    .map(|(d, _)| d.id.value.as_str())
                    .collect(),
            ),
        ]
        .into_iter()
        .collect();
        let mut never: BTreeSet<(usize, usize)> = BTreeSet::new();
        for (x, a) in agreements.iter().enumerate() {
            let priorities = priorities(&a.doc);
            for (i, o) in a.doc.objectives.iter().enumerate() {
                if let Some(catch_all) = a.doc.objectives[..i]
                    .iter()
                    .find(|p| p.metric == o.metric && p.when.is_none())
                {
                    never.insert((x, i));
                    self.warnings.push(at(&a.file, format!("objectives[{i}]"), &o.id, format!(
                        "objective `{}` can never be chosen: `{}` before it has no `when` and takes every {} ticket",
                        o.id.value, catch_all.id.value, o.metric)));
                    continue;
                }
                let Some(when) = &o.when else { continue };
                for (key, values) in &when.value {
                    let reason = if values.0.is_empty() {
                        Some(format!("`when.{key}` is an empty list"))
                    } else if key == "priority" {
                        let unknown: Vec<&str> = values
                            .0
                            .iter()
                            .map(String::as_str)
                            .filter(|v| !priorities.contains(v))
                            .collect();
                        (unknown.len() == values.0.len()).then(|| format!(
                            "no priority in `when.priority` is one of the agreement's priorities ({})", priorities.join(", ")))
                    } else if key == "customer"
                        && let Some(own) = &a.doc.customer
                    {
                        (!values.0.contains(&own.value))
                            .then(|| format!("the agreement covers customer `{}` only", own.value))
                    } else if let Some(ids) = known.get(key.as_str()) {
                        let unknown: Vec<&str> = values
                            .0
                            .iter()
                            .map(String::as_str)
                            .filter(|v| !ids.contains(v))
                            .collect();
                        (unknown.len() == values.0.len()).then(|| {
                            format!(
                                "no {key} named in `when.{key}` exists ({})",
                                unknown.join(", ")
                            )
                        })
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        never.insert((x, i));
                        self.warnings.push(at(
                            &a.file,
                            format!("objectives[{i}].when"),
                            when,
                            format!("objective `{}` can never match: {reason}", o.id.value),
                        ));
                    }
                }
            }
        }
        for (x, a) in agreements.iter().enumerate() {
            for (y, b) in agreements.iter().enumerate().skip(x + 1) {
                if a.id() == b.id()
                    || a.doc.agreement_type != b.doc.agreement_type
                    || a.doc.level != b.doc.level
                    || !scopes_overlap(&a.doc, &b.doc)
                {
                    continue;
                }
                for (i, oa) in a.doc.objectives.iter().enumerate() {
                    for (j, ob) in b.doc.objectives.iter().enumerate() {
                        let live = !never.contains(&(x, i)) && !never.contains(&(y, j));
                        if live
                            && oa.metric == ob.metric
                            && oa.metric.is_ticket_clock()
                            && whens_overlap(oa, ob)
                        {
                            self.warnings.push(at(&b.file, "objectives", &ob.id, format!(
                                "objective `{}` of `{}` and objective `{}` of `{}` both apply to some {} tickets at {} level; `{}` wins (listed first)",
                                ob.id.value, b.id(), oa.id.value, a.id(), oa.metric, a.doc.level.as_str(), a.id())));
                        }
                    }
                }
            }
        }
    }
}

/// The agreement's priorities, highest first.
pub fn priorities(doc: &AgreementDoc) -> Vec<&str> {
    match &doc.priorities {
        Some(p) => p.iter().map(String::as_str).collect(),
        None => vec!["P1", "P2", "P3", "P4"],
    }
}

fn overlaps(a: &Effective, b: &Effective) -> bool {
    let a_to = a.to.unwrap_or(jiff::civil::Date::MAX);
    let b_to = b.to.unwrap_or(jiff::civil::Date::MAX);
    a.from <= b_to && b.from <= a_to
}

fn scopes_overlap(a: &AgreementDoc, b: &AgreementDoc) -> bool {
    let same_customer = match (&a.customer, &b.customer) {
        (Some(x), Some(y)) => x.value == y.value,
        _ => true,
    };
    let services = a.services.is_empty()
        || b.services.is_empty()
        || a.services
            .iter()
            .any(|s| b.services.iter().any(|t| t.value == s.value));
    let team = match (&a.team, &b.team) {
        (Some(x), Some(y)) => x.value == y.value,
        _ => true,
    };
    let supplier = match (&a.supplier, &b.supplier) {
        (Some(x), Some(y)) => x.value == y.value,
        _ => true,
    };
    same_customer && services && team && supplier
}

/// Whether some ticket can match both objectives' `when`: they exclude each other only
/// when a key they both name has no value in common.
fn whens_overlap(a: &ObjectiveDoc, b: &ObjectiveDoc) -> bool {
    let (Some(wa), Some(wb)) = (&a.when, &b.when) else {
        return true;
    };
    wa.value.iter().all(|(key, va)| match wb.value.get(key) {
        Some(vb) if key == "tags" => !va.0.is_empty() && !vb.0.is_empty(),
        Some(vb) => va.0.iter().any(|v| vb.0.contains(v)),
        None => true,
    })
}
