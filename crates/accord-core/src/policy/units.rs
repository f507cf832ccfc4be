//! The units SLA-as-code is written in, parsed into exact values:
//! business durations (`30m`, `4h`, `1h30m`, `PT4H`), calendar durations (`5d`, `30d`),
//! and percentages (`99.9%`) as exact decimals.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Open (business) time, in whole seconds. `d` and `w` are refused: one working day is
/// `8h` on a 9-to-5 calendar, not `1d` (DESIGN 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BusinessDuration(pub i64);

/// Real (calendar) time: `d` and `w` mean 24 hours and 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDuration(pub i64);

/// Parses `1h30m`, `90s`, `2d` (when `days` is allowed) or ISO 8601 `PT1H30M` / `P2D`.
fn parse_duration(s: &str, days_allowed: bool) -> Result<i64, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("an empty duration".into());
    }
    let upper = text.to_ascii_uppercase();
    let (compact, iso) = match upper.strip_prefix('P') {
        Some(rest) => (rest.replace('T', ""), true),
        None => (text.to_owned(), false),
    };
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut seen_unit = false;
    for c in compact.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = c.to_ascii_lowercase();
        let seconds = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' | 'w' if !days_allowed => {
                return Err(format!(
                    "{text:?}: days and weeks are not business time (one working day is 8h on a 9-to-5 calendar, not 1d); write hours, e.g. 8h"
                ));
            }
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => {
                return Err(format!(
                    "{text:?} is not a duration: expected e.g. 30m, 4h, 1h30m{} or PT4H",
                    if days_allowed { ", 5d" } else { "" }
                ));
            }
        };
        let n: i64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration: a number must come before {c:?}"))?;
        total = n
            .checked_mul(seconds)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too long"))?;
        number.clear();
        seen_unit = true;
    }
    if !number.is_empty() || !seen_unit {
        return Err(format!(
            "{text:?} is not a duration: every number needs a unit (s, m, h{}), e.g. 30m",
            if days_allowed { ", d, w" } else { "" }
        ));
    }
    let _ = iso;
    if total <= 0 {
        return Err(format!("{text:?}: a duration must be longer than zero"));
    }
    Ok(total)
}

fn format_duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

impl std::str::FromStr for BusinessDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s, false).map(BusinessDuration)
    }
}

impl std::str::FromStr for CalendarDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s, true).map(CalendarDuration)
    }
}

impl fmt::Display for BusinessDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl fmt::Display for CalendarDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 86_400 == 0 {
            write!(f, "{}d", self.0 / 86_400)
        } else {
            f.write_str(&format_duration(self.0))
        }
    }
}

macro_rules! serde_via_string {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

serde_via_string!(BusinessDuration);
serde_via_string!(CalendarDuration);
serde_via_string!(Percent);

/// A percentage as an exact decimal: `num / den` with `den` a power of ten, e.g.
/// `99.9%` = 999 / 1000. Comparisons are exact (integers), never floats.
#[derive(Debug, Clone, Copy)]
pub struct Percent {
    num: i64,
    den: i64,
}

impl Percent {
    /// The share as a fraction `num / den` (99.9% → 999/1000).
    pub fn fraction(self) -> (i64, i64) {
        (self.num, self.den)
    }

    /// The nearest f64 (for JSON output only, never for comparisons).
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// `self × whole`, exact when it divides, else the floor (99.9% of 2,592,000 s =
    /// 2,592 s).
    pub fn of(self, whole: i64) -> i64 {
        ((i128::from(whole) * i128::from(self.num)) / i128::from(self.den)) as i64
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// Whether this is more than 100%.
    pub fn above_whole(self) -> bool {
        self.num > self.den
    }

    /// `num/den` compared with the fraction `a/b` (b > 0), exactly.
    pub fn cmp_fraction(self, a: i64, b: i64) -> Ordering {
        (i128::from(self.num) * i128::from(b)).cmp(&(i128::from(a) * i128::from(self.den)))
    }
}

impl PartialEq for Percent {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Percent {}
impl PartialOrd for Percent {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Percent {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_fraction(other.num, other.den)
    }
}

impl std::str::FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let text = s.trim();
        let digits = text
            .strip_suffix('%')
            .ok_or_else(|| format!("{text:?} is not a percentage: expected e.g. 99.9%"))?
            .trim();
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
            && whole.len() <= 6
            && frac.len() <= 9;
        if !ok {
            return Err(format!("{text:?} is not a percentage: expected e.g. 99.9%"));
        }
        let scale = 10i64.pow(frac.len() as u32);
        let num = whole
            .parse::<i64>()
            .ok()
            .and_then(|w| w.checked_mul(scale))
            .and_then(|w| w.checked_add(frac.parse::<i64>().unwrap_or(0)))
            .ok_or_else(|| format!("{text:?} is too large"))?;
        Ok(Percent {
            num,
            den: scale * 100,
        })
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // den = 100 × 10^k: print num with k decimals.
        let k = (self.den / 100).to_string().len() - 1;
        let scale = self.den / 100;
        if k == 0 {
            write!(f, "{}%", self.num)
        } else {
            write!(f, "{}.{:0k$}%", self.num / scale, self.num % scale, k = k)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_durations() {
        for (text, secs) in [
            ("90s", 90),
            ("30m", 1800),
            ("4h", 14_400),
            ("1h30m", 5400),
            ("PT4H", 14_400),
            ("PT1H30M", 5400),
            ("pt45m", 2700),
        ] {
            assert_eq!(
                text.parse::<BusinessDuration>(),
                Ok(BusinessDuration(secs)),
                "{text}"
            );
        }
        assert_eq!(BusinessDuration(5400).to_string(), "1h30m");
        assert_eq!(
            "1d".parse::<BusinessDuration>().unwrap_err(),
            "\"1d\": days and weeks are not business time (one working day is 8h on a 9-to-5 calendar, not 1d); write hours, e.g. 8h"
        );
        assert_eq!(
            "30".parse::<BusinessDuration>().unwrap_err(),
            "\"30\" is not a duration: every number needs a unit (s, m, h), e.g. 30m"
        );
        assert!("30x".parse::<BusinessDuration>().is_err());
        assert!("0m".parse::<BusinessDuration>().is_err());
        assert!("h".parse::<BusinessDuration>().is_err());
        assert_eq!(
            "5d".parse::<CalendarDuration>(),
            Ok(CalendarDuration(432_000))
        );
        assert_eq!(CalendarDuration(432_000).to_string(), "5d");
    }

    #[test]
    fn percentages_are_exact() {
        let p: Percent = "99.9%".parse().unwrap();
        assert_eq!(p.of(2_592_000), 2_592_000 - 2_592, "99.9% of 30 days");
        assert_eq!(p.to_string(), "99.9%");
        assert_eq!("95%".parse::<Percent>().unwrap().to_string(), "95%");
        assert_eq!("99.95%".parse::<Percent>().unwrap().to_string(), "99.95%");
        assert_eq!(
            "99.90%".parse::<Percent>().unwrap(),
            p,
            "equal values compare equal"
        );
        assert!("99.0%".parse::<Percent>().unwrap() < p);
        assert_eq!(
            p.cmp_fraction(999, 1000),
            Ordering::Equal,
            "a result exactly at a bound is not below it"
        );
        assert_eq!(p.cmp_fraction(998_999, 1_000_000), Ordering::Greater);
        assert!("150%".parse::<Percent>().unwrap().above_whole());
        assert_eq!(
            "99.9".parse::<Percent>().unwrap_err(),
            "\"99.9\" is not a percentage: expected e.g. 99.9%"
        );
        assert!("-5%".parse::<Percent>().is_err());
        assert!("ninety%".parse::<Percent>().is_err());
    }
}
