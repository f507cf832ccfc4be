use std::path::Path;

use accord_server::{AppState, Bootstrap};
use accord_store_sqlite::SqliteStore;
use reqwest::{Method, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub url: String,
    pub admin: String,
    pub http: reqwest::Client,
    pub data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Body limit the tests run with, small enough to exceed cheaply.
pub const TEST_BODY_LIMIT: usize = 64 * 1024;

/// Starts the server on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap()).await
}

/// Starts the server on a fresh database in `data`, with the `accord.toml` (and
/// templates) a test put there.
pub async fn spawn_app_in(data: tempfile::TempDir) -> TestApp {
    let (url, admin, stop, task) = start(data.path(), None).await;
    TestApp {
        url,
        admin: admin.expect("a fresh database makes an admin token"),
        http: reqwest::Client::new(),
        data,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Starts a server on the database in `dir`; returns the admin secret when this start
/// created one.
pub async fn start(
    dir: &Path,
    supplied: Option<&SecretString>,
) -> (String, Option<String>, oneshot::Sender<()>, JoinHandle<()>) {
    let store = SqliteStore::open_in(dir).await.unwrap();
    let admin = match accord_server::bootstrap_admin(&store, supplied)
        .await
        .unwrap()
    {
        Bootstrap::Created { secret, .. } => Some(secret.expose_secret().to_owned()),
        Bootstrap::Existing => None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut state = AppState::open(store.clone()).await.unwrap();
    // The data directory's templates, as `accord serve` loads them.
    state.templates = std::sync::Arc::new(
        accord_server::email::Templates::load(Some(&dir.join("templates"))).unwrap(),
    );
    // The data directory's settings (`[smtp]`, templates), with fast retries so a
    // failed delivery is tried again within the test.
    let flags = accord_server::settings::Flags {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    let settings = accord_server::settings::Settings::load(&flags, |_| None).unwrap();
    state.probe_failures = settings.probe_failures;
    let notifications = state.start_notifications(accord_server::notify::DeliverySettings {
        retry_base: std::time::Duration::from_millis(200),
        attempts: 3,
        timeout: std::time::Duration::from_secs(1),
        ..settings.delivery().unwrap()
    });
    let router = accord_server::router(state, TEST_BODY_LIMIT);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        accord_server::serve(listener, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        // Stopped like a killed process: the watcher and courier end wherever they are.
        for n in notifications {
            n.abort();
        }
        store.close().await;
    });
    (url, admin, stop, task)
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.url));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Reads the list at `path` (admin) until it has items, for at most 10 s; the last
    /// answer either way.
    pub async fn first_items(&self, path: &str) -> Value {
        let mut page = Value::Null;
        for _ in 0..100 {
            page = self.get(path, &self.admin).await.json().await.unwrap();
            if page["items"]
                .as_array()
                .is_some_and(|items| !items.is_empty())
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        page
    }

    /// Creates a token with the admin token and returns its secret and id.
    pub async fn token(&self, scope: &str, customer: Option<&str>) -> (String, String) {
        let response = self
            .request(Method::POST, "/v1/tokens", Some(&self.admin))
            .json(&json!({"scope": scope, "customer": customer, "label": "test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        (
            body["token"].as_str().unwrap().to_owned(),
            body["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Applies a configuration made of these files; asserts it was accepted.
    pub async fn apply(&self, files: &[(&str, &str)]) -> Value {
        let response = self.apply_raw(files, "").await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn apply_raw(&self, files: &[(&str, &str)], query: &str) -> Response {
        let files: Vec<Value> = files
            .iter()
            .map(|(path, text)| json!({"path": path, "text": text}))
            .collect();
        self.put_json(
            &format!("/v1/config{query}"),
            &self.admin,
            json!({ "files": files }),
        )
        .await
    }

    /// Declares these customers (id, name) as the whole configuration.
    pub async fn customers(&self, customers: &[(&str, &str)]) {
        let text: Vec<String> = customers
            .iter()
            .map(|(id, name)| format!("kind: customer\nid: {id}\nname: {name}\n"))
            .collect();
        self.apply(&[("customers.yaml", &text.join("---\n"))]).await;
    }

    /// Stops the server gracefully and waits for it; keeps the data directory.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// Asserts a problem document with this status and returns it.
pub async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:accord:problem:")
    );
    assert!(!body["title"].as_str().unwrap().is_empty());
    body
}

/// Percent-encodes a path segment (ids such as fact keys hold `:`, `%` and spaces).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
