//! The admin API client of the control-plane commands (`passport`, `api-key`, `import`):
//! [`AdminClient`], [`Answer`] and the options they share ([`GlobalOpts`]); re-exported
//! here from `output.rs`, the exit codes ([`Exit`]) and the one error type ([`CliError`]).
//!
//! ```ignore
//! let client = AdminClient::from_env(&opts.global)?;           // URL + API key (creds.rs)
//! let answer = client.send(Method::GET, "/api/v1/passports", None).await?;
//! let page: serde_json::Value = answer.ok()?.json()?;           // non-2xx → CliError
//! // an idempotent POST (the batch, idempotent by externalRef) may be retried:
//! let answer = client.retrying(Method::POST, "/api/v1/passports/batch", Some(&body)).await?;
//! ```
//!
//! HTTP/1.1 over the connections of `fetch.rs` (plain, or rustls with the ring provider and
//! the system's roots), kept alive and reused (a pool of idle connections, so concurrent
//! sends each get one), `User-Agent: hallmark-cli/<version>`, each attempt bounded by
//! `--timeout`, answers capped at [`MAX_ANSWER_BYTES`], no redirect followed. GET and HEAD
//! (and what a caller sends with [`AdminClient::retrying`]) are retried on a connect error,
//! a failure on a reused connection, 429 and 503, honouring `Retry-After`, at most
//! [`MAX_ATTEMPTS`] attempts; any other POST is sent once, never again — except on a new
//! connection when the kept-alive one was found closed before a byte of it was written.

use crate::creds::{self, Auth};
use crate::fetch::{self, FetchError};
pub use crate::output::{CliError, Exit, EXIT_CODES_HELP};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT,
};
pub use hyper::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The largest answer read (a batch answer of 1,000 items with their problems).
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// Attempts of a retried request, the first included.
pub const MAX_ATTEMPTS: u32 = 5;
/// The longest `Retry-After` waited for; a longer one ends the retries.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// `User-Agent` of every request.
pub const USER_AGENT_VALUE: &str = concat!("hallmark-cli/", env!("CARGO_PKG_VERSION"));
/// `--timeout`'s default, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// An answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The request's URL (for messages).
    pub url: String,
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body (at most [`MAX_ANSWER_BYTES`]).
    pub body: Bytes,
}

impl Answer {
    /// A header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An answer of a one-shot request (`fetch::send`) to `url`.
    pub fn from_fetch(url: &str, answer: fetch::Answer) -> Answer {
        Answer {
            url: url.to_owned(),
            status: answer.status,
            headers: answer.headers,
            body: Bytes::from(answer.body),
        }
    }

    /// The problem slug of the answer (its `type` after `urn:hallmark:problem:`), if it is
    /// a Hallmark problem.
    pub fn slug(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .get("type")?
            .as_str()?
            .strip_prefix("urn:hallmark:problem:")
            .map(str::to_owned)
    }

    /// The answer if its status is 2xx, else [`CliError::Refused`] (the problem kept whole).
    pub fn ok(self) -> Result<Answer, CliError> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        let problem = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .filter(Value::is_object);
        let slug = problem
            .as_ref()
            .and_then(|p| p["type"].as_str())
            .and_then(|t| t.strip_prefix("urn:hallmark:problem:"))
            .map(str::to_owned);
        let summary = match &problem {
            Some(p) => {
                let title = p["title"].as_str().unwrap_or("");
                match p["detail"].as_str() {
                    Some(d) if !title.is_empty() => format!("{title}: {d}"),
                    Some(d) => d.to_owned(),
                    None => title.to_owned(),
                }
            }
            None => String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
                .trim()
                .to_owned(),
        };
        Err(CliError::Refused {
            url: self.url,
            status: self.status,
            slug,
            summary,
            body: self.body,
        })
    }

    /// The body as JSON of type `T` (exit 1 if it is not).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, CliError> {
        serde_json::from_slice(&self.body).map_err(|e| CliError::Unexpected {
            url: self.url.clone(),
            detail: format!("not the JSON expected: {e}"),
        })
    }
}

/// Options every control-plane command takes (flattened into `passport`, `api-key` and
/// `import`; global, so they may follow the subcommand).
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOpts {
    /// The node's admin API, e.g. https://admin.example:8081 (with or without /api/v1; no
    /// user name or password in it). Else HALLMARK_ADMIN_URL, else the profile's admin_url.
    #[arg(long, global = true, env = "HALLMARK_ADMIN_URL", value_name = "URL")]
    pub admin_url: Option<String>,
    /// The profile of ${XDG_CONFIG_HOME:-~/.config}/hallmark/cli.toml to use
    /// ([profiles.NAME]); without one, [profiles.default] if the file has it.
    #[arg(long, global = true, env = "HALLMARK_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Bound on each attempt of a request (connect, TLS, request, answer), in seconds.
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value_t = DEFAULT_TIMEOUT_SECS,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub timeout: u64,
    /// Print the node's JSON as received (list --all: one item per line) instead of text;
    /// a refusal's problem object also goes to stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Where the admin API is: scheme, host, port and the path prefix of `/api/v1`.
#[derive(Debug, Clone)]
struct Base {
    /// The URL as given, without a trailing `/` or `/api/v1` (for messages).
    shown: String,
    https: bool,
    host: String,
    port: u16,
    /// `Host:` header value.
    authority: String,
    /// Path before `/api/v1` (empty, or e.g. `/hallmark` behind a reverse proxy).
    prefix: String,
}

impl Base {
    fn parse(url: &str) -> Result<Base, CliError> {
        let usage = |why: &str| CliError::Usage(format!("admin URL {url:?}: {why}"));
        let trimmed = url.trim();
        let parsed =
            reqwest::Url::parse(trimmed).map_err(|e| usage(&format!("not a URL ({e})")))?;
        let https = match parsed.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(usage("not an http:// or https:// URL")),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            // Not echoed: the URL holds a credential.
            return Err(CliError::Usage(
                "the admin URL holds a user name or password; credentials never go in the URL \
                 (set HALLMARK_API_KEY or HALLMARK_API_KEY_FILE)"
                    .into(),
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(usage("a query or fragment is not allowed"));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| usage("no host"))?
            .to_string();
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| usage("no port"))?;
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let path = parsed.path().trim_end_matches('/');
        let prefix = path.strip_suffix("/api/v1").unwrap_or(path).to_string();
        let shown = format!(
            "{}://{authority}{prefix}",
            if https { "https" } else { "http" }
        );
        Ok(Base {
            shown,
            https,
            host,
            port,
            authority,
            prefix,
        })
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// A client of one node's admin API with one credential (see the module documentation).
pub struct AdminClient {
    base: Base,
    auth: Option<Auth>,
    timeout: Duration,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    idle: Mutex<Vec<Sender>>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("url", &self.base.shown)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why one attempt gave no answer, and whether another may be made.
struct Failed {
    error: CliError,
    retryable: bool,
}

impl AdminClient {
    /// The admin URL and API key from the options, the environment and the profile
    /// (`creds.rs`); exit 2 when either is missing.
    pub fn from_env(opts: &GlobalOpts) -> Result<AdminClient, CliError> {
        let c = creds::resolve(&sources(opts), &creds::process_env, false)?;
        AdminClient::new(
            &c.admin_url,
            Some(c.auth),
            Duration::from_secs(opts.timeout),
        )
    }

    /// As [`from_env`](Self::from_env), but without an API key the admin login
    /// (`HALLMARK_ADMIN_USERNAME` + `HALLMARK_ADMIN_PASSWORD[_FILE]`, HTTP Basic): the
    /// bootstrap of `api-key create`.
    pub fn from_env_or_admin_login(opts: &GlobalOpts) -> Result<AdminClient, CliError> {
        let c = creds::resolve(&sources(opts), &creds::process_env, true)?;
        AdminClient::new(
            &c.admin_url,
            Some(c.auth),
            Duration::from_secs(opts.timeout),
        )
    }

    /// A client of the admin API at `admin_url` (http or https, with or without
    /// `/api/v1`; no user-info), sending `auth` with every request.
    pub fn new(
        admin_url: &str,
        auth: Option<Auth>,
        timeout: Duration,
    ) -> Result<AdminClient, CliError> {
        let base = Base::parse(admin_url)?;
        let tls = if base.https {
            Some(fetch::tls_config()?)
        } else {
            None
        };
        Ok(AdminClient {
            base,
            auth,
            timeout,
            tls,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// The full URL of `path` (e.g. `/api/v1/passports`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.shown)
    }

    /// Sends `method path` with `body` as JSON; retries GET and HEAD (connect error, 429,
    /// 503, at most [`MAX_ATTEMPTS`]), sends anything else once. Any status is an answer:
    /// see [`Answer::ok`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, CliError> {
        let retry = method == Method::GET || method == Method::HEAD;
        self.send_bytes(method, path, json_bytes(body)?, retry)
            .await
    }

    /// As [`send`](Self::send), retried whatever the method: only for requests that are
    /// idempotent (e.g. the import batch, idempotent by `externalRef`).
    pub async fn retrying(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, CliError> {
        self.send_bytes(method, path, json_bytes(body)?, true).await
    }

    /// Sends `body` bytes exactly as given (JSON: `Content-Type: application/json`),
    /// retried only when `retry` is true.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        retry: bool,
    ) -> Result<Answer, CliError> {
        let mut attempt = 1;
        loop {
            let result = self.attempt(&method, path, body.clone()).await;
            let wait = match &result {
                Ok(answer) if retry && matches!(answer.status, 429 | 503) => {
                    retry_wait(answer.header(RETRY_AFTER.as_str()), attempt)
                }
                Err(f) if retry && f.retryable => Some(backoff(attempt)),
                _ => None,
            };
            match (wait, attempt < MAX_ATTEMPTS) {
                (Some(wait), true) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return result.map_err(|f| f.error),
            }
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Answer, Failed> {
        let url = self.url(path);
        match tokio::time::timeout(self.timeout, self.exchange(method, path, body, &url)).await {
            Ok(r) => r,
            Err(_) => Err(Failed {
                error: CliError::Network(format!(
                    "{url}: no answer within {} s (--timeout)",
                    self.timeout.as_secs()
                )),
                retryable: false,
            }),
        }
    }

    async fn exchange(
        &self,
        method: &Method,
        path: &str,
        body: Option<Bytes>,
        url: &str,
    ) -> Result<Answer, Failed> {
        let http = |detail: String| Failed {
            error: CliError::Network(format!("{url}: {detail}")),
            retryable: false,
        };
        let auth = match &self.auth {
            None => None,
            Some(auth) => {
                let mut value =
                    HeaderValue::from_str(&auth.header_value()).map_err(|_| Failed {
                        error: CliError::Usage(
                            "the API key or admin login holds characters a header cannot carry"
                                .into(),
                        ),
                        retryable: false,
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let request = || {
            let mut request = hyper::Request::builder()
                .method(method.clone())
                .uri(format!("{}{path}", self.base.prefix))
                .header(HOST, &self.base.authority)
                .header(ACCEPT, "application/json, application/problem+json")
                .header(USER_AGENT, USER_AGENT_VALUE);
            if let Some(value) = &auth {
                request = request.header(AUTHORIZATION, value.clone());
            }
            let body = match &body {
                Some(b) => {
                    request = request.header(CONTENT_TYPE, "application/json");
                    Full::new(b.clone())
                }
                None => Full::new(Bytes::new()),
            };
            request.body(body).map_err(|e| http(e.to_string()))
        };
        let (mut sender, reused) = self.sender(url).await?;
        let response = match sender.try_send_request(request()?).await {
            Ok(r) => r,
            Err(mut e) => {
                let unsent = e.take_message().is_some();
                if !(reused && unsent) {
                    // Failed on a reused connection, perhaps closed as it was sent: an
                    // idempotent request may be tried again.
                    return Err(Failed {
                        retryable: reused,
                        ..http(e.into_error().to_string())
                    });
                }
                // A kept-alive connection the node closed before a byte of this request was
                // written: nothing was sent, so a new connection may carry it, whatever it is.
                sender = self.connect(url).await?;
                sender
                    .send_request(request()?)
                    .await
                    .map_err(|e| http(e.to_string()))?
            }
        };
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| {
                http(format!(
                    "reading the answer (at most {MAX_ANSWER_BYTES} bytes): {e}"
                ))
            })?
            .to_bytes();
        if !sender.is_closed() {
            self.idle_senders().push(sender);
        }
        Ok(Answer {
            url: url.to_string(),
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    fn idle_senders(&self) -> std::sync::MutexGuard<'_, Vec<Sender>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An idle kept-alive connection that is still open (`true`), else a new one.
    async fn sender(&self, url: &str) -> Result<(Sender, bool), Failed> {
        loop {
            let idle = self.idle_senders().pop();
            match idle {
                Some(mut s) => {
                    if s.ready().await.is_ok() {
                        return Ok((s, true));
                    }
                }
                None => return Ok((self.connect(url).await?, false)),
            }
        }
    }

    /// A new connection (its driver spawned).
    async fn connect(&self, url: &str) -> Result<Sender, Failed> {
        let io = fetch::connect(url, &self.base.host, self.base.port, self.tls.clone())
            .await
            .map_err(|e| Failed {
                retryable: matches!(e, FetchError::Connect { .. }),
                error: e.into(),
            })?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(|e| Failed {
                    error: CliError::Network(format!("{url}: {e}")),
                    retryable: false,
                })?;
        tokio::spawn(conn);
        Ok(sender)
    }
}

/// What the options say about credentials.
fn sources(opts: &GlobalOpts) -> creds::Sources {
    creds::Sources {
        admin_url: opts.admin_url.clone(),
        profile: opts.profile.clone(),
    }
}

fn json_bytes(body: Option<&Value>) -> Result<Option<Bytes>, CliError> {
    body.map(|v| {
        serde_json::to_vec(v)
            .map(Bytes::from)
            .map_err(|e| CliError::Usage(format!("cannot serialise the request body: {e}")))
    })
    .transpose()
}

/// The wait before attempt `attempt + 1` after a 429/503: `Retry-After` in seconds when
/// given (none past [`MAX_RETRY_WAIT`]: the retries end), else the backoff.
fn retry_wait(retry_after: Option<&str>, attempt: u32) -> Option<Duration> {
    match retry_after.map(|v| v.trim().parse::<u64>()) {
        Some(Ok(secs)) => {
            let wait = Duration::from_secs(secs);
            (wait <= MAX_RETRY_WAIT).then_some(wait)
        }
        _ => Some(backoff(attempt)),
    }
}

/// 0.5 s, 1 s, 2 s, 4 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.saturating_sub(1).min(6))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn admin_urls_with_user_info_are_refused_without_echoing_them() {
        let e = Base::parse("https://op:s3cret@admin.example:8081").unwrap_err();
        assert!(matches!(e, CliError::Usage(_)));
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(matches!(
            Base::parse("ftp://admin.example"),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn the_api_prefix_is_optional_and_kept_behind_a_proxy() {
        let b = Base::parse("http://127.0.0.1:8081/api/v1/").unwrap();
        assert_eq!(b.prefix, "");
        assert_eq!(b.authority, "127.0.0.1:8081");
        let b = Base::parse("https://admin.example/hallmark").unwrap();
        assert_eq!(b.prefix, "/hallmark");
        assert_eq!(b.port, 443);
        assert_eq!(b.authority, "admin.example");
        assert_eq!(b.shown, "https://admin.example/hallmark");
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        assert_eq!(retry_wait(Some("3"), 1), Some(Duration::from_secs(3)));
        assert_eq!(retry_wait(Some("3600"), 1), None);
        assert_eq!(retry_wait(None, 1), Some(Duration::from_millis(500)));
        assert_eq!(retry_wait(Some("soon"), 3), Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_problem_answer_becomes_a_refusal_with_its_slug() {
        let a = Answer {
            url: "http://x/api/v1/passports/1/publish".into(),
            status: 409,
            headers: HeaderMap::new(),
            body: Bytes::from_static(
                br#"{"type":"urn:hallmark:problem:conflict","title":"Conflict","status":409,"detail":"no pending draft"}"#,
            ),
        };
        let e = a.ok().unwrap_err();
        assert_eq!(e.exit(), Exit::State);
        assert_eq!(
            e.to_string(),
            "http://x/api/v1/passports/1/publish: HTTP 409 conflict: Conflict: no pending draft"
        );
    }
}
