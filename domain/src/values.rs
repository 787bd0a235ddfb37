//! Value objects that refuse bad values. Fields are private; construct with `parse`/`new`.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors};

/// An email address, trimmed and lower-cased so that uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let bad = |why: &str| Err(FieldError::new("email", why));
        if value.is_empty() {
            return bad("must not be empty");
        }
        if value.len() > 254 {
            return bad("must be at most 254 characters");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return bad("must contain exactly one @");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return bad("must have a local part of 1 to 64 characters before the @");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return bad("must have a domain such as example.com after the @");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("must not contain spaces");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL-safe identifier: lower-case ASCII letters, digits and single dashes, 2 to 80 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let bad = |why: &str| Err(FieldError::new("slug", why));
        if value.len() < 2 || value.len() > Self::MAX_LEN {
            return bad("must be 2 to 80 characters");
        }
        if !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return bad("may contain only lower-case letters a-z, digits and dashes");
        }
        if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
            return bad("must not start or end with a dash, nor contain two dashes in a row");
        }
        Ok(Self(value.to_owned()))
    }

    /// A slug made from free text ("Acme Corp." becomes "acme-corp"), or `None` when the text has
    /// no letters or digits to make one from.
    pub fn from_text(text: &str) -> Option<Self> {
        let mut out = String::new();
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            if out.len() >= Self::MAX_LEN - 8 {
                break;
            }
        }
        let trimmed = out.trim_end_matches('-');
        Self::parse(trimmed).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Active ISO 4217 currency codes.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// An ISO 4217 currency code such as `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match code::<3>(raw) {
            Some(code) if code::listed(CURRENCIES, &code) => Ok(Self(code)),
            _ => Err(FieldError::new("currency", format!("`{raw}` is not an ISO 4217 currency code"))),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// A code of `N` ASCII letters, trimmed and upper-cased, without allocating: every posting read
/// from the database parses its currency and places again, and a linear scan of the code lists
/// took a fifth of the CPU of a page of 100 postings.
fn code<const N: usize>(raw: &str) -> Option<[u8; N]> {
    let raw = raw.trim().as_bytes();
    let mut code = [0; N];
    if raw.len() != N || !raw.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    for (to, from) in code.iter_mut().zip(raw) {
        *to = from.to_ascii_uppercase();
    }
    Some(code)
}

mod code {
    /// Whether `code` is in `list`: codes of one length, sorted, one space between (a binary
    /// search, as the lists are fixed-width).
    pub(super) fn listed(list: &str, code: &[u8]) -> bool {
        let width = code.len() + 1;
        let bytes = list.as_bytes();
        let (mut low, mut high) = (0, bytes.len().div_ceil(width));
        while low < high {
            let mid = (low + high) / 2;
            match bytes[mid * width..mid * width + code.len()].cmp(code) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

/// ISO 3166-1 alpha-2 country codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An ISO 3166-1 alpha-2 country code such as `US`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match code::<2>(raw) {
            Some(code) if code::listed(COUNTRIES, &code) => Ok(Self(code)),
            _ => Err(FieldError::new("country", format!("`{raw}` is not an ISO 3166-1 alpha-2 country code"))),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

/// What a salary amount is paid per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SalaryPeriod {
    Year,
    Month,
    Hour,
}

impl SalaryPeriod {
    pub const ALL: [SalaryPeriod; 3] = [Self::Year, Self::Month, Self::Hour];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Year => "YEAR",
            Self::Month => "MONTH",
            Self::Hour => "HOUR",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

/// A pay range in whole units of its currency: `min <= max`, both positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalaryRange {
    min: i64,
    max: i64,
    currency: CurrencyCode,
    period: SalaryPeriod,
}

impl SalaryRange {
    /// The largest amount accepted; beyond it a value is a typo, not a salary.
    pub const MAX_AMOUNT: i64 = 1_000_000_000;

    pub fn new(min: i64, max: i64, currency: &str, period: SalaryPeriod) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if min <= 0 {
            errors.push(FieldError::new("min", "must be greater than 0"));
        }
        if max > Self::MAX_AMOUNT {
            errors.push(FieldError::new("max", format!("must be at most {}", Self::MAX_AMOUNT)));
        }
        if min > max {
            errors.push(FieldError::new("max", format!("must be at least min ({min}), was {max}")));
        }
        let currency = errors.take(CurrencyCode::parse(currency));
        match currency {
            Some(currency) if errors.is_empty() => Ok(Self { min, max, currency, period }),
            _ => Err(errors),
        }
    }

    pub fn min(&self) -> i64 {
        self.min
    }
    pub fn max(&self) -> i64 {
        self.max
    }
    pub fn currency(&self) -> CurrencyCode {
        self.currency
    }
    pub fn period(&self) -> SalaryPeriod {
        self.period
    }
}

/// Where the work happens: a place (city, optional region, country), or remote within a country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    city: Option<String>,
    region: Option<String>,
    country: CountryCode,
    remote: bool,
}

impl Location {
    pub fn new(
        city: Option<&str>,
        region: Option<&str>,
        country: &str,
        remote: bool,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let clean = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let city = clean(city);
        let region = clean(region);
        if !remote && city.is_none() {
            errors.push(FieldError::new("city", "is required for a location that is not remote"));
        }
        for (name, value) in [("city", &city), ("region", &region)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 100) {
                errors.push(FieldError::new(name, "must be at most 100 characters"));
            }
        }
        let country = errors.take(CountryCode::parse(country));
        match country {
            Some(country) if errors.is_empty() => Ok(Self { city, region, country, remote }),
            _ => Err(errors),
        }
    }

    pub fn city(&self) -> Option<&str> {
        self.city.as_deref()
    }
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    pub fn country(&self) -> CountryCode {
        self.country
    }
    pub fn is_remote(&self) -> bool {
        self.remote
    }
}

/// An http(s) URL, checked for shape only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebUrl(String);

impl WebUrl {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field("website", raw)
    }

    /// As `parse`, with errors naming `field`.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && value.len() <= 2048 && !value.chars().any(char::is_whitespace) => {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                if host.contains('.') || host.starts_with("localhost") {
                    return Ok(Self(value.to_owned()));
                }
                Err(FieldError::new(field, "must name a host, as in https://example.com"))
            }
            _ => Err(FieldError::new(field, "must be an http:// or https:// URL without spaces")),
        }
    }

    /// An image URL for others to fetch and show: https only, since a page that embeds it over
    /// https would block or warn on plain http.
    pub fn parse_image(field: &str, raw: &str) -> Result<Self, FieldError> {
        let url = Self::parse_field(field, raw)?;
        if !url.0.starts_with("https://") {
            return Err(FieldError::new(field, "must be an https:// URL"));
        }
        Ok(url)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text as it is stored: in Unicode normalisation form C (so "é" typed either way is one
/// string), and without C0 control characters other than tab and line breaks, which both
/// databases would treat differently (Postgres refuses NUL, SQLite stores it).
pub fn clean_text(field: &str, raw: &str) -> Result<String, FieldError> {
    use unicode_normalization::UnicodeNormalization;
    if let Some(c) = raw.chars().find(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(FieldError::new(
            field,
            format!("contains the control character U+{:04X}; only tab and line breaks are allowed", c as u32),
        ));
    }
    Ok(raw.nfc().collect())
}

/// A company's (or its partner's) own reference for an object ("job 4711"): 1 to 200 characters
/// after trimming, no control characters.
pub fn external_id(field: &str, raw: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must be 1 to 200 characters, without control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Trimmed text of bounded length, cleaned as `clean_text` does; `field` names the input in the error.
pub fn bounded_text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let value = clean_text(field, raw)?;
    let value = value.trim();
    let len = value.chars().count();
    if len < min {
        return Err(FieldError::new(
            field,
            if min == 1 { "must not be empty".to_owned() } else { format!("must be at least {min} characters") },
        ));
    }
    if len > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters, was {len}")));
    }
    Ok(value.to_owned())
}

/// Timestamps in serde: RFC 3339 text for human-readable formats (JSON: the API, events, webhooks
/// keep their form), microseconds since the epoch for binary ones (the cache's postcard), where
/// parsing the text took a tenth of the CPU of a cached page of 100 postings. Both databases
/// store microseconds, so nothing is lost. Use with `#[serde(with = "...")]`.
pub mod timestamp {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { at.serialize(s) } else { s.serialize_i64(at.timestamp_micros()) }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        if d.is_human_readable() {
            DateTime::deserialize(d)
        } else {
            let micros = i64::deserialize(d)?;
            DateTime::from_timestamp_micros(micros).ok_or_else(|| D::Error::custom("a timestamp out of range"))
        }
    }

    /// The same for an optional timestamp.
    pub mod option {
        use super::*;

        struct Wrap<'a>(&'a DateTime<Utc>);

        impl Serialize for Wrap<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::serialize(self.0, s)
            }
        }

        struct Owned(DateTime<Utc>);

        impl<'de> Deserialize<'de> for Owned {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                super::deserialize(d).map(Owned)
            }
        }

        pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            at.as_ref().map(Wrap).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            Ok(Option::<Owned>::deserialize(d)?.map(|Owned(at)| at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lists_are_sorted_and_fixed_width_so_they_can_be_searched() {
        for (list, width) in [(COUNTRIES, 2), (CURRENCIES, 3)] {
            let codes: Vec<&str> = list.split(' ').collect();
            assert!(codes.iter().all(|c| c.len() == width && c.bytes().all(|b| b.is_ascii_uppercase())));
            assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted and without repeats");
            for c in &codes {
                assert!(code::listed(list, c.as_bytes()), "{c}");
            }
        }
        assert_eq!(CountryCode::parse(" de ").unwrap().as_str(), "DE");
        assert_eq!(CountryCode::parse("AD").unwrap().as_str(), "AD");
        assert_eq!(CountryCode::parse("zw").unwrap().as_str(), "ZW");
        assert_eq!(CurrencyCode::parse("eur").unwrap().as_str(), "EUR");
        for bad in ["", "D", "DEU", "XX", "AA", "ZZ", "D1", "ÄD", "AD ZW"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
        for bad in ["", "EU", "EURO", "XXX", "AAA", "ZZZ", "E R"] {
            assert!(CurrencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_normalised_and_bad_ones_refused() {
        assert_eq!(Email::parse("  Ada@Example.COM ").map(|e| e.as_str().to_owned()), Ok("ada@example.com".into()));
        for bad in
            ["", "ada", "@example.com", "ada@", "ada@example", "ada@@example.com", "a da@example.com", "ada@-x.com"]
        {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn slugs_are_url_safe() {
        assert!(Slug::parse("acme-corp").is_ok());
        for bad in ["A", "Acme", "acme corp", "-acme", "acme-", "acme--corp", "acmé"] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(Slug::from_text("Acme Corp. (EU)").map(|s| s.as_str().to_owned()), Some("acme-corp-eu".into()));
        assert_eq!(Slug::from_text("!!!"), None);
    }

    #[test]
    fn currencies_and_countries_follow_iso() {
        assert_eq!(CurrencyCode::parse("usd").map(|c| c.as_str().to_owned()), Ok("USD".into()));
        assert!(CurrencyCode::parse("XYZ").is_err());
        assert!(CurrencyCode::parse("US").is_err());
        assert_eq!(CountryCode::parse("de").map(|c| c.as_str().to_owned()), Ok("DE".into()));
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("USA").is_err());
    }

    #[test]
    fn salary_ranges_need_min_at_most_max() {
        assert!(SalaryRange::new(100, 200, "EUR", SalaryPeriod::Year).is_ok());
        assert!(SalaryRange::new(100, 100, "EUR", SalaryPeriod::Year).is_ok());
        let err = SalaryRange::new(300, 200, "EUR", SalaryPeriod::Year).err().unwrap_or_default();
        assert_eq!(err.0[0].field, "max");
        let err = SalaryRange::new(0, 200, "EURO", SalaryPeriod::Hour).err().unwrap_or_default();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["min", "currency"]);
    }

    #[test]
    fn onsite_locations_need_a_city() {
        assert!(Location::new(None, None, "US", true).is_ok());
        assert!(Location::new(Some("Berlin"), None, "DE", false).is_ok());
        let err = Location::new(Some(" "), None, "DE", false).err().unwrap_or_default();
        assert_eq!(err.0[0].field, "city");
        assert!(Location::new(Some("Nowhere"), None, "QQ", false).is_err());
    }

    #[test]
    fn web_urls_need_a_scheme_and_host() {
        assert!(WebUrl::parse("https://acme.example").is_ok());
        assert!(WebUrl::parse("ftp://acme.example").is_err());
        assert!(WebUrl::parse("https://").is_err());
        assert!(WebUrl::parse("https://acme").is_err());
        assert!(WebUrl::parse_image("logoUrl", "https://acme.example/logo.png").is_ok());
        let plain = WebUrl::parse_image("logoUrl", "http://acme.example/logo.png").unwrap_err();
        assert_eq!((plain.field.as_str(), plain.message.as_str()), ("logoUrl", "must be an https:// URL"));
    }

    #[test]
    fn bounded_text_trims_and_counts_characters() {
        assert_eq!(bounded_text("title", "  Hi  ", 1, 10), Ok("Hi".into()));
        assert!(bounded_text("title", "   ", 1, 10).is_err());
        assert!(bounded_text("title", "ééééé", 1, 4).is_err());
    }

    #[test]
    fn text_is_nfc_and_free_of_control_characters() {
        // "é" as e + combining acute (two characters) is stored as the one precomposed character.
        assert_eq!(bounded_text("title", "Caf\u{65}\u{301}", 1, 4), Ok("Caf\u{e9}".into()));
        assert_eq!(bounded_text("description", "line\n\tindented", 0, 100), Ok("line\n\tindented".into()));
        let err = bounded_text("title", "Rust\u{0}Engineer", 1, 100).unwrap_err();
        assert_eq!(err.field, "title");
        assert!(err.message.contains("U+0000"), "{}", err.message);
        assert!(bounded_text("title", "\u{1b}[2J", 1, 100).is_err());
    }
}
