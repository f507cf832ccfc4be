//! Multi-window burn-rate alerts (DESIGN 3.3) through the notification outbox.
//!
//! Every minute, and when records or probes come in, each availability objective with
//! `notify` targets is checked against the four alert pairs. An alert that starts firing
//! is a fact `burn:<agreement>:<objective>:<alert>:<start>` (`budget.burn_rate`); when it
//! stops, `<that key>:reset` (`budget.burn_rate_reset`). The start is worked out from the
//! records (the first minute since which the alert has fired without a break), not from
//! when the server noticed, so a restart finds the same key and announces nothing twice;
//! the facts themselves, kept under a per-objective name, say which alerts are firing.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use accord_core::availability::{self, BURN_ALERTS, BurnAlert, Outage, Rules, Source};
use accord_core::policy::{Config, Measure, Metric, Target, in_force};
use accord_store::{Announcement, OutboxMessage, Store, StoreError};

use crate::live_config::ConfigHandle;
use crate::notify::{Wake, expand_targets, held_until, ordered};
use crate::wall_clock;

/// How often burn rates are looked at when nothing comes in.
pub const TICK: Duration = Duration::from_secs(60);

/// The longest window of any alert: records older than this never matter.
const LONGEST: i64 = 3 * 86_400;

/// The name the facts of one objective's alerts are kept under (a space keeps it apart
/// from every ticket id).
fn fact_owner(agreement: &str, objective: &str) -> String {
    format!("burn {agreement} {objective}")
}

/// Runs until the process ends.
pub fn start<S: Store>(
    store: S,
    config: ConfigHandle,
    wake: Wake,
    probe_failures: u32,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let live = config.get();
            match evaluate(&store, &live.config, wall_clock::now(), probe_failures).await {
                Ok(0) => {}
                Ok(_) => wake.messages_queued.notify_one(),
                Err(e) => tracing::error!(error = %e, "burn rates: cannot record alerts"),
            }
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = wake.records_changed.notified() => {}
            }
        }
    })
}

/// Checks every alert of every availability objective with targets at `now`; records
/// the alerts that started or stopped, with their messages. Returns how many messages
/// were queued.
pub async fn evaluate<S: Store>(
    store: &S,
    config: &Config,
    now: Timestamp,
    probe_failures: u32,
) -> Result<usize, StoreError> {
    let objectives: Vec<_> = config
        .agreements
        .iter()
        .filter(|a| in_force(a, now))
        .flat_map(|a| {
            a.doc
                .objectives
                .iter()
                .zip(&a.targets)
                .map(move |(o, t)| (a, o, *t))
        })
        .filter(|(_, o, _)| o.metric == Metric::Availability && !o.notify.is_empty())
        .collect();
    if objectives.is_empty() {
        return Ok(0);
    }
    let from = now
        .checked_sub(jiff::SignedDuration::from_secs(LONGEST + 3600))
        .unwrap_or(Timestamp::MIN);
    // Surveys do not burn an error budget.
    let (records, _surveys) =
        crate::service_records::load(store, from, now, now, probe_failures).await?;

    let mut facts = Vec::new();
    let mut messages = Vec::new();
    for (agreement, objective, target) in objectives {
        let (Target::Percent(target), Some(service)) = (target, objective.service.as_ref()) else {
            continue;
        };
        let calendar = availability::objective_calendar(config, objective);
        let rules = Rules::of(objective, calendar);
        let outages: Vec<&Outage> = records
            .outages
            .iter()
            .filter(|o| o.service == service.value)
            .collect();
        let requests: Vec<_> = records
            .requests
            .iter()
            .filter(|r| r.service == service.value)
            .collect();
        let maintenance: Vec<_> = records
            .maintenance
            .iter()
            .filter(|m| m.service == service.value)
            .collect();
        let source = if objective.measure == Some(Measure::Requests) {
            Source::Requests(&requests)
        } else {
            Source::Time(&outages)
        };
        let fires = |alert: BurnAlert, at: i64| {
            availability::burn_alert_fires(rules, source, &maintenance, target, alert, at)
        };
        let owner = fact_owner(agreement.id(), &objective.id.value);
        let known = store.ticket_announcements(&owner).await?;
        let targets: Vec<String> = objective.notify.iter().map(|n| n.value.clone()).collect();
        let now_s = now.as_second();
        for alert in BURN_ALERTS {
            let prefix = format!(
                "burn:{}:{}:{}:",
                agreement.id(),
                objective.id.value,
                alert.name()
            );
            let open = known
                .iter()
                .filter(|f| f.key.starts_with(&prefix) && !f.key.ends_with(":reset"))
                .find(|f| {
                    let reset = format!("{}:reset", f.key);
                    !known.iter().any(|g| g.key == reset)
                });
            let firing = fires(alert, now_s);
            let (key, kind, at) = match (firing, open) {
                (true, None) => {
                    // Walk back minute by minute while it fired: the episode's start.
                    let mut start = now_s - now_s.rem_euclid(60);
                    let earliest = now_s - alert.long_seconds;
                    while start - 60 >= earliest && fires(alert, start - 60) {
                        start -= 60;
                    }
                    let start = start.min(now_s);
                    (format!("{prefix}{start}"), "budget.burn_rate", start)
                }
                (false, Some(open)) => (
                    format!("{}:reset", open.key),
                    "budget.burn_rate_reset",
                    now_s,
                ),
                _ => continue,
            };
            let burn = |window| {
                availability::burn_rate(rules, source, &maintenance, target, now_s, window)
                    .map(|b| b.to_f64())
            };
            let at = Timestamp::from_second(at).unwrap_or(now);
            let body = ordered(json!({
                "id": key,
                "type": kind,
                "at": at,
                "agreement": agreement.id(),
                "objective": objective.id.value,
                "metric": "availability",
                "service": service.value,
                "customer": agreement.doc.customer.as_ref().map(|c| c.value.clone()),
                "alert": alert.name(),
                "factor": alert.factor(),
                "long_window_seconds": alert.long_seconds,
                "short_window_seconds": alert.short_seconds,
                "burn_long": burn(alert.long_seconds),
                "burn_short": burn(alert.short_seconds),
                "target": target.to_f64(),
            }));
            for target in expand_targets(config, &targets) {
                messages.push(OutboxMessage {
                    id: format!("{key} {target}"),
                    fact: key.clone(),
                    next_attempt_at: held_until(config, &target, kind, now),
                    target,
                    body: body.clone(),
                    state: "pending".into(),
                    attempts: 0,
                    last_error: None,
                    created_at: now,
                    delivered_at: None,
                });
            }
            facts.push(Announcement {
                key,
                ticket: owner.clone(),
                kind: kind.into(),
                at,
                announced: true,
            });
        }
    }
    if facts.is_empty() {
        return Ok(0);
    }
    let queued = messages.len();
    store.record_announcements(facts, messages).await?;
    Ok(queued)
}
