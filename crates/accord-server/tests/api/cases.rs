//! Breach cases: a live breach opens one (team alerted by Accord), a lingering step sends
//! a reminder, each step is recorded with who and when, and the case closes after the
//! review; a late event that meets the target withdraws it and tells those alerted.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::helpers::{spawn_app_in, urlencode};

const CONFIG: &str = "\
kind: customer
id: acme
name: Acme
---
kind: channel
id: oncall
type: webhook
url: URL
---
kind: agreement
type: sla
id: std
calendar: 24x7
objectives:
  - id: first
    metric: first_response
    target: 30m
    notify: [webhook:oncall]
";

/// A webhook receiver that keeps every body it gets.
async fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let state = state.clone();
            async move {
                state
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str::<Value>(&body).unwrap_or(Value::Null));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn kinds(seen: &std::sync::Mutex<Vec<Value>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn wait_for(seen: &std::sync::Mutex<Vec<Value>>, kind: &str) {
    for _ in 0..100 {
        if kinds(seen).iter().any(|k| k == kind) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind} arrived; got {:?}", kinds(seen));
}

#[tokio::test]
async fn a_breach_case_is_walked_through_every_step_and_closes_after_the_review() {
    let data = tempfile::tempdir().unwrap();
    // Reminders after 1.8 s of no progress.
    std::fs::write(
        data.path().join("accord.toml"),
        "case_reminder_hours = 0.0005\n",
    )
    .unwrap();
    let mut app = spawn_app_in(data).await;
    let (url, seen) = receiver().await;
    app.apply(&[("accord.yaml", &CONFIG.replace("URL", &url))])
        .await;

    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    let created = Timestamp::from_second(now.as_second() - 31 * 60).unwrap();
    let response = app
        .post_json(
            "/v1/events",
            &app.admin,
            json!([{"id": "e1", "ticket": "T-5", "at": created.to_string(), "type": "created",
                    "customer": "acme", "priority": "P2"}]),
        )
        .await;
    assert_eq!(response.status(), 202);
    wait_for(&seen, "clock.breached").await;

    // Listed for the customer's period, opened with the team alerted by Accord.
    let from = (created - SignedDuration::from_hours(1)).to_string();
    let list: Value = app
        .get(
            &format!("/v1/breach-cases?customer=acme&from={from}&state=open"),
            &app.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let case = &items[0];
    let id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "T-5:sla:first_response:1:breach");
    assert_eq!(case["customer"], "acme");
    assert_eq!(
        case["breached_at"],
        (created + SignedDuration::from_mins(30))
            .to_string()
            .as_str()
    );
    assert_eq!(case["steps"]["team_alerted"]["by"], "accord");
    assert_eq!(case["next_step"], "owner");
    let later: Value = app
        .get(
            &format!(
                "/v1/breach-cases?customer=acme&from={}",
                now + SignedDuration::from_hours(1)
            ),
            &app.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(later["items"].as_array().unwrap().is_empty(), "{later}");

    // Nobody took it: a reminder for the owner step.
    wait_for(&seen, "breach_case.step_due").await;
    let reminder = seen
        .lock()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "breach_case.step_due")
        .cloned()
        .unwrap();
    assert_eq!(reminder["step"], "owner");
    assert_eq!(reminder["case"], id.as_str());
    assert_eq!(reminder["id"], format!("{id}:step_due:owner").as_str());

    let path = |step: &str| format!("/v1/breach-cases/{}/steps/{step}", urlencode(&id));
    // Mistakes are named and change nothing.
    let bad = app.post_json(&path("owner"), &app.admin, json!({})).await;
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["errors"][0]["field"], "owner", "{bad}");
    let bad = app
        .post_json(
            &path("owner"),
            &app.admin,
            json!({"owner": "kim", "ownr": "x"}),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let bad = app.post_json(&path("lunch"), &app.admin, json!({})).await;
    assert_eq!(bad.status(), 422);
    let (reader, _) = app.token("read", None).await;
    let forbidden = app
        .post_json(&path("owner"), &reader, json!({"owner": "kim"}))
        .await;
    assert_eq!(forbidden.status(), 403);

    let steps = [
        ("owner", json!({"owner": "Kim Lee"})),
        (
            "root_cause",
            json!({"category": "staffing", "description": "The queue was unattended during a shift change."}),
        ),
        ("customer_notified", json!({})),
        ("service_restored", json!({"note": "Answered at 10:41"})),
        (
            "customer_informed",
            json!({"message": "Your ticket was answered; sorry for the delay."}),
        ),
        (
            "review",
            json!({"target_realistic": true, "configured_right": true,
                   "impact_team": "none", "impact_customer": "a 12-minute wait",
                   "preventive_action": "overlap shift changes by 15 minutes"}),
        ),
    ];
    let mut last = Value::Null;
    for (step, body) in steps {
        let response = app.post_json(&path(step), &app.admin, body).await;
        assert_eq!(response.status(), 200, "{step}");
        last = response.json().await.unwrap();
        assert!(last["steps"][step]["at"].is_string(), "{step}: {last}");
        assert!(
            last["steps"][step]["by"]
                .as_str()
                .unwrap()
                .starts_with("token:"),
            "{last}"
        );
    }
    assert_eq!(last["state"], "closed", "{last}");
    assert!(last["closed_at"].is_string());
    assert_eq!(last["next_step"], Value::Null);
    assert_eq!(last["steps"]["owner"]["owner"], "Kim Lee");
    assert_eq!(last["steps"]["review"]["target_realistic"], true);
    // The customer's message came from the template, with the cause and the owner.
    let message = last["steps"]["customer_notified"]["message"]
        .as_str()
        .unwrap();
    assert!(message.starts_with("Dear acme,"), "{message}");
    assert!(message.contains("ticket T-5"), "{message}");
    assert!(message.contains("shift change"), "{message}");
    assert!(message.contains("Kim Lee is responsible"), "{message}");

    // The report lists the breach with its case's cause and review answers (the clock
    // is stored running: the watcher announced the breach without deriving it again).
    let report: Value = app
        .get("/v1/report?period=30d", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    let std = &report["agreements"][0];
    assert_eq!(std["id"], "std", "{report}");
    assert_eq!(std["objectives"][0]["breached"], 1, "{report}");
    assert_eq!(
        std["objectives"][0]["by_priority"],
        json!([{"priority": "P2", "met": 0, "breached": 1, "compliance": 0.0}])
    );
    let breach = &std["breaches"][0];
    assert_eq!(breach["case"], id.as_str());
    assert_eq!(breach["priority"], "P2");
    assert_eq!(breach["cause"], "staffing");
    assert_eq!(
        breach["review"]["preventive_action"],
        "overlap shift changes by 15 minutes"
    );

    // A step is done once.
    let again = app
        .post_json(&path("owner"), &app.admin, json!({"owner": "Sam"}))
        .await;
    assert_eq!(again.status(), 409);

    // Each step is in the audit log.
    let audit: Value = app
        .get("/v1/audit?limit=1000", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    let recorded = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "breach_case.step")
        .count();
    assert_eq!(recorded, 6);

    // A customer-bound token sees its own cases, another customer's none.
    let (own, _) = app.token("read", Some("acme")).await;
    let seen_by_own: Value = app
        .get("/v1/breach-cases", &own)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen_by_own["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_late_reply_withdraws_the_breach_and_tells_those_who_were_alerted() {
    let mut app = crate::helpers::spawn_app().await;
    let (url, seen) = receiver().await;
    app.apply(&[("accord.yaml", &CONFIG.replace("URL", &url))])
        .await;
    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    let created = Timestamp::from_second(now.as_second() - 40 * 60).unwrap();
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "e1", "ticket": "T-6", "at": created.to_string(), "type": "created"}]),
    )
    .await;
    wait_for(&seen, "clock.breached").await;

    // The reply sent 20 minutes in arrives late: the target was met after all.
    let replied = created + SignedDuration::from_mins(20);
    let response = app
        .post_json(
            "/v1/events",
            &app.admin,
            json!([{"id": "e2", "ticket": "T-6", "at": replied.to_string(), "type": "agent_replied"}]),
        )
        .await;
    assert_eq!(response.status(), 202);
    wait_for(&seen, "clock.breach_withdrawn").await;

    let case: Value = app
        .get(
            &format!(
                "/v1/breach-cases/{}",
                urlencode("T-6:sla:first_response:1:breach")
            ),
            &app.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["state"], "withdrawn", "{case}");
    let withdrawn = seen
        .lock()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "clock.breach_withdrawn")
        .cloned()
        .unwrap();
    let breached_at = created + SignedDuration::from_mins(30);
    assert_eq!(
        withdrawn["id"],
        format!(
            "T-6:sla:first_response:1:breach:withdrawn:{}",
            breached_at.as_second()
        )
        .as_str()
    );
    assert_eq!(withdrawn["ticket"], "T-6");
    // A withdrawn case takes no more steps.
    let step = app
        .post_json(
            &format!(
                "/v1/breach-cases/{}/steps/owner",
                urlencode("T-6:sla:first_response:1:breach")
            ),
            &app.admin,
            json!({"owner": "Kim"}),
        )
        .await;
    assert_eq!(step.status(), 409);
    app.stop().await;
}

#[tokio::test]
async fn a_breach_withdrawn_and_reached_again_is_a_new_fact_of_the_same_case() {
    let mut app = crate::helpers::spawn_app().await;
    let (url, seen) = receiver().await;
    let config = CONFIG.replace("URL", &url) + "    pause_when: {status: [waiting_on_customer]}\n";
    app.apply(&[("accord.yaml", &config)]).await;
    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    let created = now - SignedDuration::from_mins(31);
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "e1", "ticket": "T-7", "at": created.to_string(), "type": "created"}]),
    )
    .await;
    wait_for(&seen, "clock.breached").await;

    // Late news: the ticket waited on the customer for 65 s at minute 10. The deadline
    // moves to 4 s from now: withdrawn now, breached again then.
    let paused = created + SignedDuration::from_mins(10);
    let resumed = paused + SignedDuration::from_secs(65);
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "e2", "ticket": "T-7", "at": paused.to_string(), "type": "updated",
                "status": "waiting_on_customer"},
               {"id": "e3", "ticket": "T-7", "at": resumed.to_string(), "type": "updated",
                "status": "open"}]),
    )
    .await;
    wait_for(&seen, "clock.breach_withdrawn").await;
    let again = created + SignedDuration::from_secs(30 * 60 + 65);
    for _ in 0..100 {
        if kinds(&seen)
            .iter()
            .filter(|k| *k == "clock.breached")
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap_or("").to_owned())
        .collect();
    let first = "T-7:sla:first_response:1:breach";
    assert_eq!(
        ids,
        [
            first.to_owned(),
            format!(
                "{first}:withdrawn:{}",
                (created + SignedDuration::from_mins(30)).as_second()
            ),
            format!("{first}:again:{}", again.as_second()),
        ],
        "three facts, three ids"
    );
    // One case, open again, breached at the new instant.
    let case: Value = app
        .get(
            &format!("/v1/breach-cases/{}", urlencode(first)),
            &app.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["state"], "open", "{case}");
    assert_eq!(case["breached_at"], again.to_string().as_str());
    let all: Value = app
        .get("/v1/breach-cases", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
    app.stop().await;
}

#[tokio::test]
async fn a_customer_message_template_that_fails_is_named_and_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir(data.path().join("templates")).unwrap();
    std::fs::write(
        data.path().join("templates").join("breach_customer.txt"),
        "Dear {{ customer | no_such_filter }}",
    )
    .unwrap();
    let mut app = spawn_app_in(data).await;
    let (url, seen) = receiver().await;
    app.apply(&[("accord.yaml", &CONFIG.replace("URL", &url))])
        .await;
    #[allow(clippy::disallowed_methods)]
    let created = Timestamp::now() - SignedDuration::from_mins(31);
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "e1", "ticket": "T-9", "at": created.to_string(), "type": "created"}]),
    )
    .await;
    wait_for(&seen, "clock.breached").await;
    let id = urlencode("T-9:sla:first_response:1:breach");
    let path = format!("/v1/breach-cases/{id}/steps/customer_notified");
    let refused = app.post_json(&path, &app.admin, json!({})).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "message", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("breach_customer.txt"),
        "{problem}"
    );
    let case: Value = app
        .get(&format!("/v1/breach-cases/{id}"), &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(case["steps"].get("customer_notified").is_none());
    // Written by hand, it goes through.
    let written = app
        .post_json(&path, &app.admin, json!({"message": "Sorry for the wait."}))
        .await;
    assert_eq!(written.status(), 200);
    app.stop().await;
}
