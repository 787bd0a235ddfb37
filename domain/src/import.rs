//! Turns a job description written in Markdown into posting content: title, employment type,
//! seniority, minimum years, workplace and locations, salary, equity, skills (matched against a
//! vocabulary with aliases), responsibilities, qualifications and benefits. What it cannot place
//! stays in the description; what it cannot determine is reported as a warning.

use crate::companies::LocationInput;
use crate::postings::{EmploymentType, PostingContentInput, PostingSkill, SalaryInput, Seniority, Workplace};
use crate::skills::VOCABULARY;
use crate::values::SalaryPeriod;

/// The content to create a draft from, and what could not be determined.
#[derive(Debug, Clone)]
pub struct Imported {
    pub content: PostingContentInput,
    pub warnings: Vec<String>,
}

/// Cities and the countries they are in, for location lines that name no country.
const CITIES: &[(&str, &str)] = &[
    ("san francisco", "US"),
    ("bay area", "US"),
    ("new york", "US"),
    ("seattle", "US"),
    ("austin", "US"),
    ("boston", "US"),
    ("chicago", "US"),
    ("los angeles", "US"),
    ("denver", "US"),
    ("london", "GB"),
    ("manchester", "GB"),
    ("edinburgh", "GB"),
    ("berlin", "DE"),
    ("munich", "DE"),
    ("hamburg", "DE"),
    ("paris", "FR"),
    ("amsterdam", "NL"),
    ("dublin", "IE"),
    ("madrid", "ES"),
    ("barcelona", "ES"),
    ("lisbon", "PT"),
    ("stockholm", "SE"),
    ("oslo", "NO"),
    ("copenhagen", "DK"),
    ("zurich", "CH"),
    ("vienna", "AT"),
    ("warsaw", "PL"),
    ("toronto", "CA"),
    ("vancouver", "CA"),
    ("montreal", "CA"),
    ("sydney", "AU"),
    ("melbourne", "AU"),
    ("singapore", "SG"),
    ("bangalore", "IN"),
    ("bengaluru", "IN"),
    ("tokyo", "JP"),
];

/// Country names and codes as they appear in job descriptions.
const COUNTRIES: &[(&str, &str)] = &[
    ("united states", "US"),
    ("usa", "US"),
    ("us", "US"),
    ("u.s.", "US"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("germany", "DE"),
    ("france", "FR"),
    ("netherlands", "NL"),
    ("ireland", "IE"),
    ("spain", "ES"),
    ("portugal", "PT"),
    ("canada", "CA"),
    ("india", "IN"),
    ("australia", "AU"),
    ("eu", "DE"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Intro,
    Responsibilities,
    Required,
    Preferred,
    Benefits,
    Skip,
    Other,
}

fn classify(heading: &str) -> Option<Section> {
    let h = heading.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| h.contains(w));
    if has(&["keyword"]) {
        Some(Section::Skip)
    } else if has(&["nice to have", "nice-to-have", "preferred", "bonus", "plus if", "would be a plus"]) {
        Some(Section::Preferred)
    } else if has(&[
        "requirement",
        "qualification",
        "must have",
        "must-have",
        "what you bring",
        "what you'll need",
        "you have",
        "about you",
        "who you are",
        "skills",
    ]) {
        Some(Section::Required)
    } else if has(&[
        "responsibilit",
        "what you'll do",
        "what you will do",
        "your role",
        "the job",
        "duties",
        "you will",
    ]) {
        Some(Section::Responsibilities)
    } else if has(&["benefit", "what we offer", "perks", "we offer", "compensation"]) {
        Some(Section::Benefits)
    } else {
        None
    }
}

/// A heading: `#…` lines, a whole line in bold, or a short line ending with a colon.
fn heading_of(line: &str) -> Option<(usize, String)> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix('#') {
        let level = 1 + rest.chars().take_while(|c| *c == '#').count();
        return Some((level, rest.trim_start_matches('#').trim().to_owned()));
    }
    let bold = t
        .strip_prefix("**")
        .and_then(|r| r.strip_suffix("**"))
        .or_else(|| t.strip_prefix("__").and_then(|r| r.strip_suffix("__")));
    if let Some(b) = bold.filter(|b| !b.contains("**")) {
        return Some((3, b.trim_end_matches(':').trim().to_owned()));
    }
    if t.ends_with(':') && t.len() < 60 && !t.starts_with(['-', '*', '•']) {
        return Some((3, t.trim_end_matches(':').trim().to_owned()));
    }
    None
}

fn bullet_of(line: &str) -> Option<String> {
    let t = line.trim_start();
    let rest =
        t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")).or_else(|| t.strip_prefix("• ")).or_else(|| {
            t.split_once(". ").filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).map(|(_, r)| r)
        })?;
    let text = rest.replace("**", "").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn words(text: &str) -> String {
    // Keep + # / . inside words so "c++", "ci/cd" and "node.js" survive.
    let spaced: String =
        text.to_lowercase().chars().map(|c| if c.is_alphanumeric() || "+#/.".contains(c) { c } else { ' ' }).collect();
    format!(" {} ", spaced.split_whitespace().map(|w| w.trim_end_matches('.')).collect::<Vec<_>>().join(" "))
}

fn mentions(haystack: &str, needle: &str) -> bool {
    haystack.contains(&format!(" {needle} "))
}

/// The first "N years" / "N+ years" in `text`.
fn years_in(text: &str) -> Option<i32> {
    let lower = text.to_lowercase();
    let bytes: Vec<char> = lower.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        if !c.is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            continue;
        }
        let digits: String = bytes[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
        let rest: String = bytes[i + digits.len()..].iter().collect();
        let rest = rest.trim_start_matches('+').trim_start();
        let rest = rest.strip_prefix("or more ").unwrap_or(rest);
        if rest.starts_with("year") || rest.starts_with("yrs") {
            return digits.parse().ok().filter(|y: &i32| *y <= 40);
        }
    }
    None
}

/// A salary range in `text`: amounts with a currency (symbol or code), `k` thousands, a period.
fn salary_in(text: &str) -> Option<SalaryInput> {
    let lower = text.to_lowercase();
    let currency = if lower.contains('$') || lower.contains("usd") {
        "USD"
    } else if lower.contains('€') || lower.contains("eur") {
        "EUR"
    } else if lower.contains('£') || lower.contains("gbp") {
        "GBP"
    } else if lower.contains("chf") {
        "CHF"
    } else if lower.contains("cad") {
        "CAD"
    } else {
        return None;
    };
    let mut amounts = Vec::new();
    let chars: Vec<char> = lower.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut number = String::new();
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == ','
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                if chars[i] != ',' {
                    number.push(chars[i]);
                }
                i += 1;
            }
            let mut value: f64 = number.parse().unwrap_or(0.0);
            if chars.get(i) == Some(&'k') {
                value *= 1000.0;
                i += 1;
            }
            amounts.push(value);
        } else {
            i += 1;
        }
    }
    let amounts: Vec<i64> = amounts.into_iter().filter(|a| *a >= 5.0).map(|a| a.round() as i64).take(2).collect();
    let (min, max) = match amounts.as_slice() {
        [one] => (*one, *one),
        [a, b] => (*a.min(b), *a.max(b)),
        _ => return None,
    };
    let period = if lower.contains("hour") || lower.contains("/h") || lower.contains("hr") {
        SalaryPeriod::Hour
    } else if lower.contains("month") {
        SalaryPeriod::Month
    } else {
        SalaryPeriod::Year
    };
    Some(SalaryInput { min, max, currency: currency.to_owned(), period })
}

/// Workplace and locations from a location line such as "Remote (US) or San Francisco Bay Area"
/// or "Hybrid – Berlin".
fn locations_in(line: &str) -> (Option<Workplace>, Vec<LocationInput>) {
    let lower = line.to_lowercase();
    let w = words(line);
    let mut locations = Vec::new();
    let remote = lower.contains("remote");
    let hybrid = lower.contains("hybrid");
    let country_of = |text: &str| {
        COUNTRIES.iter().find(|(name, _)| mentions(&words(text), name)).map(|(_, code)| (*code).to_owned())
    };
    if remote {
        // The country in parentheses or after "remote", e.g. "Remote (US)", "Remote - UK".
        let scope =
            lower.split("remote").nth(1).map(|r| r.split(" or ").next().unwrap_or(r).to_owned()).unwrap_or_default();
        if let Some(country) = country_of(&scope).or_else(|| country_of(line)) {
            locations.push(LocationInput { city: None, region: None, country, remote: true });
        }
    }
    for (city, country) in CITIES {
        if mentions(&w, city) || lower.contains(city) {
            let name = line
                .split([',', '(', ')', '/', '|', ';'])
                .flat_map(|p| p.split(" or "))
                .map(|p| p.trim().trim_start_matches(['–', '-', '—']).trim())
                .find(|p| p.to_lowercase().contains(city))
                .map(|p| {
                    p.trim_start_matches("Hybrid")
                        .trim_start_matches("Onsite")
                        .trim_start_matches("On-site")
                        .trim()
                        .trim_start_matches(['–', '-', '—', ':'])
                        .trim()
                        .to_owned()
                })
                .filter(|p| !p.is_empty() && !p.to_lowercase().starts_with("remote"))
                .unwrap_or_else(|| (*city).to_owned());
            if !locations.iter().any(|l: &LocationInput| l.city.as_deref() == Some(&name)) {
                locations.push(LocationInput {
                    city: Some(name),
                    region: None,
                    country: (*country).to_owned(),
                    remote: false,
                });
            }
            break;
        }
    }
    let workplace = if hybrid {
        Some(Workplace::Hybrid)
    } else if remote {
        Some(Workplace::Remote)
    } else if locations.iter().any(|l| !l.remote) || lower.contains("on-site") || lower.contains("onsite") {
        Some(Workplace::Onsite)
    } else {
        None
    };
    (workplace, locations)
}

fn seniority_in(text: &str) -> Option<Seniority> {
    let w = words(text);
    [
        ("intern", Seniority::Intern),
        ("principal", Seniority::Principal),
        ("staff", Seniority::Staff),
        ("senior", Seniority::Senior),
        ("sr", Seniority::Senior),
        ("lead", Seniority::Senior),
        ("junior", Seniority::Junior),
        ("jr", Seniority::Junior),
        ("entry level", Seniority::Junior),
        ("mid", Seniority::Mid),
        ("mid level", Seniority::Mid),
        ("intermediate", Seniority::Mid),
    ]
    .into_iter()
    .find(|(word, _)| mentions(&w, word))
    .map(|(_, s)| s)
}

fn employment_in(text: &str) -> Option<EmploymentType> {
    let l = text.to_lowercase();
    if l.contains("full-time") || l.contains("full time") || l.contains("permanent") {
        Some(EmploymentType::FullTime)
    } else if l.contains("part-time") || l.contains("part time") {
        Some(EmploymentType::PartTime)
    } else if l.contains("contract") || l.contains("freelance") {
        Some(EmploymentType::Contract)
    } else if l.contains("internship") {
        Some(EmploymentType::Internship)
    } else if l.contains("temporary") || l.contains("fixed-term") {
        Some(EmploymentType::Temporary)
    } else {
        None
    }
}

/// `Label: value` lines (`**Location:** Remote`), by lower-case label.
fn labelled(line: &str) -> Option<(String, String)> {
    let t = line.trim().trim_start_matches(['-', '*', '•']).trim().replace("**", "").replace("__", "");
    let (label, value) = t.split_once(':')?;
    let label = label.trim().to_lowercase();
    (label.len() <= 30 && !value.trim().is_empty()).then(|| (label, value.trim().to_owned()))
}

pub fn import_markdown(markdown: &str) -> Imported {
    let mut title = None;
    let mut section = Section::Intro;
    let mut parent = Section::Intro;
    let mut responsibilities: Vec<String> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let mut preferred: Vec<String> = Vec::new();
    let mut benefits: Vec<String> = Vec::new();
    let mut description = String::new();
    let (mut employment, mut seniority, mut years, mut salary) = (None, None, None, None);
    let (mut workplace, mut locations) = (None, Vec::new());

    for line in markdown.lines() {
        if line.trim() == "---" {
            continue;
        }
        if let Some((label, value)) = labelled(line) {
            match label.as_str() {
                "location" | "locations" | "work location" | "where" => {
                    let (w, l) = locations_in(&value);
                    workplace = workplace.or(w);
                    if locations.is_empty() {
                        locations = l;
                    }
                    continue;
                }
                "employment type" | "job type" | "type" | "contract" => {
                    employment = employment.or_else(|| employment_in(&value));
                    continue;
                }
                "experience level" | "seniority" | "level" => {
                    seniority = seniority.or_else(|| seniority_in(&value));
                    years = years.or_else(|| years_in(&value));
                    continue;
                }
                "salary" | "salary range" | "compensation" | "pay" | "rate" => {
                    salary = salary.or_else(|| salary_in(&value));
                    continue;
                }
                _ => {}
            }
        }
        if let Some((level, text)) = heading_of(line) {
            if level == 1 && title.is_none() {
                title = Some(text);
                continue;
            }
            match classify(&text) {
                Some(s) => {
                    section = s;
                    if level <= 2 {
                        parent = s;
                    }
                }
                None if level <= 2 => {
                    section = Section::Other;
                    parent = Section::Other;
                }
                None => section = parent,
            }
            if matches!(section, Section::Intro | Section::Other) {
                description.push_str(&format!("\n## {text}\n\n"));
            }
            continue;
        }
        if title.is_none() && !line.trim().is_empty() {
            title = Some(line.trim().trim_matches('*').to_owned());
            continue;
        }
        let list = match section {
            Section::Responsibilities => Some(&mut responsibilities),
            Section::Required => Some(&mut required),
            Section::Preferred => Some(&mut preferred),
            Section::Benefits => Some(&mut benefits),
            Section::Intro | Section::Other | Section::Skip => None,
        };
        match (list, bullet_of(line)) {
            (Some(list), Some(bullet)) => {
                if list.len() < 50 {
                    list.push(bullet.chars().take(500).collect());
                }
            }
            _ if section == Section::Skip => {}
            _ => {
                description.push_str(line);
                description.push('\n');
            }
        }
    }

    let text = markdown;
    let title = title.unwrap_or_else(|| "Untitled position".to_owned());
    let employment = employment.or_else(|| employment_in(&title)).or_else(|| employment_in(text));
    let seniority = seniority.or_else(|| seniority_in(&title));
    let years = years.or_else(|| required.iter().find_map(|r| years_in(r))).or_else(|| years_in(text));
    let salary = salary.or_else(|| {
        text.lines()
            .chain(benefits.iter().map(String::as_str))
            .filter(|l| l.contains(['$', '€', '£']) || l.to_lowercase().contains("salary"))
            .find_map(salary_in)
    });
    if workplace.is_none() {
        let (w, l) = locations_in(
            &text
                .lines()
                .filter(|l| l.to_lowercase().contains("remote") || l.to_lowercase().contains("hybrid"))
                .take(1)
                .collect::<String>(),
        );
        workplace = w;
        if locations.is_empty() {
            locations = l;
        }
    }
    let lower = text.to_lowercase();
    let equity = (lower.contains("equity") || lower.contains("stock option")) && !lower.contains("no equity");

    // Skills: required if named outside the nice-to-have lists, preferred if only there.
    let everywhere = words(text);
    let preferred_words = words(&preferred.join(" "));
    let outside_preferred =
        words(&format!("{title}\n{}\n{}\n{}", required.join("\n"), responsibilities.join("\n"), description));
    let mut skills = Vec::new();
    for (name, aliases) in VOCABULARY {
        if aliases.iter().any(|a| mentions(&everywhere, a)) {
            let required = aliases.iter().any(|a| mentions(&outside_preferred, a))
                || !aliases.iter().any(|a| mentions(&preferred_words, a));
            skills.push(PostingSkill { name: (*name).to_owned(), required });
        }
    }

    let mut warnings = Vec::new();
    let mut warn = |missing: bool, what: &str| {
        if missing {
            warnings.push(format!("could not determine {what}"));
        }
    };
    warn(employment.is_none(), "the employment type");
    warn(seniority.is_none(), "the seniority");
    warn(years.is_none(), "the minimum years of experience");
    warn(workplace.is_none(), "the workplace (onsite, hybrid or remote)");
    warn(locations.is_empty(), "a location");
    warn(salary.is_none(), "the salary");
    warn(skills.is_empty(), "any skill from the vocabulary");

    Imported {
        content: PostingContentInput {
            title: title.chars().take(150).collect(),
            summary: None,
            description: description.trim().chars().take(50_000).collect(),
            responsibilities,
            required_qualifications: required,
            preferred_qualifications: preferred,
            employment_type: employment,
            seniority,
            min_years_experience: years,
            workplace,
            locations,
            salary,
            equity,
            skills: skills.into_iter().take(50).collect(),
            benefits,
            expires_at: None,
        },
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/data/senior-backend-infrastructure.md");

    fn skill_names(i: &Imported) -> Vec<&str> {
        i.content.skills.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn the_fixture_imports_as_structured_fields() {
        let i = import_markdown(FIXTURE);
        let c = &i.content;
        assert_eq!(c.title, "Senior Software Engineer - Backend/Infrastructure");
        assert_eq!(c.employment_type, Some(EmploymentType::FullTime));
        assert_eq!(c.seniority, Some(Seniority::Senior));
        assert_eq!(c.min_years_experience, Some(6));
        assert_eq!(c.workplace, Some(Workplace::Remote));
        assert_eq!(c.locations.len(), 2, "{:?}", c.locations);
        assert!(c.locations[0].remote && c.locations[0].country == "US");
        assert_eq!(c.locations[1].city.as_deref(), Some("San Francisco Bay Area"));
        assert_eq!(c.locations[1].country, "US");
        let s = c.salary.as_ref().unwrap();
        assert_eq!((s.min, s.max, s.currency.as_str(), s.period), (160_000, 240_000, "USD", SalaryPeriod::Year));
        assert!(c.equity);
        for skill in [
            "Python",
            "Java",
            "Go",
            "Scala",
            "AWS",
            "Kubernetes",
            "Docker",
            "Terraform",
            "PostgreSQL",
            "Redis",
            "Kafka",
        ] {
            assert!(skill_names(&i).contains(&skill), "{skill} missing from {:?}", skill_names(&i));
        }
        assert_eq!(c.responsibilities.len(), 20);
        assert!(c.required_qualifications.iter().any(|q| q.starts_with("6+ years")));
        assert!(c.preferred_qualifications.iter().any(|q| q.contains("service mesh")));
        assert!(c.benefits.iter().any(|b| b.contains("parental leave")));
        assert!(c.description.contains("Company Overview"));
        assert!(!c.description.contains("Keywords for Matching"));
        assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    }

    #[test]
    fn requirements_and_nice_to_have_with_an_hourly_euro_rate_in_hybrid_berlin() {
        let md = "# Freelance Data Engineer\n\nWe need help with our pipelines.\n\n**Location:** Hybrid – Berlin\n\nRate: €90–110 per hour, 6-month contract.\n\n## Requirements\n- 4+ years with Python and SQL\n- Airflow in production\n\n## Nice to have\n- Spark\n- dbt\n";
        let i = import_markdown(md);
        let c = &i.content;
        assert_eq!(c.title, "Freelance Data Engineer");
        assert_eq!(c.employment_type, Some(EmploymentType::Contract));
        assert_eq!(c.workplace, Some(Workplace::Hybrid));
        assert_eq!(c.locations[0].city.as_deref(), Some("Berlin"));
        assert_eq!(c.locations[0].country, "DE");
        let s = c.salary.as_ref().unwrap();
        assert_eq!((s.min, s.max, s.currency.as_str(), s.period), (90, 110, "EUR", SalaryPeriod::Hour));
        assert_eq!(c.min_years_experience, Some(4));
        let spark = c.skills.iter().find(|s| s.name == "Spark").unwrap();
        assert!(!spark.required, "Spark is only a nice to have");
        assert!(c.skills.iter().find(|s| s.name == "Python").unwrap().required);
        assert_eq!(c.preferred_qualifications, ["Spark", "dbt"]);
        assert!(i.warnings.iter().any(|w| w.contains("seniority")), "{:?}", i.warnings);
    }

    #[test]
    fn plain_paragraphs_without_salary_keep_their_text_and_warn() {
        let md = "Junior Frontend Developer\n\nWe are a small studio in London building accessible websites with React and TypeScript. \nYou will work on site with our designers. Full time, permanent.";
        let i = import_markdown(md);
        let c = &i.content;
        assert_eq!(c.title, "Junior Frontend Developer");
        assert_eq!(c.seniority, Some(Seniority::Junior));
        assert_eq!(c.employment_type, Some(EmploymentType::FullTime));
        assert!(c.salary.is_none());
        assert!(i.warnings.iter().any(|w| w.contains("salary")));
        assert!(c.description.contains("accessible websites"));
        assert!(skill_names(&i).contains(&"React") && skill_names(&i).contains(&"TypeScript"));
    }

    #[test]
    fn pounds_per_year_and_aliases() {
        let md = "# Senior SRE (Remote - UK)\n\nSalary: £70,000 - £85,000\n\n### What you'll do\n- Run k8s clusters\n- Own our Postgres fleet\n\n### What you bring\n- Golang\n";
        let i = import_markdown(md);
        let c = &i.content;
        let s = c.salary.as_ref().unwrap();
        assert_eq!((s.min, s.max, s.currency.as_str(), s.period), (70_000, 85_000, "GBP", SalaryPeriod::Year));
        assert_eq!(c.workplace, Some(Workplace::Remote));
        assert_eq!(c.locations[0].country, "GB");
        for skill in ["Kubernetes", "PostgreSQL", "Go"] {
            assert!(skill_names(&i).contains(&skill), "{:?}", skill_names(&i));
        }
        assert_eq!(c.responsibilities.len(), 2);
    }
}
