//! A breach e-mailed through a real SMTP server process on loopback: aiosmtpd, from
//! Debian's `python3-aiosmtpd` (or PyPI), storing what it receives in a maildir. Runs
//! when `ACCORD_TEST_AIOSMTPD` names a Python that has aiosmtpd (`.ci/run` installs it
//! and sets it); otherwise prints that it was skipped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::helpers::spawn_app_in;

/// An aiosmtpd process; killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    /// The messages received so far, raw.
    fn messages(&self) -> Vec<String> {
        let new: PathBuf = self.maildir.path().join("mail").join("new");
        let mut out: Vec<String> = std::fs::read_dir(new)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

async fn smtp_server() -> Option<SmtpServer> {
    let Ok(python) = std::env::var("ACCORD_TEST_AIOSMTPD") else {
        eprintln!(
            "skipped: set ACCORD_TEST_AIOSMTPD to a Python with aiosmtpd \
             (apt-get install python3-aiosmtpd; ACCORD_TEST_AIOSMTPD=/usr/bin/python3)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = tempfile::tempdir().unwrap();
    let child = Command::new(&python)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("mail"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python} -m aiosmtpd: {e}"));
    let server = SmtpServer {
        child,
        port,
        maildir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("aiosmtpd did not listen on port {port} within 10 s");
}

#[tokio::test]
async fn a_breach_is_mailed_once_per_target_from_the_providers_templates() {
    let Some(smtp) = smtp_server().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("accord.toml"),
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"Accord <sla@provider.example>\"\ntls = \"none\"\n",
            smtp.port
        ),
    )
    .unwrap();
    // The provider's own subject and plain text; the HTML stays built-in.
    std::fs::create_dir(data.path().join("templates")).unwrap();
    std::fs::write(
        data.path().join("templates").join("email.subject.txt"),
        "SLA {{ type }} on {{ ticket }} for {{ customer or 'nobody' }}",
    )
    .unwrap();
    std::fs::write(
        data.path().join("templates").join("email.txt"),
        "Ticket {{ ticket }}: {{ objective }} missed its deadline {{ deadline }}.\nId {{ id }}\n",
    )
    .unwrap();
    let mut app = spawn_app_in(data).await;
    app.apply(&[(
        "accord.yaml",
        "\
kind: channel
id: leads
type: email
to: [lead@acme.example, backup@acme.example]
---
kind: agreement
type: sla
id: std
calendar: 24x7
objectives:
  - id: first
    metric: first_response
    target: 30m
    notify: [email:leads, email:desk@provider.example]
",
    )])
    .await;

    #[allow(clippy::disallowed_methods)]
    let now = Timestamp::now();
    let created = Timestamp::from_second(now.as_second() - 31 * 60).unwrap();
    let response = app
        .post_json(
            "/v1/events",
            &app.admin,
            json!([{"id": "e1", "ticket": "T-7", "at": created.to_string(), "type": "created"}]),
        )
        .await;
    assert_eq!(response.status(), 202);

    for _ in 0..100 {
        if smtp.messages().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A repeat, if there were to be one, has time to show.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2, "one e-mail per target: {messages:#?}");

    let deadline = (created + SignedDuration::from_mins(30)).to_string();
    let to_leads = messages
        .iter()
        .find(|m| m.contains("lead@acme.example"))
        .expect("the channel's e-mail");
    assert!(
        to_leads.contains("backup@acme.example"),
        "every `to` address: {to_leads}"
    );
    assert!(
        to_leads.contains("Subject: SLA clock.breached on T-7 for nobody"),
        "{to_leads}"
    );
    assert!(to_leads.contains("From: Accord <sla@provider.example>"));
    assert!(to_leads.contains("Accord-Id: T-7:sla:first_response:1:breach email:leads"));
    assert!(to_leads.contains("multipart/alternative"), "{to_leads}");
    assert!(to_leads.contains("text/plain"));
    assert!(to_leads.contains("text/html"));
    assert!(
        to_leads.contains(&format!(
            "Ticket T-7: first missed its deadline {deadline}."
        )),
        "{to_leads}"
    );
    let direct = messages
        .iter()
        .find(|m| m.contains("To: desk@provider.example"))
        .expect("the direct address");
    assert!(
        direct.contains("Accord-Id: T-7:sla:first_response:1:breach email:desk@provider.example")
    );

    let outbox: Value = app
        .get("/v1/notifications?state=delivered", &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["items"].as_array().unwrap().len(), 2, "{outbox}");
    app.stop().await;
}

#[tokio::test]
async fn without_smtp_an_email_target_ends_as_a_dead_letter_saying_why() {
    let mut app = crate::helpers::spawn_app().await;
    app.apply(&[(
        "accord.yaml",
        "kind: agreement\ntype: sla\nid: std\ncalendar: 24x7\nobjectives:\n  - id: first\n    metric: first_response\n    target: 30m\n    notify: [email:desk@provider.example]\n",
    )])
    .await;
    #[allow(clippy::disallowed_methods)]
    let created = Timestamp::now() - SignedDuration::from_mins(31);
    app.post_json(
        "/v1/events",
        &app.admin,
        json!([{"id": "e1", "ticket": "T-8", "at": created.to_string(), "type": "created"}]),
    )
    .await;
    let dead = app.first_items("/v1/notifications?state=dead").await;
    assert!(
        dead["items"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("no [smtp] server is set up"),
        "{dead}"
    );
    app.stop().await;
}
