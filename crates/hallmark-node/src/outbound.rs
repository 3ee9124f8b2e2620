//! One-shot outbound HTTP(S) requests, for the node and its CLI alike: the node's webhook
//! deliveries (`crate::webhooks`), the GETs of `hallmark verify --from` (the credential from
//! a node, its status lists and their log evidence, the issuer's DID document from its
//! did:web location), and the reader's requests of `hallmark reader register|status` and
//! `hallmark fetch` ([`send`]: any method, extra header fields such as a signature, a body;
//! the URL parsed once as a [`Target`], so that what is signed is what is sent). https uses
//! rustls (ring provider) with the operating system's trust roots; no redirect is followed,
//! answers are capped in size and the whole exchange in time ([`send_within`] for a bound of
//! one's own). [`connect`] and [`tls_config`] are shared with the CLI's admin client of the
//! control-plane commands.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, ACCEPT, HOST, USER_AGENT};
use hyper::Method;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, pki_types::ServerName};

/// The largest answer read (credentials and DID documents are kilobytes).
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// Bound on one whole exchange: connect, TLS, request, answer.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// `User-Agent` of every request.
const USER_AGENT_VALUE: &str = concat!("hallmark/", env!("CARGO_PKG_VERSION"));

/// Why a GET gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an absolute http(s) URL.
    #[error("{url}: not an http:// or https:// URL")]
    Url {
        /// The URL.
        url: String,
    },
    /// TCP connection failed.
    #[error("{url}: cannot connect: {source}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS handshake or certificate check failed.
    #[error("{url}: TLS: {source}")]
    Tls {
        /// The URL.
        url: String,
        /// Why.
        source: std::io::Error,
    },
    /// No trusted root certificate could be loaded from the system.
    #[error("no trusted root certificates on this system ({0}); install the CA certificates (e.g. the ca-certificates package)")]
    Roots(String),
    /// The HTTP exchange failed.
    #[error("{url}: {detail}")]
    Http {
        /// The URL.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The destination was refused before anything was sent (an address that is not
    /// public: [`is_public_address`]).
    #[error("{url}: refused: {detail}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The exchange took longer than its bound ([`TIMEOUT`] unless given).
    #[error("{url}: no answer within {seconds} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The bound (whole seconds).
        seconds: u64,
    },
}

/// An answer, whatever its status.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body (at most [`MAX_ANSWER_BYTES`]).
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Where a URL points, as a request and its signature see it: parsed once, so that what a
/// reader signs (`@target-uri`, RFC 9421) is what is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given (for messages).
    pub url: String,
    /// `https` (else `http`).
    pub https: bool,
    /// The host as a URL spells it (lower case; IPv6 literals bracketed).
    pub host: String,
    /// The port connected to (the scheme's default when the URL names none).
    pub port: u16,
    /// `host[:port]`, the port only when it is not the scheme's default: the `Host` header
    /// and the signed authority.
    pub authority: String,
    /// The absolute path, percent-encoded as sent.
    pub path: String,
    /// The query without its `?`, if any.
    pub query: Option<String>,
}

impl Target {
    /// Parses an absolute http(s) URL (its fragment is dropped: it is never sent).
    ///
    /// # Errors
    /// [`FetchError::Url`] for anything else.
    pub fn parse(url: &str) -> Result<Target, FetchError> {
        let bad = || FetchError::Url {
            url: url.to_string(),
        };
        let parsed = url::Url::parse(url).map_err(|_| bad())?;
        let https = match parsed.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(bad()),
        };
        let host = parsed.host_str().ok_or_else(bad)?.to_ascii_lowercase();
        let port = parsed.port_or_known_default().ok_or_else(bad)?;
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        Ok(Target {
            url: url.to_string(),
            https,
            host,
            port,
            authority,
            path: parsed.path().to_string(),
            query: parsed.query().map(str::to_string),
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The request target: the path and `?query`.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// The URL in the form a signature covers as `@target-uri`: scheme, authority (lower
    /// case, no default port), path and `?query`.
    pub fn target_uri(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme(),
            self.authority,
            self.path_and_query()
        )
    }
}

/// One request: a method, a target, `Accept`, further header fields, and a body.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// The method.
    pub method: Method,
    /// Where to.
    pub target: &'a Target,
    /// The `Accept` value.
    pub accept: &'a str,
    /// Further header fields (e.g. `Content-Type`, `Signature-Input`, `Signature`).
    pub headers: Vec<(HeaderName, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl<'a> Outgoing<'a> {
    /// A GET of `target` with `Accept: accept`, nothing else.
    pub fn get(target: &'a Target, accept: &'a str) -> Outgoing<'a> {
        Outgoing {
            method: Method::GET,
            target,
            accept,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// GET `url` with `Accept: accept`.
pub async fn get(url: &str, accept: &str) -> Result<Answer, FetchError> {
    let target = Target::parse(url)?;
    send(&Outgoing::get(&target, accept)).await
}

/// Sends `request` on a new connection (no redirect followed, the answer capped at
/// [`MAX_ANSWER_BYTES`], the whole exchange bounded by [`TIMEOUT`]).
pub async fn send(request: &Outgoing<'_>) -> Result<Answer, FetchError> {
    send_within(request, TIMEOUT).await
}

/// [`send`], the whole exchange bounded by `timeout` (reported as [`FetchError::Timeout`]).
pub async fn send_within(request: &Outgoing<'_>, timeout: Duration) -> Result<Answer, FetchError> {
    let url = &request.target.url;
    tokio::time::timeout(timeout, exchange(request))
        .await
        .map_err(|_| FetchError::Timeout {
            url: url.clone(),
            seconds: timeout.as_secs(),
        })?
}

async fn exchange(request: &Outgoing<'_>) -> Result<Answer, FetchError> {
    let target = request.target;
    let tls = if target.https {
        Some(tls_config()?)
    } else {
        None
    };
    let io = connect(&target.url, &target.host, target.port, tls).await?;
    request.send_on(io, MAX_ANSWER_BYTES).await
}

/// [`send_within`] to one address the caller has checked (e.g. with [`resolve_public`]),
/// never to another the name might resolve to by then (DNS rebinding): the TCP connection
/// goes to `addr`, the TLS server name checked is the target's host. The answer is capped
/// at `max_answer` bytes (a longer one is an error), the whole exchange at `timeout`.
pub async fn send_to(
    request: &Outgoing<'_>,
    addr: SocketAddr,
    timeout: Duration,
    max_answer: usize,
) -> Result<Answer, FetchError> {
    let target = request.target;
    let url = &target.url;
    let exchange = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| FetchError::Connect {
                url: url.clone(),
                source,
            })?;
        let io: Box<dyn Io> = if target.https {
            let bare = target.host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(bare.to_string())
                .map_err(|_| FetchError::Url { url: url.clone() })?;
            let tls = tokio_rustls::TlsConnector::from(tls_config()?)
                .connect(name, tcp)
                .await
                .map_err(|source| FetchError::Tls {
                    url: url.clone(),
                    source,
                })?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        request.send_on(io, max_answer).await
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| FetchError::Timeout {
            url: url.clone(),
            seconds: timeout.as_secs(),
        })?
}

/// The one address of `target` to connect to, after checking every address its host
/// resolves to (an IP literal is its own address): each must be public
/// ([`is_public_address`]), else [`FetchError::Refused`] — a name with one private address
/// among public ones is refused too. The name lookup is bounded by `timeout`.
pub async fn resolve_public(target: &Target, timeout: Duration) -> Result<SocketAddr, FetchError> {
    let url = &target.url;
    let bare = target.host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => tokio::time::timeout(timeout, tokio::net::lookup_host((bare, target.port)))
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.clone(),
                seconds: timeout.as_secs(),
            })?
            .map_err(|source| FetchError::Connect {
                url: url.clone(),
                source,
            })?
            .collect(),
    };
    if let Some(bad) = addrs.iter().find(|a| !is_public_address(a.ip())) {
        return Err(FetchError::Refused {
            url: url.clone(),
            detail: format!(
                "{} resolves to {}, which is not a public address (loopback, private, \
                 link-local, unspecified, multicast or reserved addresses are never fetched)",
                target.host,
                bad.ip()
            ),
        });
    }
    addrs.first().copied().ok_or_else(|| FetchError::Refused {
        url: url.clone(),
        detail: format!("{} resolves to no address", target.host),
    })
}

/// Whether `ip` is a public unicast address the node may fetch from on a client's behalf:
/// not unspecified, loopback, private (RFC 1918, IPv6 unique local), shared (100.64/10),
/// link-local, multicast, broadcast, documentation, benchmarking or reserved, and for an
/// IPv6 address embedding an IPv4 one (mapped, compatible, NAT64, 6to4) not embedding such
/// an address; Teredo and site-local are refused.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: usize| {
                Ipv4Addr::new(
                    (s[hi] >> 8) as u8,
                    s[hi] as u8,
                    (s[hi + 1] >> 8) as u8,
                    s[hi + 1] as u8,
                )
            };
            if v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() {
                return false;
            }
            match s {
                // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d.
                [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => {
                    is_public_v4(embedded(6))
                }
                // NAT64 64:ff9b::/96.
                [0x64, 0xff9b, 0, 0, 0, 0, _, _] => is_public_v4(embedded(6)),
                // 6to4 2002::/16 carries an IPv4 address in its next 32 bits.
                [0x2002, _, _, _, _, _, _, _] => is_public_v4(embedded(1)),
                // Teredo 2001::/32, documentation 2001:db8::/32, discard 100::/64.
                [0x2001, 0, ..] | [0x2001, 0xdb8, ..] | [0x100, 0, 0, 0, ..] => false,
                // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
                [first, ..] if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80 => false,
                [first, ..] if first & 0xffc0 == 0xfec0 => false,
                _ => true,
            }
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)))
}

/// A connected byte stream: plain TCP, or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Connects to `host` (as a URL spells it: IPv6 literals bracketed) on `port`, over TLS
/// when `tls` is given (the server name checked is `host`); `url` only words errors. Shared
/// by the one-shot GETs here and the admin client's keep-alive connections (`client.rs`).
pub async fn connect(
    url: &str,
    host: &str,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Box<dyn Io>, FetchError> {
    // IPv6 literals are bracketed in URLs, not in socket addresses or server names.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((bare, port))
        .await
        .map_err(|source| FetchError::Connect {
            url: url.to_string(),
            source,
        })?;
    let Some(config) = tls else {
        return Ok(Box::new(tcp));
    };
    let name = ServerName::try_from(bare.to_string()).map_err(|_| FetchError::Url {
        url: url.to_string(),
    })?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|source| FetchError::Tls {
            url: url.to_string(),
            source,
        })?;
    Ok(Box::new(tls))
}

impl Outgoing<'_> {
    async fn send_on<S>(&self, io: S, max_answer: usize) -> Result<Answer, FetchError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let http = |detail: String| FetchError::Http {
            url: self.target.url.clone(),
            detail,
        };
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(|e| http(e.to_string()))?;
        let driver = tokio::spawn(conn);
        let mut request = hyper::Request::builder()
            .method(self.method.clone())
            .uri(self.target.path_and_query())
            .header(HOST, &self.target.authority)
            .header(ACCEPT, self.accept)
            .header(USER_AGENT, USER_AGENT_VALUE);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let body = Full::new(Bytes::from(self.body.clone().unwrap_or_default()));
        let request = request.body(body).map_err(|e| http(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| http(e.to_string()))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, max_answer)
            .collect()
            .await
            .map_err(|e| http(format!("reading the answer: {e}")))?
            .to_bytes()
            .to_vec();
        driver.abort();
        Ok(Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}

/// rustls with the ring provider and the system's trust roots.
///
/// ring rather than rustls's default aws-lc-rs: aws-lc carries the OpenSSL licence, which
/// deny.toml does not allow, and builds a large C library. rustls marks ring's provider
/// deprecated for lacking post-quantum key exchange; what travels here is public (a
/// credential, a DID document, an event) and its authenticity rests on the certificate check.
#[allow(deprecated)]
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, FetchError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map_or_else(|| "none found".to_string(), ToString::to_string);
        return Err(FetchError::Roots(why));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| FetchError::Roots(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn only_public_addresses_are_public() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001::1",
            "2001:db8::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_public_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert!(is_public_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn names_are_checked_by_every_address_they_resolve_to() {
        let rt = rt();
        for url in [
            "https://localhost/.well-known/did.json",
            "https://127.0.0.1/.well-known/did.json",
            "https://10.1.2.3:8443/x/did.json",
            "https://169.254.169.254/.well-known/did.json",
            "https://[::1]/.well-known/did.json",
        ] {
            let target = Target::parse(url).unwrap();
            let e = rt
                .block_on(resolve_public(&target, Duration::from_secs(5)))
                .unwrap_err();
            assert!(matches!(e, FetchError::Refused { .. }), "{url}: {e}");
        }
        let target = Target::parse("https://93.184.215.14/").unwrap();
        assert_eq!(
            rt.block_on(resolve_public(&target, Duration::from_secs(5)))
                .unwrap(),
            "93.184.215.14:443".parse().unwrap()
        );
    }

    #[test]
    fn send_to_connects_to_the_address_given_and_caps_the_answer() {
        // A listener that records the request head and answers 40 bytes.
        let rt = rt();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        rt.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
                let body = "x".repeat(40);
                let _ = s
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\ncontent-length: 40\r\n\r\n{body}").as_bytes(),
                    )
                    .await;
            }
        });
        // The name is never looked up: the connection goes to `addr`.
        let url = format!("http://issuer.invalid:{}/did.json", addr.port());
        let target = Target::parse(&url).unwrap();
        let request = Outgoing::get(&target, "application/json");
        let answer = rt
            .block_on(send_to(&request, addr, Duration::from_secs(30), 1024))
            .unwrap();
        assert_eq!((answer.status, answer.body.len()), (200, 40));
        let head = rt.block_on(rx.recv()).unwrap().to_ascii_lowercase();
        assert!(
            head.contains(&format!("host: issuer.invalid:{}", addr.port())),
            "{head}"
        );
        let e = rt
            .block_on(send_to(&request, addr, Duration::from_secs(30), 10))
            .unwrap_err();
        assert!(matches!(e, FetchError::Http { .. }), "{e}");
    }

    #[test]
    fn only_absolute_http_urls_are_fetched() {
        for url in ["ftp://x/y", "file:///etc/passwd", "localhost:8080/x", ""] {
            let e = rt().block_on(get(url, "*/*")).unwrap_err();
            assert!(matches!(e, FetchError::Url { .. }), "{url}: {e}");
        }
    }

    #[test]
    fn https_to_a_plain_http_listener_fails_in_the_tls_handshake() {
        // A loopback listener that answers like plain HTTP: the TLS client must refuse it.
        let rt = rt();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        rt.spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("https://localhost:{port}/.well-known/did.json");
        let e = rt.block_on(get(&url, "*/*")).unwrap_err();
        assert!(
            matches!(e, FetchError::Tls { .. } | FetchError::Roots(_)),
            "{e}"
        );
    }
}
