//! `accord cases`: work breach cases on a running server (list per customer and period,
//! show one, record a step).

use clap::Subcommand;
use serde_json::{Map, Value};

use crate::client::{Client, ServerArgs};

#[derive(Debug, Subcommand)]
pub enum CaseAction {
    /// List breach cases by breach instant (a read token is enough).
    List {
        #[arg(long)]
        customer: Option<String>,
        /// open, closed or withdrawn.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        ticket: Option<String>,
        /// Breached at or after this instant (RFC 3339).
        #[arg(long)]
        from: Option<jiff::Timestamp>,
        /// Breached before this instant (RFC 3339).
        #[arg(long)]
        to: Option<jiff::Timestamp>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one case and its steps (JSON).
    Show { id: String },
    /// Record a step as done now (needs an admin token). Steps: team_alerted, owner,
    /// root_cause, customer_notified, service_restored, customer_informed, review.
    Step {
        id: String,
        step: String,
        /// owner: who owns the case.
        #[arg(long)]
        owner: Option<String>,
        /// root_cause: the kind of cause (staffing, supplier, configuration, …).
        #[arg(long)]
        category: Option<String>,
        /// root_cause: what happened.
        #[arg(long)]
        description: Option<String>,
        /// customer_notified, customer_informed: the message sent (customer_notified
        /// without one uses the server's breach_customer.txt template).
        #[arg(long)]
        message: Option<String>,
        /// team_alerted, service_restored: a note.
        #[arg(long)]
        note: Option<String>,
        /// review: was the target realistic?
        #[arg(long)]
        target_realistic: Option<bool>,
        /// review: is the objective configured right?
        #[arg(long)]
        configured_right: Option<bool>,
        /// review: the impact on the team.
        #[arg(long)]
        impact_team: Option<String>,
        /// review: the impact on the customer.
        #[arg(long)]
        impact_customer: Option<String>,
        /// review: what prevents it next time.
        #[arg(long)]
        preventive_action: Option<String>,
    },
}

/// Percent-encodes a path segment (case ids hold `:`).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn run(args: &ServerArgs, action: CaseAction) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    match action {
        CaseAction::List {
            customer,
            state,
            ticket,
            from,
            to,
            json,
        } => {
            let mut query = Vec::new();
            for (key, value) in [
                ("customer", customer),
                ("state", state),
                ("ticket", ticket),
                ("from", from.map(|t| t.to_string())),
                ("to", to.map(|t| t.to_string())),
            ] {
                if let Some(v) = value {
                    query.push(format!("{key}={}", segment(&v)));
                }
            }
            let cases = client.list_all_query("/v1/breach-cases", &query.join("&"))?;
            if json {
                for c in cases {
                    println!("{c}");
                }
                return Ok(());
            }
            println!(
                "{:<21} {:<10} {:<12} {:<12} {:<18} {:<10} ID",
                "BREACHED", "STATE", "CUSTOMER", "TICKET", "NEXT STEP", "OBJECTIVE"
            );
            for c in &cases {
                let t = |k: &str| c[k].as_str().unwrap_or("-").to_owned();
                println!(
                    "{:<21} {:<10} {:<12} {:<12} {:<18} {:<10} {}",
                    t("breached_at"),
                    t("state"),
                    t("customer"),
                    t("ticket"),
                    t("next_step"),
                    t("objective"),
                    t("id")
                );
            }
            eprintln!(
                "{} case{}",
                cases.len(),
                if cases.len() == 1 { "" } else { "s" }
            );
        }
        CaseAction::Show { id } => {
            let case = client.send(
                reqwest::Method::GET,
                &format!("/v1/breach-cases/{}", segment(&id)),
                None,
            )?;
            println!("{}", serde_json::to_string_pretty(&case)?);
        }
        CaseAction::Step {
            id,
            step,
            owner,
            category,
            description,
            message,
            note,
            target_realistic,
            configured_right,
            impact_team,
            impact_customer,
            preventive_action,
        } => {
            let mut body = Map::new();
            for (key, value) in [
                ("owner", owner.map(Value::from)),
                ("category", category.map(Value::from)),
                ("description", description.map(Value::from)),
                ("message", message.map(Value::from)),
                ("note", note.map(Value::from)),
                ("target_realistic", target_realistic.map(Value::from)),
                ("configured_right", configured_right.map(Value::from)),
                ("impact_team", impact_team.map(Value::from)),
                ("impact_customer", impact_customer.map(Value::from)),
                ("preventive_action", preventive_action.map(Value::from)),
            ] {
                if let Some(v) = value {
                    body.insert(key.into(), v);
                }
            }
            let case = client.send(
                reqwest::Method::POST,
                &format!("/v1/breach-cases/{}/steps/{}", segment(&id), segment(&step)),
                Some(Value::Object(body)),
            )?;
            let next = case["next_step"]
                .as_str()
                .unwrap_or("none: the case is closed");
            println!(
                "{step} recorded on {} ({}); next step: {next}",
                case["id"].as_str().unwrap_or(&id),
                case["state"].as_str().unwrap_or("?")
            );
            if step == "customer_notified" {
                println!(
                    "\nMessage:\n{}",
                    case["steps"]["customer_notified"]["message"]
                        .as_str()
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
