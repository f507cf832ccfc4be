//! Warnings, breaches and escalations, told to the right people once (DESIGN 4.3).
//!
//! Three steps, each durable before the next:
//! 1. deriving a ticket's clocks stores its *notices*: the milestones of its clocks
//!    (reached, or ahead for a running clock) that are not yet announced;
//! 2. the *watcher* sleeps until the earliest notice falls due (or clocks change), then
//!    records each due fact once under its idempotency key, with one outbox message per
//!    target, in one transaction;
//! 3. the *courier* delivers outbox messages (signed webhooks, chat posts), retrying
//!    with exponential backoff and jitter, until delivered or dead.
//!
//! A crash anywhere repeats at most a delivery (same `id`), never a fact under a new id.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;

use accord_core::clock::{ClockResult, Milestone};
use accord_core::policy::{
    AgreementDoc, ChannelDoc, ChannelType, Config, EscalationAction, ObjectiveDoc,
};
use accord_store::{Announcement, DeliveryOutcome, Notice, OutboxMessage, Store};

use crate::live_config::ConfigHandle;
use crate::wall_clock;

/// A fact learnt more than this long after it happened is recorded, not announced.
pub use accord_store::ANNOUNCE_WINDOW;

/// How the courier delivers.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The wait after the first failed attempt; it doubles with each further one.
    pub retry_base: Duration,
    /// Attempts before a message is dead.
    pub attempts: u32,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Sends `email:` targets; without it they fail (and end as dead letters).
    pub mailer: Option<Arc<crate::email::Mailer>>,
    /// How long a step of a breach case may linger before its reminder.
    pub case_reminder: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(5),
            attempts: 8,
            timeout: Duration::from_secs(10),
            mailer: None,
            case_reminder: Duration::from_secs(4 * 3600),
        }
    }
}

/// Wakes the watcher when clocks change and the courier when messages are queued.
#[derive(Debug, Clone, Default)]
pub struct Wake {
    pub clocks_changed: Arc<Notify>,
    pub messages_queued: Arc<Notify>,
    /// Outage, maintenance or request records (or probes) came in: burn rates may have
    /// changed.
    pub records_changed: Arc<Notify>,
}

/// The notices of one ticket's clocks: every milestone not yet announced (the store
/// drops those already recorded).
pub fn notices(
    config: &Config,
    customer: Option<&str>,
    priority: Option<&str>,
    clocks: &[ClockResult],
    now: Timestamp,
) -> Vec<Notice> {
    // A fact further back than the announce window is never announced, whenever it is
    // derived: an imported history (or a ticket re-derived after a long stop) keeps no
    // notice for it, so old facts cost nothing to store or to record.
    let oldest = now - ANNOUNCE_WINDOW;
    let mut out = Vec::new();
    for c in clocks {
        let Some((agreement, objective)) = objective_of(config, c) else {
            continue;
        };
        let deadline = c
            .milestones
            .iter()
            .find(|m| m.milestone == Milestone::Breach)
            .map(|m| m.at);
        for m in c.milestones.iter().filter(|m| m.at >= oldest) {
            let mut raise_to = None;
            let (kind, threshold, targets, level) = match m.milestone {
                Milestone::Warning(p) => (
                    "clock.warning",
                    Some(p.to_f64()),
                    objective.notify.clone(),
                    None,
                ),
                Milestone::InternalBreach => (
                    "clock.internal_breached",
                    None,
                    objective.notify.clone(),
                    None,
                ),
                Milestone::Breach => ("clock.breached", Some(1.0), objective.notify.clone(), None),
                Milestone::Escalation(level) => {
                    let Some(e) = objective.escalate.get(level as usize) else {
                        continue;
                    };
                    if e.action == Some(EscalationAction::RaisePriority) {
                        raise_to = Some(raised_priority(agreement, priority));
                    }
                    (
                        "clock.escalated",
                        Some(e.at.to_f64()),
                        e.notify.clone(),
                        Some(level + 1),
                    )
                }
            };
            let key = accord_store::fact_key(
                &c.ticket,
                c.agreement_type.as_str(),
                c.metric.as_str(),
                c.cycle,
                &m.milestone.key(),
            );
            let mut body = json!({
                "type": kind,
                "ticket": c.ticket.as_str(),
                "customer": customer,
                "agreement": c.agreement.as_str(),
                "agreement_type": c.agreement_type.as_str(),
                "objective": c.objective.as_str(),
                "metric": c.metric.as_str(),
                "cycle": c.cycle,
                "deadline": deadline,
            });
            if let Some(t) = threshold {
                body["threshold"] = json!(t);
            }
            if let Some(level) = level {
                body["level"] = json!(level);
            }
            if let Some(to) = raise_to {
                // The priority as derived now; a change before the instant re-derives.
                body["action"] = json!("raise_priority");
                body["priority_from"] = json!(priority);
                body["priority_to"] = json!(to);
            }
            out.push(Notice {
                key,
                ticket: c.ticket.to_string(),
                kind: kind.to_owned(),
                due_at: m.at,
                body,
                targets: targets.into_iter().map(|t| t.value).collect(),
            });
        }
    }
    out
}

fn objective_of<'c>(
    config: &'c Config,
    c: &ClockResult,
) -> Option<(&'c AgreementDoc, &'c ObjectiveDoc)> {
    let agreement = &config
        .agreements
        .iter()
        .find(|a| a.id() == c.agreement.as_str() && a.doc.version == c.version)?
        .doc;
    let objective = agreement
        .objectives
        .iter()
        .find(|o| o.id.value == c.objective.as_str())?;
    Some((agreement, objective))
}

/// One step up the agreement's `priorities` (highest first): `None` at the top, or for a
/// priority the agreement does not list (nothing to raise it to).
fn raised_priority(agreement: &AgreementDoc, priority: Option<&str>) -> Option<String> {
    let order = accord_core::policy::priorities(agreement);
    let i = order.iter().position(|p| Some(*p) == priority)?;
    i.checked_sub(1).map(|up| order[up].to_owned())
}

/// The `updated` event of Accord's own that a `raise_priority` escalation records
/// (DESIGN 4.3): the same id whenever it is derived, so recording it twice is a no-op.
fn priority_event(notice: &Notice) -> Option<accord_core::clock::Event> {
    let b = &notice.body;
    let to = b["priority_to"].as_str()?;
    let id = format!(
        "accord:{}:{}:{}:{}",
        notice.ticket,
        b["objective"].as_str()?,
        b["cycle"].as_u64()?,
        b["level"].as_u64()?
    );
    let event = json!({"id": id, "ticket": notice.ticket, "at": notice.due_at,
                       "type": "updated", "priority": to});
    serde_json::from_value(event).ok()
}

/// The concrete targets of `notify` entries: `team:ID` becomes the team's own entries
/// (once; a team naming another team is not followed further), repeats are dropped.
pub fn expand_targets(config: &Config, targets: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |t: &str| {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    };
    for t in targets {
        match t.strip_prefix("team:") {
            Some(team) => {
                if let Some(team) = config.teams.iter().find(|x| x.id.value == team) {
                    for n in &team.notify {
                        if !n.value.starts_with("team:") {
                            push(&n.value);
                        }
                    }
                }
            }
            None => push(t),
        }
    }
    out
}

fn channel<'c>(config: &'c Config, target: &str) -> Option<&'c ChannelDoc> {
    let (_, id) = target.split_once(':')?;
    config.channels.iter().find(|c| c.id.value == id)
}

/// Runs the watcher and the courier until the process ends.
pub fn start<S: Store>(
    store: S,
    config: ConfigHandle,
    pending: crate::ticket_clocks::Pending,
    wake: Wake,
    settings: DeliverySettings,
) -> Vec<tokio::task::JoinHandle<()>> {
    let watcher = start_watcher(
        store.clone(),
        config.clone(),
        pending,
        wake.clone(),
        settings.case_reminder,
    );
    let courier = tokio::spawn(deliver_loop(store, config, wake, settings));
    vec![watcher, courier]
}

/// Runs only the watcher (facts recorded and queued, nothing delivered): what
/// `accord bench watch` measures.
pub fn start_watcher<S: Store>(
    store: S,
    config: ConfigHandle,
    pending: crate::ticket_clocks::Pending,
    wake: Wake,
    case_reminder: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(watch(store, config, pending, wake, case_reminder))
}

/// How long to sleep until `due` (at most an hour: a safety net, not a poll).
fn until(due: Option<Timestamp>, now: Timestamp) -> Duration {
    let hour = Duration::from_secs(3600);
    match due {
        None => hour,
        Some(due) => Duration::try_from(due.duration_since(now))
            .unwrap_or(Duration::ZERO)
            .min(hour),
    }
}

async fn watch<S: Store>(
    store: S,
    config: ConfigHandle,
    pending: crate::ticket_clocks::Pending,
    wake: Wake,
    case_reminder: Duration,
) {
    loop {
        // Registered before looking, so a change made while looking still wakes us.
        let woken = wake.clocks_changed.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let now = wall_clock::now();
        let next = match store.next_notice_due().await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "watcher: cannot read notices");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if next.is_some_and(|due| due <= now) {
            match announce_due(&store, &config, &pending, now, case_reminder).await {
                Ok(0) => {}
                Ok(_) => wake.messages_queued.notify_one(),
                Err(e) => {
                    tracing::error!(error = %e, "watcher: cannot record announcements");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(until(next, wall_clock::precise_now())) => {}
            () = &mut woken => {}
        }
    }
}

/// Records the notices due at `now`; returns how many messages were queued. Each breach
/// opens its breach case first (so a crash between the two repeats only the opening,
/// which changes nothing the second time).
pub async fn announce_due<S: Store>(
    store: &S,
    config: &ConfigHandle,
    pending: &crate::ticket_clocks::Pending,
    now: Timestamp,
    case_reminder: Duration,
) -> Result<usize, accord_store::StoreError> {
    let live = config.get();
    let config = &live.config;
    let due = store.due_notices(now, 500).await?;
    let mut facts = Vec::with_capacity(due.len());
    let mut messages = Vec::new();
    let mut cases = Vec::new();
    let mut actions = Vec::new();
    for notice in due {
        let announced = notice.due_at >= now - ANNOUNCE_WINDOW;
        if announced && let Some(event) = priority_event(&notice) {
            actions.push(event);
        }
        if notice.kind == "clock.breached"
            && let Some(case) = breach_case(&notice, announced, now, case_reminder)
        {
            cases.push(case);
        }
        if announced {
            let mut body = notice.body.clone();
            body["id"] = json!(notice.key);
            body["at"] = json!(notice.due_at);
            let body = ordered(body);
            for target in expand_targets(config, &notice.targets) {
                let next_attempt_at = held_until(config, &target, &notice.kind, now);
                messages.push(OutboxMessage {
                    id: format!("{} {target}", notice.key),
                    fact: notice.key.clone(),
                    target,
                    body: body.clone(),
                    state: "pending".into(),
                    attempts: 0,
                    next_attempt_at,
                    last_error: None,
                    created_at: now,
                    delivered_at: None,
                });
            }
        }
        facts.push(Announcement {
            key: notice.key,
            ticket: notice.ticket,
            kind: notice.kind,
            at: notice.due_at,
            announced,
        });
    }
    let queued = messages.len();
    if !actions.is_empty() {
        // Recorded before the fact (a crash in between records the same event again,
        // which is a duplicate), then derived like any event.
        let stored = actions
            .iter()
            .map(|e| accord_store::StoredEvent {
                id: e.id.to_string(),
                ticket: e.ticket.to_string(),
                is_created: false,
                body: serde_json::to_string(e).unwrap_or_default(),
            })
            .collect();
        match store.ingest_events(stored).await {
            Ok(outcome) => pending.derive(outcome.tickets),
            Err(accord_store::StoreError::Rejected { message, .. }) => {
                tracing::warn!(%message, "escalation: the priority change was not recorded");
            }
            Err(e) => return Err(e),
        }
    }
    store.open_breach_cases(cases, now).await?;
    store.record_announcements(facts, messages).await?;
    Ok(queued)
}

/// The breach case a breach notice opens: alerted (with reminders) when it is announced
/// to someone, recorded only when it is too late to announce.
fn breach_case(
    notice: &Notice,
    announced: bool,
    now: Timestamp,
    case_reminder: Duration,
) -> Option<accord_store::NewBreachCase> {
    let b = &notice.body;
    let text = |k: &str| b[k].as_str().map(str::to_owned);
    let alerted = announced && !notice.targets.is_empty();
    // A breach reached again after a withdrawal is a new fact (`…:breach:again:<t>`) of
    // the same case.
    let id = notice
        .key
        .split_once(":again:")
        .map_or(notice.key.as_str(), |(case, _)| case);
    Some(accord_store::NewBreachCase {
        id: id.to_owned(),
        ticket: notice.ticket.clone(),
        customer: text("customer"),
        agreement_type: text("agreement_type")?,
        agreement: text("agreement")?,
        objective: text("objective")?,
        metric: text("metric")?,
        cycle: u32::try_from(b["cycle"].as_u64()?).ok()?,
        breached_at: notice.due_at,
        alerted_at: alerted.then_some(now),
        targets: notice.targets.clone(),
        remind_after: alerted
            .then(|| SignedDuration::try_from(case_reminder).ok())
            .flatten(),
    })
}

/// The message with `id`, `type` and `at` first (the order DESIGN 4.3 shows), then the rest.
pub(crate) fn ordered(body: Value) -> String {
    let Value::Object(mut map) = body else {
        return body.to_string();
    };
    let mut out = serde_json::Map::new();
    for key in ["id", "type", "at"] {
        if let Some(v) = map.remove(key) {
            out.insert(key.into(), v);
        }
    }
    out.extend(map);
    Value::Object(out).to_string()
}

/// Quiet hours hold warnings (and burn-rate alerts) to a channel until its calendar opens.
pub(crate) fn held_until(config: &Config, target: &str, kind: &str, now: Timestamp) -> Timestamp {
    if ![
        "clock.warning",
        "budget.burn_rate",
        "budget.burn_rate_reset",
    ]
    .contains(&kind)
    {
        return now;
    }
    channel(config, target)
        .and_then(|c| c.quiet_hours.as_ref())
        .and_then(|q| config.calendar(&q.calendar.value))
        .and_then(|cal| cal.calendar.next_business(now).ok())
        .unwrap_or(now)
}

async fn deliver_loop<S: Store>(
    store: S,
    config: ConfigHandle,
    wake: Wake,
    settings: DeliverySettings,
) {
    let http = match reqwest::Client::builder().timeout(settings.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "courier: cannot build an HTTP client");
            return;
        }
    };
    loop {
        let woken = wake.messages_queued.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let now = wall_clock::now();
        let lease = now + SignedDuration::try_from(settings.timeout * 3).unwrap_or_default();
        let claimed = match store.claim_deliveries(now, lease, 50).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "courier: cannot claim messages");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if !claimed.is_empty() {
            let live = config.get();
            for message in claimed {
                let outcome = match deliver(
                    &http,
                    settings.mailer.as_deref(),
                    &live.config,
                    &message,
                )
                .await
                {
                    Ok(()) => DeliveryOutcome::Delivered {
                        at: wall_clock::now(),
                    },
                    Err(error) => {
                        let attempt = message.attempts + 1;
                        let retry_at = (attempt < settings.attempts)
                            .then(|| wall_clock::now() + backoff(settings.retry_base, attempt));
                        tracing::warn!(id = %message.id, attempt, %error, dead = retry_at.is_none(), "delivery failed");
                        DeliveryOutcome::Failed { error, retry_at }
                    }
                };
                if let Err(e) = store.finish_delivery(&message.id, outcome).await {
                    tracing::error!(id = %message.id, error = %e, "courier: cannot record a delivery");
                }
            }
            continue;
        }
        let next = store.next_delivery_due().await.ok().flatten();
        tokio::select! {
            () = tokio::time::sleep(until(next, wall_clock::precise_now())) => {}
            () = &mut woken => {}
        }
    }
}

/// `base × 2^(attempt-1)`, at most an hour, times a random factor in [0.5, 1.5) so
/// receivers that failed together are not retried together.
pub fn backoff(base: Duration, attempt: u32) -> SignedDuration {
    let exponential = base
        .saturating_mul(1 << attempt.saturating_sub(1).min(20))
        .min(Duration::from_secs(3600));
    let mut byte = [0u8; 2];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => 0.5 + f64::from(u16::from_le_bytes(byte)) / 65536.0,
        Err(_) => 1.0,
    };
    SignedDuration::try_from(exponential.mul_f64(jitter)).unwrap_or(SignedDuration::ZERO)
}

/// The `Accord-Signature` header value for `body` sent at `t` (DESIGN 4.3).
pub fn signature(secret: &[u8], t: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn secret_of(channel: &ChannelDoc) -> Result<Option<Vec<u8>>, String> {
    let Some(secret) = &channel.secret else {
        return Ok(None);
    };
    if let Some(var) = &secret.env {
        return std::env::var(var)
            .map(|v| Some(v.into_bytes()))
            .map_err(|_| {
                format!(
                    "channel {:?}: the variable {var} is not set",
                    channel.id.value
                )
            });
    }
    if let Some(file) = &secret.file {
        return std::fs::read_to_string(file)
            .map(|v| Some(v.trim_end().as_bytes().to_vec()))
            .map_err(|e| format!("channel {:?}: cannot read {file}: {e}", channel.id.value));
    }
    Ok(None)
}

/// What happened, in a few words (`target breached`).
pub fn what(body: &Value) -> String {
    match body["type"].as_str() {
        Some("clock.warning") => format!(
            "{:.0}% of the target used",
            body["threshold"].as_f64().unwrap_or(0.0) * 100.0
        ),
        Some("clock.internal_breached") => "internal target missed".into(),
        Some("clock.breached") => "target breached".into(),
        Some("clock.escalated") => format!("escalation level {}", body["level"]),
        Some("clock.breach_withdrawn") => "breach withdrawn (a late event met the target)".into(),
        Some("breach_case.step_due") => format!(
            "breach case waiting on step {}",
            body["step"].as_str().unwrap_or("?").replace('_', " ")
        ),
        Some("budget.burn_rate") => format!(
            "error budget burning at {:.1}× the sustainable rate ({} alert)",
            body["burn_long"].as_f64().unwrap_or(0.0),
            body["alert"].as_str().unwrap_or("?")
        ),
        Some("budget.burn_rate_reset") => format!(
            "burn-rate alert {} reset",
            body["alert"].as_str().unwrap_or("?")
        ),
        Some(other) => other.to_owned(),
        None => "notice".into(),
    }
}

/// A one-line summary (chat channels, e-mail).
pub fn summary(body: &Value) -> String {
    let s = |k: &str| body[k].as_str().unwrap_or("?").to_owned();
    if body["ticket"].is_null() {
        // Not a ticket's fact: a service's (burn-rate alerts).
        return format!(
            "Service {} ({} of {}): {}",
            s("service"),
            s("objective"),
            s("agreement"),
            what(body)
        );
    }
    format!(
        "Ticket {} ({}): {} — {} {} of {}",
        s("ticket"),
        body["customer"].as_str().unwrap_or("no customer"),
        what(body),
        s("metric").replace('_', " "),
        s("objective"),
        s("agreement"),
    )
}

async fn deliver(
    http: &reqwest::Client,
    mailer: Option<&crate::email::Mailer>,
    config: &Config,
    message: &OutboxMessage,
) -> Result<(), String> {
    let target = message.target.as_str();
    let email = |to: Vec<String>| async move {
        let mailer =
            mailer.ok_or_else(|| format!("{target}: no [smtp] server is set up to send e-mail"))?;
        mailer.send(&message.id, &to, &message.body).await
    };
    if let Some(address) = target.strip_prefix("email:")
        && address.contains('@')
    {
        return email(vec![address.to_owned()]).await;
    }
    let channel = channel(config, target)
        .ok_or_else(|| format!("{target}: no such channel in the configuration"))?;
    let body = match channel.channel_type {
        ChannelType::Webhook => message.body.clone(),
        ChannelType::Chat => {
            let parsed: Value = serde_json::from_str(&message.body).map_err(|e| e.to_string())?;
            json!({ "text": summary(&parsed) }).to_string()
        }
        ChannelType::Email => {
            let to = channel.to.clone().unwrap_or_default();
            if to.is_empty() {
                return Err(format!("channel {:?} has no `to`", channel.id.value));
            }
            return email(to).await;
        }
    };
    let url = channel
        .url
        .as_deref()
        .ok_or_else(|| format!("channel {:?} has no url", channel.id.value))?;
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("accord/", env!("CARGO_PKG_VERSION")));
    if let Some(secret) = secret_of(channel)? {
        let t = wall_clock::now().as_second();
        request = request.header("accord-signature", signature(&secret, t, &body));
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_time_dot_body() {
        let s = signature(b"Jefe", 0, "what do ya want for nothing?");
        // HMAC-SHA256("Jefe", "0.what do ya want for nothing?") computed independently
        // (Python: hmac.new(b"Jefe", b"0.what do ya want for nothing?", "sha256")).
        assert_eq!(
            s,
            "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped_with_jitter() {
        let base = Duration::from_secs(10);
        for attempt in 1..=4 {
            let d = backoff(base, attempt).as_secs_f64();
            let middle = 10.0 * f64::from(1 << (attempt - 1));
            assert!(d >= middle * 0.5 && d < middle * 1.5, "{attempt}: {d}");
        }
        assert!(backoff(base, 30).as_secs_f64() < 3600.0 * 1.5);
    }
}
