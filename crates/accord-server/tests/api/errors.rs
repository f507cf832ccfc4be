//! Bad input gets a 4xx problem document naming what is wrong, and changes nothing.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TEST_BODY_LIMIT, problem, spawn_app};

#[tokio::test]
async fn malformed_bodies_are_named() {
    let app = spawn_app().await;
    let put = |body: &'static str| {
        app.request(Method::PUT, "/v1/config", Some(&app.admin))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let syntax = problem(put("{\"files\": ").await.unwrap(), 400).await;
    assert!(
        syntax["detail"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not valid JSON"),
        "{syntax}"
    );

    let wrong_type = problem(put("{\"files\": 5}").await.unwrap(), 422).await;
    assert_eq!(wrong_type["errors"][0]["field"], "files", "{wrong_type}");
    assert!(
        wrong_type["detail"]
            .as_str()
            .unwrap()
            .contains("invalid type: integer `5`")
    );

    let unknown = problem(put("{\"files\": [], \"flies\": []}").await.unwrap(), 422).await;
    assert!(
        unknown["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field `flies`"),
        "{unknown}"
    );

    let missing = problem(put("{}").await.unwrap(), 422).await;
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("missing field `files`")
    );

    let item = problem(
        put("{\"files\": [{\"path\": \"a.yaml\", \"text\": \"\"}, {\"path\": \"../etc/passwd\", \"text\": \"\"}]}")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(item["errors"][0]["index"], 1, "{item}");
    assert_eq!(item["errors"][0]["field"], "path");
    assert_eq!(
        item["detail"],
        "files[1].path: \"../etc/passwd\" must be a plain relative path (no leading /, no . or .. parts)"
    );

    let no_type = app
        .request(Method::PUT, "/v1/config", Some(&app.admin))
        .body("{\"files\": []}")
        .send()
        .await
        .unwrap();
    problem(no_type, 415).await;

    // None of that changed anything.
    let config: Value = app
        .get("/v1/config", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["revision"], Value::Null);
    let audit: Value = app.get("/v1/audit", &app.admin).await.json().await.unwrap();
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        1,
        "only the bootstrap"
    );
}

#[tokio::test]
async fn a_too_large_body_is_413() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"files\": [{{\"path\": \"a.yaml\", \"text\": \"{}\"}}]}}",
        "x".repeat(TEST_BODY_LIMIT + 1)
    );
    let response = app
        .request(Method::PUT, "/v1/config", Some(&app.admin))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let body = problem(response, 413).await;
    assert_eq!(
        body["detail"],
        "the request body is larger than the server accepts (max_body_bytes)"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let body = problem(app.get("/v1/nothing-here", &app.admin).await, 404).await;
    assert_eq!(body["detail"], "no route for /v1/nothing-here");
    let body = problem(
        app.request(Method::PATCH, "/v1/customers", Some(&app.admin))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    assert_eq!(
        body["detail"],
        "the method PATCH is not allowed on this path"
    );
}

#[tokio::test]
async fn bad_pagination_is_named() {
    let app = spawn_app().await;
    let body = problem(app.get("/v1/customers?limit=0", &app.admin).await, 422).await;
    assert_eq!(body["detail"], "limit: must be between 1 and 1000 (got 0)");
    let body = problem(app.get("/v1/customers?limit=lots", &app.admin).await, 422).await;
    assert!(body["detail"].as_str().unwrap().contains("limit"), "{body}");
    let body = problem(app.get("/v1/customers?after=zzz", &app.admin).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "after");
    let body = problem(app.get("/v1/customers?colour=red", &app.admin).await, 422).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{body}"
    );
}

#[tokio::test]
async fn pages_walk_the_whole_list() {
    let app = spawn_app().await;
    app.customers(&[("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("e", "e")])
        .await;
    let mut seen = Vec::new();
    let mut path = "/v1/customers?limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, &app.admin).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/customers?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
}
