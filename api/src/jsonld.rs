//! A posting as schema.org `JobPosting` (JSON-LD), the structured data Google for Jobs and other
//! job boards read: every property Google requires (title, description as HTML, datePosted,
//! hiringOrganization, jobLocation or, for remote work, applicantLocationRequirements with
//! jobLocationType TELECOMMUTE) and those it recommends (validThrough, employmentType, baseSalary,
//! identifier, directApply), plus skills, qualifications, responsibilities and benefits.
//!
//! Served as `Posting.jsonLd` and as `GET /postings/{slug}.jsonld`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hiregraph_domain::companies::Company;
use hiregraph_domain::postings::{EmploymentType, Posting, Workplace};
use hiregraph_domain::values::SalaryPeriod;
use serde_json::{Map, Value, json};

use crate::graphql::ids::{self, Kind};
use crate::http::HttpContext;
use crate::services::loading;

/// Markdown to HTML. Raw HTML in the Markdown is escaped, not passed on: a job board embeds the
/// description in its own page.
pub fn markdown_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let parser =
        Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        });
    let mut html = String::with_capacity(markdown.len() * 5 / 4);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
    out
}

/// The description, then the lists a reader looks for, as one HTML document.
fn description_html(posting: &Posting) -> String {
    let c = &posting.content;
    let mut html = markdown_html(&c.description);
    for (heading, items) in [
        ("Responsibilities", &c.responsibilities),
        ("Requirements", &c.required_qualifications),
        ("Nice to have", &c.preferred_qualifications),
        ("Benefits", &c.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        html.push_str(&format!("<h2>{heading}</h2>\n<ul>\n"));
        for item in items {
            html.push_str(&format!("<li>{}</li>\n", escape(item)));
        }
        html.push_str("</ul>\n");
    }
    html
}

fn employment_type(t: EmploymentType) -> &'static str {
    match t {
        EmploymentType::FullTime => "FULL_TIME",
        EmploymentType::PartTime => "PART_TIME",
        EmploymentType::Contract => "CONTRACTOR",
        EmploymentType::Internship => "INTERN",
        EmploymentType::Temporary => "TEMPORARY",
    }
}

fn unit_text(period: SalaryPeriod) -> &'static str {
    match period {
        SalaryPeriod::Year => "YEAR",
        SalaryPeriod::Month => "MONTH",
        SalaryPeriod::Hour => "HOUR",
    }
}

/// The posting as a schema.org `JobPosting`.
pub fn job_posting(posting: &Posting, company: &Company) -> Value {
    let c = &posting.content;
    let mut ld = Map::new();
    ld.insert("@context".into(), json!("https://schema.org/"));
    ld.insert("@type".into(), json!("JobPosting"));
    ld.insert("title".into(), json!(c.title));
    ld.insert("description".into(), json!(description_html(posting)));
    ld.insert(
        "identifier".into(),
        json!({
            "@type": "PropertyValue",
            "name": company.profile.name,
            "value": ids::encode(Kind::Posting, posting.id.0).as_str(),
        }),
    );
    ld.insert("datePosted".into(), json!(posting.published_at.unwrap_or(posting.created_at).to_rfc3339()));
    if let Some(until) = c.expires_at {
        ld.insert("validThrough".into(), json!(until.to_rfc3339()));
    }
    if let Some(t) = c.employment_type {
        ld.insert("employmentType".into(), json!(employment_type(t)));
    }
    let mut organization = Map::new();
    organization.insert("@type".into(), json!("Organization"));
    organization.insert("name".into(), json!(company.profile.name));
    if let Some(website) = &company.profile.website {
        organization.insert("sameAs".into(), json!(website.as_str()));
        organization.insert("url".into(), json!(website.as_str()));
    }
    if let Some(logo) = &company.profile.logo {
        organization.insert("logo".into(), json!(logo.as_str()));
    }
    ld.insert("hiringOrganization".into(), Value::Object(organization));

    let remote = c.workplace == Some(Workplace::Remote);
    let place = |l: &hiregraph_domain::values::Location| {
        let mut address = Map::new();
        address.insert("@type".into(), json!("PostalAddress"));
        if let Some(city) = l.city() {
            address.insert("addressLocality".into(), json!(city));
        }
        if let Some(region) = l.region() {
            address.insert("addressRegion".into(), json!(region));
        }
        address.insert("addressCountry".into(), json!(l.country().as_str()));
        json!({ "@type": "Place", "address": address })
    };
    let offices: Vec<Value> = c.locations.iter().filter(|l| !l.is_remote()).map(place).collect();
    if remote || offices.is_empty() {
        ld.insert("jobLocationType".into(), json!("TELECOMMUTE"));
        let mut countries: Vec<String> = Vec::new();
        for country in c.locations.iter().map(|l| l.country().as_str().to_owned()) {
            if !countries.contains(&country) {
                countries.push(country);
            }
        }
        let requirements: Vec<Value> =
            countries.iter().map(|country| json!({ "@type": "Country", "name": country })).collect();
        if !requirements.is_empty() {
            ld.insert("applicantLocationRequirements".into(), Value::Array(requirements));
        }
    }
    if !offices.is_empty() && !remote {
        ld.insert("jobLocation".into(), Value::Array(offices));
    }
    if let Some(salary) = c.salary {
        ld.insert(
            "baseSalary".into(),
            json!({
                "@type": "MonetaryAmount",
                "currency": salary.currency().as_str(),
                "value": {
                    "@type": "QuantitativeValue",
                    "minValue": salary.min(),
                    "maxValue": salary.max(),
                    "unitText": unit_text(salary.period()),
                },
            }),
        );
    }
    ld.insert("directApply".into(), json!(true));
    if !c.skills.is_empty() {
        let skills: Vec<&str> = c.skills.iter().map(|s| s.name.as_str()).collect();
        ld.insert("skills".into(), json!(skills.join(", ")));
    }
    if !c.required_qualifications.is_empty() {
        ld.insert("qualifications".into(), json!(c.required_qualifications.join("\n")));
    }
    if !c.responsibilities.is_empty() {
        ld.insert("responsibilities".into(), json!(c.responsibilities.join("\n")));
    }
    if !c.benefits.is_empty() {
        ld.insert("jobBenefits".into(), json!(c.benefits.join("\n")));
    }
    if let Some(years) = c.min_years_experience.filter(|y| *y > 0) {
        ld.insert(
            "experienceRequirements".into(),
            json!({ "@type": "OccupationalExperienceRequirements", "monthsOfExperience": years * 12 }),
        );
    }
    if let Some(industry) = &company.profile.industry {
        ld.insert("industry".into(), json!(industry));
    }
    Value::Object(ld)
}

fn answer(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").json(body)
}

fn not_found(slug: &str) -> HttpResponse {
    answer(StatusCode::NOT_FOUND, json!({ "error": format!("no published posting has the slug `{slug}`") }))
}

fn unavailable(e: &crate::error::AppError) -> HttpResponse {
    tracing::warn!(error = ?e, "JSON-LD: the posting could not be read");
    let mut response =
        answer(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": "the posting cannot be read right now" }));
    response
        .headers_mut()
        .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    response
}

/// `GET /postings/{slug}.jsonld`: a published posting's `JobPosting`, for anyone and for caches
/// (five minutes). A posting that was published and has closed or expired is `410 Gone`, which
/// tells a job board to drop it; a draft, a paused or archived posting, or no posting, is 404.
/// Anonymous requests count against the address's rate limit, as GraphQL ones do.
pub async fn posting(req: HttpRequest, ctx: web::Data<HttpContext>, slug: web::Path<String>) -> HttpResponse {
    use hiregraph_domain::postings::PostingStatus;
    use hiregraph_persistence::limiter::{Decision, LimitKey, Quota};
    let state = &ctx.state;
    let per_minute = state.settings.rate_limits.anonymous_per_minute;
    if per_minute > 0 {
        let quota = Quota { burst: per_minute, per: std::time::Duration::from_secs(60) };
        let client = crate::http::client_addr(&req, state);
        if let Decision::Limited(wait) = state.limiter.rate(&LimitKey::AnonymousFrom(client), quota, 1).await {
            let secs = crate::error::retry_after_secs(wait);
            let mut response = answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "error": format!("too many requests from this address; try again in {secs} s") }),
            );
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
            }
            return response;
        }
    }
    let slug = slug.into_inner();
    let slug = slug.trim();
    if slug.is_empty() || slug.len() > 200 {
        return not_found(slug);
    }
    let posting = match loading::posting_id_by_slug(state, slug).await {
        Ok(Some(id)) => match loading::posting(state, id).await {
            Ok(Some(posting)) => posting,
            Ok(None) => return not_found(slug),
            Err(e) => return unavailable(&e),
        },
        Ok(None) => return not_found(slug),
        Err(e) => return unavailable(&e),
    };
    let now = chrono::Utc::now();
    match posting.status {
        PostingStatus::Published if !posting.is_expired(now) => {}
        PostingStatus::Published | PostingStatus::Closed => {
            return answer(StatusCode::GONE, json!({ "error": format!("the posting `{slug}` has closed or expired") }));
        }
        _ => return not_found(slug),
    }
    let company = match loading::company(state, posting.company_id).await {
        Ok(Some(company)) => company,
        Ok(None) => return not_found(slug),
        Err(e) => return unavailable(&e),
    };
    HttpResponse::Ok()
        .content_type("application/ld+json")
        .insert_header(("cache-control", "public, max-age=300"))
        .json(job_posting(&posting, &company))
}
