//! Ticket events over HTTP: ingest (all or nothing, idempotent), a ticket's clocks, and
//! the at-risk queue.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

fn examples() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    [
        "agreements.yaml",
        "calendars.yaml",
        "catalogue.yaml",
        "customers.yaml",
        "holidays/us-federal.ics",
    ]
    .iter()
    .map(|n| {
        (
            (*n).to_owned(),
            std::fs::read_to_string(dir.join(n)).unwrap(),
        )
    })
    .collect()
}

async fn with_examples() -> TestApp {
    let app = spawn_app().await;
    let files = examples();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    app.apply(&refs).await;
    app
}

/// An instant `minutes` from now (whole seconds), RFC 3339.
fn minutes_from_now(minutes: i64) -> String {
    let now = accord_server::wall_clock::now().as_second();
    jiff::Timestamp::from_second(now + minutes * 60)
        .unwrap()
        .to_string()
}

async fn post(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/v1/events", Some(token))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn events_in_clocks_out_idempotently() {
    let app = with_examples().await;
    let (ingest, _) = app.token("ingest", None).await;
    let batch = json!([
        {"id": "e1", "ticket": "T-1", "at": minutes_from_now(-5), "type": "created", "customer": "acme", "priority": "critical"},
        {"id": "e2", "ticket": "T-1", "at": minutes_from_now(-4), "type": "agent_replied", "public": false},
    ]);
    let response = post(&app, &ingest, batch.clone()).await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"accepted": 2, "duplicates": 0})
    );
    let again = post(&app, &ingest, batch).await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"accepted": 0, "duplicates": 2})
    );

    let ticket: Value = app
        .get("/v1/tickets/T-1", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["customer"], "acme");
    assert_eq!(ticket["events"].as_array().unwrap().len(), 2);
    let first = ticket["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "first_response")
        .unwrap()
        .clone();
    assert_eq!(first["agreement"], "acme-gold");
    assert_eq!(first["objective"], "critical-first-response");
    assert_eq!(first["state"], "running", "a private note is no reply");
    let left = first["time_left_seconds"].as_i64().unwrap();
    assert!(
        (590..=601).contains(&left),
        "15 minutes on 24x7, 5 used: {left}"
    );

    // JSON lines and a single object are accepted too.
    let ndjson = format!(
        "{}\n\n{}\n",
        json!({"id": "e3", "ticket": "T-1", "at": minutes_from_now(-3), "type": "agent_replied"}),
        json!({"id": "e4", "ticket": "T-1", "at": minutes_from_now(-2), "type": "updated", "status": "waiting_on_customer"}),
    );
    let response = app
        .request(Method::POST, "/v1/events", Some(&ingest))
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"accepted": 2, "duplicates": 0})
    );
    let one = post(&app, &ingest, json!({"id": "e5", "ticket": "T-2", "at": minutes_from_now(-1), "type": "created", "customer": "globex"})).await;
    assert_eq!(one.status(), 202);

    let ticket: Value = app
        .get("/v1/tickets/T-1", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    let first = ticket["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "first_response")
        .unwrap()
        .clone();
    assert_eq!(first["state"], "met");
    assert_eq!(ticket["status"], "waiting_on_customer");
}

#[tokio::test]
async fn bad_items_are_named_by_index_and_field_and_nothing_is_stored() {
    let app = with_examples().await;
    let body = problem(
        post(&app, &app.admin, json!([
            {"id": "ok", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "created"},
            {"id": "b1", "ticket": "T-1", "at": "yesterday", "type": "updated"},
            {"id": "b2", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "creatd"},
            {"id": "b3", "ticket": "T 1", "at": "2026-11-02T10:00:00Z", "type": "updated"},
            {"id": "b4", "type": "outage", "service": "email", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T11:00:00Z", "impact": 2},
            {"id": "b5", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "updated", "priorty": "P1"},
        ])).await,
        422,
    )
    .await;
    let errors: Vec<(u64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (1, "at"),
            (2, "type"),
            (3, "ticket"),
            (4, "impact"),
            (5, "priorty")
        ],
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("5 bad events; the first: item 1, at: "),
        "{body}"
    );
    problem(app.get("/v1/tickets/T-1", &app.admin).await, 404).await;
}

#[tokio::test]
async fn conflicts_are_409_naming_the_item_and_the_batch_is_not_applied() {
    let app = with_examples().await;
    post(&app, &app.admin, json!([{"id": "e1", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "created", "customer": "acme"}])).await;
    let body = problem(
        post(&app, &app.admin, json!([
            {"id": "e2", "ticket": "T-1", "at": "2026-11-02T10:05:00Z", "type": "agent_replied"},
            {"id": "e1", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "created", "customer": "globex"},
        ])).await,
        409,
    )
    .await;
    assert_eq!(
        body["detail"],
        "item 1: event id \"e1\" was received before with different content"
    );
    let body = problem(
        post(
            &app,
            &app.admin,
            json!([{"id": "e9", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "created"}]),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(
        body["detail"],
        "item 0: ticket \"T-1\" was already created (by event \"e1\")"
    );
    let ticket: Value = app
        .get("/v1/tickets/T-1", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ticket["events"].as_array().unwrap().len(),
        1,
        "e2 of the rejected batch was not stored"
    );
}

#[tokio::test]
async fn the_at_risk_queue_orders_by_time_left_and_respects_customer_binding() {
    let app = with_examples().await;
    post(&app, &app.admin, json!([
        {"id": "a1", "ticket": "A-1", "at": minutes_from_now(-5), "type": "created", "customer": "acme", "priority": "critical"},
        {"id": "g1", "ticket": "G-1", "at": minutes_from_now(-1), "type": "created", "customer": "globex", "priority": "critical"},
        {"id": "a2", "ticket": "A-2", "at": minutes_from_now(-20), "type": "created", "customer": "acme", "priority": "critical"},
    ])).await;
    let queue: Value = app
        .get(
            "/v1/clocks?order=time_left&metric=first_response",
            &app.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    let order: Vec<(&str, &str)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["ticket"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    // 10 minutes left of 15; G-1: 29 of 30; A-2: 15 minutes went by 5 minutes ago.
    assert_eq!(
        order,
        [("A-1", "running"), ("G-1", "running"), ("A-2", "breached")]
    );

    let (acme, _) = app.token("read", Some("acme")).await;
    let own: Value = app
        .get("/v1/clocks?metric=first_response", &acme)
        .await
        .json()
        .await
        .unwrap();
    let tickets: Vec<&str> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ticket"].as_str().unwrap())
        .collect();
    assert_eq!(tickets, ["A-1", "A-2"]);
    let other: Value = app
        .get("/v1/clocks?customer=globex", &acme)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["items"], json!([]));
    problem(app.get("/v1/tickets/G-1", &acme).await, 404).await;
    problem(app.get("/v1/clocks?state=late", &app.admin).await, 422).await;

    // Only ingest (or admin) tokens send events.
    let body = problem(post(&app, &acme, json!([])).await, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("scope ingest"));
}

#[tokio::test]
async fn acknowledged_events_survive_a_restart() {
    let mut app = with_examples().await;
    let response = post(&app, &app.admin, json!([{"id": "e1", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "created", "customer": "acme"}])).await;
    assert_eq!(response.status(), 202);
    app.stop().await;
    let (url, _, stop, task) = crate::helpers::start(app.data.path(), None).await;
    let ticket: Value = reqwest::Client::new()
        .get(format!("{url}/v1/tickets/T-1"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["events"][0]["id"], "e1");
    assert!(
        !ticket["clocks"].as_array().unwrap().is_empty(),
        "clocks re-derived with the stored configuration"
    );
    stop.send(()).unwrap();
    task.await.unwrap();
}
