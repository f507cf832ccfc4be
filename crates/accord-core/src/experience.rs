//! Experience next to service levels (DESIGN 3.3): survey answers (CSAT 1–5, customer
//! effort 1–7) counted against `csat` and `ces` objectives. A survey belongs to the
//! objective its ticket's facts select, as a ticket clock does.

use compact_str::CompactString;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::policy::{AgreementType, Config, Metric, TicketFacts};

/// One survey answer about a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    pub id: CompactString,
    pub ticket: CompactString,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Survey {
    /// What is wrong with a survey that parsed: the field and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(c) = self.csat
            && !(1..=5).contains(&c)
        {
            return Err(("csat", format!("must be 1 to 5 (got {c})")));
        }
        if let Some(c) = self.ces
            && !(1..=7).contains(&c)
        {
            return Err(("ces", format!("must be 1 to 7 (got {c})")));
        }
        if self.csat.is_none() && self.ces.is_none() {
            return Err(("csat", "a survey needs `csat`, `ces` or both".into()));
        }
        Ok(())
    }

    fn answer(&self, metric: Metric) -> Option<u8> {
        match metric {
            Metric::Csat => self.csat,
            Metric::Ces => self.ces,
            _ => None,
        }
    }
}

/// Good answers: CSAT 4 or 5, effort 3 or less.
pub fn is_good(metric: Metric, answer: u8) -> bool {
    match metric {
        Metric::Ces => answer <= 3,
        _ => answer >= 4,
    }
}

/// Answers counted for one objective.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub responses: u64,
    pub good: u64,
    pub sum: u64,
}

/// Answers per (agreement id, objective id).
pub type Tallies<'c> = rustc_hash::FxHashMap<(&'c str, &'c str), Tally>;

/// The (agreement id, objective id) a survey's CSAT and effort answers count for, as
/// its ticket's facts select them at its instant.
pub type Selected<'c> = [Option<(&'c str, &'c str)>; 2];

/// The objectives each survey counts for, worked out once per survey and kept in
/// `memo` (one slot per survey) for the other spans a report tallies: agreements in
/// several time zones and the trend's periods each need their own tally.
#[derive(Debug, Default)]
pub struct Selections<'c> {
    memo: Vec<Option<Selected<'c>>>,
}

impl<'c> Selections<'c> {
    fn get(
        &mut self,
        config: &'c Config,
        k: usize,
        survey: &Survey,
        facts: &TicketFacts,
    ) -> Selected<'c> {
        if self.memo.len() <= k {
            self.memo.resize(k + 1, None);
        }
        *self.memo[k].get_or_insert_with(|| {
            [Metric::Csat, Metric::Ces].map(|metric| {
                survey.answer(metric)?;
                let selection = config.select(facts, metric, AgreementType::Sla, survey.at)?;
                Some((
                    selection.agreement.id(),
                    selection.objective.id.value.as_str(),
                ))
            })
        })
    }
}

/// Counts each survey (with its ticket's facts) in `[from, to)` for the objective its
/// facts select, per metric; keyed by (agreement id, objective id).
pub fn tally<'c>(
    config: &'c Config,
    surveys: &[(Survey, TicketFacts)],
    selections: &mut Selections<'c>,
    from: Timestamp,
    to: Timestamp,
) -> Tallies<'c> {
    let mut out = Tallies::default();
    for (k, (survey, facts)) in surveys.iter().enumerate() {
        if survey.at < from || survey.at >= to {
            continue;
        }
        let selected = selections.get(config, k, survey, facts);
        for (metric, objective) in [Metric::Csat, Metric::Ces].into_iter().zip(selected) {
            let (Some(answer), Some(key)) = (survey.answer(metric), objective) else {
                continue;
            };
            let t = out.entry(key).or_default();
            t.responses += 1;
            t.good += u64::from(is_good(metric, answer));
            t.sum += u64::from(answer);
        }
    }
    out
}
