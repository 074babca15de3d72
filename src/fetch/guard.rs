//! The address guard: which IP addresses a fetch (and an alert delivery) may
//! connect to.
//!
//! A page's URL, and every redirect it leads through, must not reach the
//! machine's own network: loopback, private, link-local, unique-local,
//! shared (CGNAT), multicast, unspecified, broadcast, documentation,
//! benchmarking and reserved addresses are refused, and so are their
//! IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms. How much is
//! allowed is a [`Reach`]:
//!
//! - [`Reach::Public`]: public addresses only (a URL on a public host);
//! - [`Reach::Loopback`]: also loopback (the default for a URL whose own host
//!   is loopback: `127.0.0.0/8`, `::1` or `localhost`);
//! - [`Reach::Private`]: every non-public class above but the ones that are
//!   never a web server (multicast, unspecified, broadcast, documentation,
//!   benchmarking, reserved), for an intranet page (`allow_private = true`).
//!
//! The cloud metadata endpoints ([`METADATA`]) are refused under every reach,
//! and once a redirect chain has reached a public address, the rest of it is
//! held to [`Reach::Public`].
//!
//! The check is made where the connection is made: [`GuardedClients`] builds
//! one reqwest client per reach, each with a DNS resolver that drops the
//! addresses its reach refuses, so a name that resolves to a public address
//! when looked at and to a private one when dialled (DNS rebinding) is still
//! refused. Hosts written as IP literals never reach a resolver, so
//! [`Reach::admit_host`] checks them before each request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// What kind of address an IP address is, for the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// A public (globally routed) address.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, and the deprecated
    /// IPv6 site-local `fec0::/10`.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `100.64.0.0/10`, the carrier-grade NAT range (RFC 6598).
    Shared,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `0.0.0.0`, `::` (and the rest of `0.0.0.0/8`, "this network").
    Unspecified,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`,
    /// `3fff::/20` (RFC 5737, 3849, 9637).
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48` (RFC 2544, 5180).
    Benchmarking,
    /// Ranges set aside by the IANA registries and never a web server:
    /// `192.0.0.0/24`, `240.0.0.0/4`, `100::/64`, `2001::/23` (Teredo
    /// included), ...
    Reserved,
}

impl AddressClass {
    /// `private address`, `link-local address`, ... as said in messages.
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "public address",
            AddressClass::Loopback => "loopback address",
            AddressClass::Private => "private address",
            AddressClass::LinkLocal => "link-local address",
            AddressClass::UniqueLocal => "unique-local address",
            AddressClass::Shared => "shared (CGNAT) address",
            AddressClass::Multicast => "multicast address",
            AddressClass::Unspecified => "unspecified address",
            AddressClass::Broadcast => "broadcast address",
            AddressClass::Documentation => "documentation address",
            AddressClass::Benchmarking => "benchmarking address",
            AddressClass::Reserved => "reserved address",
        }
    }

    /// True for [`AddressClass::Public`].
    pub fn is_public(self) -> bool {
        self == AddressClass::Public
    }
}

/// The cloud metadata endpoints (AWS, GCP, Azure, OpenStack, DigitalOcean at
/// `169.254.169.254`; AWS over IPv6 at `fd00:ec2::254`; AWS ECS task metadata
/// at `169.254.170.2`; Alibaba Cloud at `100.100.100.200`): refused under
/// every [`Reach`], since they hand out credentials to whatever asks.
pub const METADATA: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
];

/// IPv4 ranges that are not public, most specific first (the first match
/// wins). Source: the IANA IPv4 Special-Purpose Address Registry.
const V4_RANGES: [(Ipv4Net, AddressClass); 16] = [
    (v4(255, 255, 255, 255, 32), AddressClass::Broadcast),
    (v4(0, 0, 0, 0, 8), AddressClass::Unspecified),
    (v4(10, 0, 0, 0, 8), AddressClass::Private),
    (v4(100, 64, 0, 0, 10), AddressClass::Shared),
    (v4(127, 0, 0, 0, 8), AddressClass::Loopback),
    (v4(169, 254, 0, 0, 16), AddressClass::LinkLocal),
    (v4(172, 16, 0, 0, 12), AddressClass::Private),
    (v4(192, 0, 0, 0, 24), AddressClass::Reserved),
    (v4(192, 0, 2, 0, 24), AddressClass::Documentation),
    (v4(192, 88, 99, 0, 24), AddressClass::Reserved),
    (v4(192, 168, 0, 0, 16), AddressClass::Private),
    (v4(198, 18, 0, 0, 15), AddressClass::Benchmarking),
    (v4(198, 51, 100, 0, 24), AddressClass::Documentation),
    (v4(203, 0, 113, 0, 24), AddressClass::Documentation),
    (v4(224, 0, 0, 0, 4), AddressClass::Multicast),
    (v4(240, 0, 0, 0, 4), AddressClass::Reserved),
];

/// IPv6 ranges that are not public and embed no IPv4 address (those are
/// unwrapped first, see [`classify`]). Source: the IANA IPv6 Special-Purpose
/// Address Registry.
const V6_RANGES: [(Ipv6Net, AddressClass); 11] = [
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), AddressClass::Loopback),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), AddressClass::Unspecified),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), AddressClass::Reserved),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),
        AddressClass::Benchmarking,
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        AddressClass::Documentation,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        AddressClass::Reserved,
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        AddressClass::Documentation,
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        AddressClass::UniqueLocal,
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        AddressClass::LinkLocal,
    ),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), AddressClass::Private),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        AddressClass::Multicast,
    ),
];

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(s: [u16; 8], prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        prefix,
    )
}

/// The IPv4 address an IPv6 address carries and a dual-stack host would
/// connect to: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`,
/// deprecated), NAT64 (`64:ff9b::a.b.c.d`, `64:ff9b:1::/48`) and 6to4
/// (`2002:AABB:CCDD::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    // `::` and `::1` are IPv6's own unspecified and loopback addresses.
    if s[..6] == [0; 6] && !matches!(ip.to_bits(), 0 | 1) {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// The class of an address; an IPv6 address carrying an IPv4 one (see the
/// module docs) has the class of the IPv4 address it carries.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => V4_RANGES
            .iter()
            .find(|(net, _)| net.contains(&v4))
            .map_or(AddressClass::Public, |(_, class)| *class),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => classify(IpAddr::V4(v4)),
            None => V6_RANGES
                .iter()
                .find(|(net, _)| net.contains(&v6))
                .map_or(AddressClass::Public, |(_, class)| *class),
        },
    }
}

/// True for a cloud metadata endpoint ([`METADATA`]), in any IPv6 form that
/// carries it.
pub fn is_metadata(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    METADATA.contains(&ip)
}

/// Why the guard refused an address: its class, and whether it is a cloud
/// metadata endpoint. Displays as `private address 10.0.0.1` or `link-local
/// address 169.254.169.254, a cloud metadata endpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The address refused.
    pub ip: IpAddr,
    /// Its class.
    pub class: AddressClass,
    /// True for a cloud metadata endpoint.
    pub metadata: bool,
}

impl Refusal {
    /// True when `allow_private = true` would have admitted the address.
    pub fn private_would_admit(&self) -> bool {
        Reach::Private.admit(self.ip).is_ok()
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.class.describe(), self.ip)?;
        if self.metadata {
            f.write_str(", a cloud metadata endpoint")?;
        }
        Ok(())
    }
}

/// Which addresses a fetch or delivery may connect to (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Public addresses only.
    Public,
    /// Public and loopback addresses.
    Loopback,
    /// Public, loopback, private, link-local, unique-local and shared
    /// addresses; never a metadata endpoint.
    Private,
}

impl Reach {
    /// The reach of a target or channel whose URL is `url`: `allow_private =
    /// true` gives [`Reach::Private`], `false` [`Reach::Public`]; unset, a
    /// URL whose own host is loopback (`127.0.0.0/8`, `::1`, `localhost`)
    /// gets [`Reach::Loopback`], any other [`Reach::Public`].
    pub fn for_url(url: &Url, allow_private: Option<bool>) -> Reach {
        match allow_private {
            Some(true) => Reach::Private,
            Some(false) => Reach::Public,
            None if is_loopback_host(url) => Reach::Loopback,
            None => Reach::Public,
        }
    }

    /// Whether this reach may connect to `ip`.
    ///
    /// # Errors
    /// The [`Refusal`] when it may not.
    pub fn admit(self, ip: IpAddr) -> Result<(), Refusal> {
        let class = classify(ip);
        let metadata = is_metadata(ip);
        let admitted = !metadata
            && match self {
                Reach::Public => class.is_public(),
                Reach::Loopback => matches!(class, AddressClass::Public | AddressClass::Loopback),
                Reach::Private => matches!(
                    class,
                    AddressClass::Public
                        | AddressClass::Loopback
                        | AddressClass::Private
                        | AddressClass::LinkLocal
                        | AddressClass::UniqueLocal
                        | AddressClass::Shared
                ),
            };
        if admitted {
            Ok(())
        } else {
            Err(Refusal {
                ip,
                class,
                metadata,
            })
        }
    }

    /// Checks a URL whose host is an IP literal (which no resolver sees);
    /// a host name passes here and is checked when resolved.
    ///
    /// # Errors
    /// The [`Refusal`] when the literal address is refused.
    pub fn admit_host(self, url: &Url) -> Result<(), Refusal> {
        match url.host() {
            Some(Host::Ipv4(ip)) => self.admit(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.admit(IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }

    /// The reach for the rest of a redirect chain after a hop answered from
    /// `peer`: once a public address has answered, only public addresses may
    /// follow (a public site must not steer a fetch into the local network).
    /// An unknown peer counts as public.
    pub fn after(self, peer: Option<SocketAddr>) -> Reach {
        match peer {
            Some(addr) if !classify(addr.ip()).is_public() => self,
            _ => Reach::Public,
        }
    }
}

/// True when the URL's own host is loopback: `localhost` (or a name under
/// `.localhost`, RFC 6761), `127.0.0.0/8` or `::1`.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => classify(IpAddr::V4(ip)) == AddressClass::Loopback,
        Some(Host::Ipv6(ip)) => classify(IpAddr::V6(ip)) == AddressClass::Loopback,
        None => false,
    }
}

/// A host name whose every address was refused; the error the guarded
/// resolver fails with, found again in the reqwest error's source chain by
/// [`refused_host`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{host}` resolves to {refusal}")]
pub struct HostRefused {
    /// The host name.
    pub host: String,
    /// The first address refused.
    pub refusal: Refusal,
}

/// The [`HostRefused`] behind a failed request, when the guard was the cause.
pub fn refused_host<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e HostRefused> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<HostRefused>() {
            return Some(r);
        }
        next = e.source();
    }
    None
}

/// A DNS resolver (the system's, through tokio) that drops the addresses its
/// reach refuses, and fails with [`HostRefused`] when none is left.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    reach: Reach,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_guarded(self.reach, name.as_str().to_string()))
    }
}

/// Looks `host` up and keeps the addresses `reach` admits.
async fn resolve_guarded(
    reach: Reach,
    host: String,
) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
    let mut admitted = Vec::new();
    let mut first_refusal = None;
    for addr in found {
        match reach.admit(addr.ip()) {
            Ok(()) => admitted.push(addr),
            Err(refusal) => {
                tracing::debug!(%host, %refusal, "address refused");
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    match (admitted.is_empty(), first_refusal) {
        (true, Some(refusal)) => Err(Box::new(HostRefused { host, refusal })),
        _ => Ok(Box::new(admitted.into_iter())),
    }
}

/// How a reqwest client is configured, all but its resolver.
type Configure = dyn Fn() -> reqwest::ClientBuilder + Send + Sync;

/// One reqwest client per [`Reach`], each resolving names through a guarded
/// resolver, all configured alike; each is built when first used. Cheap to
/// clone (the clients and their connection pools are shared).
#[derive(Clone)]
pub struct GuardedClients {
    configure: Arc<Configure>,
    clients: Arc<[OnceLock<Result<reqwest::Client, String>>; 3]>,
}

impl std::fmt::Debug for GuardedClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedClients").finish_non_exhaustive()
    }
}

impl GuardedClients {
    /// Clients configured by `configure` (everything but the resolver, and
    /// proxies, which are off: a proxy would be dialled instead of the
    /// page's host, and the guard could no longer see where a request goes).
    pub fn new(configure: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static) -> Self {
        GuardedClients {
            configure: Arc::new(configure),
            clients: Arc::new([OnceLock::new(), OnceLock::new(), OnceLock::new()]),
        }
    }

    /// The client for `reach`, built on first use.
    ///
    /// # Errors
    /// reqwest's message when the client cannot be built (TLS setup).
    pub fn get(&self, reach: Reach) -> Result<&reqwest::Client, String> {
        let slot = match reach {
            Reach::Public => &self.clients[0],
            Reach::Loopback => &self.clients[1],
            Reach::Private => &self.clients[2],
        };
        slot.get_or_init(|| {
            (self.configure)()
                .dns_resolver(GuardedResolver { reach })
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_address_class_is_recognised() {
        use AddressClass::*;
        let cases = [
            ("93.184.216.34", Public),
            ("8.8.8.8", Public),
            ("2606:4700::1111", Public),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("::1", Loopback),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.1.1", Private),
            ("fec0::1", Private),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fc00::1", UniqueLocal),
            ("fd00:ec2::254", UniqueLocal),
            ("100.64.0.1", Shared),
            ("100.127.255.255", Shared),
            ("100.128.0.1", Public),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Broadcast),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("2001:2::1", Benchmarking),
            ("192.0.0.8", Reserved),
            ("240.0.0.1", Reserved),
            ("100::1", Reserved),
            ("2001::1", Reserved),
            // IPv6 forms carrying an IPv4 address take its class.
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:100.64.0.1", Shared),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b:1::c0a8:101", Private),
            ("2002:a9fe:a9fe::1", LinkLocal),
            ("2002:0808:0808::1", Public),
        ];
        for (addr, want) in cases {
            assert_eq!(classify(ip(addr)), want, "{addr}");
        }
    }

    #[test]
    fn each_reach_admits_its_classes_and_never_metadata() {
        use Reach::*;
        // (address, Public, Loopback, Private)
        let cases = [
            ("93.184.216.34", true, true, true),
            ("127.0.0.1", false, true, true),
            ("::1", false, true, true),
            ("::ffff:127.0.0.1", false, true, true),
            ("10.0.0.1", false, false, true),
            ("172.16.5.4", false, false, true),
            ("192.168.0.10", false, false, true),
            ("169.254.1.1", false, false, true),
            ("fe80::1", false, false, true),
            ("fd12:3456::1", false, false, true),
            ("100.64.1.1", false, false, true),
            ("224.0.0.251", false, false, false),
            ("0.0.0.0", false, false, false),
            ("::", false, false, false),
            ("255.255.255.255", false, false, false),
            ("192.0.2.1", false, false, false),
            ("198.18.0.1", false, false, false),
            ("240.0.0.1", false, false, false),
            // The metadata endpoints, in every form, under every reach.
            ("169.254.169.254", false, false, false),
            ("169.254.170.2", false, false, false),
            ("100.100.100.200", false, false, false),
            ("fd00:ec2::254", false, false, false),
            ("::ffff:169.254.169.254", false, false, false),
            ("::ffff:a9fe:a9fe", false, false, false),
            ("64:ff9b::a9fe:a9fe", false, false, false),
            ("2002:a9fe:a9fe::", false, false, false),
        ];
        for (addr, public, loopback, private) in cases {
            let got = [Public, Loopback, Private].map(|r| r.admit(ip(addr)).is_ok());
            assert_eq!(got, [public, loopback, private], "{addr}");
        }
    }

    #[test]
    fn refusals_name_class_address_and_metadata() {
        let cases = [
            (
                Reach::Private,
                "169.254.169.254",
                "link-local address 169.254.169.254, a cloud metadata endpoint",
            ),
            (Reach::Public, "10.0.0.1", "private address 10.0.0.1"),
            (
                Reach::Loopback,
                "::ffff:192.168.1.1",
                "private address ::ffff:192.168.1.1",
            ),
            (Reach::Public, "fe80::1", "link-local address fe80::1"),
        ];
        for (reach, addr, want) in cases {
            assert_eq!(
                reach.admit(ip(addr)).unwrap_err().to_string(),
                want,
                "{addr}"
            );
        }
    }

    #[test]
    fn reach_follows_allow_private_and_the_urls_own_host() {
        let cases = [
            ("http://127.0.0.1:8080/p", None, Reach::Loopback),
            ("http://127.1.2.3/p", None, Reach::Loopback),
            ("http://[::1]/p", None, Reach::Loopback),
            ("http://localhost:3000/", None, Reach::Loopback),
            ("http://LOCALHOST./", None, Reach::Loopback),
            ("http://app.localhost/", None, Reach::Loopback),
            ("https://www.nato.int/", None, Reach::Public),
            ("http://10.0.0.1/", None, Reach::Public),
            ("http://localhost.example.org/", None, Reach::Public),
            ("http://intranet.corp/", Some(true), Reach::Private),
            ("http://127.0.0.1/", Some(false), Reach::Public),
            ("https://www.nato.int/", Some(false), Reach::Public),
        ];
        for (url, allow, want) in cases {
            assert_eq!(
                Reach::for_url(&Url::parse(url).unwrap(), allow),
                want,
                "{url} {allow:?}"
            );
        }
    }

    #[test]
    fn a_public_peer_narrows_the_rest_of_the_chain_to_public() {
        let at = |s: &str| Some(SocketAddr::new(ip(s), 80));
        let cases = [
            (Reach::Loopback, at("127.0.0.1"), Reach::Loopback),
            (Reach::Private, at("10.0.0.1"), Reach::Private),
            (Reach::Private, at("93.184.216.34"), Reach::Public),
            (Reach::Loopback, at("8.8.8.8"), Reach::Public),
            (Reach::Loopback, None, Reach::Public),
        ];
        for (reach, peer, want) in cases {
            assert_eq!(reach.after(peer), want, "{reach:?} {peer:?}");
        }
    }

    #[test]
    fn ip_literal_hosts_are_checked_before_any_resolver() {
        let cases = [
            ("http://169.254.169.254/latest/meta-data/", false),
            ("http://[::ffff:a9fe:a9fe]/", false),
            ("http://0xa9.0xfe.0xa9.0xfe/", false),
            ("http://2852039166/", false),
            ("http://10.0.0.1/", false),
            ("http://93.184.216.34/", true),
            ("http://example.org/", true),
        ];
        for (url, ok) in cases {
            let url = Url::parse(url).unwrap();
            assert_eq!(Reach::Public.admit_host(&url).is_ok(), ok, "{url}");
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_only_refused_addresses() {
        let resolver = GuardedResolver {
            reach: Reach::Public,
        };
        let err = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        let refused = refused_host(&*err).unwrap();
        assert_eq!(refused.host, "localhost");
        assert_eq!(refused.refusal.class, AddressClass::Loopback);
        let loopback = GuardedResolver {
            reach: Reach::Loopback,
        };
        let addrs: Vec<SocketAddr> = loopback
            .resolve("localhost".parse().unwrap())
            .await
            .ok()
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
