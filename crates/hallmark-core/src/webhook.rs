//! Signed webhooks (issue 21; docs/events.md, "Webhooks"): the Standard Webhooks signature
//! scheme (<https://www.standardwebhooks.com/>, the format of Svix and others, with
//! verifiers in many languages) and the retry schedule of a subscription.
//!
//! A delivery carries `webhook-id` (the message id, the same on every retry),
//! `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`:
//! `v1,<base64 of HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`. The secret is shown to
//! the subscriber as `whsec_<base64>`. Nothing here is new cryptography: HMAC-SHA256 from
//! the RustCrypto crates, in the published format, checked against the specification's own
//! example in the tests below and against the PyPI `standardwebhooks` library by the node's
//! tests.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The prefix of a secret as subscribers are given it.
pub const SECRET_PREFIX: &str = "whsec_";
/// The signature version this node writes.
pub const SIGNATURE_VERSION: &str = "v1";
/// The header fields of a delivery.
pub const HEADER_ID: &str = "webhook-id";
/// Unix seconds of the attempt.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// `v1,<base64>` (space-separated when several).
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// Why a secret's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not `whsec_` followed by base64 of at least 24 bytes.
    #[error("a webhook secret is `whsec_` followed by base64 (24 to 64 bytes)")]
    Secret,
}

/// The secret as subscribers are given it: `whsec_<base64>`.
pub fn secret_text(secret: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", B64.encode(secret))
}

/// The secret's bytes from its text (`whsec_` optional, as the Standard Webhooks libraries
/// accept it).
pub fn parse_secret(text: &str) -> Result<Vec<u8>, WebhookError> {
    let body = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
    let bytes = B64.decode(body).map_err(|_| WebhookError::Secret)?;
    if !(24..=64).contains(&bytes.len()) {
        return Err(WebhookError::Secret);
    }
    Ok(bytes)
}

fn mac(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return [0; 32];
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `webhook-signature` value of a delivery: `v1,<base64 HMAC-SHA256>`.
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "{SIGNATURE_VERSION},{}",
        B64.encode(mac(secret, id, timestamp, body))
    )
}

/// Whether `header` (one or more space-separated `version,base64` signatures) holds a `v1`
/// signature of this delivery (constant-time comparison). Checking the timestamp's age is
/// the receiver's part ([`is_fresh`]).
pub fn verify(secret: &[u8], id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = mac(secret, id, timestamp, body);
    header.split(' ').any(|sig| {
        sig.split_once(',').is_some_and(|(version, value)| {
            version == SIGNATURE_VERSION
                && B64
                    .decode(value)
                    .is_ok_and(|given| bool::from(given.as_slice().ct_eq(&expected)))
        })
    })
}

/// How far a delivery's timestamp may be from the receiver's clock (the libraries' default).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// Whether a delivery stamped `timestamp` is fresh at `now` (both Unix seconds).
pub fn is_fresh(timestamp: i64, now: i64) -> bool {
    (now - timestamp).abs() <= TOLERANCE_SECONDS
}

/// When a subscription's failing deliveries are retried, and when it is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The wait after the first failure; it doubles with each further one.
    pub first_retry: Duration,
    /// The longest wait.
    pub cap: Duration,
    /// Consecutive failures after which the subscription is disabled.
    pub max_failures: u32,
    /// Bound on one attempt (connect, request, answer).
    pub timeout: Duration,
}

impl Default for Schedule {
    /// 5 s doubling to at most 1 h, disabled after 30 consecutive failures (about 20 h of
    /// trying: 5 s + 10 s + … + 2,560 s, then 19 hourly attempts), 10 s per attempt.
    fn default() -> Self {
        Schedule {
            first_retry: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
            max_failures: 30,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Schedule {
    /// The wait after `failures` consecutive failures (1 or more): `first_retry ×
    /// 2^(failures − 1)`, at most `cap`.
    pub fn retry_delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first_retry
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// Whether a subscription with `failures` consecutive failures is given up.
    pub fn gives_up(&self, failures: u32) -> bool {
        failures >= self.max_failures
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (its README and every reference
    /// library's tests).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specification_example() {
        let secret = parse_secret(SPEC_SECRET).unwrap();
        assert_eq!(
            signature(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
        assert_eq!(secret_text(&secret), SPEC_SECRET);
        assert!(verify(
            &secret,
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        // One of several signatures (key rotation on the sender's side).
        let several = format!("v1,Zm9v {SPEC_SIGNATURE}");
        assert!(verify(
            &secret,
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            &several
        ));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let secret = parse_secret(SPEC_SECRET).unwrap();
        let v = |id: &str, ts: i64, body: &[u8], sig: &str| verify(&secret, id, ts, body, sig);
        assert!(!v("msg_other", SPEC_TIMESTAMP, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!v(SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!v(
            SPEC_ID,
            SPEC_TIMESTAMP,
            b"{\"test\": 2432232315}",
            SPEC_SIGNATURE
        ));
        let v2 = SPEC_SIGNATURE.replacen("v1,", "v2,", 1);
        assert!(!v(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &v2));
        assert!(!v(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, "v1,"));
        assert!(!v(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, ""));
        let other = parse_secret(&secret_text(&[7; 32])).unwrap();
        assert!(!verify(
            &other,
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
    }

    #[test]
    fn secrets_are_whsec_base64_of_24_to_64_bytes() {
        assert_eq!(parse_secret("whsec_!!").unwrap_err(), WebhookError::Secret);
        assert!(parse_secret(&secret_text(&[1; 23])).is_err());
        assert!(parse_secret(&secret_text(&[1; 65])).is_err());
        assert_eq!(parse_secret(&B64.encode([1; 32])).unwrap(), vec![1; 32]);
    }

    #[test]
    fn freshness_is_five_minutes_either_way() {
        assert!(is_fresh(1000, 1300));
        assert!(is_fresh(1300, 1000));
        assert!(!is_fresh(1000, 1301));
    }

    #[test]
    fn retries_double_to_the_cap_and_give_up_after_thirty() {
        let s = Schedule::default();
        let secs: Vec<u64> = (1..=12).map(|f| s.retry_delay(f).as_secs()).collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(s.retry_delay(u32::MAX), s.cap);
        let trying: u64 = (1..s.max_failures)
            .map(|f| s.retry_delay(f).as_secs())
            .sum();
        assert_eq!(trying, 5_115 + 19 * 3_600);
        assert!(!s.gives_up(29));
        assert!(s.gives_up(30));
    }
}
