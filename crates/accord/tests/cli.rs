//! The `accord` binary as a user runs it: a real process, real flags, real output.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_accord");

/// A command with a clean environment: no ACCORD_* variable of the caller leaks in.
fn accord() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("ACCORD_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ACCORD_LOG", "warn");
    cmd
}

/// A running `accord serve`, killed when dropped.
struct Server {
    child: Child,
    url: String,
    admin: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path, subcommand: &str) -> Server {
    let mut child = accord()
        .args([subcommand, "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut admin = None;
    // The banner ends with the data directory line (serve) or "Press Ctrl-C" (demo);
    // the admin token, when this start made one, comes before it.
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("Accord is listening on ") {
            url = Some(u.to_owned());
        }
        if let Some(t) = line.strip_prefix("Admin token (shown once, keep it safe): ") {
            admin = Some(t.to_owned());
        }
        let done = if subcommand == "demo" {
            line.starts_with("Press Ctrl-C")
        } else {
            line.starts_with("Data directory:")
        };
        if done {
            break;
        }
    }
    // Keep draining stdout in the background so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    Server {
        child,
        url: url.expect("the server prints its URL"),
        admin,
    }
}

fn run(args: &[&str], server: &Server, token: &str) -> Output {
    accord()
        .args(args)
        .args(["--server", &server.url, "--token", token])
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn serve_token_commands_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), "serve");
    let admin = server
        .admin
        .clone()
        .expect("the first start prints the admin token");
    assert!(admin.starts_with("accord_"));
    assert!(dir.path().join("accord.db").exists());

    let created = run(
        &[
            "token",
            "create",
            "--scope",
            "read",
            "--customer",
            "acme",
            "--label",
            "portal",
        ],
        &server,
        &admin,
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let secret = stdout(&created).trim().to_owned();
    assert!(secret.starts_with("accord_"), "{secret}");
    assert!(stderr(&created).contains("scope read, customer acme"));

    let list = run(&["token", "list"], &server, &admin);
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = stdout(&list);
    assert!(
        listed.contains("portal") && listed.contains("acme"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "a list never shows a secret");
    let id = listed
        .lines()
        .find(|l| l.contains("portal"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();

    // A customer-bound read token cannot administer.
    let refused = run(&["token", "list"], &server, &secret);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused)
            .contains("the server answered 403 Forbidden: this needs a token with scope admin"),
        "{}",
        stderr(&refused)
    );

    let revoked = run(&["token", "revoke", &id], &server, &admin);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&revoked).starts_with(&format!("Revoked token {id} at ")));
    let after = run(&["token", "list"], &server, &secret);
    assert!(
        stderr(&after)
            .contains("401 Unauthorized: the API token is not valid (unknown or revoked)"),
        "{}",
        stderr(&after)
    );

    // SIGTERM stops it gracefully, with success.
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");

    // A restart keeps the tokens and prints no new admin token.
    let again = serve(dir.path(), "serve");
    assert_eq!(again.admin, None);
    let list = run(&["token", "list"], &again, &admin);
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains(&id));
}

#[test]
fn demo_starts_fresh_and_refuses_foreign_directories() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let first = serve(&demo_dir, "demo");
    let token = first
        .admin
        .clone()
        .expect("the demo prints its admin token");
    drop(first);
    let second = serve(&demo_dir, "demo");
    let token2 = second
        .admin
        .clone()
        .expect("every demo start is a first start");
    assert_ne!(token, token2);
    let health = http_get(&format!("{}/healthz", second.url), None);
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    // The examples are applied: the agreements of a managed-service provider.
    let agreements = http_get(&format!("{}/v1/agreements", second.url), Some(&token2));
    assert!(agreements.starts_with("HTTP/1.1 200"), "{agreements}");
    assert!(agreements.contains("\"id\":\"acme-gold\""), "{agreements}");
    drop(second);

    let foreign = dir.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("precious.txt"), "keep me").unwrap();
    let out = accord()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&foreign)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not an Accord demo directory"),
        "{}",
        stderr(&out)
    );
    assert!(foreign.join("precious.txt").exists());
}

/// A bare HTTP GET over a TCP stream (the test needs no HTTP client for two calls).
fn http_get(url: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn a_bad_settings_file_is_named_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("accord.toml"),
        "log = \"info\"\nlisen = \"x\"\n",
    )
    .unwrap();
    let out = accord()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("accord.toml: line 2, column 1: unknown field `lisen`"),
        "{err}"
    );
    assert!(
        !dir.path().join("accord.db").exists(),
        "nothing was created"
    );
}

#[test]
fn an_unsupported_database_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = accord()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("ACCORD_DATABASE_URL", "mysql://user:hunter2@db/accord")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("database_url: the scheme \"mysql\" is not supported"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2"),
        "a secret never reaches the output"
    );
}

/// `docs/accord.example.toml` is what `accord default-config` prints. Run with
/// `ACCORD_BLESS=1` to rewrite it.
#[test]
fn the_committed_example_config_is_current() {
    let out = accord().arg("default-config").output().unwrap();
    assert!(out.status.success());
    let printed = stdout(&out);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/accord.example.toml"
    );
    if std::env::var_os("ACCORD_BLESS").is_some() {
        std::fs::write(path, &printed).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == printed,
        "docs/accord.example.toml is out of date: run `ACCORD_BLESS=1 cargo test -p accord` and commit it"
    );
}

/// `accord calendar eval` through the real binary: a calendar with an .ics file relative
/// to the working directory, answered line by line while the caller waits.
#[test]
fn calendar_eval_answers_each_line_as_it_comes() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("us.ics"),
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20201225\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let mut child = accord()
        .args(["calendar", "eval"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    let cal = r#"{"kind":"calendar","timezone":"America/New_York","hours":{"mon":["09:00-17:00"],"tue":["09:00-17:00"],"wed":["09:00-17:00"],"thu":["09:00-17:00"],"fri":["09:00-17:00"]},"holidays":[{"ics":"us.ics"}]}"#;
    let mut ask = |line: String| -> String {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        answers.next().unwrap().unwrap()
    };
    // Thu 2026-12-24 16:00 EST + 2h: Christmas (from the .ics) and the weekend are closed.
    assert_eq!(
        ask(format!(
            r#"{{"calendar":{cal},"op":"add","start":"2026-12-24T21:00:00Z","seconds":7200}}"#
        )),
        r#"{"result":"2026-12-28T10:00:00-05:00"}"#
    );
    assert_eq!(
        ask(format!(
            r#"{{"calendar":{cal},"op":"is_open","at":"2031-12-25T15:00:00Z"}}"#
        )),
        r#"{"open":false}"#
    );
    assert_eq!(
        ask(r#"{"calendar":{"timezone":"UTC","holidays":[{"ics":"missing.ics"}]},"op":"is_open","at":"2026-01-01T00:00:00Z"}"#.to_owned()),
        r#"{"error":"calendar: holidays[0].ics: cannot read \"missing.ics\": No such file or directory (os error 2)"}"#
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn calendar_show_prints_local_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sla.yaml");
    std::fs::write(
        &file,
        "kind: calendar\nid: paris\ntimezone: Europe/Paris\nhours: {mon: [\"09:00-12:00\", \"14:00-18:00\"]}\n",
    )
    .unwrap();
    let out = accord()
        .args(["calendar", "show"])
        .arg(&file)
        .args(["--from", "2026-11-02", "--to", "2026-11-03"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Mon 2026-11-02  09:00-12:00, 14:00-18:00"),
        "{text}"
    );
    assert!(text.contains("total open time: 7h"), "{text}");

    std::fs::write(
        &file,
        "kind: calendar\ntimezone: Europe/Paris\nhours:\n  mon: [\"09:00-25:00\"]\n",
    )
    .unwrap();
    let out = accord()
        .args(["calendar", "show"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("sla.yaml")
            && err.contains("line 4")
            && err.contains("25:00 is not a time of day"),
        "{err}"
    );
}

fn examples_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn validate_reports_every_mistake_with_its_place() {
    let ok = accord()
        .arg("validate")
        .arg(examples_dir())
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("valid: 9 agreement versions, 4 calendars, 4 customers"),
        "{}",
        stdout(&ok)
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sla.yaml"),
        "kind: calendar\nid: nyc\ntimezone: America/New_York\n---\nkind: agreement\ntype: sla\nid: x\ncalendar: nyk\nobjectives:\n  - {id: o, metric: resolution, target: 1d}\n",
    )
    .unwrap();
    let bad = accord().arg("validate").arg(dir.path()).output().unwrap();
    assert!(!bad.status.success());
    let file = dir.path().join("sla.yaml").display().to_string();
    assert_eq!(
        stdout(&bad),
        format!(
            "error: {file}:8:11: calendar: unknown calendar `nyk`; did you mean `nyc`?\n\
             error: {file}:10:41: objectives[0].target: \"1d\": days and weeks are not business time (one working day is 8h on a 9-to-5 calendar, not 1d); write hours, e.g. 8h\n"
        )
    );
    assert!(stderr(&bad).contains("2 mistakes"));
}

#[test]
fn apply_export_apply_is_a_no_op() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path(), "serve");
    let admin = server.admin.clone().unwrap();
    let run_with = |args: &[&str]| -> Output {
        accord()
            .args(args)
            .args(["--server", &server.url, "--token", &admin])
            .output()
            .unwrap()
    };
    let examples = examples_dir();
    let examples = examples.to_str().unwrap();

    let dry = run_with(&["apply", examples, "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("+ agreement acme-gold version 2\n"),
        "{}",
        stdout(&dry)
    );
    assert!(
        stdout(&dry).ends_with("dry run: 26 changes, nothing applied\n"),
        "{}",
        stdout(&dry)
    );

    let applied = run_with(&["apply", examples]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert!(
        stdout(&applied).ends_with("applied: revision 1\n"),
        "{}",
        stdout(&applied)
    );

    let out = tempfile::tempdir().unwrap();
    let exported = run_with(&["export", out.path().to_str().unwrap()]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(
        stdout(&exported).starts_with("exported revision 1: 5 files"),
        "{}",
        stdout(&exported)
    );
    for name in [
        "agreements.yaml",
        "calendars.yaml",
        "catalogue.yaml",
        "customers.yaml",
        "holidays/us-federal.ics",
    ] {
        assert_eq!(
            std::fs::read_to_string(out.path().join(name)).unwrap(),
            std::fs::read_to_string(examples_dir().join(name)).unwrap(),
            "{name} comes back as it was"
        );
    }
    let again = run_with(&["apply", out.path().to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again), "no changes: revision 1 stays in force\n");

    // A version in force is not rewritten by accident.
    let changed = tempfile::tempdir().unwrap();
    for name in [
        "agreements.yaml",
        "calendars.yaml",
        "catalogue.yaml",
        "customers.yaml",
    ] {
        let text = std::fs::read_to_string(examples_dir().join(name)).unwrap();
        std::fs::write(
            changed.path().join(name),
            text.replace("amount: 12000", "amount: 9000"),
        )
        .unwrap();
    }
    std::fs::create_dir(changed.path().join("holidays")).unwrap();
    std::fs::copy(
        examples_dir().join("holidays/us-federal.ics"),
        changed.path().join("holidays/us-federal.ics"),
    )
    .unwrap();
    let refused = run_with(&["apply", changed.path().to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("409 Conflict: this changes or removes agreement versions already in force (`acme-gold` version 1)"), "{}", stderr(&refused));
    let forced = run_with(&["apply", changed.path().to_str().unwrap(), "--retroactive"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        stdout(&forced),
        "~ agreement acme-gold version 1\napplied: revision 2\n"
    );
}

#[test]
fn replay_prints_every_clock_in_order_and_names_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"id":"e5","ticket":"T-1","at":"2026-11-02T15:00:00Z","type":"resolved"}"#, "\n",
            r#"{"id":"e1","ticket":"T-1","at":"2026-11-02T10:00:00Z","type":"created","customer":"acme","service":"email","priority":"critical","status":"open"}"#, "\n",
            r#"{"id":"e2","ticket":"T-1","at":"2026-11-02T10:12:00Z","type":"agent_replied","public":true}"#, "\n",
            r#"{"id":"o1","type":"outage","service":"email","from":"2026-11-10T10:00:00Z","to":"2026-11-10T11:30:00Z","impact":1.0}"#, "\n",
            r#"{"id":"e2","ticket":"T-1","at":"2026-11-02T10:12:00Z","type":"agent_replied","public":true}"#, "\n",
            r#"{"id":"e2","ticket":"T-1","at":"2026-11-02T10:13:00Z","type":"agent_replied"}"#, "\n",
            r#"{"id":"g1","ticket":"G-7","at":"2026-11-02T14:00:00Z","type":"created","customer":"globex","priority":"low"}"#, "\n",
        ),
    )
    .unwrap();
    let out = accord()
        .args(["replay", "--config"])
        .arg(examples_dir())
        .arg("--events")
        .arg(&events)
        .args(["--at", "2026-11-02T16:00:00Z"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(
        lines[0],
        r#"{"ticket":"G-7","agreement":"globex-silver","objective":"first-response","metric":"first_response","cycle":1,"state":"running","started_at":"2026-11-02T14:00:00Z","stopped_at":null,"breached_at":null,"deadline":"2026-11-03T09:00:00Z","elapsed_seconds":7200,"target_seconds":14400}"#,
        "Globex: 15:00-17:00 CET on Monday, 2 hours left from 08:00 Tuesday"
    );
    assert_eq!(
        lines[2],
        r#"{"ticket":"T-1","agreement":"acme-email","objective":"email-first-response","metric":"first_response","cycle":1,"state":"met","started_at":"2026-11-02T10:00:00Z","stopped_at":"2026-11-02T10:12:00Z","breached_at":null,"deadline":null,"elapsed_seconds":720,"target_seconds":900}"#
    );
    let tickets: Vec<&str> = lines.iter().map(|l| &l[11..14]).collect();
    assert!(tickets.windows(2).all(|w| w[0] <= w[1]), "sorted by ticket");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("warning: {}:6: event id \"e2\" was seen before with different content; the first is kept", events.display())),
        "{err}"
    );

    std::fs::write(&events, "{\"id\":\"x\",\"ticket\":\"T\",\"at\":\"2026-11-02T10:00:00Z\",\"type\":\"created\"}\n{\"id\":\"y\",\"ticket\":\"T\",\"at\":\"soon\",\"type\":\"updated\"}\n").unwrap();
    let bad = accord()
        .args(["replay", "--config"])
        .arg(examples_dir())
        .arg("--events")
        .arg(&events)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains(&format!("{}:2: ", events.display())),
        "{}",
        stderr(&bad)
    );
    assert!(
        bad.stdout.is_empty(),
        "nothing printed when the input is bad"
    );
}

#[test]
fn report_offline_gives_compliance_availability_and_credits() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"id":"e1","ticket":"T-1","at":"2026-11-02T10:00:00Z","type":"created","customer":"acme","service":"email","priority":"critical","status":"open"}"#, "\n",
            r#"{"id":"e2","ticket":"T-1","at":"2026-11-02T10:12:00Z","type":"agent_replied","public":true}"#, "\n",
                        r#"{"id":"o1","type":"outage","service":"email","from":"2026-11-10T10:00:00Z","to":"2026-11-10T11:30:00Z"}"#, "\n",
            r#"{"id":"v1","type":"survey","ticket":"T-1","at":"2026-11-03T09:00:00Z","csat":2,"comment":"slow"}"#, "\n",
            r#"{"id":"o2","type":"outage","service":"email","from":"2026-11-10T11:00:00Z","to":"2026-11-10T12:00:00Z","impact":0.5}"#, "\n",
            r#"{"id":"o3","type":"outage","service":"email","from":"2026-10-31T22:00:00Z","to":"2026-11-01T06:00:00Z"}"#, "\n",
            r#"{"id":"m1","type":"maintenance","service":"email","from":"2026-11-15T02:00:00Z","to":"2026-11-15T04:00:00Z","announced_at":"2026-11-08T09:00:00Z"}"#, "\n",
            r#"{"id":"o4","type":"outage","service":"email","from":"2026-11-15T03:00:00Z","to":"2026-11-15T05:00:00Z"}"#, "\n",
            r#"{"id":"o1","type":"outage","service":"email","from":"2026-11-10T10:00:00Z","to":"2026-11-10T11:30:00Z"}"#, "\n",
        ),
    )
    .unwrap();
    let report = |format: &str| {
        let out = accord()
            .args(["report", "--config"])
            .arg(examples_dir())
            .arg("--events")
            .arg(&events)
            .args(["--period", "2026-11", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let text = report("json");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["period"],
        serde_json::json!({"from": "2026-11-01", "to": "2026-11-30"})
    );
    let email = json["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "acme-email")
        .unwrap();
    assert_eq!(email["objectives"][0]["met"], 1);
    assert_eq!(email["objectives"][0]["achieved"], true);
    // November in New York (us-office): 1 November 04:00 UTC to 1 December 05:00 UTC,
    // 2,595,600 s, less the announced 2-hour window. Down: 5,400 (o1) + 900 (o2's
    // half-impact half hour after o1) + 7,200 (o3 from the local month's start) + 3,600
    // (o4 after the window) = 17,100 s.
    let uptime = &email["objectives"][1];
    assert_eq!(uptime["eligible_seconds"], 2_588_400);
    assert_eq!(uptime["downtime_seconds"], 17_100.0);
    // The nearest number to the exact ratio, as written (serde_json's default parser may
    // be a last digit off, so the text is compared).
    let exact: f64 = (2_588_400.0 - 17_100.0) / 2_588_400.0;
    assert!(
        text.contains(&format!("\"availability\": {exact}")),
        "{text}"
    );
    assert_eq!(uptime["achieved"], false);
    // 99.34 %: below 99.5 %, not below 99 %: 25 % of 3,000 USD.
    assert_eq!(
        email["credits"],
        serde_json::json!([{"objective": "email-uptime", "from": "2026-11-01", "to": "2026-11-30",
                            "rate": 0.25, "amount": 750.0, "currency": "USD"}])
    );
    assert_eq!(
        report("credit-notes"),
        "customer,agreement,objective,from,to,rate,amount,currency\n\
         acme,acme-email,email-uptime,2026-11-01,2026-11-30,0.25,750.00,USD\n"
    );

    // As CSV: the period's row of each objective, then the ticket objective's rows per
    // priority (T-1 is critical) and per month.
    let csv = report("csv");
    let first_response: Vec<&str> = csv
        .lines()
        .filter(|l| l.starts_with("acme-email,acme,") && l.contains(",first_response,"))
        .collect();
    assert_eq!(first_response.len(), 3, "{csv}");
    assert!(
        first_response[0].contains(",1,0,1,")
            && first_response[0].ends_with(",period,,2026-11-01,2026-11-30"),
        "{csv}"
    );
    assert!(
        first_response[1].ends_with(",1,0,1,,,,,,,,,priority,critical,,"),
        "{csv}"
    );
    assert!(
        first_response[2].ends_with(",1,0,1,,,,,,,,,month,,2026-11-01,2026-11-30"),
        "{csv}"
    );
    assert!(
        csv.lines().any(
            |l| l.starts_with("acme-email,acme,email-uptime,availability,,,")
                && l.contains(",17100,2588400,")
        ),
        "{csv}"
    );

    // The survey of Acme's ticket counts for Acme's CSAT objective (acme-gold: the
    // e-mail agreement has none), and it is a bad answer.
    let gold = json["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "acme-gold")
        .unwrap();
    let satisfaction = gold["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["metric"] == "csat")
        .unwrap();
    assert_eq!(
        (&satisfaction["responses"], &satisfaction["good"]),
        (&serde_json::json!(1), &serde_json::json!(0))
    );
    assert_eq!(satisfaction["achieved"], false);

    // The same as a page: the chart and the figures.
    let page = report("html");
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        page.contains("<td>99.339%</td>"),
        "availability as a percentage"
    );
    assert!(
        page.contains("<td>25%</td><td>750.00 USD</td>"),
        "the credit owed"
    );

    // The same as a PDF: typeset with the machine's DejaVu fonts, checked by turning its
    // first page into an image and by its text.
    if std::env::var_os("ACCORD_TEST_PDF").is_none() {
        eprintln!(
            "skipped: the PDF check (set ACCORD_TEST_PDF=1 with fonts-dejavu-core and poppler-utils installed; .ci/run does)"
        );
    } else {
        let pdf_path = dir.path().join("report.pdf");
        let pdf = accord()
            .args(["report", "--config"])
            .arg(examples_dir())
            .arg("--events")
            .arg(&events)
            .args(["--period", "2026-11", "--format", "pdf"])
            .output()
            .unwrap();
        assert!(pdf.status.success(), "{}", stderr(&pdf));
        assert!(pdf.stdout.starts_with(b"%PDF-"));
        std::fs::write(&pdf_path, &pdf.stdout).unwrap();
        let png = dir.path().join("page");
        let drawn = Command::new("pdftoppm")
            .args(["-png", "-r", "40", "-f", "1", "-l", "1"])
            .arg(&pdf_path)
            .arg(&png)
            .output()
            .unwrap();
        assert!(
            drawn.status.success(),
            "{}",
            String::from_utf8_lossy(&drawn.stderr)
        );
        let image = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| {
                e.file_name().to_string_lossy().starts_with("page")
                    && e.file_name().to_string_lossy().ends_with(".png")
            })
            .expect("a page image");
        assert!(std::fs::metadata(image.path()).unwrap().len() > 1000);
        let text = Command::new("pdftotext")
            .arg(&pdf_path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        for figure in ["acme-email", "99.339%", "750.00 USD", "Service review"] {
            assert!(text.contains(figure), "{figure} in the PDF text: {text}");
        }
    }

    // A bad record names its line and field; nothing is printed.
    std::fs::write(
        &events,
        r#"{"id":"o9","type":"outage","service":"email","from":"2026-11-10T10:00:00Z","to":"2026-11-10T09:00:00Z"}"#,
    )
    .unwrap();
    let bad = accord()
        .args(["report", "--config"])
        .arg(examples_dir())
        .arg("--events")
        .arg(&events)
        .args(["--period", "2026-11"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains(&format!(
            "{}:1: outage `to` must be after",
            events.display()
        )),
        "{}",
        stderr(&bad)
    );
    assert!(bad.stdout.is_empty());
}

/// The review document for one customer's meeting: its agreements only, the breaches
/// with their review questions, as a page and as a PDF.
#[test]
fn the_review_document_of_a_customer_as_a_page_and_a_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"id":"e1","ticket":"T-1","at":"2026-11-02T10:00:00Z","type":"created","customer":"acme","service":"email","priority":"critical","status":"open"}"#, "\n",
            r#"{"id":"e2","ticket":"T-1","at":"2026-11-02T10:12:00Z","type":"agent_replied","public":true}"#, "\n",
            // Nobody answers T-2: its first response breaches.
            r#"{"id":"e3","ticket":"T-2","at":"2026-11-03T10:00:00Z","type":"created","customer":"acme","service":"email","priority":"critical","status":"open"}"#, "\n",
            r#"{"id":"e4","ticket":"G-1","at":"2026-11-03T10:00:00Z","type":"created","customer":"globex","priority":"P1","status":"open"}"#, "\n",
            // 90 minutes down in November: a credit.
            r#"{"id":"o1","type":"outage","service":"email","from":"2026-11-10T10:00:00Z","to":"2026-11-10T11:30:00Z"}"#, "\n",
        ),
    )
    .unwrap();
    let review = |customer: &str, format: &str| {
        accord()
            .args(["report", "--config"])
            .arg(examples_dir())
            .arg("--events")
            .arg(&events)
            .args(["--period", "2026-Q4", "--at", "2026-12-31T12:00:00Z"])
            .args(["--customer", customer, "--format", format])
            .output()
            .unwrap()
    };
    let out = review("acme", "review-html");
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8(out.stdout).unwrap();
    for text in [
        "<h1>Service review: Acme Corporation</h1>",
        "2026-Q4 (2026-10-01 – 2026-12-31)",
        "Compliance over time",
        "Breaches by priority",
        ">critical</text>",
        ">not recorded yet</text>",
        "<h3>T-2 · ",
        "<td>Was the target realistic?</td><td>to discuss</td>",
        "Credits owed",
        ">300.00 USD</text>",
    ] {
        assert!(page.contains(text), "{text} in the page: {page}");
    }
    assert!(page.contains("<h3>T-2 · email-first-response "), "{page}");
    assert!(
        !page.contains("<h3>T-1 · email-first-response "),
        "a met clock is no breach"
    );
    // Objectives without any result are left out of the trend chart.
    assert!(page.contains("acme-email · email-uptime</text>"));
    assert!(!page.contains("acme-gold · high-resolution</text>"));
    assert!(
        !page.contains("globex"),
        "another customer's agreements stay out"
    );

    // The provider's page lists the breaches too, with their causes.
    let out = review("acme", "html");
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.contains(
            "<tr><td>T-2</td><td>email-first-response</td><td>critical</td><td>2026-11-03T"
        ),
        "{page}"
    );
    assert!(page.contains("<td>not recorded yet</td>"));

    let unknown = review("nobody", "review-html");
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("--customer: no customer \"nobody\""),
        "{}",
        stderr(&unknown)
    );
    assert!(unknown.stdout.is_empty());

    if std::env::var_os("ACCORD_TEST_PDF").is_none() {
        eprintln!(
            "skipped: the review PDF check (set ACCORD_TEST_PDF=1 with fonts-dejavu-core and poppler-utils installed; .ci/run does)"
        );
        return;
    }
    let out = review("acme", "review-pdf");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"%PDF-"));
    let pdf_path = dir.path().join("review.pdf");
    std::fs::write(&pdf_path, &out.stdout).unwrap();
    let png = dir.path().join("review-page");
    let drawn = Command::new("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf_path)
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        drawn.status.success(),
        "{}",
        String::from_utf8_lossy(&drawn.stderr)
    );
    assert!(
        std::fs::metadata(dir.path().join("review-page.png"))
            .unwrap()
            .len()
            > 1000
    );
    let text = Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for figure in [
        "Service review: Acme Corporation",
        "Breaches by cause",
        "T-2",
        "Was the target realistic?",
        "to discuss",
    ] {
        assert!(text.contains(figure), "{figure} in the PDF text: {text}");
    }
}

#[test]
fn openslo_imports_offline_and_to_the_server_and_refuses_what_it_cannot_express() {
    let openslo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../accord-core/tests/fixtures/openslo.yaml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("objectives.yaml");
    let offline = accord()
        .args(["import", "openslo"])
        .arg(&openslo)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(offline.status.success(), "{}", stderr(&offline));
    assert!(stdout(&offline).starts_with("wrote 2 objectives (checkout-success, checkout-uptime)"));
    assert!(stderr(&offline).contains("spec.alertPolicies: alert policies are not imported"));
    // What it wrote validates with the examples' catalogue.
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    std::fs::copy(&out, config.join("openslo.yaml")).unwrap();
    let validated = accord().args(["validate"]).arg(&config).output().unwrap();
    assert!(
        validated.status.success(),
        "{}{}",
        stdout(&validated),
        stderr(&validated)
    );

    // To a server: added to its configuration; importing again changes nothing.
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path(), "serve");
    let admin = server.admin.clone().unwrap();
    let run_with = |args: &[&str]| -> Output {
        accord()
            .args(args)
            .args(["--server", &server.url, "--token", &admin])
            .output()
            .unwrap()
    };
    let applied = run_with(&["apply", examples_dir().to_str().unwrap()]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let imported = run_with(&["import", "openslo", openslo.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).ends_with("as openslo/openslo.yaml: 2 changes\n"),
        "{}",
        stdout(&imported)
    );
    let agreements = http_get(&format!("{}/v1/agreements", server.url), Some(&admin));
    assert!(agreements.contains("openslo-checkout"), "{agreements}");
    let again = run_with(&["import", "openslo", openslo.to_str().unwrap()]);
    assert!(
        stdout(&again).ends_with(": 0 changes\n"),
        "{}",
        stdout(&again)
    );

    // A threshold SLO is refused with its place; nothing changes on the server.
    let bad = dir.path().join("latency.yaml");
    std::fs::write(
        &bad,
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: latency\nspec:\n  service: checkout\n  indicator:\n    spec:\n      thresholdMetric:\n        metricSource: {type: Prometheus}\n  budgetingMethod: Occurrences\n  objectives:\n    - {op: lte, value: 200, target: 0.99}\n",
    )
    .unwrap();
    let refused = run_with(&["import", "openslo", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "{}:10:9: indicator.spec.thresholdMetric",
            bad.display()
        )),
        "{err}"
    );
    assert!(err.contains("spec.objectives[0].op"), "{err}");
    let agreements_after = http_get(&format!("{}/v1/agreements", server.url), Some(&admin));
    assert!(!agreements_after.contains("latency"));
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn importing_twice_changes_nothing_and_strict_imports_nothing_when_a_row_is_bad() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path(), "serve");
    let admin = server.admin.clone().unwrap();
    let import = |args: &[&str]| -> Output {
        accord()
            .args(["import", "tickets"])
            .args(args)
            .args(["--server", &server.url, "--token", &admin])
            .output()
            .unwrap()
    };
    let file = fixture("zendesk-ticket-events.jsonl");
    let file = file.to_str().unwrap();
    let first = import(&[file, "--from", "zendesk-audits", "--customer", "fernway"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first)
            .ends_with("4 tickets, 32 events (32 new, 0 already there); 0 rows rejected\n"),
        "{}",
        stdout(&first)
    );
    let second = import(&[file, "--from", "zendesk-audits", "--customer", "fernway"]);
    assert!(
        stdout(&second)
            .ends_with("4 tickets, 32 events (0 new, 32 already there); 0 rows rejected\n"),
        "{}",
        stdout(&second)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("events.csv");
    std::fs::write(
        &bad,
        "ticket,at,type\nX-1,2026-11-02T10:00:00Z,created\nX-1,soon,updated\n",
    )
    .unwrap();
    let strict = import(&[bad.to_str().unwrap(), "--from", "csv", "--strict"]);
    assert!(!strict.status.success());
    assert!(
        stderr(&strict).contains("events.csv:3: at: \"soon\" is not an RFC 3339 time"),
        "{}",
        stderr(&strict)
    );
    assert!(
        stderr(&strict).contains("nothing imported: 1 bad rows (--strict)"),
        "{}",
        stderr(&strict)
    );
    let lenient = import(&[bad.to_str().unwrap(), "--from", "csv"]);
    assert!(lenient.status.success(), "{}", stderr(&lenient));
    assert!(
        stdout(&lenient)
            .ends_with("1 tickets, 1 events (1 new, 0 already there); 1 rows rejected\n"),
        "{}",
        stdout(&lenient)
    );

    // The CSV snapshot of tickets already imported from audits: their second `created`
    // is refused and reported, the rest goes in.
    let csv = import(&[
        fixture("zendesk-tickets-export.csv").to_str().unwrap(),
        "--from",
        "zendesk",
        "--timezone",
        "America/New_York",
    ]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let err = stderr(&csv);
    assert!(
        err.contains(
            "event zendesk:48207:created: refused: ticket \"zendesk-48207\" was already created"
        ),
        "{err}"
    );
    assert!(stdout(&csv).ends_with("16 tickets, 44 events (40 new, 0 already there); 0 rows rejected; 4 events refused as conflicts\n"), "{}", stdout(&csv));
    assert!(
        err.contains("note: a Zendesk CSV is a snapshot"),
        "the approximation is said"
    );
}

#[test]
fn imported_audits_replay_into_exact_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let out = accord()
        .args(["import", "tickets"])
        .arg(fixture("zendesk-ticket-events.jsonl"))
        .args(["--from", "zendesk-audits", "--out"])
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    std::fs::write(
        config.join("sla.yaml"),
        "kind: agreement\ntype: sla\nid: fernway\nobjectives:\n  - {id: first, metric: first_response, target: 24h, pause_when: {status: [waiting_on_customer]}}\n",
    )
    .unwrap();
    let replay = accord()
        .args(["replay", "--config"])
        .arg(&config)
        .arg("--events")
        .arg(&events)
        .args(["--at", "2026-04-06T00:00:00Z"])
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", stderr(&replay));
    let first = stdout(&replay)
        .lines()
        .find(|l| l.contains("\"zendesk-48203\""))
        .unwrap()
        .to_owned();
    // Created 2026-03-05 22:32:07Z, first public agent reply 2026-03-06 13:25:02Z, on 24x7.
    assert!(first.contains("\"state\":\"met\""), "{first}");
    assert!(first.contains("\"elapsed_seconds\":53575"), "{first}");
}

fn http_post_json(url: &str, token: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn cases_are_listed_and_worked_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path(), "serve");
    let admin = server.admin.clone().unwrap();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("sla.yaml"),
        "kind: customer\nid: acme\nname: Acme\n---\nkind: agreement\ntype: sla\nid: std\ncalendar: 24x7\n\
         objectives:\n  - id: first\n    metric: first_response\n    target: 30m\n",
    )
    .unwrap();
    let applied = run(&["apply", config.path().to_str().unwrap()], &server, &admin);
    assert!(applied.status.success(), "{}", stderr(&applied));
    // A ticket opened two hours ago that nobody answered: breached (history, recorded).
    #[allow(clippy::disallowed_methods)]
    let created = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2);
    let created = jiff::Timestamp::from_second(created.as_second()).unwrap();
    let answer = http_post_json(
        &format!("{}/v1/events", server.url),
        &admin,
        &format!(
            r#"[{{"id":"e1","ticket":"T-1","at":"{created}","type":"created","customer":"acme"}}]"#
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");

    let id = "T-1:sla:first_response:1:breach";
    let mut listed = String::new();
    for _ in 0..50 {
        let list = run(&["cases", "list", "--customer", "acme"], &server, &admin);
        assert!(list.status.success(), "{}", stderr(&list));
        listed = stdout(&list);
        if listed.contains(id) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(listed.contains(id), "{listed}");
    assert!(
        listed.contains("team_alerted"),
        "history: nobody was alerted yet: {listed}"
    );

    let step = run(
        &["cases", "step", id, "owner", "--owner", "Kim Lee"],
        &server,
        &admin,
    );
    assert!(step.status.success(), "{}", stderr(&step));
    assert_eq!(
        stdout(&step),
        format!("owner recorded on {id} (open); next step: team_alerted\n")
    );
    let missing = run(&["cases", "step", id, "review"], &server, &admin);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("target_realistic: step review needs `target_realistic`"),
        "{}",
        stderr(&missing)
    );
    let shown = run(&["cases", "show", id], &server, &admin);
    let case: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(case["steps"]["owner"]["owner"], "Kim Lee");
    assert!(
        case["steps"].get("review").is_none(),
        "a refused step changes nothing"
    );
}

/// The same month, offline from the files and online from a server that received them,
/// gives the same report, figure for figure.
#[test]
fn the_report_offline_and_online_agree() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let generated = accord()
        .args([
            "generate",
            "--tickets",
            "300",
            "--days",
            "10",
            "--end",
            "2026-10-15T00:00:00Z",
            "--out",
        ])
        .arg(&history)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", stderr(&generated));
    let mut text = std::fs::read_to_string(&history).unwrap();
    text.push_str(concat!(
        r#"{"id":"o1","type":"outage","service":"email","from":"2026-10-10T10:00:00Z","to":"2026-10-10T12:30:00Z","impact":0.5}"#, "\n",
        r#"{"id":"m1","type":"maintenance","service":"email","from":"2026-10-12T02:00:00Z","to":"2026-10-12T04:00:00Z","announced_at":"2026-10-01T09:00:00Z"}"#, "\n",
        r#"{"id":"o2","type":"outage","service":"email","from":"2026-10-12T03:00:00Z","to":"2026-10-12T05:00:00Z"}"#, "\n",
    ));
    std::fs::write(&history, &text).unwrap();

    let offline = accord()
        .args(["report", "--config"])
        .arg(examples_dir())
        .arg("--events")
        .arg(&history)
        .args(["--period", "2026-10"])
        .output()
        .unwrap();
    assert!(offline.status.success(), "{}", stderr(&offline));
    let offline: serde_json::Value = serde_json::from_slice(&offline.stdout).unwrap();
    let met: u64 = offline["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["objectives"].as_array().unwrap().iter())
        .filter_map(|o| o["met"].as_u64())
        .sum();
    assert!(met > 100, "a real month: {met} clocks met");
    // What the comparison covers: breaches, priorities, and OLAs/UCs beside an SLA.
    let agreements = offline["agreements"].as_array().unwrap();
    assert!(
        agreements
            .iter()
            .any(|a| !a["breaches"].as_array().unwrap().is_empty())
    );
    assert!(
        agreements
            .iter()
            .any(|a| !a["supported_by"].as_array().unwrap().is_empty())
    );
    assert!(
        agreements
            .iter()
            .flat_map(|a| a["objectives"].as_array().unwrap().iter())
            .filter_map(|o| o["by_priority"].as_array())
            .any(|p| p.len() > 1)
    );

    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path(), "serve");
    let admin = server.admin.clone().unwrap();
    let applied = accord()
        .args([
            "apply",
            examples_dir().to_str().unwrap(),
            "--server",
            &server.url,
            "--token",
            &admin,
        ])
        .output()
        .unwrap();
    assert!(applied.status.success(), "{}", stderr(&applied));
    let items: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let answer = http_post_json(
        &format!("{}/v1/events", server.url),
        &admin,
        &serde_json::to_string(&items).unwrap(),
    );
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");

    // The server derives the clocks in the background: ask until they are all there.
    let mut online = serde_json::Value::Null;
    for _ in 0..100 {
        let response = http_get(
            &format!("{}/v1/report?period=2026-10", server.url),
            Some(&admin),
        );
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{response}");
        online = serde_json::from_str(body).unwrap();
        if online == offline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(online, offline);
}
