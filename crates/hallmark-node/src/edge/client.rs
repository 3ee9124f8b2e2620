//! Who a client is: the one place the node decides which address a connection or request is
//! counted against (connection caps, rate limits, failed-auth throttling, audit events).
//!
//! Today that is the TCP peer's address, IPv6 reduced to its /64. Trusted-proxy rules
//! (`X-Forwarded-For` from configured proxies) belong in [`ClientAddr::for_request`] and
//! nowhere else: every consumer reads the [`ClientAddr`] the connection service attached to
//! the request (`client_ip`).

use axum::http::HeaderMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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

    /// The client a request is attributed to. Resolved once per request by the connection
    /// service; this is where trusted-proxy rules will read forwarding headers. Until then
    /// the headers are ignored: a client cannot choose its own address.
    pub fn for_request(peer: SocketAddr, _headers: &HeaderMap) -> Self {
        Self::from_peer(peer)
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
        let c = ClientAddr::for_request(peer, &headers);
        assert_eq!(c, ClientAddr::from_peer(peer));
        assert_eq!(c.to_string(), "2001:db8:1:2::");
    }
}
