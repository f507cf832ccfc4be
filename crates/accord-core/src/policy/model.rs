//! The documents of SLA-as-code (DESIGN 4.2) as written: every key, strictly typed,
//! unknown keys refused. Cross-document rules are checked by the loader.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::Spanned;

use super::units::{BusinessDuration, CalendarDuration, Percent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgreementType {
    Sla,
    Ola,
    Uc,
}

impl AgreementType {
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementType::Sla => "sla",
            AgreementType::Ola => "ola",
            AgreementType::Uc => "uc",
        }
    }
}

/// Agreement level; the order is the precedence (`Service` wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Corporate,
    Customer,
    Service,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Corporate => "corporate",
            Level::Customer => "customer",
            Level::Service => "service",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    FirstResponse,
    NextResponse,
    PeriodicUpdate,
    Resolution,
    Availability,
    Csat,
    Ces,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::NextResponse => "next_response",
            Metric::PeriodicUpdate => "periodic_update",
            Metric::Resolution => "resolution",
            Metric::Availability => "availability",
            Metric::Csat => "csat",
            Metric::Ces => "ces",
        }
    }

    /// Whether this metric is a ticket clock.
    pub fn is_ticket_clock(self) -> bool {
        matches!(
            self,
            Metric::FirstResponse
                | Metric::NextResponse
                | Metric::PeriodicUpdate
                | Metric::Resolution
        )
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One string or a list of strings (`priority: P1` or `priority: [P1, P2]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![s.to_owned()]))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![n.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![n.to_string()]))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![b.to_string()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<ScalarText>()? {
                    out.push(v.0);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar read as text (`P1`, `5`, `true`).
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(s.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(n.to_string()))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(b.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A target as written: text (`30m`, `99.9%`, `90%`) or a number (`4.2`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawTarget {
    Text(String),
    Number(f64),
}

impl<'de> Deserialize<'de> for RawTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawTarget;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration (30m), a percentage (99.9%) or a score (4.2)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawTarget, E> {
                Ok(RawTarget::Text(s.to_owned()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<RawTarget, E> {
                Ok(RawTarget::Number(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawTarget, E> {
                Ok(RawTarget::Number(n as f64))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RawTarget, E> {
                Ok(RawTarget::Number(n as f64))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effective {
    pub from: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeePer {
    Month,
    Quarter,
    Year,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub amount: f64,
    pub currency: String,
    pub per: FeePer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseWhen {
    pub status: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationAction {
    RaisePriority,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub at: Percent,
    #[serde(default)]
    pub notify: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<EscalationAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reopen {
    Resume,
    NewCycle,
}

/// How an availability objective is measured: time up ÷ eligible time, or good
/// requests ÷ valid requests (from `requests` records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    #[default]
    Time,
    Requests,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclude {
    ScheduledMaintenance,
}

/// One objective as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveDoc {
    pub id: Spanned<String>,
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Spanned<BTreeMap<String, OneOrMany>>>,
    pub target: Spanned<RawTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_target: Option<Spanned<BusinessDuration>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warn_at: Vec<Percent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_when: Option<PauseWhen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Percent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalate: Vec<Escalation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopen: Option<Spanned<Reopen>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Exclude>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_notice: Option<CalendarDuration>,
    /// Availability only: `time` (default) or `requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<Measure>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub below: Percent,
    pub credit: Percent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditDoc {
    pub objective: Spanned<String>,
    pub tiers: Vec<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Percent>,
}

fn version_one() -> u32 {
    1
}

/// One version of an agreement as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementDoc {
    pub kind: String,
    #[serde(rename = "type")]
    pub agreement_type: AgreementType,
    pub id: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "version_one")]
    pub version: u32,
    #[serde(default = "corporate")]
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<Effective>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Fee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priorities: Option<Vec<String>>,
    #[serde(default)]
    pub objectives: Vec<ObjectiveDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<CreditDoc>,
}

fn corporate() -> Level {
    Level::Corporate
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerDoc {
    pub kind: String,
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
}

/// A service of the catalogue, a team, or a supplier: an id, a name, and for teams and
/// suppliers whom to tell.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDoc {
    pub kind: String,
    pub id: Spanned<String>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamDoc {
    pub kind: String,
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierDoc {
    pub kind: String,
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelType {
    Webhook,
    Email,
    Chat,
}

/// Where a secret comes from: never inline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub calendar: Spanned<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelDoc {
    pub kind: String,
    pub id: Spanned<String>,
    #[serde(rename = "type")]
    pub channel_type: ChannelType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}
