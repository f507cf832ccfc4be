//! Warnings and breaches reach a real webhook receiver on loopback: signed, once per
//! fact, redelivered with the same id after a failure, and listed in the outbox.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{spawn_app, urlencode};

const SECRET: &str = "s3cret-for-tests";

/// What the receiver saw: each request's body, whether its signature was right, and
/// the status it answered.
#[derive(Default)]
struct Received {
    requests: Vec<(Value, bool, u16)>,
    /// Answer 503 to this many requests first.
    fail_first: usize,
}

async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Received>>) {
    let seen = Arc::new(Mutex::new(Received {
        fail_first,
        ..Default::default()
    }));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let signed = headers
                    .get("accord-signature")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|sig| signature_ok(sig, &body));
                let mut seen = state.lock().unwrap();
                let status = if seen.fail_first > 0 {
                    seen.fail_first -= 1;
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                };
                let value = serde_json::from_str(&body).unwrap_or(Value::Null);
                seen.requests.push((value, signed, status.as_u16()));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// `t=<secs>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, checked independently of the
/// server's code.
fn signature_ok(header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

fn config(url: &str, secret_file: &str) -> String {
    format!(
        "\
kind: team
id: desk
name: Service desk
notify: [webhook:oncall]
---
kind: channel
id: oncall
type: webhook
url: {url}
secret: {{file: {secret_file}}}
---
kind: agreement
type: sla
id: std
calendar: 24x7
objectives:
  - id: first
    metric: first_response
    target: 30m
    warn_at: [50%]
    notify: [team:desk]
"
    )
}

#[tokio::test]
async fn a_breach_reaches_the_webhook_once_signed_and_is_redelivered_after_a_failure() {
    let mut app = spawn_app().await;
    let (url, seen) = receiver(1).await;
    let secret = app.data.path().join("hook-secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    app.apply(&[("accord.yaml", &config(&url, secret.to_str().unwrap()))])
        .await;

    // Created 29 min 57 s ago: the 50% warning was passed 15 min ago (announced at once,
    // being less than a day old), the breach falls due in 3 s.
    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    // Event times are whole seconds.
    let created = Timestamp::from_second(now.as_second() - (30 * 60 - 3)).unwrap();
    // History: a ticket that breached three days ago announces nothing now.
    let old = now - SignedDuration::from_hours(72);
    let response = app
        .post_json(
            "/v1/events",
            &app.admin,
            json!([{"id": "e1", "ticket": "T-1", "at": created.to_string(), "type": "created"},
                   {"id": "e0", "ticket": "T-OLD", "at": old.to_string(), "type": "created"}]),
        )
        .await;
    assert_eq!(response.status(), 202);

    // Wait for both facts to be delivered.
    let delivered = |seen: &Received| {
        seen.requests
            .iter()
            .filter(|(_, _, status)| *status < 300)
            .map(|(body, _, _)| body["type"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    for _ in 0..100 {
        if delivered(&seen.lock().unwrap()).len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a repeat, if there were to be one, the time to show.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let seen = snapshot(&seen);
    let mut kinds = delivered(&seen);
    kinds.sort();
    assert_eq!(
        kinds,
        ["clock.breached", "clock.warning"],
        "{:?}",
        seen.requests
    );
    assert!(
        seen.requests.iter().all(|(_, signed, _)| *signed),
        "every request is signed"
    );
    // The first request failed; the same message (same id) came again.
    let (first, _, status) = &seen.requests[0];
    assert_eq!(*status, 503);
    let again: Vec<&Value> = seen
        .requests
        .iter()
        .skip(1)
        .filter(|(b, _, _)| b["id"] == first["id"])
        .map(|(b, _, _)| b)
        .collect();
    assert_eq!(again, vec![first], "redelivered once, unchanged");

    let breach = seen
        .requests
        .iter()
        .map(|(b, _, _)| b)
        .find(|b| b["type"] == "clock.breached")
        .unwrap();
    assert_eq!(breach["id"], "T-1:sla:first_response:1:breach");
    assert!(
        seen.requests.iter().all(|(b, _, _)| b["ticket"] == "T-1"),
        "nothing about the old ticket"
    );
    assert_eq!(breach["ticket"], "T-1");
    assert_eq!(breach["objective"], "first");
    let deadline = (created + SignedDuration::from_secs(1800)).to_string();
    assert_eq!(breach["at"], deadline.as_str());
    assert_eq!(breach["deadline"], deadline.as_str());
    let warning = seen
        .requests
        .iter()
        .map(|(b, _, _)| b)
        .find(|b| b["type"] == "clock.warning")
        .unwrap();
    assert_eq!(warning["threshold"], 0.5);
    assert_eq!(
        warning["at"],
        (created + SignedDuration::from_secs(900))
            .to_string()
            .as_str()
    );

    // The outbox lists both as delivered.
    let outbox: Value = app
        .get("/v1/notifications?state=delivered", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    let items = outbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{outbox}");
    assert!(items.iter().all(|m| m["target"] == "webhook:oncall"));
    app.stop().await;
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_leaves_a_dead_letter_that_can_be_retried() {
    let mut app = spawn_app().await;
    // Three attempts in the tests' settings: all fail, then the receiver recovers.
    let (url, seen) = receiver(3).await;
    let secret = app.data.path().join("hook-secret");
    std::fs::write(&secret, SECRET).unwrap();
    app.apply(&[("accord.yaml", &config(&url, secret.to_str().unwrap()))])
        .await;
    #[allow(clippy::disallowed_methods)]
    let created = Timestamp::now() - SignedDuration::from_secs(20 * 60);
    let response = app
        .post_json(
            "/v1/events",
            &app.admin,
            json!([{"id": "e1", "ticket": "T-9", "at": created.to_string(), "type": "created"}]),
        )
        .await;
    assert_eq!(response.status(), 202);

    let dead = app.first_items("/v1/notifications?state=dead").await;
    let item = &dead["items"][0];
    assert_eq!(item["attempts"], 3, "{dead}");
    assert!(
        item["last_error"].as_str().unwrap().contains("503"),
        "{dead}"
    );
    let id = item["id"].as_str().unwrap().to_owned();

    let bad_state = app.get("/v1/notifications?state=lost", &app.admin).await;
    assert_eq!(bad_state.status(), 422);

    let path = format!("/v1/notifications/{}/retry", urlencode(&id));
    let retried = app.post_json(&path, &app.admin, json!({})).await;
    assert_eq!(retried.status(), 200);
    for _ in 0..50 {
        if seen.lock().unwrap().requests.iter().any(|r| r.2 < 300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = snapshot(&seen);
    assert_eq!(seen.requests.len(), 4, "three failures, then the retry");
    assert_eq!(seen.requests[3].2, 204);
    assert_eq!(
        seen.requests[3].0["id"],
        "T-9:sla:first_response:1:warning:50%"
    );

    let missing = app
        .post_json("/v1/notifications/nope/retry", &app.admin, json!({}))
        .await;
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

/// A copy of what the receiver saw, so no lock is held across an await.
fn snapshot(seen: &Mutex<Received>) -> Received {
    Received {
        requests: seen.lock().unwrap().requests.clone(),
        fail_first: 0,
    }
}

#[tokio::test]
async fn an_escalation_raises_the_priority_once_and_the_clock_retargets() {
    let mut app = spawn_app().await;
    let (url, seen) = receiver(0).await;
    let secret = app.data.path().join("hook-secret");
    std::fs::write(&secret, SECRET).unwrap();
    app.apply(&[(
        "accord.yaml",
        &format!(
            "\
kind: channel
id: oncall
type: webhook
url: {url}
secret: {{file: {}}}
---
kind: agreement
type: sla
id: std
calendar: 24x7
objectives:
  - id: p1-first
    metric: first_response
    when: {{priority: [P1]}}
    target: 10m
  - id: p2-first
    metric: first_response
    when: {{priority: [P2]}}
    target: 60m
    escalate:
      - {{at: 50%, notify: [webhook:oncall], action: raise_priority}}
",
            secret.to_str().unwrap()
        ),
    )])
    .await;
    // A P2 ticket opened 31 minutes ago: its 50% escalation came a minute ago.
    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    let created = Timestamp::from_second(now.as_second() - 31 * 60).unwrap();
    let response = app
        .post_json(
            "/v1/events",
            &app.admin,
            json!([{"id": "e1", "ticket": "T-3", "at": created.to_string(), "type": "created",
                    "priority": "P2"}]),
        )
        .await;
    assert_eq!(response.status(), 202);

    let mut ticket = Value::Null;
    for _ in 0..100 {
        ticket = app
            .get("/v1/tickets/T-3", &app.admin)
            .await
            .json()
            .await
            .unwrap();
        if ticket["clocks"][0]["objective"] == "p1-first" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Accord's own event, at the escalation instant, one step up.
    let escalated_at = (created + SignedDuration::from_mins(30)).to_string();
    let events = ticket["events"].as_array().unwrap();
    let own: Vec<&Value> = events
        .iter()
        .filter(|e| e["id"].as_str().unwrap().starts_with("accord:"))
        .collect();
    assert_eq!(own.len(), 1, "{ticket}");
    assert_eq!(own[0]["id"], "accord:T-3:p2-first:1:1");
    assert_eq!(own[0]["type"], "updated");
    assert_eq!(own[0]["priority"], "P1");
    assert_eq!(own[0]["at"], escalated_at.as_str());
    // Re-targeted to the P1 objective: 30 minutes already past its 10, breached at the
    // change.
    let clock = &ticket["clocks"][0];
    assert_eq!(clock["objective"], "p1-first", "{ticket}");
    assert_eq!(clock["state"], "breached");
    assert_eq!(clock["breached_at"], escalated_at.as_str());

    for _ in 0..50 {
        if !seen.lock().unwrap().requests.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = snapshot(&seen);
    let escalation = seen
        .requests
        .iter()
        .map(|(b, _, _)| b)
        .find(|b| b["type"] == "clock.escalated")
        .expect("the escalation is told");
    assert_eq!(escalation["action"], "raise_priority");
    assert_eq!(escalation["priority_from"], "P2");
    assert_eq!(escalation["priority_to"], "P1");
    app.stop().await;
}

#[tokio::test]
async fn a_server_killed_mid_delivery_delivers_the_breach_again_under_the_same_id_after_restart() {
    // The receiver holds its first request (the server is killed meanwhile) and answers
    // the rest at once; it keeps the id of every request that arrives.
    let arrivals: Arc<Mutex<Vec<String>>> = Arc::default();
    let state = arrivals.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let state = state.clone();
            async move {
                let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let first = {
                    let mut seen = state.lock().unwrap();
                    seen.push(value["id"].as_str().unwrap_or("").to_owned());
                    seen.len() == 1
                };
                if first {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });

    let mut app = spawn_app().await;
    let secret = app.data.path().join("hook-secret");
    std::fs::write(&secret, SECRET).unwrap();
    // No warnings: the breach is the only fact.
    let config = config(&url, secret.to_str().unwrap()).replace("    warn_at: [50%]\n", "");
    app.apply(&[("accord.yaml", &config)]).await;
    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    let created = Timestamp::from_second(now.as_second() - 31 * 60).unwrap();
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "e1", "ticket": "T-4", "at": created.to_string(), "type": "created"}]),
    )
    .await;
    for _ in 0..100 {
        if !arrivals.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        arrivals.lock().unwrap().len(),
        1,
        "the first attempt is under way"
    );

    // Killed mid-delivery: the receiver never answered.
    app.stop().await;
    let (url, _, stop, task) = crate::helpers::start(app.data.path(), None).await;

    // After the lease (3 × the 1 s attempt timeout) the new server tries again.
    for _ in 0..100 {
        if arrivals.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A further repeat, if there were to be one, has time to show.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = arrivals.lock().unwrap().clone();
    assert_eq!(
        ids,
        [
            "T-4:sla:first_response:1:breach",
            "T-4:sla:first_response:1:breach"
        ],
        "the same fact, under the same id, twice at most"
    );
    let outbox: Value = reqwest::Client::new()
        .get(format!("{url}/v1/notifications"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = outbox["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "one message, not a second after the restart: {outbox}"
    );
    assert_eq!(items[0]["state"], "delivered");
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn quiet_hours_hold_a_warning_until_the_calendar_opens_but_not_a_breach() {
    let mut app = spawn_app().await;
    let (url, seen) = receiver(0).await;
    let secret = app.data.path().join("hook-secret");
    std::fs::write(&secret, SECRET).unwrap();
    // Open half an hour a day, starting two hours from now (UTC): closed now.
    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    let utc = now.to_zoned(jiff::tz::TimeZone::UTC);
    let opens_hour = (i32::from(utc.hour()) + 2) % 24;
    let window = format!("[\"{opens_hour:02}:00-{opens_hour:02}:30\"]");
    let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| format!("{d}: {window}"))
        .collect();
    let mut opens = utc
        .with()
        .hour(i8::try_from(opens_hour).unwrap())
        .minute(0)
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .unwrap();
    if opens.timestamp() <= now {
        opens = opens.tomorrow().unwrap();
    }
    let config = config(&url, secret.to_str().unwrap()).replace(
        "type: webhook\n",
        "type: webhook\nquiet_hours: {calendar: quiet}\n",
    ) + &format!(
        "---\nkind: calendar\nid: quiet\ntimezone: UTC\nhours: {{{}}}\n",
        days.join(", ")
    );
    app.apply(&[("accord.yaml", &config)]).await;

    // T-W: its 50% warning was reached a minute ago. T-B: breached a minute ago.
    let at = |mins: i64| Timestamp::from_second(now.as_second() - mins * 60).unwrap();
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "w1", "ticket": "T-W", "at": at(16).to_string(), "type": "created"},
               {"id": "b1", "ticket": "T-B", "at": at(31).to_string(), "type": "created"}]),
    )
    .await;
    for _ in 0..100 {
        if !seen.lock().unwrap().requests.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let seen = snapshot(&seen);
    let delivered: Vec<&str> = seen
        .requests
        .iter()
        .map(|(b, _, _)| b["id"].as_str().unwrap())
        .collect();
    // The breach goes through at once; both tickets' warnings wait (T-B's 50% warning
    // was 16 minutes ago).
    assert_eq!(
        delivered,
        ["T-B:sla:first_response:1:breach"],
        "{delivered:?}"
    );

    let pending: Value = app
        .get("/v1/notifications?state=pending", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    let items = pending["items"].as_array().unwrap();
    let mut held: Vec<&str> = items.iter().map(|m| m["fact"].as_str().unwrap()).collect();
    held.sort_unstable();
    assert_eq!(
        held,
        [
            "T-B:sla:first_response:1:warning:50%",
            "T-W:sla:first_response:1:warning:50%"
        ],
        "{pending}"
    );
    for m in items {
        assert_eq!(m["attempts"], 0);
        assert_eq!(
            m["next_attempt_at"],
            opens.timestamp().to_string().as_str(),
            "held until the calendar opens: {pending}"
        );
    }
    app.stop().await;
}
