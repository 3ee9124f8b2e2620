//! Who a client is: the one place the node decides which address a connection or request is
//! counted against (connection caps, rate limits, failed-auth throttling, audit events).
//!
//! The client is the TCP peer's address, IPv6 reduced to its /64 — unless the peer is one of
//! the operator's **trusted proxies** (`HALLMARK_TRUSTED_PROXIES`, CIDR list, empty by
//! default). Only then are forwarding headers read: `Forwarded` (RFC 7239) if present, else
//! `X-Forwarded-For`, walked from the right (the hop nearest this node) past every trusted
//! proxy; the first address that is not one is the client. A client cannot choose its own
//! address: from an untrusted peer the headers are ignored, and everything a client may have
//! written to the left of the nearest untrusted hop is never read. A hop that cannot be
//! parsed (`unknown`, an obfuscated name, garbage) ends the walk at the proxy that reported
//! it, so such requests share that proxy's address rather than get a fresh one.
//! [`ClientAddr::for_request`] is the only place this happens: every consumer reads the
//! [`ClientAddr`] the connection service attached to the request (`client_ip`).

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The operator's reverse proxies: networks whose connections carry the real client in a
/// forwarding header. Empty by default (no header is ever trusted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list of CIDR networks or single addresses
    /// (`10.0.0.0/8, 192.0.2.7, ::1`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split([',', ' ', '\t', '\n']).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!("{item:?} is neither an address nor a CIDR network"))
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` (IPv4-mapped IPv6 as IPv4) is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The networks, for the `node.started` record and messages.
    pub fn networks(&self) -> impl Iterator<Item = &IpNet> {
        self.0.iter()
    }
}

/// One hop of a forwarding header, nearest last.
fn hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        let mut out = Vec::new();
        for element in forwarded.iter().flat_map(|v| v.split(',')) {
            let for_value = element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
            });
            out.push(for_value.and_then(forwarded_node));
        }
        return Some(out);
    }
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if xff.is_empty() {
        return None;
    }
    Some(
        xff.iter()
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().parse::<IpAddr>().ok())
            .collect(),
    )
}

/// The address in an RFC 7239 `for=` node: `192.0.2.60`, `"192.0.2.60:47011"`,
/// `"[2001:db8::17]"`, `"[2001:db8::17]:4711"`; `unknown` and obfuscated names give `None`.
fn forwarded_node(value: &str) -> Option<IpAddr> {
    let v = value.trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        let (addr, _) = rest.split_once(']')?;
        return addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let host = match v.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => v,
    };
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The address a client is counted against, already normalised (IPv4 and IPv4-mapped IPv6 as
/// IPv4; other IPv6 masked to /64, since one host usually owns a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientAddr(IpAddr);

impl ClientAddr {
    /// The client behind a TCP connection, known before any byte is read (the connection
    /// caps key on it).
    pub fn from_peer(peer: SocketAddr) -> Self {
        ClientAddr(normalise_ip(peer.ip()))
    }

    /// The client a request is attributed to (module docs): the peer, or — when the peer
    /// is a trusted proxy — the nearest address in its forwarding header that is not a
    /// trusted proxy. Resolved once per request by the connection service.
    pub fn for_request(peer: SocketAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> Self {
        if proxies.is_empty() || !proxies.contains(peer.ip()) {
            return Self::from_peer(peer);
        }
        let Some(hops) = hops(headers) else {
            return Self::from_peer(peer);
        };
        let mut client = peer.ip();
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if proxies.contains(*ip) => client = *ip,
                Some(ip) => return ClientAddr(normalise_ip(*ip)),
                // Unparseable: the proxy that reported it is as far as we can see.
                None => break,
            }
        }
        ClientAddr(normalise_ip(client))
    }

    /// Requests served without a connection (in-process tests) share this address.
    pub const UNKNOWN: ClientAddr = ClientAddr(IpAddr::V4(Ipv4Addr::UNSPECIFIED));

    /// The normalised address.
    pub fn ip(self) -> IpAddr {
        self.0
    }
}

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// IPv4 (and IPv4-mapped IPv6) as is; other IPv6 masked to /64.
pub fn normalise_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client address the rate limits and throttles key on: the [`ClientAddr`] the node's
/// connection service resolved for this request (`serve`, trusted proxies applied). Requests
/// served by another server with `ConnectInfo` (tests) count against the peer; without
/// either, the unspecified address.
pub fn client_ip(req: &Request) -> IpAddr {
    if let Some(client) = req.extensions().get::<ClientAddr>() {
        return client.ip();
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(ClientAddr::UNKNOWN, |ci| ClientAddr::from_peer(ci.0))
        .ip()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn ipv6_is_keyed_by_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(normalise_ip(a), normalise_ip(b));
        assert_ne!(normalise_ip(a), normalise_ip(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(normalise_ip(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        let v4: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(normalise_ip(v4), v4);
    }

    #[test]
    fn forwarding_headers_do_not_change_the_client() {
        let peer: SocketAddr = "[2001:db8:1:2:aaaa::1]:4711".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "192.0.2.99".parse().unwrap());
        let c = ClientAddr::for_request(peer, &headers, &TrustedProxies::default());
        assert_eq!(c, ClientAddr::from_peer(peer));
        assert_eq!(c.to_string(), "2001:db8:1:2::");
        // Nor from a peer that is not a trusted proxy.
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            ClientAddr::for_request(peer, &headers, &proxies),
            ClientAddr::from_peer(peer)
        );
    }

    fn resolve(peer: &str, name: &str, value: &str, proxies: &str) -> String {
        let mut headers = HeaderMap::new();
        headers.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        let proxies = TrustedProxies::parse(proxies).unwrap();
        ClientAddr::for_request(peer.parse().unwrap(), &headers, &proxies).to_string()
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let p = "10.0.0.0/8, 127.0.0.1";
        // One proxy.
        assert_eq!(
            resolve("10.1.1.1:1", "x-forwarded-for", "198.51.100.7", p),
            "198.51.100.7"
        );
        // A client-supplied address on the left is never read.
        assert_eq!(
            resolve(
                "10.1.1.1:1",
                "x-forwarded-for",
                "203.0.113.66, 198.51.100.7",
                p
            ),
            "198.51.100.7"
        );
        // Two proxies in a chain.
        assert_eq!(
            resolve(
                "127.0.0.1:1",
                "x-forwarded-for",
                "198.51.100.7, 10.2.2.2",
                p
            ),
            "198.51.100.7"
        );
        // Only proxies: the farthest one.
        assert_eq!(
            resolve("127.0.0.1:1", "x-forwarded-for", "10.3.3.3, 10.2.2.2", p),
            "10.3.3.3"
        );
        // Garbage stops at the proxy that reported it.
        assert_eq!(
            resolve("10.1.1.1:1", "x-forwarded-for", "nonsense", p),
            "10.1.1.1"
        );
        // No header: the proxy itself.
        let proxies = TrustedProxies::parse(p).unwrap();
        assert_eq!(
            ClientAddr::for_request("10.1.1.1:1".parse().unwrap(), &HeaderMap::new(), &proxies)
                .to_string(),
            "10.1.1.1"
        );
    }

    #[test]
    fn rfc_7239_forwarded_is_read_first() {
        let p = "10.0.0.0/8";
        assert_eq!(
            resolve(
                "10.1.1.1:1",
                "forwarded",
                "for=192.0.2.60;proto=https;by=10.1.1.1",
                p
            ),
            "192.0.2.60"
        );
        assert_eq!(
            resolve(
                "10.1.1.1:1",
                "forwarded",
                r#"for="[2001:db8:cafe::17]:4711""#,
                p
            ),
            "2001:db8:cafe::"
        );
        assert_eq!(
            resolve(
                "10.1.1.1:1",
                "forwarded",
                r#"for=203.0.113.9, for="198.51.100.2:8080""#,
                p
            ),
            "198.51.100.2"
        );
        assert_eq!(
            resolve("10.1.1.1:1", "forwarded", "for=unknown", p),
            "10.1.1.1"
        );
        assert_eq!(
            resolve("10.1.1.1:1", "forwarded", "for=_hidden", p),
            "10.1.1.1"
        );
    }

    #[test]
    fn the_proxy_list_parses_networks_and_addresses() {
        let t = TrustedProxies::parse("10.0.0.0/8 192.0.2.7,::1, 2001:db8::/32").unwrap();
        assert!(t.contains("10.200.0.1".parse().unwrap()));
        assert!(t.contains("192.0.2.7".parse().unwrap()));
        assert!(!t.contains("192.0.2.8".parse().unwrap()));
        assert!(t.contains("::1".parse().unwrap()));
        assert!(t.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(t.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
    }
}
