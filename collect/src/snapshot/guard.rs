//! The guard against requests to private addresses.
//!
//! Every host is resolved here and every one of its addresses checked before a connection is
//! made; a host with a single refused address is refused whole. The HTTP client gets a resolver
//! ([`CheckedResolver`]) that answers only with the addresses checked here, so a second lookup
//! cannot return something else (DNS rebinding). IP-literal links never reach a resolver, so they
//! are checked here explicitly.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::{AddressKind, SnapshotConfig, SnapshotError};

/// Classifies an address: `None` for an ordinary public address, else why it is refused.
/// IPv4 addresses carried inside IPv6 (mapped, compatible, NAT64, 6to4) are judged as IPv4.
pub(super) fn classify(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, c, _] = ip.octets();
    let kind = match (a, b, c) {
        (0, _, _) => AddressKind::Unspecified,
        (10, _, _) => AddressKind::Private,
        (100, 64..=127, _) => AddressKind::SharedCgnat,
        (127, _, _) => AddressKind::Loopback,
        (169, 254, _) => AddressKind::LinkLocal,
        (172, 16..=31, _) => AddressKind::Private,
        (192, 0, 0) => AddressKind::Reserved,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressKind::Documentation,
        (192, 88, 99) => AddressKind::Reserved,
        (192, 168, _) => AddressKind::Private,
        (198, 18..=19, _) => AddressKind::Documentation,
        (224..=239, _, _) => AddressKind::Multicast,
        _ if ip.is_broadcast() => AddressKind::Broadcast,
        (240..=255, _, _) => AddressKind::Reserved,
        _ => return None,
    };
    Some(kind)
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressKind> {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if ip.is_unspecified() {
        return Some(AddressKind::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressKind::Loopback);
    }
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    let kind = match segments {
        // ::a.b.c.d, the deprecated IPv4-compatible form.
        [0, 0, 0, 0, 0, 0, _, _] => AddressKind::Reserved,
        // 64:ff9b::/96, the well-known NAT64 prefix: judge the IPv4 address it carries.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => return classify_v4(embedded(high, low)),
        // 64:ff9b:1::/48, NAT64 for local use.
        [0x64, 0xff9b, 1, ..] => AddressKind::Reserved,
        // 100::/64, discard-only.
        [0x100, 0, 0, 0, ..] => AddressKind::Reserved,
        // 2001::/32 Teredo tunnels to any IPv4 address; 2001:2::/48 benchmarking; 2001:10::/28
        // and 2001:20::/28 ORCHID.
        [0x2001, 0, ..] | [0x2001, 0x10..=0x2f, ..] => AddressKind::Reserved,
        [0x2001, 2, 0, ..] => AddressKind::Documentation,
        [0x2001, 0xdb8, ..] => AddressKind::Documentation,
        // 2002::/16, 6to4: judge the IPv4 address it carries.
        [0x2002, high, low, ..] => return classify_v4(embedded(high, low)),
        // 3fff::/20, documentation.
        [0x3fff, 0..=0x0fff, ..] => AddressKind::Documentation,
        [0xfc00..=0xfdff, ..] => AddressKind::UniqueLocal,
        [0xfe80..=0xfebf, ..] => AddressKind::LinkLocal,
        // fec0::/10, the deprecated site-local range.
        [0xfec0..=0xfeff, ..] => AddressKind::UniqueLocal,
        [0xff00..=0xffff, ..] => AddressKind::Multicast,
        _ => return None,
    };
    Some(kind)
}

/// Whether the guard lets a connection to `addr` through under `config`.
pub(super) fn admits(addr: SocketAddr, config: &SnapshotConfig) -> Result<(), AddressKind> {
    match classify(addr.ip()) {
        None => Ok(()),
        Some(kind) if kind.is_local() && config.allow_private => Ok(()),
        Some(kind) if kind.is_local() && allowed_socket(addr, config) => Ok(()),
        Some(kind) => Err(kind),
    }
}

fn allowed_socket(addr: SocketAddr, config: &SnapshotConfig) -> bool {
    let canonical = |addr: SocketAddr| SocketAddr::new(addr.ip().to_canonical(), addr.port());
    config
        .allowed_sockets
        .iter()
        .any(|allowed| canonical(*allowed) == canonical(addr))
}

/// Resolves the host of `url` and checks every address, before any connection.
pub(super) async fn resolve(
    url: &Url,
    config: &SnapshotConfig,
) -> Result<Vec<SocketAddr>, SnapshotError> {
    let port = url.port_or_known_default().ok_or(SnapshotError::NoHost)?;
    let host = url.host().ok_or(SnapshotError::NoHost)?;
    let addrs: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Host::Domain(name) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|source| SnapshotError::Resolve {
                host: name.to_owned(),
                source,
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(SnapshotError::NoAddress {
            host: host.to_string(),
        });
    }
    for addr in &addrs {
        admits(*addr, config).map_err(|kind| SnapshotError::RefusedAddress {
            host: host.to_string(),
            addr: addr.ip(),
            kind,
        })?;
    }
    Ok(addrs)
}

/// The HTTP client's resolver: it answers only for hosts this guard has checked, and only with
/// the addresses that passed.
#[derive(Debug, Default)]
pub(super) struct CheckedResolver {
    checked: Mutex<HashMap<String, Vec<SocketAddr>>>,
}

impl CheckedResolver {
    /// Records the checked addresses of a host name.
    pub(super) fn admit(&self, host: &str, addrs: Vec<SocketAddr>) {
        let mut checked = self
            .checked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        checked.insert(host.to_owned(), addrs);
    }
}

/// The error the resolver gives for a name the guard has not checked (never expected: every
/// request goes through [`resolve`] first).
#[derive(Debug, thiserror::Error)]
#[error("{0} was not checked by the address guard")]
struct Unchecked(String);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let checked = self
            .checked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let found = checked.get(name.as_str()).cloned();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            match found {
                Some(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                None => Err(Box::new(Unchecked(name)) as _),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn kind(ip: &str) -> Option<AddressKind> {
        classify(ip.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        use AddressKind::*;
        let cases = [
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("10.0.0.1", Some(Private)),
            ("10.255.255.255", Some(Private)),
            ("100.63.255.255", None),
            ("100.64.0.1", Some(SharedCgnat)),
            ("100.127.255.254", Some(SharedCgnat)),
            ("100.128.0.0", None),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("169.254.169.254", Some(LinkLocal)),
            ("172.15.255.255", None),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.0", None),
            ("192.0.0.8", Some(Reserved)),
            ("192.0.2.1", Some(Documentation)),
            ("192.88.99.1", Some(Reserved)),
            ("192.168.1.1", Some(Private)),
            ("192.169.0.1", None),
            ("198.18.0.1", Some(Documentation)),
            ("198.19.255.255", Some(Documentation)),
            ("198.20.0.0", None),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.9", Some(Documentation)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("240.0.0.1", Some(Reserved)),
            ("255.255.255.254", Some(Reserved)),
            ("255.255.255.255", Some(Broadcast)),
            ("1.1.1.1", None),
            ("8.8.8.8", None),
            ("93.184.215.14", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        use AddressKind::*;
        let cases = [
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("::7f00:1", Some(Reserved)),
            ("64:ff9b::a00:1", Some(Private)),
            ("64:ff9b::808:808", None),
            ("64:ff9b:1::1", Some(Reserved)),
            ("100::1", Some(Reserved)),
            ("2001::1", Some(Reserved)),
            ("2001:2::1", Some(Documentation)),
            ("2001:10::1", Some(Reserved)),
            ("2001:db8::1", Some(Documentation)),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:a9fe:a9fe::1", Some(LinkLocal)),
            ("2002:808:808::1", None),
            ("3fff::1", Some(Documentation)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("fec0::1", Some(UniqueLocal)),
            ("ff02::1", Some(Multicast)),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001:80b::200e", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_is_judged_as_ipv4() {
        use AddressKind::*;
        assert_eq!(kind("::ffff:127.0.0.1"), Some(Loopback));
        assert_eq!(kind("::ffff:10.1.2.3"), Some(Private));
        assert_eq!(kind("::ffff:169.254.169.254"), Some(LinkLocal));
        assert_eq!(kind("::ffff:100.64.0.1"), Some(SharedCgnat));
        assert_eq!(kind("::ffff:0.0.0.0"), Some(Unspecified));
        assert_eq!(kind("::ffff:8.8.8.8"), None);
    }

    #[test]
    fn allow_private_lifts_local_kinds_only() {
        let open = SnapshotConfig {
            allow_private: true,
            ..SnapshotConfig::default()
        };
        let strict = SnapshotConfig::default();
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.0.10",
            "100.100.1.1",
            "fd00::1",
            "fe80::1",
        ] {
            let addr = SocketAddr::new(ip.parse().unwrap(), 80);
            assert!(admits(addr, &open).is_ok(), "{ip}");
            assert!(admits(addr, &strict).is_err(), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "240.0.0.1",
        ] {
            let addr = SocketAddr::new(ip.parse().unwrap(), 80);
            assert!(admits(addr, &open).is_err(), "{ip}");
        }
    }

    #[test]
    fn an_allowed_socket_is_that_exact_address_and_port() {
        let config = SnapshotConfig {
            allowed_sockets: vec!["127.0.0.1:8080".parse().unwrap()],
            ..SnapshotConfig::default()
        };
        assert!(admits("127.0.0.1:8080".parse().unwrap(), &config).is_ok());
        assert!(admits("[::ffff:127.0.0.1]:8080".parse().unwrap(), &config).is_ok());
        assert_eq!(
            admits("127.0.0.1:8081".parse().unwrap(), &config),
            Err(AddressKind::Loopback)
        );
        assert_eq!(
            admits("127.0.0.2:8080".parse().unwrap(), &config),
            Err(AddressKind::Loopback)
        );
        assert_eq!(
            admits("[::1]:8080".parse().unwrap(), &config),
            Err(AddressKind::Loopback)
        );
    }

    #[tokio::test]
    async fn ip_literal_links_are_checked_without_a_resolver() {
        let config = SnapshotConfig::default();
        for link in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0:8080/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[fd00::1]/",
        ] {
            let url = Url::parse(link).unwrap();
            match resolve(&url, &config).await {
                Err(SnapshotError::RefusedAddress { .. }) => {}
                other => panic!("{link}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        let url = Url::parse("http://localhost:9/").unwrap();
        match resolve(&url, &SnapshotConfig::default()).await {
            Err(SnapshotError::RefusedAddress { host, kind, .. }) => {
                assert_eq!(host, "localhost");
                assert_eq!(kind, AddressKind::Loopback);
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_resolver_answers_only_for_checked_names() {
        let resolver = CheckedResolver::default();
        let addr: SocketAddr = "93.184.215.14:443".parse().unwrap();
        resolver.admit("example.org", vec![addr]);
        let found: Vec<_> = Resolve::resolve(&resolver, "example.org".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(found, vec![addr]);
        assert!(
            Resolve::resolve(&resolver, "example.net".parse().unwrap())
                .await
                .is_err()
        );
    }
}
