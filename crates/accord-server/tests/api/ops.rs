use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_needs_no_token_and_checks_the_database() {
    let app = spawn_app().await;
    let response = app
        .request(Method::GET, "/healthz", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app().await;
    app.get("/v1/customers/acme", &app.admin).await;
    let text = app
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("accord_http_requests_total{")
                && l.contains("route=\"/v1/customers/{id}\"")
                && l.contains("status=\"404\"")),
        "{text}"
    );
    assert!(text.contains("accord_http_request_duration_seconds"));
}

/// The committed `docs/openapi.json` is what the server serves. Run with `ACCORD_BLESS=1`
/// to rewrite it after changing the API.
#[tokio::test]
async fn the_committed_openapi_document_is_current() {
    let app = spawn_app().await;
    let served = app
        .request(Method::GET, "/openapi.json", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/healthz", "/v1/tokens", "/v1/customers/{id}", "/v1/audit"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }

    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var_os("ACCORD_BLESS").is_some() {
        std::fs::write(committed_path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == served,
        "docs/openapi.json is out of date: run `ACCORD_BLESS=1 cargo test -p accord-server` and commit it"
    );
}
