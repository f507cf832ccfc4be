//! Availability over HTTP: outage and maintenance records in the event stream, probes
//! turned into outages, the period report and the credits it owes (hand-computed), and
//! a customer-bound token that reads only its own.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

const CONFIG: &str = "\
kind: customer
id: acme
name: Acme
---
kind: customer
id: globex
name: Globex
---
kind: service
id: email
name: E-mail
---
kind: service
id: api
name: API
---
kind: agreement
type: sla
id: acme-email
customer: acme
level: customer
fee: {amount: 3000, currency: USD, per: month}
objectives:
  - {id: first, metric: first_response, target: 30m, calendar: 24x7, compliance: 90%}
  - {id: uptime, metric: availability, service: email, target: 99.9%, exclude: scheduled_maintenance, public: true}
  - {id: happy, metric: csat, target: 4.0}
credits:
  - objective: uptime
    tiers: [{below: 99.9%, credit: 10%}, {below: 99.5%, credit: 25%}]
---
kind: agreement
type: sla
id: globex-email
customer: globex
level: customer
fee: {amount: 1000, currency: EUR, per: month}
objectives:
  - {id: uptime, metric: availability, service: email, target: 99%}
  - {id: api-success, metric: availability, service: api, target: 99%, measure: requests}
credits:
  - objective: uptime
    tiers: [{below: 99.99%, credit: 5%}]
";

fn batch() -> Value {
    json!([
        {"id": "e1", "ticket": "T-1", "at": "2026-11-02T10:00:00Z", "type": "created", "customer": "acme"},
        {"id": "o1", "type": "outage", "service": "email", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T11:30:00Z"},
        {"id": "e2", "ticket": "T-1", "at": "2026-11-02T10:12:00Z", "type": "agent_replied"},
        {"id": "m1", "type": "maintenance", "service": "email", "from": "2026-11-15T02:00:00Z", "to": "2026-11-15T04:00:00Z"},
                {"id": "o4", "type": "outage", "service": "email", "from": "2026-11-15T03:00:00Z", "to": "2026-11-15T05:00:00Z"},
                {"id": "r1", "type": "requests", "service": "api", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T10:05:00Z", "good": 980, "valid": 1000},
        {"id": "v1", "type": "survey", "ticket": "T-1", "at": "2026-11-03T09:00:00Z", "csat": 5, "ces": 2, "comment": "quick fix"},
    ])
}

fn probe(at: &str, up: bool) -> Value {
    json!({"service": "email", "at": at, "up": up, "latency_ms": 120.0})
}

async fn report(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, token).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn records_probes_report_and_credits() {
    let app = spawn_app().await;
    app.apply(&[("a.yaml", CONFIG)]).await;

    // Ticket events and service records in one batch; a repeat changes nothing.
    let first = app.post_json("/v1/events", &app.admin, batch()).await;
    assert_eq!(first.status(), 202);
    assert_eq!(
        first.json::<Value>().await.unwrap(),
        json!({"accepted": 7, "duplicates": 0})
    );
    let again = app.post_json("/v1/events", &app.admin, batch()).await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"accepted": 0, "duplicates": 7})
    );
    // A changed record is a conflict named by its item; nothing of the batch is kept.
    let changed = json!([
        {"id": "e9", "ticket": "T-9", "at": "2026-11-03T10:00:00Z", "type": "created"},
        {"id": "o1", "type": "outage", "service": "email", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T11:30:00Z", "impact": 0.5},
    ]);
    let body = problem(app.post_json("/v1/events", &app.admin, changed).await, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("item 1: record id \"o1\""),
        "{body}"
    );
    problem(app.get("/v1/tickets/T-9", &app.admin).await, 404).await;
    // A bad record is named by index and field.
    let bad = json!([
        {"id": "o5", "type": "outage", "service": "email", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T09:00:00Z"},
        {"id": "r5", "type": "requests", "service": "api", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T10:05:00Z", "good": 11, "valid": 10},
        {"id": "r6", "type": "requests", "service": "api", "from": "2026-11-10T10:00:00Z", "to": "2026-11-10T10:05:00Z", "good": -1, "valid": 10},
    ]);
    let body = problem(app.post_json("/v1/events", &app.admin, bad).await, 422).await;
    assert_eq!(body["errors"][1]["field"], "good");
    assert_eq!(body["errors"][2]["field"], "good");
    let bad_survey = json!([{"id": "v9", "type": "survey", "ticket": "T-1", "at": "2026-11-03T09:00:00Z", "csat": 6}]);
    let survey_body = problem(
        app.post_json("/v1/events", &app.admin, bad_survey).await,
        422,
    )
    .await;
    assert_eq!(survey_body["errors"][0]["field"], "csat");
    assert_eq!(
        (
            body["errors"][0]["index"].as_u64(),
            body["errors"][0]["field"].as_str()
        ),
        (Some(0), Some("to"))
    );

    // Probes: three failures make an outage from the first; a good one ends it.
    let answer: Value = app
        .post_json(
            "/v1/probes",
            &app.admin,
            json!([
                probe("2026-11-20T00:02:00Z", false),
                probe("2026-11-20T00:00:00Z", false),
                probe("2026-11-20T00:01:00Z", false),
                probe("2026-11-20T00:30:00Z", true),
            ]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"accepted": 4, "stale": 0, "outages_recorded": ["probe:email:1795132800"]})
    );
    // Failing again since 25 November 00:00, not over: down until the report's instant.
    for at in [
        "2026-11-25T00:00:00Z",
        "2026-11-25T00:01:00Z",
        "2026-11-25T00:02:00Z",
    ] {
        let r = app
            .post_json("/v1/probes", &app.admin, probe(at, false))
            .await;
        assert_eq!(r.status(), 202);
    }
    let body = problem(
        app.post_json(
            "/v1/probes",
            &app.admin,
            json!([{"service": "email", "at": "2026-11-25T00:03:00Z", "up": "yes"}]),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "up");

    // The clocks are derived in the background: wait until the table has T-1's.
    for _ in 0..100 {
        let clocks: Value = app
            .get("/v1/clocks", &app.admin)
            .await
            .json()
            .await
            .unwrap();
        if clocks["items"].as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let at = "2026-11-25T01:00:00Z";
    let r = report(
        &app,
        &format!("/v1/report?period=2026-11&at={at}"),
        &app.admin,
    )
    .await;
    assert_eq!(
        r["period"],
        json!({"from": "2026-11-01", "to": "2026-11-30"})
    );
    let acme = &r["agreements"][0];
    assert_eq!(acme["id"], "acme-email");
    assert_eq!(
        acme["objectives"][0],
        json!({"id": "first", "metric": "first_response", "met": 1, "breached": 0,
               "compliance": 1.0, "goal": 0.9, "achieved": true,
               "by_priority": [{"priority": null, "met": 1, "breached": 0, "compliance": 1.0}],
               "by_month": [{"from": "2026-11-01", "to": "2026-11-30", "met": 1, "breached": 0, "compliance": 1.0}],
               "trend": [
            {"from": "2026-08-01", "to": "2026-08-31", "result": null, "achieved": null},
            {"from": "2026-09-01", "to": "2026-09-30", "result": null, "achieved": null},
            {"from": "2026-10-01", "to": "2026-10-31", "result": null, "achieved": null},
        ]})
    );
    // Acme excludes maintenance: 5,400 (o1) + 3,600 (o4 after the window) + 1,800 (the
    // probe outage) + 3,600 (failing since 00:00 on the 25th, as of 01:00) = 14,400 s of
    // the month less the 2-hour window.
    let uptime = &acme["objectives"][1];
    assert_eq!(uptime["downtime_seconds"], 14_400.0);
    assert_eq!(uptime["eligible_seconds"], 2_592_000 - 7_200);
    assert_eq!(uptime["achieved"], false);
    // The survey of T-1 (Acme's ticket) counts for Acme's CSAT objective.
    assert_eq!(
        acme["objectives"][2],
        json!({"id": "happy", "metric": "csat", "responses": 1, "good": 1, "score": 5.0, "target": 4.0, "achieved": true,
               "trend": [
            {"from": "2026-08-01", "to": "2026-08-31", "result": null, "achieved": null},
            {"from": "2026-09-01", "to": "2026-09-30", "result": null, "achieved": null},
            {"from": "2026-10-01", "to": "2026-10-31", "result": null, "achieved": null},
        ]})
    );
    assert_eq!(acme["watermelon"], false);
    // 99.44 %: below 99.5 %: 25 % of 3,000 USD.
    assert_eq!(acme["credits"][0]["rate"], 0.25);
    assert_eq!(acme["credits"][0]["amount"], 750.0);
    // Globex counts the window: o4's full 2 hours.
    let globex = &r["agreements"][1];
    assert_eq!(globex["objectives"][0]["downtime_seconds"], 18_000.0);
    assert_eq!(globex["objectives"][0]["eligible_seconds"], 2_592_000);
    assert_eq!(globex["objectives"][0]["achieved"], true);
    // By requests: 980 good of 1,000 valid, below 99 %.
    let api = &globex["objectives"][1];
    assert_eq!(
        (
            &api["availability"],
            &api["good_requests"],
            &api["valid_requests"],
            &api["achieved"]
        ),
        (&json!(0.98), &json!(980), &json!(1000), &json!(false))
    );

    let csv = app
        .get(
            &format!("/v1/credits?period=2026-11&at={at}&format=csv"),
            &app.admin,
        )
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.text().await.unwrap(),
        "customer,agreement,objective,from,to,rate,amount,currency\n\
         acme,acme-email,uptime,2026-11-01,2026-11-30,0.25,750.00,USD\n\
         globex,globex-email,uptime,2026-11-01,2026-11-30,0.05,50.00,EUR\n"
    );

    // The report as CSV: a row per objective over the period, then a row per priority
    // and per month of each ticket objective (T-1 has no priority: an empty one).
    let csv = app
        .get(
            &format!("/v1/report?period=2026-11&at={at}&format=csv"),
            &app.admin,
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "agreement,customer,objective,metric,met,breached,result,goal,achieved,\
         downtime_seconds,eligible_seconds,good_requests,valid_requests,responses,good_answers,\
         breakdown,priority,from,to"
    );
    let first: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("acme-email,acme,first,"))
        .collect();
    assert_eq!(
        first,
        [
            "acme-email,acme,first,first_response,1,0,1,0.9,true,,,,,,,period,,2026-11-01,2026-11-30",
            "acme-email,acme,first,first_response,1,0,1,,,,,,,,,priority,,,",
            "acme-email,acme,first,first_response,1,0,1,,,,,,,,,month,,2026-11-01,2026-11-30",
        ],
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("acme-email,acme,happy,csat,,,5,4,true,,,,,1,1,period,")),
        "{csv}"
    );

    // A customer-bound token reads its own agreements and credits only.
    let (acme_token, _) = app.token("read", Some("acme")).await;
    let own = report(
        &app,
        &format!("/v1/report?period=2026-11&at={at}"),
        &acme_token,
    )
    .await;
    let ids: Vec<&str> = own["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-email"]);
    let credits = report(
        &app,
        &format!("/v1/credits?period=2026-11&at={at}"),
        &acme_token,
    )
    .await;
    assert_eq!(credits.as_array().unwrap().len(), 1);
    assert_eq!(credits[0]["customer"], "acme");

    let page = app
        .get(
            &format!("/v1/report?period=2026-11&at={at}&format=html"),
            &acme_token,
        )
        .await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(
        page.contains("acme-email") && !page.contains("globex-email"),
        "{page}"
    );
    assert!(page.contains("<svg"));

    // The review document: a bound token's is its customer's, whatever it asks for; an
    // admin names the customer.
    for (token, asked) in [(&acme_token, "globex"), (&app.admin, "acme")] {
        let page = app
            .get(
                &format!("/v1/report?period=2026-11&at={at}&format=review&customer={asked}"),
                token,
            )
            .await;
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        let page = page.text().await.unwrap();
        assert!(page.contains("<h1>Service review: Acme</h1>"), "{page}");
        assert!(
            page.contains("<h2>acme-email ") && !page.contains("globex-email"),
            "{page}"
        );
        assert!(page.contains("Breaches by cause") && page.contains("Compliance over time"));
    }
    let wrong = app
        .get("/v1/report?period=2026-11&format=pdf", &app.admin)
        .await;
    assert_eq!(wrong.status(), 422);

    // Public without a token: a badge and a status page, only for `public: true`.
    let badge = app
        .request(reqwest::Method::GET, "/badge/acme-email/uptime.svg", None)
        .send()
        .await
        .unwrap();
    assert_eq!(badge.status(), 200);
    assert_eq!(badge.headers()["content-type"], "image/svg+xml");
    let svg = badge.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains(">uptime<"), "{svg}");
    for private in [
        "/badge/acme-email/first.svg",
        "/badge/globex-email/uptime.svg",
        "/status/globex",
    ] {
        let r = app
            .request(reqwest::Method::GET, private, None)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{private}");
    }
    let status = app
        .request(reqwest::Method::GET, "/status/acme", None)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    let page = status.text().await.unwrap();
    assert!(
        page.contains("<td>uptime</td>") && page.contains("/badge/acme-email/uptime.svg"),
        "{page}"
    );
    assert!(!page.contains("first"), "only public objectives");

    let body = problem(app.get("/v1/report?period=2026-13", &app.admin).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "period");
}
