//! Identifiers written by people (in SLA-as-code, in API paths): parsed once at the edge
//! into types that cannot hold a bad value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// Longest identifier accepted: long enough for any help desk's keys, short enough to
/// keep URLs and log lines readable.
pub const MAX_ID_LEN: usize = 128;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an identifier must not be empty")]
    Empty,
    #[error("an identifier is at most {MAX_ID_LEN} characters long (this one has {0})")]
    TooLong(usize),
    #[error(
        "an identifier may only contain letters, digits, '-', '_', '.' and ':' \
         (found {0:?} at character {1})"
    )]
    BadCharacter(char, usize),
}

/// Checks the shared identifier rule: 1 to 128 ASCII letters, digits, `-`, `_`, `.`, `:`.
pub fn check_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    let len = s.chars().count();
    if len > MAX_ID_LEN {
        return Err(IdError::TooLong(len));
    }
    match s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        Some((i, c)) => Err(IdError::BadCharacter(c, i + 1)),
        None => Ok(()),
    }
}

/// The id of a customer (`acme`): the key every customer-bound permission is checked on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CustomerId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        check_id(s)?;
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for CustomerId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        check_id(&s)?;
        Ok(Self(s))
    }
}

impl<'de> Deserialize<'de> for CustomerId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::try_from(s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_keys() {
        for ok in ["acme", "ACME-01", "acme.eu", "jira:SD-1", "a_b"] {
            assert!(ok.parse::<CustomerId>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_and_says_why() {
        assert_eq!("".parse::<CustomerId>(), Err(IdError::Empty));
        assert_eq!(
            "ac me".parse::<CustomerId>(),
            Err(IdError::BadCharacter(' ', 3))
        );
        assert_eq!(
            "x".repeat(129).parse::<CustomerId>(),
            Err(IdError::TooLong(129))
        );
        assert_eq!(
            "a/b".parse::<CustomerId>().unwrap_err().to_string(),
            "an identifier may only contain letters, digits, '-', '_', '.' and ':' (found '/' at character 2)"
        );
    }

    #[test]
    fn deserializing_checks_too() {
        let bad: Result<CustomerId, _> = serde_json::from_str("\"a b\"");
        assert!(bad.is_err());
    }
}
