use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{spawn_app, start};

#[tokio::test]
async fn a_restart_keeps_the_database_and_the_tokens() {
    let mut app = spawn_app().await;
    app.customers(&[("acme", "Acme")]).await;
    let (read, _) = app.token("read", Some("acme")).await;
    app.stop().await;

    let (url, admin_again, stop, task) = start(app.data.path(), None).await;
    assert_eq!(admin_again, None, "a restart creates no second admin token");
    let http = reqwest::Client::new();
    for token in [&app.admin, &read] {
        let response = http
            .request(Method::GET, format!("{url}/v1/customers/acme"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["name"], "Acme");
    }
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn a_supplied_admin_token_is_used_on_first_start_only() {
    let dir = tempfile::tempdir().unwrap();
    let chosen: SecretString = "choose-me-0123456789abcdef0123456789".to_owned().into();
    let (url, created, stop, task) = start(dir.path(), Some(&chosen)).await;
    assert_eq!(
        created.as_deref(),
        Some("choose-me-0123456789abcdef0123456789")
    );
    let response = reqwest::Client::new()
        .get(format!("{url}/v1/tokens"))
        .bearer_auth("choose-me-0123456789abcdef0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    stop.send(()).unwrap();
    task.await.unwrap();

    let other: SecretString = "another-one-0123456789abcdef012345678".to_owned().into();
    let (_, created, stop, task) = start(dir.path(), Some(&other)).await;
    assert_eq!(
        created, None,
        "ACCORD_ADMIN_TOKEN only counts at first start"
    );
    stop.send(()).unwrap();
    task.await.unwrap();
}
