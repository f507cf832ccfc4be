//! Burn-rate alerts on a synthetic error series: the four pairs fire as an outage goes
//! on, each once under a key made of its start; the fast pair resets when its short
//! window is clean again, the slow ones keep firing; nothing is announced twice.

use accord_core::policy::{SourceFile, load};
use accord_server::burn::evaluate;
use accord_store::{Store, StoredRecord};
use accord_store_sqlite::SqliteStore;
use jiff::Timestamp;

const CONFIG: &str = "\
kind: service
id: email
name: E-mail
---
kind: channel
id: oncall
type: webhook
url: http://127.0.0.1:9/hook
---
kind: agreement
type: sla
id: mail
objectives:
  - {id: uptime, metric: availability, service: email, target: 99.9%, notify: [webhook:oncall]}
";

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn record(json: serde_json::Value) -> StoredRecord {
    StoredRecord::from_record(&serde_json::from_value(json).unwrap())
}

async fn kinds(store: &SqliteStore) -> Vec<(String, String)> {
    store
        .ticket_announcements("burn mail uptime")
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.key, a.kind))
        .collect()
}

#[tokio::test]
async fn burn_rate_alerts_fire_and_reset_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    let files = [SourceFile {
        path: "a.yaml".into(),
        text: CONFIG.into(),
    }];
    let config = load(&files, &|p: &str| Err(format!("no {p}")))
        .unwrap()
        .config;

    // Nothing down: nothing fires.
    assert_eq!(
        evaluate(&store, &config, t("2026-11-10T10:30:00Z"), 3)
            .await
            .unwrap(),
        0
    );

    store
        .ingest(
            Vec::new(),
            vec![record(
                serde_json::json!({"type": "outage", "id": "o1", "service": "email",
                "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T11:30:00Z"}),
            )],
        )
        .await
        .unwrap();

    // Half an hour into the outage every pair burns far above its factor.
    assert_eq!(
        evaluate(&store, &config, t("2026-11-10T10:30:00Z"), 3)
            .await
            .unwrap(),
        4
    );
    let start = t("2026-11-10T10:01:00Z").as_second();
    let fired = kinds(&store).await;
    assert!(
        fired.contains(&(
            format!("burn:mail:uptime:14.4x-1h-5m:{start}"),
            "budget.burn_rate".into()
        )),
        "the fast pair fires from the first minute it burned: {fired:?}"
    );
    assert_eq!(fired.len(), 4);
    // A minute later (or after a restart): the same episodes, nothing new.
    assert_eq!(
        evaluate(&store, &config, t("2026-11-10T10:31:00Z"), 3)
            .await
            .unwrap(),
        0
    );
    assert_eq!(kinds(&store).await.len(), 4);

    // Ten minutes after the outage: the fast pair's 5-minute window is clean, so it
    // resets; the others still burn.
    assert_eq!(
        evaluate(&store, &config, t("2026-11-10T11:40:00Z"), 3)
            .await
            .unwrap(),
        1
    );
    let after = kinds(&store).await;
    assert!(after.contains(&(
        format!("burn:mail:uptime:14.4x-1h-5m:{start}:reset"),
        "budget.burn_rate_reset".into()
    )));
    assert_eq!(
        evaluate(&store, &config, t("2026-11-10T11:41:00Z"), 3)
            .await
            .unwrap(),
        0
    );

    // The messages are in the outbox, one per fact and target, signed like the rest.
    let page = store
        .list_outbox(
            None,
            &accord_store::PageRequest {
                limit: 100,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5);
    let body: serde_json::Value = serde_json::from_str(&page.items[0].body).unwrap();
    assert_eq!(body["type"], "budget.burn_rate");
    assert_eq!(body["service"], "email");
    assert!(body["burn_long"].as_f64().unwrap() >= body["factor"].as_f64().unwrap());

    // A new outage after the reset is a new episode of the fast pair, with its own key.
    store
        .ingest(
            Vec::new(),
            vec![record(
                serde_json::json!({"type": "outage", "id": "o2", "service": "email",
                "from": "2026-11-10T12:00:00Z", "to": "2026-11-10T12:30:00Z"}),
            )],
        )
        .await
        .unwrap();
    evaluate(&store, &config, t("2026-11-10T12:10:00Z"), 3)
        .await
        .unwrap();
    let again = t("2026-11-10T12:01:00Z").as_second();
    assert!(
        kinds(&store)
            .await
            .iter()
            .any(|(k, _)| *k == format!("burn:mail:uptime:14.4x-1h-5m:{again}"))
    );
}
