//! Server settings, layered: built-in defaults → `accord.toml` in the data directory →
//! `ACCORD_*` environment variables → command-line flags (each layer overrides the one
//! before). Secrets are [`SecretString`]s, so they never show in `Debug` or logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// Name of the settings file inside the data directory.
pub const SETTINGS_FILE: &str = "accord.toml";

/// The commented example `accord default-config` prints (committed as
/// `docs/accord.example.toml`; a test keeps the two equal and checks it parses to the
/// defaults).
pub const DEFAULT_CONFIG: &str = r#"# accord.toml: Accord server settings.
#
# Accord reads this file from its data directory (`--data-dir`, ACCORD_DATA_DIR,
# default ./accord-data). Every key is optional; the values below are the defaults.
# Each key can also be set by an environment variable (shown beside it), which wins
# over this file; command-line flags win over both.

# Address and port the HTTP server listens on.              (ACCORD_LISTEN, --listen)
listen = "127.0.0.1:8080"

# Log filter: error, warn, info, debug, trace, or per target
# ("info,accord_server=debug").                               (ACCORD_LOG)
log = "info"

# Log format: "text" for people, "json" for log collectors.   (ACCORD_LOG_FORMAT)
log_format = "text"

# Largest request body accepted, in bytes (a batch of 10,000 events fits well).
#                                                             (ACCORD_MAX_BODY_BYTES)
max_body_bytes = 33554432

# Where the data lives. Unset: the SQLite file accord.db in the data directory.
# A secret when it carries a password: prefer the environment variable.
#                                                             (ACCORD_DATABASE_URL)
# database_url = "sqlite:///var/lib/accord/accord.db"

# Notifications (webhooks, chat): seconds to wait after a failed delivery, doubled
# after each further failure (with jitter, at most an hour), and the attempts before a
# message is dead (listed at /v1/notifications?state=dead, retried from there).
#                                   (ACCORD_DELIVERY_RETRY_SECONDS, ACCORD_DELIVERY_ATTEMPTS)
delivery_retry_seconds = 5.0
delivery_attempts = 8

# Breach cases: hours a step of a live breach's case may linger before its targets get
# a breach_case.step_due reminder (one per step).      (ACCORD_CASE_REMINDER_HOURS)
case_reminder_hours = 4.0

# Probes (POST /v1/probes): this many failed probes in a row make an outage, from the
# first of them until the next good probe.                  (ACCORD_PROBE_FAILURES)
probe_failures = 3

# E-mail notifications (`email:` targets) go through an SMTP server. Unset: e-mail
# targets fail and end as dead letters. The password is never read from this file:
# set ACCORD_SMTP_PASSWORD. Templates: put email.subject.txt, email.txt and/or
# email.html (minijinja) in <data dir>/templates/ to replace the built-in ones.
# [smtp]
# host = "smtp.example.net"
# port = 587                  # default: 587 for starttls, 465 for tls, 25 for none
# from = "Accord <sla@example.net>"
# user = "accord"
# tls = "starttls"            # starttls | tls | none (a relay on this host only)

# The first admin token is created on first start and printed once. To choose it
# instead (automated installs), set ACCORD_ADMIN_TOKEN before the first start; it is
# never read from this file.
"#;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<SecretString>,
    pub log: String,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    /// `ACCORD_ADMIN_TOKEN`: used only on the very first start.
    pub admin_token: Option<SecretString>,
    /// Seconds to wait after a failed delivery; doubled after each further failure.
    pub delivery_retry_seconds: f64,
    /// Attempts before a message is dead (listed at `/v1/notifications?state=dead`).
    pub delivery_attempts: u32,
    /// `[smtp]`, with the password from `ACCORD_SMTP_PASSWORD`.
    pub smtp: Option<crate::email::SmtpSettings>,
    /// Hours a breach-case step may linger before its reminder.
    pub case_reminder_hours: f64,
    /// Failed probes in a row that make an outage.
    pub probe_failures: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("accord-data"),
            database_url: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            max_body_bytes: 32 * 1024 * 1024,
            admin_token: None,
            delivery_retry_seconds: 5.0,
            delivery_attempts: 8,
            smtp: None,
            case_reminder_hours: 4.0,
            probe_failures: 3,
        }
    }
}

/// The keys `accord.toml` may hold; anything else is an error (a misspelt key silently
/// ignored is a setting silently not applied).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    database_url: Option<SecretString>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    max_body_bytes: Option<usize>,
    delivery_retry_seconds: Option<f64>,
    delivery_attempts: Option<u32>,
    smtp: Option<FileSmtp>,
    case_reminder_hours: Option<f64>,
    probe_failures: Option<u32>,
}

/// `[smtp]` as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: String,
    port: Option<u16>,
    from: String,
    user: Option<String>,
    #[serde(default)]
    tls: crate::email::SmtpTls,
}

/// Values given as command-line flags.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("environment variable {name}={value:?}: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
}

impl Settings {
    /// How the courier delivers, from these settings: retries, and the mailer when
    /// `[smtp]` is set (its templates read from `<data dir>/templates/`).
    pub fn delivery(&self) -> Result<crate::notify::DeliverySettings, crate::email::EmailError> {
        let defaults = crate::notify::DeliverySettings::default();
        let mailer = self
            .smtp
            .as_ref()
            .map(|smtp| {
                crate::email::Mailer::new(
                    smtp,
                    Some(&self.data_dir.join("templates")),
                    defaults.timeout,
                )
            })
            .transpose()?;
        Ok(crate::notify::DeliverySettings {
            retry_base: std::time::Duration::from_secs_f64(self.delivery_retry_seconds),
            attempts: self.delivery_attempts,
            mailer: mailer.map(std::sync::Arc::new),
            case_reminder: std::time::Duration::from_secs_f64(self.case_reminder_hours * 3600.0),
            ..defaults
        })
    }

    /// Loads the layers. `env` looks up a variable (the real environment in the binary, a
    /// map in tests).
    pub fn load(
        flags: &Flags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        let mut s = Settings::default();
        // The data directory decides where accord.toml is, so it is settled first.
        if let Some(dir) = env("ACCORD_DATA_DIR") {
            s.data_dir = PathBuf::from(dir);
        }
        if let Some(dir) = &flags.data_dir {
            s.data_dir = dir.clone();
        }

        let file = read_file(&s.data_dir.join(SETTINGS_FILE))?;
        if let Some(v) = file.listen {
            s.listen = v;
        }
        if let Some(v) = file.database_url {
            s.database_url = Some(v);
        }
        if let Some(v) = file.log {
            s.log = v;
        }
        if let Some(v) = file.log_format {
            s.log_format = v;
        }
        if let Some(v) = file.max_body_bytes {
            s.max_body_bytes = v;
        }
        if let Some(v) = file.delivery_retry_seconds {
            s.delivery_retry_seconds = v;
        }
        if let Some(v) = file.delivery_attempts {
            s.delivery_attempts = v;
        }
        if let Some(v) = file.case_reminder_hours {
            s.case_reminder_hours = v;
        }
        if let Some(v) = file.probe_failures {
            s.probe_failures = v;
        }
        if let Some(v) = file.smtp {
            use crate::email::SmtpTls;
            s.smtp = Some(crate::email::SmtpSettings {
                port: v.port.unwrap_or(match v.tls {
                    SmtpTls::Starttls => 587,
                    SmtpTls::Tls => 465,
                    SmtpTls::None => 25,
                }),
                host: v.host,
                from: v.from,
                user: v.user,
                password: None,
                tls: v.tls,
            });
        }

        if let Some(v) = env("ACCORD_LISTEN") {
            s.listen = parse_env(
                "ACCORD_LISTEN",
                v,
                "an address and port such as 127.0.0.1:8080",
            )?;
        }
        if let Some(v) = env("ACCORD_DATABASE_URL") {
            s.database_url = Some(v.into());
        }
        if let Some(v) = env("ACCORD_LOG") {
            s.log = v;
        }
        if let Some(v) = env("ACCORD_LOG_FORMAT") {
            s.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(SettingsError::Env {
                        name: "ACCORD_LOG_FORMAT",
                        value: v,
                        message: "expected text or json".into(),
                    });
                }
            };
        }
        if let Some(v) = env("ACCORD_MAX_BODY_BYTES") {
            s.max_body_bytes = parse_env("ACCORD_MAX_BODY_BYTES", v, "a number of bytes")?;
        }
        if let Some(v) = env("ACCORD_DELIVERY_RETRY_SECONDS") {
            s.delivery_retry_seconds =
                parse_env("ACCORD_DELIVERY_RETRY_SECONDS", v, "a number of seconds")?;
        }
        if let Some(v) = env("ACCORD_DELIVERY_ATTEMPTS") {
            s.delivery_attempts = parse_env("ACCORD_DELIVERY_ATTEMPTS", v, "a whole number")?;
        }
        if let Some(v) = env("ACCORD_CASE_REMINDER_HOURS") {
            s.case_reminder_hours =
                parse_env("ACCORD_CASE_REMINDER_HOURS", v, "a number of hours")?;
        }
        if let Some(v) = env("ACCORD_PROBE_FAILURES") {
            s.probe_failures = parse_env("ACCORD_PROBE_FAILURES", v, "a whole number")?;
        }
        if let Some(v) = env("ACCORD_SMTP_PASSWORD")
            && let Some(smtp) = &mut s.smtp
        {
            smtp.password = Some(v.into());
        }
        if let Some(v) = env("ACCORD_ADMIN_TOKEN") {
            s.admin_token = Some(v.into());
        }

        if let Some(v) = flags.listen {
            s.listen = v;
        }
        if !(s.delivery_retry_seconds.is_finite() && s.delivery_retry_seconds > 0.0) {
            return Err(SettingsError::File {
                path: "delivery_retry_seconds".into(),
                message: format!(
                    "must be a positive number of seconds (got {})",
                    s.delivery_retry_seconds
                ),
            });
        }
        if !(s.case_reminder_hours.is_finite() && s.case_reminder_hours > 0.0) {
            return Err(SettingsError::File {
                path: "case_reminder_hours".into(),
                message: format!(
                    "must be a positive number of hours (got {})",
                    s.case_reminder_hours
                ),
            });
        }
        if s.probe_failures == 0 {
            return Err(SettingsError::File {
                path: "probe_failures".into(),
                message: "must be at least 1".into(),
            });
        }
        if s.delivery_attempts == 0 {
            return Err(SettingsError::File {
                path: "delivery_attempts".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(s)
    }

    /// The settings from the process environment and the given flags.
    pub fn from_env(flags: &Flags) -> Result<Settings, SettingsError> {
        Self::load(flags, |name| std::env::var(name).ok())
    }
}

fn parse_env<T: std::str::FromStr>(
    name: &'static str,
    value: String,
    expected: &str,
) -> Result<T, SettingsError> {
    value.parse().map_err(|_| SettingsError::Env {
        name,
        message: format!("expected {expected}"),
        value,
    })
}

fn read_file(path: &Path) -> Result<FileSettings, SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileSettings::default()),
        Err(e) => {
            return Err(SettingsError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    parse_file(&text).map_err(|message| SettingsError::File {
        path: path.display().to_string(),
        message,
    })
}

fn parse_file(text: &str) -> Result<FileSettings, String> {
    toml::from_str(text).map_err(|e| {
        // toml reports a byte span; people want a line and a column.
        let place = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        format!("{place}{}", e.message())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_example_parses_to_the_defaults() {
        let file = parse_file(DEFAULT_CONFIG).unwrap();
        let d = Settings::default();
        assert_eq!(file.listen, Some(d.listen));
        assert_eq!(file.log.as_deref(), Some(d.log.as_str()));
        assert_eq!(file.log_format, Some(d.log_format));
        assert_eq!(file.max_body_bytes, Some(d.max_body_bytes));
        assert_eq!(file.delivery_retry_seconds, Some(d.delivery_retry_seconds));
        assert_eq!(file.delivery_attempts, Some(d.delivery_attempts));
        assert_eq!(file.case_reminder_hours, Some(d.case_reminder_hours));
        assert!(file.database_url.is_none());
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\nmax_body_bytes = 1000\n",
        )
        .unwrap();
        let data_dir = dir.path().to_str().unwrap();

        let from_file =
            Settings::load(&Flags::default(), env(&[("ACCORD_DATA_DIR", data_dir)])).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.log, "debug");
        assert_eq!(from_file.max_body_bytes, 1000);

        let from_env = Settings::load(
            &Flags::default(),
            env(&[
                ("ACCORD_DATA_DIR", data_dir),
                ("ACCORD_LISTEN", "127.0.0.1:9001"),
            ]),
        )
        .unwrap();
        assert_eq!(from_env.listen.port(), 9001);
        assert_eq!(
            from_env.log, "debug",
            "the file still applies where env is silent"
        );

        let flags = Flags {
            listen: Some("127.0.0.1:9002".parse().unwrap()),
            data_dir: Some(dir.path().to_path_buf()),
        };
        let from_flags =
            Settings::load(&flags, env(&[("ACCORD_LISTEN", "127.0.0.1:9001")])).unwrap();
        assert_eq!(from_flags.listen.port(), 9002);
        assert_eq!(from_flags.max_body_bytes, 1000, "--data-dir finds the file");
    }

    #[test]
    fn mistakes_name_the_place() {
        let err = parse_file("listen = \"127.0.0.1:8080\"\nlisen = \"x\"\n").unwrap_err();
        assert!(
            err.starts_with("line 2, column 1: unknown field `lisen`"),
            "{err}"
        );
        let err = parse_file("log_format = \"xml\"\n").unwrap_err();
        assert!(
            err.starts_with("line 1, column 14: unknown variant `xml`"),
            "{err}"
        );

        let err =
            Settings::load(&Flags::default(), env(&[("ACCORD_LISTEN", "nowhere")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable ACCORD_LISTEN=\"nowhere\": expected an address and port such as 127.0.0.1:8080"
        );
    }

    #[test]
    fn smtp_is_read_from_its_table_with_the_password_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            "[smtp]\nhost = \"mail.example.net\"\nfrom = \"Accord <sla@example.net>\"\nuser = \"accord\"\n",
        )
        .unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let s = Settings::load(
            &Flags::default(),
            env(&[
                ("ACCORD_DATA_DIR", data_dir),
                ("ACCORD_SMTP_PASSWORD", "hunter2"),
            ]),
        )
        .unwrap();
        let smtp = s.smtp.as_ref().unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("mail.example.net", 587));
        assert_eq!(smtp.tls, crate::email::SmtpTls::Starttls);
        assert_eq!(smtp.password.as_ref().unwrap().expose_secret(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(s.delivery().unwrap().mailer.is_some());

        let err =
            parse_file("[smtp]\nhost = \"h\"\nfrom = \"a@b\"\npassword = \"x\"\n").unwrap_err();
        assert!(
            err.starts_with("line 4, column 1: unknown field `password`"),
            "{err}"
        );
        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            "[smtp]\nhost = \"h\"\nfrom = \"not an address\"\n",
        )
        .unwrap();
        let s = Settings::load(&Flags::default(), env(&[("ACCORD_DATA_DIR", data_dir)])).unwrap();
        let err = s.delivery().unwrap_err().to_string();
        assert!(err.starts_with("[smtp] from: \"not an address\""), "{err}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Settings::load(
            &Flags::default(),
            env(&[
                ("ACCORD_DATABASE_URL", "postgres://accord:hunter2@db/accord"),
                ("ACCORD_ADMIN_TOKEN", "supersecretsupersecretsupersecret"),
            ]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert_eq!(
            s.database_url.unwrap().expose_secret(),
            "postgres://accord:hunter2@db/accord"
        );
    }
}
