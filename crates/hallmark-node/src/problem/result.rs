//! EN 18222's error body on the `/v1` doors: `Result { messages: [Message] }`, where every
//! message has all five members (`messageType`, `text`, `code`, `correlationId`,
//! `timestamp`) and nothing else (the spec's schemas forbid extra members).
//!
//! The node's errors stay typed ([`ApiError`], and the service's through it); on `/v1` they
//! leave as a [`V1Error`], rendered from the same [`Problem`] the rest of the node answers
//! with: `code` is the problem's slug, `text` its detail (or title), one message per
//! validation issue or plugin finding. The spec knows no 413, 415 or 422: those answer 400
//! there (docs/en18222.md). Problems made before a handler runs (401, the 404/405 fallbacks,
//! 413 from the body guard, 429, timeouts) are rewritten by the edge layer
//! [`crate::edge::v1_results`] through [`result_response`].

use axum::http::header::{HeaderValue, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{ApiError, Problem, PROBLEM_TYPE_PREFIX};
use crate::service::ServiceError;

/// `Result`: one or more messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    /// At least one.
    pub messages: Vec<Message>,
}

/// `Message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Message {
    /// `Undefined | Info | Warning | Error | Exception`.
    pub message_type: MessageType,
    /// What happened.
    pub text: String,
    /// The problem's slug (`not-found`, `invalid-passport`, …).
    pub code: String,
    /// One id per answer, also in the node's log line for it.
    pub correlation_id: String,
    /// When (RFC 3339, UTC).
    pub timestamp: String,
}

/// `MessageType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageType {
    /// Not classified.
    Undefined,
    /// For information.
    Info,
    /// A warning (a plugin's warning finding).
    Warning,
    /// The request was refused (4xx).
    Error,
    /// The node failed (5xx).
    Exception,
}

/// The status a problem answers with on `/v1`: the spec has no 413, 415 or 422.
pub fn v1_status(status: StatusCode) -> StatusCode {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        s => s,
    }
}

impl ResultBody {
    /// The messages of `problem`, stamped with `correlation_id` and `now`.
    pub fn from_problem(problem: &Problem, correlation_id: &str, now: OffsetDateTime) -> Self {
        let code = problem
            .type_uri
            .strip_prefix(PROBLEM_TYPE_PREFIX)
            .unwrap_or(&problem.type_uri)
            .to_owned();
        let kind = if problem.status >= 500 {
            MessageType::Exception
        } else {
            MessageType::Error
        };
        let timestamp = now
            .format(&Rfc3339)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned());
        let message = |message_type: MessageType, text: String| Message {
            message_type,
            text,
            code: code.clone(),
            correlation_id: correlation_id.to_owned(),
            timestamp: timestamp.clone(),
        };
        let mut text = problem
            .detail
            .clone()
            .unwrap_or_else(|| problem.title.clone());
        // Scalar extension members (`required_scope`, `limit`, `max`, `retry_after`, …)
        // spelled out after the text: the spec's message has no place for them.
        for (key, value) in &problem.extensions {
            match value {
                Value::String(s) => text.push_str(&format!("; {key}: {s}")),
                Value::Number(n) => text.push_str(&format!("; {key}: {n}")),
                Value::Bool(b) => text.push_str(&format!("; {key}: {b}")),
                _ => {}
            }
        }
        if text.is_empty() {
            text = code.clone();
        }
        let mut messages = vec![message(kind, text)];
        let list = |name: &str| {
            problem
                .extensions
                .get(name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for issue in list("issues") {
            let pointer = issue.get("pointer").and_then(Value::as_str).unwrap_or("");
            let what = issue.get("message").and_then(Value::as_str).unwrap_or("");
            messages.push(message(kind, format!("{pointer}: {what}")));
        }
        for finding in list("findings") {
            let pointer = finding.get("pointer").and_then(Value::as_str).unwrap_or("");
            let what = finding.get("message").and_then(Value::as_str).unwrap_or("");
            let severity = match finding.get("severity").and_then(Value::as_str) {
                Some("error") => MessageType::Error,
                Some("warning") => MessageType::Warning,
                Some("info") => MessageType::Info,
                _ => MessageType::Undefined,
            };
            messages.push(message(severity, format!("{pointer}: {what}")));
        }
        ResultBody { messages }
    }
}

/// `problem` as a `/v1` answer: its status (as [`v1_status`] maps it), the headers it came
/// with (`WWW-Authenticate`, `Retry-After`, `Allow`, …) and a `Result` body. The correlation
/// id is logged with the problem's slug and status.
pub fn result_response(problem: &Problem, headers: HeaderMap) -> Response {
    let correlation_id = correlation_id();
    let body = ResultBody::from_problem(problem, &correlation_id, OffsetDateTime::now_utc());
    let status = v1_status(problem.status_code());
    tracing::info!(
        correlation_id = %correlation_id,
        status = problem.status,
        problem = %problem.type_uri,
        "EN 18222 answer with messages"
    );
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"messages":[{"messageType":"Exception","text":"internal error","code":"internal","correlationId":"-","timestamp":"1970-01-01T00:00:00Z"}]}"#
            .to_vec()
    });
    let mut response = (status, bytes).into_response();
    for (name, value) in headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A fresh correlation id: a random (version 4) UUID; a counter if the system has no
/// randomness to give (it only has to tell answers apart in the log).
fn correlation_id() -> String {
    use rand_core::RngCore;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    match rand_core::OsRng.try_fill_bytes(&mut bytes) {
        Ok(()) => uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string(),
        Err(_) => format!(
            "local-{}",
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
    }
}

/// An error on the `/v1` doors: any [`ApiError`] (and so any service error), answered as a
/// `Result`.
#[derive(Debug)]
pub struct V1Error(pub ApiError);

impl From<ApiError> for V1Error {
    fn from(e: ApiError) -> Self {
        V1Error(e)
    }
}

impl From<ServiceError> for V1Error {
    fn from(e: ServiceError) -> Self {
        V1Error(ApiError::from(e))
    }
}

impl IntoResponse for V1Error {
    fn into_response(self) -> Response {
        let problem = self.0.problem();
        // The headers the problem answer carries (challenge, Retry-After) go along.
        let headers = self.0.into_response().headers().clone();
        result_response(&problem, headers)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
    use time::macros::datetime;

    async fn body(r: Response) -> ResultBody {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_problem_becomes_messages_with_every_member() {
        let p = ApiError::Forbidden {
            required: crate::apikey::Scope::Write,
        }
        .problem();
        let r = ResultBody::from_problem(&p, "c-1", datetime!(2026-12-06 10:00 UTC));
        assert_eq!(r.messages.len(), 1);
        let m = &r.messages[0];
        assert_eq!(m.message_type, MessageType::Error);
        assert_eq!(m.code, "forbidden");
        assert_eq!(m.correlation_id, "c-1");
        assert_eq!(m.timestamp, "2026-12-06T10:00:00Z");
        assert!(m.text.contains("required_scope: write"), "{}", m.text);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["messages"][0].as_object().unwrap().len(),
            5,
            "exactly the five members"
        );
    }

    #[test]
    fn issues_are_one_message_each_and_5xx_is_an_exception() {
        let p = ApiError::Invalid {
            issues: vec![
                ("/data/a".into(), "too heavy".into()),
                ("/data/b".into(), "missing".into()),
            ],
        }
        .problem();
        let r = ResultBody::from_problem(&p, "c", OffsetDateTime::UNIX_EPOCH);
        let texts: Vec<&str> = r.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts.len(), 3);
        assert_eq!(texts[1..], ["/data/a: too heavy", "/data/b: missing"]);
        assert!(r.messages.iter().all(|m| m.code == "invalid-passport"));
        let r = ResultBody::from_problem(
            &ApiError::Internal.problem(),
            "c",
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(r.messages[0].message_type, MessageType::Exception);
    }

    #[tokio::test]
    async fn statuses_the_spec_lacks_answer_400_and_headers_are_kept() {
        let r = V1Error(ApiError::BodyTooLarge {
            max: 10,
            limit: "max_body_bytes",
        })
        .into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body(r).await.messages[0].code, "body-too-large");

        let r = V1Error(ApiError::Unauthorized).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(WWW_AUTHENTICATE));
        let r = V1Error(ApiError::RateLimited {
            retry_after_secs: 3,
        })
        .into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[RETRY_AFTER], "3");
        let m = body(r).await;
        assert_eq!(m.messages.len(), 1);
    }
}
