//! Commands that talk to a running server: `--server URL --token TOKEN`, or
//! `ACCORD_SERVER` and `ACCORD_TOKEN`. The token travels as `Authorization: Bearer`.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's base URL.
    #[arg(
        long,
        env = "ACCORD_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// An API token (admin for `token`).
    #[arg(long, env = "ACCORD_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print its secret (shown once).
    Create {
        /// admin, ingest or read.
        #[arg(long)]
        scope: String,
        /// Bind a read token to one customer: it reads only that customer's data.
        #[arg(long)]
        customer: Option<String>,
        /// A note on who or what uses it.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by its id (`tok_…`); it stops working at once.
    Revoke { id: String },
}

pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        let Some(token) = args.token.clone() else {
            bail!("this command needs an API token: pass --token or set ACCORD_TOKEN");
        };
        Ok(Self {
            base: args.server.trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        })
    }

    /// Sends a request and returns the JSON answer, or the server's problem `detail`.
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, json) = self.send_raw(method, path, body)?;
        if (200..300).contains(&status) {
            Ok(json)
        } else {
            let reason = reqwest::StatusCode::from_u16(status)
                .map_or_else(|_| status.to_string(), |s| s.to_string());
            bail!("the server answered {reason}: {}", problem_text(&json))
        }
    }

    /// Sends a request and returns the status and the JSON answer, whatever the status.
    pub fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let mut request = self.http.request(method, &url).bearer_auth(&self.token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("cannot reach the Accord server at {}", self.base))?;
            let status = response.status().as_u16();
            let text = response.text().await?;
            Ok((
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            ))
        })
    }

    /// Every item of a paginated list.
    fn list_all(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        self.list_all_query(path, "")
    }

    /// Every item of a paginated list, with a query (`a=1&b=2`, already encoded).
    pub fn list_all_query(&self, path: &str, query: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("&{query}")
        };
        loop {
            let page_path = match &after {
                Some(cursor) => format!("{path}?limit=1000{query}&after={cursor}"),
                None => format!("{path}?limit=1000{query}"),
            };
            let page = self.send(reqwest::Method::GET, &page_path, None)?;
            if let Some(batch) = page.get("items").and_then(Value::as_array) {
                items.extend(batch.iter().cloned());
            }
            match page.get("next").and_then(Value::as_str) {
                Some(next) => after = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }
}

/// A problem document in words: its detail, then each located error on a line.
pub fn problem_text(problem: &Value) -> String {
    let Some(detail) = problem.get("detail").and_then(Value::as_str) else {
        return problem.to_string();
    };
    let errors = problem
        .get("errors")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if errors.len() < 2 {
        return detail.to_owned();
    }
    let mut out = format!("{} mistakes:", errors.len());
    for e in errors {
        let mut place = String::new();
        if let Some(file) = e.get("file").and_then(Value::as_str) {
            place.push_str(file);
            for key in ["line", "column"] {
                if let Some(n) = e.get(key).and_then(Value::as_u64) {
                    place.push_str(&format!(":{n}"));
                }
            }
            place.push_str(": ");
        }
        if let Some(i) = e.get("index").and_then(Value::as_u64) {
            place.push_str(&format!("[{i}] "));
        }
        let field = text(e, "field");
        let message = text(e, "message");
        out.push_str(&format!("\n  {place}{field}: {message}"));
    }
    out
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

pub fn token(args: &ServerArgs, action: TokenAction) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    match action {
        TokenAction::Create {
            scope,
            customer,
            label,
        } => {
            let created = client.send(
                reqwest::Method::POST,
                "/v1/tokens",
                Some(serde_json::json!({"scope": scope, "customer": customer, "label": label})),
            )?;
            eprintln!(
                "Created token {} (scope {}{}). The secret below is shown once:",
                text(&created, "id"),
                text(&created, "scope"),
                created
                    .get("customer")
                    .and_then(Value::as_str)
                    .map(|c| format!(", customer {c}"))
                    .unwrap_or_default()
            );
            println!("{}", text(&created, "token"));
        }
        TokenAction::List => {
            println!(
                "{:<21} {:<7} {:<16} {:<21} {:<21} LABEL",
                "ID", "SCOPE", "CUSTOMER", "CREATED", "REVOKED"
            );
            for t in client.list_all("/v1/tokens")? {
                println!(
                    "{:<21} {:<7} {:<16} {:<21} {:<21} {}",
                    text(&t, "id"),
                    text(&t, "scope"),
                    text(&t, "customer"),
                    text(&t, "created_at"),
                    text(&t, "revoked_at"),
                    text(&t, "label"),
                );
            }
        }
        TokenAction::Revoke { id } => {
            let revoked =
                client.send(reqwest::Method::DELETE, &format!("/v1/tokens/{id}"), None)?;
            println!(
                "Revoked token {} at {}",
                text(&revoked, "id"),
                text(&revoked, "revoked_at")
            );
        }
    }
    Ok(())
}
