//! API token secrets: 256 random bits, shown once, stored only as a SHA-256 digest.
//!
//! A password hash (Argon2id) would be wrong here: a token has 256 bits of entropy, so a
//! fast digest is as safe against guessing and cheap enough to check on every request.

use accord_store::TokenDigest;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Prefix of every token Accord generates, so a leaked one is easy to recognise (and to
/// search for in a repository).
pub const TOKEN_PREFIX: &str = "accord_";

/// Shortest admin token accepted from `ACCORD_ADMIN_TOKEN` (128 bits as hex).
pub const MIN_SUPPLIED_TOKEN_LEN: usize = 32;

/// Random bytes from the operating system.
#[derive(Debug, thiserror::Error)]
#[error("the operating system could not provide random bytes: {0}")]
pub struct RandomnessError(String);

fn random_bytes<const N: usize>() -> Result<[u8; N], RandomnessError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| RandomnessError(e.to_string()))?;
    Ok(buf)
}

/// A new token secret: `accord_` and 64 hex digits (256 bits).
pub fn generate_secret() -> Result<SecretString, RandomnessError> {
    let bytes: [u8; 32] = random_bytes()?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)).into())
}

/// A new public token id, `tok_` and 16 hex digits: what lists, audits and revocation use.
pub fn generate_id() -> Result<String, RandomnessError> {
    let bytes: [u8; 8] = random_bytes()?;
    Ok(format!("tok_{}", hex::encode(bytes)))
}

/// The digest a store keeps of a secret.
pub fn digest(secret: &str) -> TokenDigest {
    TokenDigest(Sha256::digest(secret.as_bytes()).into())
}

/// Checks a token supplied by an operator (`ACCORD_ADMIN_TOKEN`).
pub fn check_supplied(secret: &SecretString) -> Result<(), String> {
    let s = secret.expose_secret();
    if s.len() < MIN_SUPPLIED_TOKEN_LEN {
        return Err(format!(
            "ACCORD_ADMIN_TOKEN must be at least {MIN_SUPPLIED_TOKEN_LEN} characters long \
             (e.g. `openssl rand -hex 32`)"
        ));
    }
    if !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err("ACCORD_ADMIN_TOKEN may only contain printable ASCII without spaces".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert!(a.expose_secret().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose_secret().len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(digest(a.expose_secret()), digest(b.expose_secret()));
        assert!(!format!("{a:?}").contains(&a.expose_secret()[8..]));
    }

    #[test]
    fn digest_is_sha256() {
        // SHA-256("abc"), from FIPS 180-2.
        assert_eq!(
            hex::encode(digest("abc").0),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn supplied_tokens_must_be_strong() {
        assert!(check_supplied(&"short".to_string().into()).is_err());
        assert!(check_supplied(&"x y".repeat(20).into()).is_err());
        assert!(check_supplied(&"a".repeat(32).into()).is_ok());
    }
}
