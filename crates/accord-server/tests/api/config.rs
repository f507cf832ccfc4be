//! SLA-as-code through the API: apply all or nothing, read back, views, versions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

/// The files of `examples/`: every YAML file and the .ics it references.
fn examples() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files = Vec::new();
    for name in [
        "agreements.yaml",
        "calendars.yaml",
        "catalogue.yaml",
        "customers.yaml",
        "holidays/us-federal.ics",
    ] {
        files.push((
            name.to_owned(),
            std::fs::read_to_string(dir.join(name)).unwrap(),
        ));
    }
    files
}

async fn apply_examples(app: &TestApp) -> Value {
    let files = examples();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    app.apply(&refs).await
}

#[tokio::test]
async fn the_examples_apply_and_export_round_trips_as_a_no_op() {
    let app = spawn_app().await;
    let first = apply_examples(&app).await;
    assert_eq!(first["applied"], true);
    assert_eq!(first["revision"], 1);
    assert_eq!(first["warnings"], json!([]));
    let changes = first["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["change"] == "added"));
    assert!(changes.contains(
        &json!({"kind": "agreement", "id": "acme-gold", "version": 2, "change": "added"})
    ));
    assert_eq!(changes.len(), 9 + 4 + 4 + 4 + 2 + 1 + 2);

    // Export, then apply what was exported: nothing changes, no new revision.
    let exported: Value = app
        .get("/v1/config", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exported["revision"], 1);
    let files: Vec<(String, String)> = exported["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let again = app.apply(&refs).await;
    assert_eq!(again["applied"], false);
    assert_eq!(again["changes"], json!([]));
    assert_eq!(again["revision"], 1);

    // What it declares is readable.
    let customers: Value = app
        .get("/v1/customers", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(customers["items"].as_array().unwrap().len(), 4);
    let calendars: Value = app
        .get("/v1/calendars", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(calendars["items"][0]["id"], "us-office");
    let services: Value = app
        .get("/v1/services", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(services["items"].as_array().unwrap().len(), 4);
    let agreements: Value = app
        .get("/v1/agreements", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agreements["items"].as_array().unwrap().len(), 9);
    assert_eq!(agreements["items"][1]["objectives"][0]["target"], "15m");
}

#[tokio::test]
async fn a_customer_token_sees_only_the_agreements_that_cover_its_customer() {
    let app = spawn_app().await;
    apply_examples(&app).await;
    let (acme, _) = app.token("read", Some("acme")).await;
    let agreements: Value = app.get("/v1/agreements", &acme).await.json().await.unwrap();
    let ids: Vec<&str> = agreements["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["standard", "acme-gold", "acme-gold", "acme-email"],
        "no other customer's, no OLA or UC"
    );
}

#[tokio::test]
async fn a_failed_apply_changes_nothing_and_names_every_mistake() {
    let app = spawn_app().await;
    apply_examples(&app).await;
    let broken = "kind: agreement\ntype: sla\nid: extra\ncalendar: us-ofice\nobjectives:\n  - {id: o, metric: resolution, targt: 8h}\n---\nkind: customer\nid: acme\nname: Acme again\n";
    let mut files = examples();
    files.push(("zz-broken.yaml".into(), broken.into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let body = problem(app.apply_raw(&refs, "").await, 422).await;
    assert_eq!(
        body["detail"],
        "the configuration has a mistake: zz-broken.yaml:6:33: objectives[0].targt: unknown field `targt`, expected one of id, metric, when, target, internal_target, warn_at, notify, pause_when, compliance, escalate, reopen, calendar, public, service, exclude, maintenance_notice, measure; did you mean `target`?"
    );
    assert_eq!(body["errors"][0]["file"], "zz-broken.yaml");
    assert_eq!(body["errors"][0]["line"], 6);
    assert_eq!(body["errors"][0]["column"], 33);
    assert_eq!(body["errors"][0]["field"], "objectives[0].targt");

    // Fix the syntax: now the references are checked, all of them.
    let broken = broken.replace("targt", "target");
    let mut files = examples();
    files.push(("zz-broken.yaml".into(), broken));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let body = problem(app.apply_raw(&refs, "").await, 422).await;
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "the customer id `acme` is already used (in customers.yaml)",
            "unknown calendar `us-ofice`; did you mean `us-office`?"
        ]
    );

    // A referenced .ics that was not sent is a mistake too.
    let files: Vec<(String, String)> = examples()
        .into_iter()
        .filter(|(p, _)| !p.ends_with(".ics"))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let body = problem(app.apply_raw(&refs, "").await, 422).await;
    assert_eq!(
        body["errors"][0]["message"],
        "cannot read \"holidays/us-federal.ics\": it was not sent with the configuration"
    );

    // Nothing of it was applied.
    let config: Value = app
        .get("/v1/config", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["revision"], 1);
    let acme: Value = app
        .get("/v1/customers/acme", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acme["name"], "Acme Corporation");
    let audit: Value = app.get("/v1/audit", &app.admin).await.json().await.unwrap();
    let applies = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "config.apply")
        .count();
    assert_eq!(applies, 1);
}

#[tokio::test]
async fn versions_in_force_change_only_on_purpose() {
    let app = spawn_app().await;
    let v1 = "kind: agreement\ntype: sla\nid: a\nversion: 1\neffective: {from: 2026-01-01}\nobjectives:\n  - {id: o, metric: resolution, target: 8h}\n";
    app.apply(&[("a.yaml", v1)]).await;

    // Editing a version in force is refused without `retroactive`...
    let edited = v1.replace("8h", "4h");
    let body = problem(app.apply_raw(&[("a.yaml", &edited)], "").await, 409).await;
    assert!(
        body["detail"].as_str().unwrap().starts_with(
            "this changes or removes agreement versions already in force (`a` version 1)"
        ),
        "{body}"
    );
    // ...a dry run shows the change without applying it...
    let dry: Value = app
        .apply_raw(&[("a.yaml", &edited)], "?dry_run=true&retroactive=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["applied"], false);
    assert_eq!(
        dry["changes"],
        json!([{"kind": "agreement", "id": "a", "version": 1, "change": "changed"}])
    );
    // ...and a new version from a date on is the ordinary way.
    let v2 = format!(
        "{}---\nkind: agreement\ntype: sla\nid: a\nversion: 2\neffective: {{from: 2099-01-01}}\nobjectives:\n  - {{id: o, metric: resolution, target: 4h}}\n",
        v1.replace(
            "effective: {from: 2026-01-01}",
            "effective: {from: 2026-01-01, to: 2098-12-31}"
        )
    );
    let body = problem(app.apply_raw(&[("a.yaml", &v2)], "").await, 409).await;
    assert!(
        body["detail"].as_str().unwrap().contains("`a` version 1"),
        "closing a version in force rewrites it too: {body}"
    );
    let applied = app.apply_raw(&[("a.yaml", &v2)], "?retroactive=true").await;
    assert_eq!(applied.status(), 200);
    // A version not yet in force can be edited freely.
    let v2_edited = v2.replace("target: 4h}", "target: 3h}");
    let outcome = app.apply(&[("a.yaml", &v2_edited)]).await;
    assert_eq!(
        outcome["changes"],
        json!([{"kind": "agreement", "id": "a", "version": 2, "change": "changed"}])
    );
}

#[tokio::test]
async fn only_admins_apply_and_export() {
    let app = spawn_app().await;
    let (read, _) = app.token("read", None).await;
    problem(app.get("/v1/config", &read).await, 403).await;
    let response = app
        .request(Method::PUT, "/v1/config", Some(&read))
        .json(&json!({"files": []}))
        .send()
        .await
        .unwrap();
    problem(response, 403).await;
    assert_eq!(app.get("/v1/agreements", &read).await.status(), 200);
}
