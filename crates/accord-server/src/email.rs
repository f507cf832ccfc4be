//! E-mail notifications over SMTP (DESIGN 4.3, `accord.toml`'s `[smtp]`): each message
//! is rendered from templates the provider can edit (a subject, a plain-text body and
//! an HTML body, sent as alternatives) and carries its idempotency key, so a repeat
//! after a crash is recognisable by its `Message-ID` and `Accord-Id`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

/// `[smtp]` in `accord.toml`; the password comes from `ACCORD_SMTP_PASSWORD`.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender, `Accord <sla@example.net>` or a bare address.
    pub from: String,
    pub user: Option<String>,
    pub password: Option<SecretString>,
    pub tls: SmtpTls,
}

/// The templates, by file name under `<data dir>/templates/`: the three parts of a
/// notification e-mail, and the message to a customer about a breach (breach cases).
pub const TEMPLATE_FILES: [&str; 4] = [
    "email.subject.txt",
    "email.txt",
    "email.html",
    "breach_customer.txt",
];

const DEFAULT_SUBJECT: &str = include_str!("../templates/email.subject.txt");
const DEFAULT_TEXT: &str = include_str!("../templates/email.txt");
const DEFAULT_HTML: &str = include_str!("../templates/email.html");
const DEFAULT_BREACH_CUSTOMER: &str = include_str!("../templates/breach_customer.txt");

/// A template or an SMTP setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("{path}: line {line}: {message}")]
    Template {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("[smtp] {field}: {message}")]
    Setting {
        field: &'static str,
        message: String,
    },
}

/// The e-mail templates in force: the built-in ones, each replaced by the provider's
/// file of the same name in the templates directory when there is one.
#[derive(Debug)]
pub struct Templates {
    env: minijinja::Environment<'static>,
}

/// One rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Templates {
    /// The built-in templates, overridden by files in `dir` (when given and present).
    /// A template that does not compile is refused with its file and line.
    pub fn load(dir: Option<&Path>) -> Result<Self, EmailError> {
        let mut env = minijinja::Environment::new();
        for (name, default) in TEMPLATE_FILES.iter().zip([
            DEFAULT_SUBJECT,
            DEFAULT_TEXT,
            DEFAULT_HTML,
            DEFAULT_BREACH_CUSTOMER,
        ]) {
            let path = dir.map(|d| d.join(name));
            let source = match &path {
                Some(path) => match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => default.to_owned(),
                    Err(e) => {
                        return Err(EmailError::Read {
                            path: path.display().to_string(),
                            message: e.to_string(),
                        });
                    }
                },
                None => default.to_owned(),
            };
            let shown = path.unwrap_or_else(|| PathBuf::from(format!("(built-in) {name}")));
            env.add_template_owned(*name, source)
                .map_err(|e| template_error(&shown, &e))?;
        }
        Ok(Self { env })
    }

    /// Renders the message `body` (a notification, DESIGN 4.3). The context is the
    /// body's fields plus `summary` (the one-line text chat channels get) and `what`.
    pub fn render(&self, body: &Value) -> Result<Rendered, String> {
        let mut context = body.clone();
        if let Value::Object(map) = &mut context {
            map.insert(
                "summary".into(),
                Value::String(crate::notify::summary(body)),
            );
            map.insert("what".into(), Value::String(crate::notify::what(body)));
        }
        let context = minijinja::Value::from(minijinja::value::Serde(&context));
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(&context))
                .map_err(|e| format!("template {name}: {e}"))
        };
        let subject = render(TEMPLATE_FILES[0])?;
        Ok(Rendered {
            // A header is one line.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: render(TEMPLATE_FILES[1])?,
            html: render(TEMPLATE_FILES[2])?,
        })
    }

    /// The message to the customer about a breach case (`breach_customer.txt`); the
    /// context is the case as the API shows it.
    pub fn customer_message(&self, case: &Value) -> Result<String, String> {
        self.env
            .get_template(TEMPLATE_FILES[3])
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(case))))
            .map_err(|e| format!("template {}: {e}", TEMPLATE_FILES[3]))
    }
}

fn template_error(path: &Path, e: &minijinja::Error) -> EmailError {
    EmailError::Template {
        path: path.display().to_string(),
        line: e.line().unwrap_or(1),
        message: e.detail().unwrap_or("does not compile").to_owned(),
    }
}

/// Sends rendered notifications through one SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    templates: Templates,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A mailer for `smtp`, with the templates of `templates_dir`; `timeout` bounds one
    /// delivery. Nothing connects until the first message.
    pub fn new(
        smtp: &SmtpSettings,
        templates_dir: Option<&Path>,
        timeout: Duration,
    ) -> Result<Self, EmailError> {
        let from: Mailbox = smtp.from.parse().map_err(|e| EmailError::Setting {
            field: "from",
            message: format!("{:?} is not an e-mail address: {e}", smtp.from),
        })?;
        let builder = match smtp.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &smtp.host,
            )),
        }
        .map_err(|e| EmailError::Setting {
            field: "host",
            message: e.to_string(),
        })?;
        let mut builder = builder.port(smtp.port).timeout(Some(timeout));
        if let Some(user) = &smtp.user {
            let password = smtp
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            templates: Templates::load(templates_dir)?,
        })
    }

    /// Sends the outbox message `id` with `body` to `to`.
    pub async fn send(&self, id: &str, to: &[String], body: &str) -> Result<(), String> {
        let parsed: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let rendered = self.templates.render(&parsed)?;
        // The same message id on every attempt: mail clients drop repeats by it.
        let digest = hex::encode(Sha256::digest(id.as_bytes()));
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(rendered.subject)
            .message_id(Some(format!("<{}@accord>", &digest[..32])));
        for address in to {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|e| format!("{address:?} is not an e-mail address: {e}"))?;
            message = message.to(mailbox);
        }
        let mut message = message
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| e.to_string())?;
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Accord-Id"),
            id.to_owned(),
        ));
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn breach() -> Value {
        json!({"id": "T-1:sla:first_response:1:breach", "type": "clock.breached",
               "at": "2026-11-02T14:30:00Z", "ticket": "T-1", "customer": "acme",
               "agreement": "acme-gold", "objective": "p1-first-response",
               "metric": "first_response", "cycle": 1, "threshold": 1.0,
               "deadline": "2026-11-02T14:30:00Z"})
    }

    #[test]
    fn the_built_in_templates_render_every_field_a_reader_needs() {
        let r = Templates::load(None).unwrap().render(&breach()).unwrap();
        assert_eq!(
            r.subject,
            "[Accord] Ticket T-1 (acme): target breached — first response"
        );
        for needle in [
            "T-1",
            "acme-gold",
            "p1-first-response",
            "2026-11-02T14:30:00Z",
        ] {
            assert!(r.text.contains(needle), "{needle} in\n{}", r.text);
            assert!(r.html.contains(needle), "{needle} in\n{}", r.html);
        }
    }

    #[test]
    fn a_provider_template_replaces_the_built_in_one_and_html_is_escaped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("email.html"),
            "<p>{{ ticket }} for {{ customer }}</p>",
        )
        .unwrap();
        let mut body = breach();
        body["customer"] = json!("<script>");
        let r = Templates::load(Some(dir.path()))
            .unwrap()
            .render(&body)
            .unwrap();
        assert_eq!(r.html, "<p>T-1 for &lt;script&gt;</p>");
        assert!(
            r.text.contains("<script>"),
            "plain text is not escaped: {}",
            r.text
        );
    }

    #[test]
    fn a_broken_template_is_refused_with_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("email.txt"),
            "Ticket {{ ticket }}\n{% if %}\n",
        )
        .unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("email.txt: line 2:"), "{err}");
    }
}
