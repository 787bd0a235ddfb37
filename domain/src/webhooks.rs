//! Webhook endpoints and deliveries: target rules (no private networks), the retry schedule, the
//! delivery status machine. Signing (HMAC) and HTTP live in `api`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::events::EventType;
use crate::ids::CompanyId;

/// A webhook endpoint's id.
pub type EndpointId = uuid::Uuid;

/// Waits before each retry after a failed attempt: about a day in all (Standard Webhooks' and
/// Svix's schedule), then the delivery is `FAILED`. Each wait is jittered by ±20 %.
pub const RETRY_AFTER: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// An endpoint whose every attempt failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// How long a rotated-out secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// The wait before attempt `attempts + 1` on `schedule` (normally `RETRY_AFTER`), given the
/// attempts made so far (≥ 1) and a uniform random number in [0, 1) for the jitter; `None` once
/// the schedule is used up.
pub fn retry_delay(schedule: &[Duration], attempts: u32, unit_random: f64) -> Option<Duration> {
    let base = schedule.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let factor = 0.8 + 0.4 * unit_random.clamp(0.0, 1.0);
    Some(base.mul_f64(factor))
}

text_enum!(
    /// Where one event's delivery to one endpoint stands.
    DeliveryStatus { Pending => "PENDING", Succeeded => "SUCCEEDED", Failed => "FAILED" }
);

/// A registered receiver of a company's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub company_id: CompanyId,
    pub url: String,
    pub description: Option<String>,
    /// Empty: every event type.
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    /// Why it was disabled, when it was (by a member or after failing for days).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; `None` after a success.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&event_type)
    }
}

/// The signing secrets of an endpoint: the current one, and the one it replaced while the
/// overlap lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    pub current: String,
    pub previous: Option<(String, DateTime<Utc>)>,
}

impl Secrets {
    /// The secrets that sign at `now`: the current one first.
    pub fn signing(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut list = vec![self.current.as_str()];
        if let Some((previous, until)) = &self.previous
            && *until > now
        {
            list.push(previous.as_str());
        }
        list
    }
}

/// One event's delivery to one endpoint, with its last attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: uuid::Uuid,
    pub endpoint_id: EndpointId,
    pub event_id: uuid::Uuid,
    pub event_type: EventType,
    pub position: i64,
    pub subject: uuid::Uuid,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The longest URL an endpoint may have.
pub const MAX_URL: usize = 2048;

/// Checks an endpoint URL's shape: absolute `https` (or `http` when private targets are allowed,
/// for local development), a host, no credentials, at most `MAX_URL` bytes.
pub fn check_url_shape(
    scheme: &str,
    host: Option<&str>,
    has_credentials: bool,
    len: usize,
    allow_private: bool,
) -> Result<(), FieldError> {
    let field = "input.url";
    if len > MAX_URL {
        return Err(FieldError::new(field, format!("must be at most {MAX_URL} bytes")));
    }
    match scheme {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(FieldError::new(field, "must use https")),
        other => return Err(FieldError::new(field, format!("must be an https URL, not {other}:"))),
    }
    if host.is_none_or(str::is_empty) {
        return Err(FieldError::new(field, "must name a host"));
    }
    if has_credentials {
        return Err(FieldError::new(field, "must not carry a user name or password"));
    }
    Ok(())
}

/// Whether an address is one a webhook must never reach from here: loopback, private, link-local
/// (cloud metadata at 169.254.169.254), shared (CGNAT), unspecified, multicast, broadcast,
/// documentation and benchmarking ranges, and their IPv6 forms (unique-local, link-local,
/// IPv4-mapped or -compatible, NAT64 of a forbidden IPv4 address).
pub fn is_forbidden_target(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6].iter().all(|s| *s == 0) {
        let [.., hi, lo] = segments;
        return forbidden_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // IPv4-compatible (deprecated) ::a.b.c.d
        || segments[..6].iter().all(|s| *s == 0)
        // unique local fc00::/7, link-local fe80::/10, site-local fec0::/10
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        // documentation 2001:db8::/32
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_targets_are_forbidden_public_ones_not() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
        ] {
            assert!(is_forbidden_target(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::5db8:d822"] {
            assert!(!is_forbidden_target(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_then_stop() {
        assert_eq!(retry_delay(&RETRY_AFTER, 1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(&RETRY_AFTER, 2, 0.0), Some(Duration::from_secs(240)));
        assert_eq!(retry_delay(&RETRY_AFTER, 3, 1.0), Some(Duration::from_secs(30 * 60).mul_f64(1.2)));
        assert_eq!(retry_delay(&RETRY_AFTER, 7, 0.5), Some(Duration::from_secs(36_000)));
        assert_eq!(retry_delay(&RETRY_AFTER, 8, 0.5), None);
        assert_eq!(retry_delay(&RETRY_AFTER, 0, 0.5), None);
        let total: Duration = RETRY_AFTER.iter().sum();
        assert!(total > Duration::from_secs(24 * 3600) && total < Duration::from_secs(30 * 3600));
    }

    #[test]
    fn urls_must_be_https_with_a_host_and_no_credentials() {
        assert!(check_url_shape("https", Some("example.com"), false, 30, false).is_ok());
        assert!(check_url_shape("http", Some("example.com"), false, 30, false).is_err());
        assert!(check_url_shape("http", Some("127.0.0.1"), false, 30, true).is_ok());
        assert!(check_url_shape("ftp", Some("example.com"), false, 30, true).is_err());
        assert!(check_url_shape("https", Some("example.com"), true, 30, false).is_err());
        assert!(check_url_shape("https", Some("example.com"), false, MAX_URL + 1, false).is_err());
    }
}
