use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn v1_needs_a_valid_bearer_token() {
    let app = spawn_app().await;

    let none = app
        .request(Method::GET, "/v1/customers", None)
        .send()
        .await
        .unwrap();
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"accord\""
    );
    let body = problem(none, 401).await;
    assert_eq!(
        body["detail"],
        "this needs an API token: send it as `Authorization: Bearer <token>`"
    );

    let basic = app
        .request(Method::GET, "/v1/customers", None)
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    let body = problem(basic, 401).await;
    assert_eq!(
        body["detail"],
        "the Authorization header must be `Bearer <token>`"
    );

    let wrong = app.get("/v1/customers", "accord_0000").await;
    let body = problem(wrong, 401).await;
    assert_eq!(
        body["detail"],
        "the API token is not valid (unknown or revoked)"
    );

    assert_eq!(app.get("/v1/customers", &app.admin).await.status(), 200);
}

#[tokio::test]
async fn scopes_are_enforced() {
    let app = spawn_app().await;
    let (read, _) = app.token("read", None).await;
    let (ingest, _) = app.token("ingest", None).await;

    // read may read, not administer
    assert_eq!(app.get("/v1/customers", &read).await.status(), 200);
    let body = problem(
        app.put_json("/v1/config", &read, json!({"files": []}))
            .await,
        403,
    )
    .await;
    assert_eq!(
        body["detail"],
        "this needs a token with scope admin (or admin); this token has scope read"
    );
    problem(app.get("/v1/tokens", &read).await, 403).await;
    problem(app.get("/v1/audit", &read).await, 403).await;

    // ingest may not read customer data
    let body = problem(app.get("/v1/customers", &ingest).await, 403).await;
    assert_eq!(
        body["detail"],
        "this needs a token with scope read (or admin); this token has scope ingest"
    );
    problem(
        app.request(Method::POST, "/v1/tokens", Some(&ingest))
            .json(&json!({"scope": "admin"}))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}

#[tokio::test]
async fn a_customer_bound_token_sees_nothing_of_another_customer() {
    let app = spawn_app().await;
    app.customers(&[("acme", "Acme"), ("globex", "Globex")])
        .await;
    let (acme, _) = app.token("read", Some("acme")).await;

    let list: Value = app.get("/v1/customers", &acme).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], "acme");
    assert_eq!(list["next"], Value::Null);

    // Paging cannot reach past the binding either.
    let page: Value = app
        .get("/v1/customers?limit=1", &acme)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["next"], Value::Null);

    let other = problem(app.get("/v1/customers/globex", &acme).await, 404).await;
    let missing = problem(app.get("/v1/customers/initech", &acme).await, 404).await;
    assert_eq!(other["detail"], "no customer \"globex\"");
    assert_eq!(
        missing["detail"], "no customer \"initech\"",
        "another customer's data looks exactly like no data"
    );
    let own: Value = app
        .get("/v1/customers/acme", &acme)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["name"], "Acme");

    // The admin sees both.
    let all: Value = app
        .get("/v1/customers", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn only_read_tokens_can_be_bound_to_a_customer() {
    let app = spawn_app().await;
    let response = app
        .request(Method::POST, "/v1/tokens", Some(&app.admin))
        .json(&json!({"scope": "admin", "customer": "acme"}))
        .send()
        .await
        .unwrap();
    let body = problem(response, 422).await;
    assert_eq!(
        body["detail"],
        "customer: only a read token can be bound to a customer (this one is admin)"
    );
    assert_eq!(body["errors"][0]["field"], "customer");
}

#[tokio::test]
async fn tokens_are_listed_revoked_and_audited() {
    let app = spawn_app().await;
    let (read, id) = app.token("read", Some("acme")).await;
    assert!(read.starts_with("accord_"));

    let list: Value = app
        .get("/v1/tokens", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["id"], id.as_str());
    assert_eq!(items[1]["customer"], "acme");
    assert!(
        !list.to_string().contains(&read),
        "a list never shows a secret"
    );

    let revoked = app
        .request(
            Method::DELETE,
            &format!("/v1/tokens/{id}"),
            Some(&app.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let revoked: Value = revoked.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());
    problem(app.get("/v1/customers", &read).await, 401).await;

    problem(
        app.request(Method::DELETE, "/v1/tokens/tok_nope", Some(&app.admin))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    app.customers(&[("acme", "Acme")]).await;
    let audit: Value = app.get("/v1/audit", &app.admin).await.json().await.unwrap();
    let actions: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            (
                "token.create",
                audit["items"][0]["target"].as_str().unwrap()
            ),
            ("token.create", id.as_str()),
            ("token.revoke", id.as_str()),
            ("config.apply", "revision 1"),
        ]
    );
    assert_eq!(audit["items"][0]["actor"], "system");
    let admin_id = audit["items"][0]["target"].as_str().unwrap();
    assert_eq!(audit["items"][1]["actor"], format!("token:{admin_id}"));
    assert!(
        !audit.to_string().contains(&read),
        "the audit log never holds a secret"
    );
}
