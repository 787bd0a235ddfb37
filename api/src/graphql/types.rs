//! GraphQL enums and scalars mirroring domain values. They convert at the edge and never leak into
//! `domain` or `persistence`.

use async_graphql::{Enum, InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};
use hiregraph_domain::values::{
    CountryCode as DomainCountry, CurrencyCode as DomainCurrency, Location as DomainLocation,
};
use hiregraph_domain::{accounts, applications, candidates, companies, postings, values};

macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident = $domain:path { $($(#[$vdoc:meta])* $variant:ident => $dvariant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$domain>::$dvariant),+ }
            }
        }

        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                match v { $(<$domain>::$dvariant => $name::$variant),+ }
            }
        }
    };
}

mirror_enum!(
    /// How a job is contracted.
    EmploymentType = postings::EmploymentType {
        FullTime => FullTime, PartTime => PartTime, Contract => Contract, Internship => Internship, Temporary => Temporary
    }
);
mirror_enum!(
    /// Career level.
    Seniority = postings::Seniority {
        Intern => Intern, Junior => Junior, Mid => Mid, Senior => Senior, Staff => Staff, Principal => Principal
    }
);
mirror_enum!(
    /// Where the work is done.
    Workplace = postings::Workplace { Onsite => Onsite, Hybrid => Hybrid, Remote => Remote }
);
mirror_enum!(
    /// A posting's lifecycle: DRAFT → PUBLISHED ⇄ PAUSED → CLOSED → ARCHIVED, and DRAFT → ARCHIVED.
    PostingStatus = postings::PostingStatus {
        Draft => Draft, Published => Published, Paused => Paused, Closed => Closed, Archived => Archived
    }
);
mirror_enum!(
    /// What a salary amount is paid per.
    SalaryPeriod = values::SalaryPeriod { Year => Year, Month => Month, Hour => Hour }
);
mirror_enum!(
    /// A member's role in a company.
    CompanyRole = companies::CompanyRole {
        /// Reads the company's postings in every status.
        Viewer => Viewer,
        /// Also creates, edits and moves postings.
        Recruiter => Recruiter,
        /// Also edits the company and manages members other than owners.
        Admin => Admin,
        /// Everything, including managing owners.
        Owner => Owner
    }
);
mirror_enum!(
    /// A user's role on the whole platform.
    PlatformRole = accounts::PlatformRole { Member => Member, Admin => Admin }
);
mirror_enum!(
    /// Headcount band.
    CompanySize = companies::SizeBand {
        Size1To10 => S1To10, Size11To50 => S11To50, Size51To200 => S51To200, Size201To1000 => S201To1000,
        Size1001To5000 => S1001To5000, Size5001Plus => S5001Plus
    }
);

mirror_enum!(
    /// Where an application stands: `APPLIED → SCREENING → INTERVIEW → OFFER → HIRED` (forward
    /// moves may skip stages), or `REJECTED` by the company, or `WITHDRAWN` by the candidate. The
    /// last three are final.
    ApplicationStatus = applications::ApplicationStatus {
        Applied => Applied, Screening => Screening, Interview => Interview, Offer => Offer, Hired => Hired,
        Rejected => Rejected, Withdrawn => Withdrawn
    }
);
mirror_enum!(
    /// Who may see a candidate profile.
    Visibility = candidates::Visibility {
        /// Anyone.
        Public => Public,
        /// Members of verified companies, and companies the candidate applied to.
        Employers => Employers,
        /// Only the candidate, platform admins and companies the candidate applied to.
        Private => Private
    }
);

/// An ISO 4217 currency code, such as `USD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurrencyCode(pub DomainCurrency);

#[Scalar(name = "CurrencyCode")]
impl ScalarType for CurrencyCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => DomainCurrency::parse(s).map(Self).map_err(|e| InputValueError::custom(e.message)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.as_str().to_owned())
    }
}

/// An ISO 3166-1 alpha-2 country code, such as `DE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountryCode(pub DomainCountry);

#[Scalar(name = "CountryCode")]
impl ScalarType for CountryCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => DomainCountry::parse(s).map(Self).map_err(|e| InputValueError::custom(e.message)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.as_str().to_owned())
    }
}

/// A place of work: a city with its country, or remote within a country.
#[derive(SimpleObject, Clone, Debug)]
pub struct Location {
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: CountryCode,
    /// True for "remote within this country".
    pub remote: bool,
}

impl From<&DomainLocation> for Location {
    fn from(l: &DomainLocation) -> Self {
        Self {
            city: l.city().map(str::to_owned),
            region: l.region().map(str::to_owned),
            country: CountryCode(l.country()),
            remote: l.is_remote(),
        }
    }
}

/// A location as given in input.
#[derive(async_graphql::InputObject, Clone, Debug)]
pub struct LocationInput {
    /// Required unless `remote` is true.
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: CountryCode,
    #[graphql(default)]
    pub remote: bool,
}

impl From<LocationInput> for companies::LocationInput {
    fn from(l: LocationInput) -> Self {
        Self { city: l.city, region: l.region, country: l.country.0.as_str().to_owned(), remote: l.remote }
    }
}

/// An update field: omitted keeps the stored value (`None`), `null` clears it (`Some(None)`).
pub fn patch<T, U>(value: async_graphql::MaybeUndefined<T>, f: impl Fn(T) -> U) -> Option<Option<U>> {
    match value {
        async_graphql::MaybeUndefined::Undefined => None,
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Value(v) => Some(Some(f(v))),
    }
}
