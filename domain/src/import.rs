//! Turns a job description written in Markdown (or plain text) into posting content: title,
//! employment type, seniority, minimum years, workplace and locations, salary, equity, skills
//! (matched against the vocabulary in `domain/data/skills.txt`), responsibilities,
//! qualifications and benefits. What it cannot place stays in the description; what it cannot
//! determine, or only guesses, is reported as a warning — an uncertain salary is a warning, never
//! a number.

use std::collections::HashSet;

use crate::companies::LocationInput;
use crate::postings::{EmploymentType, PostingContentInput, PostingSkill, SalaryInput, Seniority, Workplace};
use crate::skills::{normalize, vocabulary};
use crate::values::SalaryPeriod;

/// The content to create a draft from, and what could not be determined.
#[derive(Debug, Clone)]
pub struct Imported {
    pub content: PostingContentInput,
    pub warnings: Vec<String>,
}

/// Cities and the countries they are in, for location lines that name no country.
const CITIES: &[(&str, &str)] = &[
    ("san francisco bay area", "US"),
    ("san francisco", "US"),
    ("bay area", "US"),
    ("new york city", "US"),
    ("new york", "US"),
    ("nyc", "US"),
    ("seattle", "US"),
    ("austin", "US"),
    ("boston", "US"),
    ("chicago", "US"),
    ("los angeles", "US"),
    ("san diego", "US"),
    ("san jose", "US"),
    ("palo alto", "US"),
    ("mountain view", "US"),
    ("menlo park", "US"),
    ("denver", "US"),
    ("boulder", "US"),
    ("portland", "US"),
    ("atlanta", "US"),
    ("miami", "US"),
    ("dallas", "US"),
    ("houston", "US"),
    ("washington dc", "US"),
    ("washington d.c", "US"),
    ("philadelphia", "US"),
    ("pittsburgh", "US"),
    ("minneapolis", "US"),
    ("detroit", "US"),
    ("salt lake city", "US"),
    ("phoenix", "US"),
    ("raleigh", "US"),
    ("nashville", "US"),
    ("london", "GB"),
    ("manchester", "GB"),
    ("edinburgh", "GB"),
    ("glasgow", "GB"),
    ("bristol", "GB"),
    ("cambridge", "GB"),
    ("oxford", "GB"),
    ("leeds", "GB"),
    ("birmingham", "GB"),
    ("belfast", "GB"),
    ("berlin", "DE"),
    ("munich", "DE"),
    ("münchen", "DE"),
    ("hamburg", "DE"),
    ("frankfurt", "DE"),
    ("cologne", "DE"),
    ("köln", "DE"),
    ("stuttgart", "DE"),
    ("düsseldorf", "DE"),
    ("leipzig", "DE"),
    ("paris", "FR"),
    ("lyon", "FR"),
    ("toulouse", "FR"),
    ("amsterdam", "NL"),
    ("rotterdam", "NL"),
    ("utrecht", "NL"),
    ("eindhoven", "NL"),
    ("the hague", "NL"),
    ("brussels", "BE"),
    ("antwerp", "BE"),
    ("luxembourg", "LU"),
    ("dublin", "IE"),
    ("cork", "IE"),
    ("madrid", "ES"),
    ("barcelona", "ES"),
    ("valencia", "ES"),
    ("lisbon", "PT"),
    ("porto", "PT"),
    ("milan", "IT"),
    ("rome", "IT"),
    ("turin", "IT"),
    ("stockholm", "SE"),
    ("gothenburg", "SE"),
    ("malmö", "SE"),
    ("oslo", "NO"),
    ("copenhagen", "DK"),
    ("aarhus", "DK"),
    ("helsinki", "FI"),
    ("tallinn", "EE"),
    ("riga", "LV"),
    ("vilnius", "LT"),
    ("zurich", "CH"),
    ("zürich", "CH"),
    ("geneva", "CH"),
    ("basel", "CH"),
    ("lausanne", "CH"),
    ("vienna", "AT"),
    ("wien", "AT"),
    ("graz", "AT"),
    ("prague", "CZ"),
    ("brno", "CZ"),
    ("warsaw", "PL"),
    ("krakow", "PL"),
    ("kraków", "PL"),
    ("wroclaw", "PL"),
    ("wrocław", "PL"),
    ("gdansk", "PL"),
    ("budapest", "HU"),
    ("bucharest", "RO"),
    ("cluj napoca", "RO"),
    ("sofia", "BG"),
    ("athens", "GR"),
    ("belgrade", "RS"),
    ("zagreb", "HR"),
    ("ljubljana", "SI"),
    ("kyiv", "UA"),
    ("istanbul", "TR"),
    ("tel aviv", "IL"),
    ("dubai", "AE"),
    ("abu dhabi", "AE"),
    ("cairo", "EG"),
    ("lagos", "NG"),
    ("nairobi", "KE"),
    ("cape town", "ZA"),
    ("johannesburg", "ZA"),
    ("toronto", "CA"),
    ("vancouver", "CA"),
    ("montreal", "CA"),
    ("montréal", "CA"),
    ("ottawa", "CA"),
    ("calgary", "CA"),
    ("waterloo", "CA"),
    ("mexico city", "MX"),
    ("guadalajara", "MX"),
    ("são paulo", "BR"),
    ("sao paulo", "BR"),
    ("rio de janeiro", "BR"),
    ("buenos aires", "AR"),
    ("bogotá", "CO"),
    ("bogota", "CO"),
    ("medellín", "CO"),
    ("medellin", "CO"),
    ("santiago", "CL"),
    ("lima", "PE"),
    ("sydney", "AU"),
    ("melbourne", "AU"),
    ("brisbane", "AU"),
    ("perth", "AU"),
    ("auckland", "NZ"),
    ("wellington", "NZ"),
    ("singapore", "SG"),
    ("hong kong", "HK"),
    ("kuala lumpur", "MY"),
    ("jakarta", "ID"),
    ("manila", "PH"),
    ("bangkok", "TH"),
    ("ho chi minh city", "VN"),
    ("hanoi", "VN"),
    ("bangalore", "IN"),
    ("bengaluru", "IN"),
    ("mumbai", "IN"),
    ("pune", "IN"),
    ("hyderabad", "IN"),
    ("chennai", "IN"),
    ("new delhi", "IN"),
    ("delhi", "IN"),
    ("gurgaon", "IN"),
    ("gurugram", "IN"),
    ("noida", "IN"),
    ("kolkata", "IN"),
    ("tokyo", "JP"),
    ("osaka", "JP"),
    ("seoul", "KR"),
    ("shanghai", "CN"),
    ("beijing", "CN"),
    ("shenzhen", "CN"),
    ("taipei", "TW"),
];

/// Country names and codes as they appear in job descriptions.
const COUNTRIES: &[(&str, &str)] = &[
    ("united states of america", "US"),
    ("united states", "US"),
    ("usa", "US"),
    ("us", "US"),
    ("u.s", "US"),
    ("u.s.a", "US"),
    ("america", "US"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("u.k", "GB"),
    ("great britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("france", "FR"),
    ("netherlands", "NL"),
    ("the netherlands", "NL"),
    ("belgium", "BE"),
    ("ireland", "IE"),
    ("spain", "ES"),
    ("portugal", "PT"),
    ("italy", "IT"),
    ("sweden", "SE"),
    ("norway", "NO"),
    ("denmark", "DK"),
    ("finland", "FI"),
    ("estonia", "EE"),
    ("switzerland", "CH"),
    ("schweiz", "CH"),
    ("austria", "AT"),
    ("österreich", "AT"),
    ("poland", "PL"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("hungary", "HU"),
    ("romania", "RO"),
    ("bulgaria", "BG"),
    ("greece", "GR"),
    ("croatia", "HR"),
    ("serbia", "RS"),
    ("ukraine", "UA"),
    ("turkey", "TR"),
    ("israel", "IL"),
    ("uae", "AE"),
    ("united arab emirates", "AE"),
    ("egypt", "EG"),
    ("nigeria", "NG"),
    ("kenya", "KE"),
    ("south africa", "ZA"),
    ("canada", "CA"),
    ("mexico", "MX"),
    ("brazil", "BR"),
    ("argentina", "AR"),
    ("colombia", "CO"),
    ("chile", "CL"),
    ("peru", "PE"),
    ("india", "IN"),
    ("australia", "AU"),
    ("new zealand", "NZ"),
    ("singapore", "SG"),
    ("japan", "JP"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("china", "CN"),
    ("taiwan", "TW"),
    ("philippines", "PH"),
    ("vietnam", "VN"),
    ("indonesia", "ID"),
    ("malaysia", "MY"),
    ("thailand", "TH"),
];

/// Cities as written locally, and the English name postings show.
const ENDONYMS: &[(&str, &str)] = &[
    ("münchen", "Munich"),
    ("köln", "Cologne"),
    ("wien", "Vienna"),
    ("zürich", "Zurich"),
    ("bengaluru", "Bengaluru"),
    ("montréal", "Montreal"),
    ("malmö", "Malmö"),
];

const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];
const EUROPE_BEYOND_EU: &[&str] = &["GB", "CH", "NO", "IS", "LI"];
const NORTH_AMERICA: &[&str] = &["US", "CA", "MX"];
const LATIN_AMERICA: &[&str] = &["MX", "BR", "AR", "CO", "CL", "PE", "UY", "CR"];
const NORDICS: &[&str] = &["SE", "NO", "DK", "FI", "IS"];
const DACH: &[&str] = &["DE", "AT", "CH"];

/// Remote regions a posting may hire in, as the countries they stand for.
fn region_countries(scope: &str) -> Option<(&'static str, Vec<&'static str>)> {
    let w = format!(" {} ", normalize(scope, false));
    let has = |needle: &str| w.contains(&format!(" {needle} "));
    if has("european union") || has("eu") {
        Some(("the EU", EU.to_vec()))
    } else if has("europe") || has("european") || has("eea") {
        Some(("Europe", EU.iter().chain(EUROPE_BEYOND_EU).copied().collect()))
    } else if has("dach") {
        Some(("DACH", DACH.to_vec()))
    } else if has("nordics") || has("nordic") || has("scandinavia") {
        Some(("the Nordics", NORDICS.to_vec()))
    } else if has("north america") {
        Some(("North America", NORTH_AMERICA.to_vec()))
    } else if has("latam") || has("latin america") || has("south america") {
        Some(("Latin America", LATIN_AMERICA.to_vec()))
    } else if has("americas") {
        Some(("the Americas", NORTH_AMERICA.iter().chain(LATIN_AMERICA).copied().collect()))
    } else {
        None
    }
}

/// Regions too wide to list as countries: the import says so instead of guessing one.
fn too_wide(scope: &str) -> Option<&'static str> {
    let w = format!(" {} ", normalize(scope, false));
    ["anywhere", "worldwide", "global", "globally", "emea", "apac", "asia pacific"]
        .into_iter()
        .find(|needle| w.contains(&format!(" {needle} ")))
}

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

const PREFERRED_MARKERS: &[&str] = &[
    "nice to have",
    "nice-to-have",
    "nice to haves",
    "nice-to-haves",
    "a plus",
    "is a plus",
    "are a plus",
    "plus if",
    "bonus",
    "preferred",
    "preferably",
    "ideally",
    "would be great",
    "would be nice",
    "an advantage",
    "advantageous",
    "desirable",
    "not required",
    "not a must",
    "good to have",
    "even better",
    "extra points",
    "stand out",
    "appreciated",
    "welcome",
    "pluspunkt",
    "un plus",
    "un atout",
    "wünschenswert",
];

fn classify(heading: &str) -> Option<Section> {
    let h = heading.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| h.contains(w));
    let pay = has(&["salary", "compensation", "pay", "benefit", "perks", "offer", "vergütung"]);
    if has(&["keyword", "how to apply", "equal opportunity", "eeo", "apply now", "application process"]) {
        Some(Section::Skip)
    } else if (has(PREFERRED_MARKERS) || h.trim() == "plus" || h.trim() == "pluses") && !pay {
        Some(Section::Preferred)
    } else if has(&[
        "requirement",
        "qualification",
        "must have",
        "must-have",
        "what you bring",
        "what you'll bring",
        "what you'll need",
        "what you need",
        "what we're looking for",
        "what we are looking for",
        "we're looking for",
        "you have",
        "you'll have",
        "about you",
        "who you are",
        "skills",
        "experience",
        "your profile",
        "profile",
        "dein profil",
        "profil",
        "ihr profil",
        "anforderungen",
    ]) && !pay
    {
        Some(Section::Required)
    } else if has(&[
        "responsibilit",
        "what you'll do",
        "what you will do",
        "what you'll be doing",
        "your role",
        "the role",
        "the job",
        "duties",
        "you will",
        "day to day",
        "day-to-day",
        "your mission",
        "deine aufgaben",
        "ihre aufgaben",
        "aufgaben",
        "tasks",
        "missions",
    ]) {
        Some(Section::Responsibilities)
    } else if pay || has(&["we offer", "why join", "why you'll love", "what's in it", "wir bieten"]) {
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
    let rest = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .or_else(|| t.strip_prefix("• "))
        .or_else(|| t.strip_prefix("· "))
        .or_else(|| t.strip_prefix("– "))
        .or_else(|| {
            t.split_once(['.', ')'])
                .filter(|(n, r)| {
                    !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()) && r.starts_with(' ')
                })
                .map(|(_, r)| r)
        })?;
    let text = rest.replace("**", "").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// Lower-case words padded with spaces, for whole-word `mentions`.
fn words(text: &str) -> String {
    format!(" {} ", normalize(text, false))
}

fn mentions(haystack: &str, needle: &str) -> bool {
    haystack.contains(&format!(" {needle} "))
}

/// Spelled-out numbers job descriptions use for years.
const NUMBER_WORDS: &[(&str, i32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("twelve", 12),
    ("fifteen", 15),
];

/// The smallest number of years a line asks for: "5+ years", "3-5 years", "three or more years",
/// "at least 4 yrs". `None` when no number is followed by years.
fn years_in(text: &str) -> Option<i32> {
    let w: Vec<String> =
        normalize(&text.replace(['–', '—'], "-").replace('-', " - "), false).split(' ').map(str::to_owned).collect();
    let number = |word: &str| -> Option<i32> {
        let digits = word.trim_end_matches('+');
        digits.parse().ok().or_else(|| NUMBER_WORDS.iter().find(|(n, _)| *n == digits).map(|(_, v)| *v))
    };
    let is_years = |word: &str| {
        word.starts_with("year")
            || word.starts_with("yr")
            || ["jahre", "jahren", "ans", "años", "anos", "anni", "jaar"].contains(&word)
    };
    for (i, word) in w.iter().enumerate() {
        // "at least a year of experience"
        if word == "a" && w.get(i + 1).is_some_and(|n| n == "year") && w.get(i + 2).is_some_and(|n| n == "of") {
            return Some(1);
        }
        let Some(n) = number(word) else { continue };
        // What follows the number, up to "years": "+", "or more", "- 5", "to 7", "plus".
        let mut j = i + 1;
        while j < w.len() && j <= i + 3 && ["+", "-", "to", "or", "more", "plus", "of"].contains(&w[j].as_str())
            || (j < w.len() && j <= i + 3 && number(&w[j]).is_some())
        {
            j += 1;
        }
        if j < w.len() && is_years(&w[j]) && n <= 40 {
            let after = w.get(j + 1).map_or("", String::as_str);
            if after == "ago" || after == "old" {
                continue;
            }
            return Some(n);
        }
    }
    None
}

/// Whether a line speaks of experience, so that its years are a requirement and not the
/// company's age.
fn about_experience(line: &str) -> bool {
    let l = line.to_lowercase();
    ["experience", "exp", "professional", "industry", "berufserfahrung", "track record", "working with", "in a "]
        .iter()
        .any(|w| l.contains(w))
}

/// Currency markers, the longest first so "CA$" is not read as "$".
const CURRENCY_MARKERS: &[(&str, &str)] = &[
    ("us$", "USD"),
    ("usd", "USD"),
    ("ca$", "CAD"),
    ("cad", "CAD"),
    ("c$", "CAD"),
    ("au$", "AUD"),
    ("aud", "AUD"),
    ("a$", "AUD"),
    ("nz$", "NZD"),
    ("nzd", "NZD"),
    ("s$", "SGD"),
    ("sgd", "SGD"),
    ("hk$", "HKD"),
    ("hkd", "HKD"),
    ("r$", "BRL"),
    ("brl", "BRL"),
    ("mx$", "MXN"),
    ("mxn", "MXN"),
    ("$", "USD"),
    ("eur", "EUR"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("€", "EUR"),
    ("gbp", "GBP"),
    ("£", "GBP"),
    ("chf", "CHF"),
    ("inr", "INR"),
    ("₹", "INR"),
    ("rs.", "INR"),
    ("rs", "INR"),
    ("jpy", "JPY"),
    ("¥", "JPY"),
    ("sek", "SEK"),
    ("nok", "NOK"),
    ("dkk", "DKK"),
    ("pln", "PLN"),
    ("zł", "PLN"),
    ("czk", "CZK"),
    ("zar", "ZAR"),
    ("aed", "AED"),
    ("ils", "ILS"),
    ("krw", "KRW"),
    ("₩", "KRW"),
];

/// A number as written in pay: "120,000", "60.000", "1.234,56", "12,00,000" (Indian grouping),
/// "60 000"; `None` when the separators make no sense.
fn parse_amount(raw: &str) -> Option<f64> {
    let raw: String = raw.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'')).collect();
    let last_dot = raw.rfind('.');
    let last_comma = raw.rfind(',');
    let decimal = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(p), None) | (None, Some(p)) => {
            let sep = raw.as_bytes()[p] as char;
            let groups: Vec<&str> = raw.split(sep).collect();
            let thousands = groups.len() > 1
                && groups[1..].last().is_some_and(|g| g.len() == 3)
                && groups[1..groups.len() - 1].iter().all(|g| g.len() == 3 || g.len() == 2)
                && (1..=3).contains(&groups[0].len());
            (!thousands).then_some(p)
        }
        (None, None) => None,
    };
    let mut number = String::new();
    for (i, c) in raw.char_indices() {
        if c.is_ascii_digit() {
            number.push(c);
        } else if Some(i) == decimal {
            number.push('.');
        }
    }
    number.parse().ok()
}

#[derive(Debug, Clone, Copy)]
struct Amount {
    value: f64,
    start: usize,
    end: usize,
    multiplied: bool,
    currency: Option<&'static str>,
}

/// The amounts of a line, each with the multiplier written after it ("k", "lakh", "LPA") and the
/// currency written right before or after it.
fn amounts_in(line: &str) -> Vec<Amount> {
    let lower = line.to_lowercase();
    let chars: Vec<(usize, char)> = lower.char_indices().collect();
    let marker_at = |byte: usize, before: bool| -> Option<&'static str> {
        let (head, tail) = lower.split_at(byte);
        if before {
            let head = head.trim_end();
            CURRENCY_MARKERS
                .iter()
                .find(|(m, _)| {
                    head.ends_with(m)
                        && (!m.chars().all(char::is_alphabetic)
                            || !head[..head.len() - m.len()].chars().last().is_some_and(char::is_alphabetic))
                })
                .map(|(_, c)| *c)
        } else {
            let tail = tail.trim_start();
            CURRENCY_MARKERS
                .iter()
                .find(|(m, _)| {
                    tail.starts_with(m)
                        && (!m.chars().all(char::is_alphabetic)
                            || !tail[m.len()..].chars().next().is_some_and(char::is_alphabetic))
                })
                .map(|(_, c)| *c)
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if !c.is_ascii_digit() || (i > 0 && chars[i - 1].1.is_alphabetic() && chars[i - 1].1 != 'k') {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() {
            let c = chars[j].1;
            let next_digit = chars.get(j + 1).is_some_and(|(_, n)| n.is_ascii_digit());
            if c.is_ascii_digit()
                || (matches!(c, ',' | '.' | '\'' | '\u{a0}' | '\u{202f}') && next_digit)
                || (c == ' '
                    && chars.get(j + 1..j + 4).is_some_and(|g| g.iter().all(|(_, d)| d.is_ascii_digit()))
                    && !chars.get(j + 4).is_some_and(|(_, d)| d.is_ascii_digit()))
            {
                j += 1;
            } else {
                break;
            }
        }
        let end = chars.get(j).map_or(lower.len(), |(b, _)| *b);
        let Some(mut value) = parse_amount(&lower[start..end]) else {
            i = j;
            continue;
        };
        // A multiplier right after the number.
        let rest = lower[end..].trim_start();
        let mut multiplied = false;
        let mut consumed = end;
        for (suffix, factor) in [
            ("lpa", 100_000.0),
            ("lakhs", 100_000.0),
            ("lakh", 100_000.0),
            ("lacs", 100_000.0),
            ("lac", 100_000.0),
            ("crore", 10_000_000.0),
            ("million", 1_000_000.0),
            ("mio", 1_000_000.0),
            ("k", 1_000.0),
            ("m", 1_000_000.0),
        ] {
            if rest.starts_with(suffix) && !rest[suffix.len()..].chars().next().is_some_and(char::is_alphabetic) {
                value *= factor;
                multiplied = true;
                consumed = lower.len() - rest.len() + suffix.len();
                break;
            }
        }
        let currency = marker_at(start, true).or_else(|| marker_at(consumed, false));
        out.push(Amount { value, start, end: consumed, multiplied, currency });
        i = chars.iter().position(|(b, _)| *b >= consumed).unwrap_or(chars.len());
    }
    out
}

/// What a line says about pay: a range, or why it gives none.
enum Pay {
    Range(SalaryInput),
    Unsure(String),
}

/// A salary range in `line`: amounts with a currency (symbol, code or "CA$"-style prefix), `k`,
/// lakh and crore multipliers, a period. Numbers without a currency next to them are not pay.
fn salary_in(line: &str) -> Option<Pay> {
    let lower = line.to_lowercase();
    let amounts = amounts_in(line);
    let money: Vec<usize> = (0..amounts.len()).filter(|i| amounts[*i].currency.is_some()).collect();
    let lakh = lower.contains("lpa") || lower.contains("lakh") || lower.contains("crore");
    let first = match money.first() {
        Some(first) => *first,
        None if lakh => amounts.iter().position(|a| a.multiplied)?,
        None => return None,
    };
    let joined = |a: &Amount, b: &Amount| {
        let between = CURRENCY_MARKERS.iter().fold(lower[a.end..b.start].to_owned(), |acc, (m, _)| acc.replace(m, " "));
        let between: String = between.chars().filter(|c| !c.is_whitespace()).collect();
        between.is_empty() || ["-", "–", "—", "~", "to", "and", "bis", "à", "a"].contains(&between.as_str())
    };
    let mut low = amounts[first];
    let currency = low.currency.unwrap_or("INR");
    // The other end of a range: the next amount, joined by a dash, "to" or "and" — or the one
    // before, when only the second end carries the currency ("16–18 € pro Stunde").
    let mut high = low;
    let mut ranged = false;
    if let Some(next) =
        amounts.get(first + 1).filter(|next| joined(&low, next) && next.currency.is_none_or(|c| c == currency))
    {
        high = *next;
        ranged = true;
    } else if let Some(prev) =
        first.checked_sub(1).map(|i| amounts[i]).filter(|prev| prev.currency.is_none() && joined(prev, &low))
    {
        high = low;
        low = prev;
        ranged = true;
    }
    // "$120–150k": the multiplier written once applies to both ends.
    if !low.multiplied && high.multiplied && low.value * 1000.0 <= high.value * 1.0001 && low.value < 1000.0 {
        let factor = if high.value >= 1_000_000.0 && lower.contains('m') && !lakh { 1_000_000.0 } else { 1000.0 };
        let factor = if lakh { 100_000.0 } else { factor };
        low.value *= factor;
    }
    let (min, max) = (low.value.min(high.value), low.value.max(high.value));
    let mut before = lower[..low.start].trim_end_matches(|c: char| !c.is_alphabetic());
    if let Some((_, code)) = CURRENCY_MARKERS.iter().find(|(m, _)| m.len() == 3 && before.ends_with(m)) {
        let _ = code;
        before = before[..before.len() - 3].trim_end();
    }
    if !ranged && ["up to", "bis zu", "max", "maximum", "jusqu'à"].iter().any(|w| before.ends_with(w)) {
        return Some(Pay::Unsure(format!("the salary gives only a maximum (\"{}\"); enter the range", line.trim())));
    }
    let period = if ["per day", "/day", "a day", "daily rate", "day rate", "per diem", "tagessatz"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Some(Pay::Unsure(format!("a day rate cannot be stored as a salary (\"{}\")", line.trim())));
    } else if ["per week", "/week", "a week", "weekly"].iter().any(|p| lower.contains(p)) && max >= 100.0 {
        return Some(Pay::Unsure(format!("a weekly rate cannot be stored as a salary (\"{}\")", line.trim())));
    } else if ["hour", "/h", "/hr", "p/h", "hourly", "stunde", "stundensatz"].iter().any(|p| lower.contains(p)) {
        SalaryPeriod::Hour
    } else if ["month", "/mo", "monthly", "monatlich", "monat", "par mois", "p.m."].iter().any(|p| lower.contains(p)) {
        SalaryPeriod::Month
    } else {
        SalaryPeriod::Year
    };
    let (min, max) = (min.round() as i64, max.round() as i64);
    let plausible = match period {
        SalaryPeriod::Hour => (5..=2_000).contains(&min),
        SalaryPeriod::Month => (200..=1_000_000).contains(&min),
        SalaryPeriod::Year => (1_000..=1_000_000_000).contains(&min),
    };
    if !plausible {
        return Some(Pay::Unsure(format!("the amounts in \"{}\" do not look like pay; enter the salary", line.trim())));
    }
    Some(Pay::Range(SalaryInput { min, max, currency: currency.to_owned(), period }))
}

/// Whether a line talks about money that is not the job's pay (funding, revenue, budgets).
fn not_pay(line: &str) -> bool {
    let l = line.to_lowercase();
    let about_pay =
        ["salary", "compensation", "pay", "rate", "base", "gehalt", "ote", "ctc"].iter().any(|w| l.contains(w));
    !about_pay
        && [
            "raised",
            "funding",
            "funded",
            "series a",
            "series b",
            "series c",
            "revenue",
            "valuation",
            "arr",
            "budget",
            "customers",
            "users",
            "stipend",
            "allowance",
            "401",
            "investors",
            "gmv",
            "transactions",
            "processed",
        ]
        .iter()
        .any(|w| l.contains(w))
}

/// Splits a location line into places: at commas, bars, slashes, bullets, dashes and "or".
fn places(line: &str) -> Vec<String> {
    line.replace(" or ", "|")
        .replace(" and ", "|")
        .replace(" - ", "|")
        .split([',', '(', ')', '/', '|', ';', '·', '•', '–', '—', '+'])
        .map(|p| p.trim().trim_matches(['*', '_', ':', '.']).trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |f| f.to_uppercase().chain(chars).collect())
}

/// Workplace and locations from a location line such as "Remote (US) or San Francisco Bay Area",
/// "Hybrid – Berlin", "On-site in Munich, Germany" or "Remote — anywhere in the EU".
fn locations_in(line: &str, warnings: &mut Vec<String>) -> (Option<Workplace>, Vec<LocationInput>) {
    let line = bullet_of(line).unwrap_or_else(|| line.to_owned());
    let line = line.as_str();
    let lower = line.to_lowercase();
    let w = words(line);
    let mut locations: Vec<LocationInput> = Vec::new();
    let remote = mentions(&w, "remote") || mentions(&w, "fully remote") || lower.contains("remote-first");
    let hybrid = mentions(&w, "hybrid")
        || mentions(&w, "hybride")
        || lower.contains("days in the office")
        || lower.contains("days in office")
        || lower.contains("days a week in");
    let onsite = [
        "on-site",
        "onsite",
        "on site",
        "in office",
        "in-office",
        "office-based",
        "office based",
        "in person",
        "in-person",
        "vor ort",
        "präsenz",
    ]
    .iter()
    .any(|p| lower.contains(p));
    let country_of = |text: &str| {
        let w = words(text);
        COUNTRIES.iter().find(|(name, _)| mentions(&w, name)).map(|(_, code)| (*code).to_owned())
    };
    if remote {
        // The scope after "remote", e.g. "Remote (US)", "Remote - UK", "Remote, anywhere in the EU".
        let scope =
            lower.split("remote").nth(1).map(|r| r.split(" or ").next().unwrap_or(r).to_owned()).unwrap_or_default();
        if let Some((name, countries)) = region_countries(&scope).or_else(|| region_countries(&lower)) {
            for country in countries {
                locations.push(LocationInput { city: None, region: None, country: country.to_owned(), remote: true });
            }
            warnings.push(format!("remote within {name}: listed its countries; remove those you cannot hire in"));
        } else {
            // Every country the scope names ("Remote within Spain or Portugal"); else one named
            // in the line, unless it is only an office's.
            let full_scope = lower.split_once("remote").map_or("", |(_, r)| r);
            let mut countries: Vec<String> = Vec::new();
            for place in places(full_scope) {
                if CITIES.iter().any(|(c, _)| mentions(&words(&place), c)) {
                    break;
                }
                if let Some(c) = country_of(&place).filter(|c| !countries.contains(c)) {
                    countries.push(c);
                }
            }
            if countries.is_empty()
                && let Some(c) = country_of(&scope)
                    .or_else(|| (!CITIES.iter().any(|(c, _)| mentions(&w, c))).then(|| country_of(line)).flatten())
            {
                countries.push(c);
            }
            if countries.is_empty()
                && let Some(wide) = too_wide(&lower)
            {
                warnings.push(format!("remote \"{wide}\": name the countries the job can be done from"));
            }
            for country in countries {
                locations.push(LocationInput { city: None, region: None, country, remote: true });
            }
        }
    }
    let mut seen_city = false;
    for place in places(line) {
        let pw = words(&place);
        let Some((city, country)) = CITIES.iter().find(|(c, _)| mentions(&pw, c)) else { continue };
        seen_city = true;
        // The place as written ("San Francisco Bay Area"), less workplace words; the city's own
        // name when the place says more than where ("Acme GmbH Berlin office").
        let mut name = place.clone();
        for prefix in [
            "hybrid",
            "onsite",
            "on-site",
            "on site",
            "office in",
            "in office",
            "based in",
            "in ",
            "office",
            "headquarters",
        ] {
            if name.is_char_boundary(prefix.len()) && name[..prefix.len()].eq_ignore_ascii_case(prefix) {
                name = name[prefix.len()..].trim().trim_start_matches([':', '-']).trim().to_owned();
            }
        }
        for suffix in [" office", " hq", " headquarters", " city centre", " city center", " campus"] {
            let cut = name.len().saturating_sub(suffix.len());
            if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(suffix) {
                name.truncate(cut);
            }
        }
        let extra = normalize(&name, false).split(' ').count().saturating_sub(city.split(' ').count());
        if extra > 2 || name.to_lowercase().contains("remote") || !name.to_lowercase().contains(city) {
            name = city.split(' ').map(title_case).collect::<Vec<_>>().join(" ");
        }
        if let Some((_, english)) = ENDONYMS.iter().find(|(local, _)| name.eq_ignore_ascii_case(local)) {
            name = (*english).to_owned();
        }
        // A country named in the same line overrides the city list ("Cambridge, MA, USA").
        let country = country_of(line)
            .filter(|c| CITIES.iter().any(|(n, k)| n == city && k == c) || c != "US" || *country == "US")
            .unwrap_or_else(|| (*country).to_owned());
        if !locations.iter().any(|l| l.city.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&name))) {
            locations.push(LocationInput { city: Some(name), region: None, country, remote: false });
        }
    }
    let workplace = if hybrid {
        Some(Workplace::Hybrid)
    } else if remote {
        Some(Workplace::Remote)
    } else if seen_city || onsite {
        Some(Workplace::Onsite)
    } else {
        None
    };
    (workplace, locations)
}

/// Seniority words in a title or a level line, most specific first.
fn seniority_in(text: &str) -> Option<Seniority> {
    let w = words(text);
    [
        ("intern", Seniority::Intern),
        ("interns", Seniority::Intern),
        ("internship", Seniority::Intern),
        ("werkstudent", Seniority::Intern),
        ("working student", Seniority::Intern),
        ("praktikum", Seniority::Intern),
        ("praktikant", Seniority::Intern),
        ("trainee", Seniority::Intern),
        ("apprentice", Seniority::Intern),
        ("apprenticeship", Seniority::Intern),
        ("principal", Seniority::Principal),
        ("distinguished", Seniority::Principal),
        ("director", Seniority::Principal),
        ("head of", Seniority::Principal),
        ("vp", Seniority::Principal),
        ("vice president", Seniority::Principal),
        ("chief", Seniority::Principal),
        ("staff", Seniority::Staff),
        ("senior", Seniority::Senior),
        ("sr", Seniority::Senior),
        ("lead", Seniority::Senior),
        ("iii", Seniority::Senior),
        ("expert", Seniority::Senior),
        ("junior", Seniority::Junior),
        ("jr", Seniority::Junior),
        ("entry level", Seniority::Junior),
        ("graduate", Seniority::Junior),
        ("new grad", Seniority::Junior),
        ("new graduate", Seniority::Junior),
        ("grad", Seniority::Junior),
        ("associate", Seniority::Junior),
        ("mid", Seniority::Mid),
        ("mid level", Seniority::Mid),
        ("intermediate", Seniority::Mid),
        ("ii", Seniority::Mid),
    ]
    .into_iter()
    .find(|(word, _)| mentions(&w, word))
    .map(|(_, s)| s)
}

/// The level a number of years usually stands for, for descriptions that name none.
fn seniority_for_years(years: i32) -> Seniority {
    match years {
        ..=1 => Seniority::Junior,
        2..=4 => Seniority::Mid,
        5..=7 => Seniority::Senior,
        _ => Seniority::Staff,
    }
}

fn employment_in(text: &str) -> Option<EmploymentType> {
    let l = text.to_lowercase();
    let w = words(text);
    let any = |needles: &[&str]| needles.iter().any(|n| l.contains(n));
    if any(&["internship", "praktikum", "werkstudent", "working student"]) || mentions(&w, "intern") {
        Some(if any(&["werkstudent", "working student"]) {
            EmploymentType::PartTime
        } else {
            EmploymentType::Internship
        })
    } else if any(&[
        "full-time",
        "full time",
        "fulltime",
        "permanent",
        "festanstellung",
        "vollzeit",
        "unbefristet",
        "cdi",
        "temps plein",
    ]) {
        Some(EmploymentType::FullTime)
    } else if any(&["part-time", "part time", "teilzeit", "temps partiel"]) {
        Some(EmploymentType::PartTime)
    } else if any(&["contract", "freelance", "contractor", "freiberuflich", "b2b"]) {
        Some(EmploymentType::Contract)
    } else if any(&["temporary", "fixed-term", "fixed term", "befristet", "maternity cover", "seasonal"]) {
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
    (label.len() <= 30 && !value.trim().is_empty() && !label.contains("http")).then(|| (label, value.trim().to_owned()))
}

/// Words that make a line a job title.
const ROLE_WORDS: &str = "engineer engineers engineering developer developers programmer architect administrator admin \
     manager designer analyst scientist researcher specialist consultant lead director head officer coordinator \
     assistant associate intern internship trainee apprentice technician nurse accountant recruiter writer editor \
     representative executive agent advisor adviser sre swe qa tester devops teacher tutor driver chef cook operator \
     strategist marketer owner president vp cto ceo cfo coo cio ciso mechanic electrician cashier clerk supervisor \
     worker attendant therapist pharmacist physician doctor counselor counsellor planner buyer producer artist \
     animator illustrator photographer copywriter steward inspector auditor paralegal lawyer attorney solicitor \
     secretary receptionist nanny babysitter caregiver dentist hygienist surveyor logistician economist statistician \
     mathematician physicist chemist biologist geologist entwickler ingenieur werkstudent praktikant berater leiter \
     partner member expert advocate evangelist generalist principal staff senior junior fellow lecturer professor \
     instructor coach trainer estimator scheduler dispatcher underwriter actuary broker banker trader investigator \
     officer support success sales marketing";

fn has_role_word(line: &str) -> bool {
    let w = words(line);
    ROLE_WORDS.split_whitespace().any(|r| mentions(&w, r))
}

/// Qualifiers that follow a title but are not part of it: gender markers, contract terms, intakes,
/// workplace and place.
fn is_qualifier(part: &str) -> bool {
    let w = words(part);
    let l = part.to_lowercase();
    let gender = [
        "m/w/d",
        "w/m/d",
        "m/f/d",
        "f/m/d",
        "m/f/x",
        "f/m/x",
        "m/f",
        "h/f",
        "f/h",
        "d/f/m",
        "m/w/x",
        "all genders",
        "gn",
        "x/f/m",
    ]
    .iter()
    .any(|g| l.replace(' ', "").contains(g));
    let terms = [
        "contract",
        "full time",
        "part time",
        "fulltime",
        "permanent",
        "temporary",
        "freelance",
        "months",
        "month",
        "weeks",
        "fixed term",
        "intake",
        "summer",
        "winter",
        "spring",
        "fall",
        "autumn",
        "remote",
        "hybrid",
        "on site",
        "onsite",
        "in office",
        "relocation",
        "visa",
        "sponsorship",
        "immediate start",
        "start",
        "cohort",
        "program",
        "programme",
        "urgent",
        "maternity cover",
        "vollzeit",
        "teilzeit",
        "festanstellung",
        "befristet",
        "anywhere",
        "worldwide",
    ]
    .iter()
    .any(|t| mentions(&w, t));
    let year =
        w.split_whitespace().any(|t| t.len() == 4 && t.starts_with("20") && t.chars().all(|c| c.is_ascii_digit()));
    let place = CITIES.iter().any(|(c, _)| mentions(&w, c))
        || COUNTRIES.iter().any(|(c, _)| mentions(&w, c))
        || region_countries(part).is_some();
    gender || terms || year || place || employment_in(part).is_some()
}

const ACRONYMS: &str = "SRE SWE QA HR VP CTO CEO CFO COO CIO CISO IT UX UI AI ML BI SQL AWS GCP API SDK ERP CRM SEO SAP \
     IOS II III IV PHP NLP LLM ETL DBA SDET SOC PR B2B SaaS DevOps .NET";

/// "SENIOR DATA ENGINEER" as "Senior Data Engineer", acronyms kept.
fn unshout(title: &str) -> String {
    let letters: Vec<char> = title.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if letters.len() < 4 || upper * 10 < letters.len() * 9 {
        return title.to_owned();
    }
    let small = ["of", "and", "for", "the", "in", "at", "to", "a", "an", "with", "on", "or"];
    title
        .split(' ')
        .enumerate()
        .map(|(i, word)| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.');
            if let Some(acronym) = ACRONYMS.split_whitespace().find(|a| a.eq_ignore_ascii_case(bare)) {
                return word.replacen(bare, if acronym == "IOS" { "iOS" } else { acronym }, 1);
            }
            if let Some(skill) = crate::skills::canonical(bare).filter(|s| s.eq_ignore_ascii_case(bare)) {
                return word.replacen(bare, skill, 1);
            }
            let lower = word.to_lowercase();
            if i > 0 && small.contains(&lower.as_str()) {
                lower
            } else {
                // Capitalise each part of "back-end" / "full-stack".
                lower.split('-').map(title_case).collect::<Vec<_>>().join("-")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A title as written, less Markdown, a "Job title:" label, trailing qualifiers ("(m/w/d)",
/// "(Contract, 6 months)", " - Remote", "| Berlin"), a trailing company ("at Acme") and shouting.
fn clean_title(raw: &str) -> String {
    let mut t = raw.trim().trim_start_matches('#').replace("**", "").replace("__", "").replace('`', "");
    t = t.trim().trim_end_matches(':').trim().to_owned();
    if let Some((label, rest)) = t.split_once(':')
        && [
            "job title",
            "title",
            "position",
            "role",
            "job",
            "stelle",
            "subject",
            "re",
            "fwd",
            "we're hiring",
            "we are hiring",
            "hiring",
            "now hiring",
            "opening",
        ]
        .contains(&label.trim().to_lowercase().as_str())
    {
        t = rest.trim().to_owned();
    }
    loop {
        let trimmed = t.trim_end();
        // A trailing "( … )" or "[ … ]" group.
        if let Some(open) = trimmed
            .strip_suffix(')')
            .and_then(|s| s.rfind('('))
            .or_else(|| trimmed.strip_suffix(']').and_then(|s| s.rfind('[')))
            && open > 0
            && is_qualifier(&trimmed[open + 1..trimmed.len() - 1])
        {
            t = trimmed[..open].trim_end().to_owned();
            continue;
        }
        // A trailing " - Remote", " | Berlin", " · Full-time", ", London".
        let cut = [" | ", " · ", " • ", " — ", " – ", " - ", ", ", " / "]
            .iter()
            .filter_map(|sep| trimmed.rfind(sep).map(|i| (i, sep.len())))
            .max_by_key(|(i, _)| *i);
        if let Some((i, len)) = cut
            && i > 0
            && is_qualifier(&trimmed[i + len..])
            && has_role_word(&trimmed[..i])
        {
            t = trimmed[..i].trim_end().to_owned();
            continue;
        }
        // "Senior Engineer at Acme": the company is not part of the title.
        if let Some(i) = trimmed.rfind(" at ").or_else(|| trimmed.rfind(" @ "))
            && has_role_word(&trimmed[..i])
            && !has_role_word(&trimmed[i + 3..])
        {
            t = trimmed[..i].trim_end().to_owned();
            continue;
        }
        break;
    }
    unshout(t.trim().trim_end_matches([',', '-', '–', '|', ':']).trim())
}

/// A title named inside a sentence: "We're hiring a Senior Data Engineer to …".
fn title_in_sentence(sentence: &str) -> Option<String> {
    let lower = sentence.to_lowercase();
    for lead in [
        "hiring a ",
        "hiring an ",
        "looking for a ",
        "looking for an ",
        "seeking a ",
        "seeking an ",
        "join us as a ",
        "join us as an ",
        "join our team as a ",
        "join our team as an ",
        "we need a ",
        "we need an ",
    ] {
        let Some(i) = lower.find(lead) else { continue };
        let rest = &sentence[i + lead.len()..];
        let end = rest
            .find([',', '.', '!', ';', '(', ':'])
            .into_iter()
            .chain(
                [" to ", " who ", " with ", " that ", " for ", " in ", " at ", " on ", " based ", " and help", " join"]
                    .iter()
                    .filter_map(|w| rest.find(w)),
            )
            .min()
            .unwrap_or(rest.len());
        let candidate = rest[..end].trim();
        let candidate = candidate
            .strip_prefix("talented ")
            .or_else(|| candidate.strip_prefix("passionate "))
            .or_else(|| candidate.strip_prefix("experienced "))
            .unwrap_or(candidate);
        if has_role_word(candidate) && candidate.split_whitespace().count() <= 8 {
            let mut words: Vec<String> = candidate.split_whitespace().map(title_case).collect();
            if let Some(first) = words.first_mut() {
                *first = title_case(first);
            }
            return Some(words.join(" "));
        }
    }
    None
}

/// The title: a labelled "Job title:" line, else the first of the opening lines that reads as a
/// title (a role word, short, not a sentence), the top heading preferred; else one named in the
/// first sentences.
fn find_title(markdown: &str, labelled_title: Option<String>) -> (Option<String>, bool) {
    if let Some(t) = labelled_title {
        return (Some(clean_title(&t)), false);
    }
    let opening: Vec<&str> =
        markdown.lines().map(str::trim).filter(|l| !l.is_empty() && *l != "---").take(12).collect();
    let is_sentence = |l: &str| {
        let bare = l.trim_matches(['*', '_', '#', ' ']);
        bare.split_whitespace().count() > 12 || bare.ends_with(['.', '!', '?']) || bare.len() > 100
    };
    let candidate = |l: &&str| {
        let bare = l.trim_start_matches('#').trim();
        !is_sentence(bare)
            && bullet_of(l).is_none()
            && classify(bare.trim_matches(['*', '_', ':'])).is_none()
            && labelled(l).is_none_or(|(label, _)| label.split_whitespace().count() > 3)
            && has_role_word(&clean_title(bare))
    };
    let h1 = opening.iter().find(|l| l.starts_with("# ") || (l.starts_with('#') && !l.starts_with("##")));
    if let Some(h1) = h1.filter(|l| candidate(l)) {
        return (Some(clean_title(h1)), false);
    }
    if let Some(line) = opening.iter().find(|l| candidate(l)) {
        return (Some(clean_title(line)), false);
    }
    if let Some(t) = opening.iter().find_map(|l| title_in_sentence(l)) {
        return (Some(clean_title(&t)), true);
    }
    // A description in bullets only: its first bullet.
    if let Some(first) = opening.first().and_then(|l| bullet_of(l)).filter(|b| has_role_word(b) && !is_sentence(b)) {
        return (Some(clean_title(&first)), false);
    }
    (h1.or(opening.first()).filter(|l| !is_sentence(l)).map(|l| clean_title(l)), true)
}

/// Splits prose into clauses, so that "Must-haves are Python and SQL, and it's a plus if you know
/// dbt" puts dbt apart from Python.
fn clauses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in text.split(['\n', ';', '!', '?']).flat_map(|s| s.split(". ")) {
        let mut rest = sentence.to_owned();
        for sep in [
            ", and ",
            ", but ",
            " but ",
            ", while ",
            ", whereas ",
            " - ",
            " – ",
            ", plus ",
            "; ",
            ", ideally ",
            " and ideally ",
        ] {
            rest = rest.replace(sep, "\u{1}");
        }
        out.extend(rest.split('\u{1}').map(str::to_owned));
    }
    out
}

fn is_preferred_clause(clause: &str) -> bool {
    let l = clause.to_lowercase();
    PREFERRED_MARKERS.iter().any(|m| l.contains(m))
}

/// The text's words and word sequences (up to four words), lower case and as written, for
/// looking skills up without scanning the text once per alias.
struct Grams {
    lower: HashSet<String>,
    cased: HashSet<String>,
}

impl Grams {
    fn of(text: &str) -> Self {
        let grams = |normal: String| {
            let words: Vec<&str> = normal.split(' ').filter(|w| !w.is_empty()).collect();
            let mut set = HashSet::new();
            for n in 1..=4 {
                for window in words.windows(n) {
                    set.insert(window.join(" "));
                }
            }
            set
        };
        Self { lower: grams(normalize(text, false)), cased: grams(normalize(text, true)) }
    }

    fn has(&self, skill: &crate::skills::Skill) -> bool {
        skill.aliases.iter().any(|a| if a.cased { self.cased.contains(&a.text) } else { self.lower.contains(&a.text) })
    }
}

pub fn import_markdown(markdown: &str) -> Imported {
    let mut warnings = Vec::new();
    let mut section = Section::Intro;
    let mut parent = Section::Intro;
    let mut responsibilities: Vec<String> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let mut preferred: Vec<String> = Vec::new();
    let mut benefits: Vec<String> = Vec::new();
    let mut description = String::new();
    let mut skip_text = String::new();
    let (mut employment, mut seniority, mut years, mut salary) = (None, None, None, None);
    let mut labelled_seniority = false;
    let mut labelled_title = None;
    let mut unsure_pay: Vec<String> = Vec::new();
    let (mut workplace, mut locations) = (None, Vec::new());
    let (title, title_guessed) = {
        let labelled_title = markdown.lines().take(30).find_map(|l| {
            labelled(l)
                .filter(|(label, _)| {
                    ["job title", "title", "position", "role", "position title", "stelle"].contains(&label.as_str())
                })
                .map(|(_, v)| v)
        });
        find_title(markdown, labelled_title)
    };
    let mut title_seen = false;

    for line in markdown.lines() {
        if line.trim() == "---" || line.trim().is_empty() {
            if line.trim().is_empty() && !description.is_empty() && matches!(section, Section::Intro | Section::Other) {
                description.push('\n');
            }
            continue;
        }
        // The title line itself (or its label) is not part of the description.
        if !title_seen
            && title
                .as_deref()
                .is_some_and(|t| (clean_title(line) == t || line.contains(t)) && line.len() < t.len() + 40)
        {
            title_seen = true;
            continue;
        }
        if let Some((label, value)) = labelled(line) {
            match label.as_str() {
                "location" | "locations" | "work location" | "where" | "office" | "based in" | "location type"
                | "workplace" | "work model" | "arbeitsort" | "standort" | "lieu" | "remote" => {
                    let (w, l) = locations_in(
                        &format!("{}{value}", if label == "remote" { "remote " } else { "" }),
                        &mut warnings,
                    );
                    workplace = workplace.or(w);
                    if locations.is_empty() {
                        locations = l;
                    }
                    continue;
                }
                "employment type" | "job type" | "type" | "contract" | "contract type" | "employment" | "schedule"
                | "hours" | "time type" | "anstellungsart" | "vertragsart" | "contrat" => {
                    employment = employment.or_else(|| employment_in(&value));
                    continue;
                }
                "experience level" | "seniority" | "level" | "seniority level" | "career level" | "experience" => {
                    if let Some(s) = seniority_in(&value) {
                        seniority = seniority.or(Some(s));
                        labelled_seniority = true;
                    }
                    years = years.or_else(|| years_in(&value));
                    continue;
                }
                "salary" | "salary range" | "compensation" | "pay" | "rate" | "pay range" | "base salary"
                | "gehalt" | "ctc" | "package" | "day rate" | "hourly rate" | "salaire" => {
                    match salary_in(&value) {
                        Some(Pay::Range(s)) => salary = salary.or(Some(s)),
                        Some(Pay::Unsure(why)) => unsure_pay.push(why),
                        None if value.chars().any(|c| c.is_ascii_digit()) => {
                            unsure_pay.push(format!("the salary \"{}\" names no currency; enter it", value.trim()))
                        }
                        None => {}
                    }
                    continue;
                }
                "job title" | "title" | "position" | "role" | "position title" | "stelle" => {
                    labelled_title = Some(value);
                    continue;
                }
                "company" | "department" | "team" | "reports to" | "start date" | "posted" | "date posted"
                | "job id" | "req id" | "requisition id" => {
                    continue;
                }
                label => {
                    // "Nice to have: Spark, dbt" and "Must have: Python" carry their list inline.
                    match classify(label) {
                        Some(Section::Preferred) => {
                            preferred.push(value);
                            continue;
                        }
                        Some(Section::Required) if label.split_whitespace().count() <= 3 => {
                            required.push(value);
                            continue;
                        }
                        _ => {}
                    }
                }
            }
        }
        // A plain line naming a section ("What you'll do", "REQUIREMENTS") is a heading too.
        let plain_heading = || {
            let t = line.trim();
            (bullet_of(line).is_none()
                && t.split_whitespace().count() <= 5
                && !t.ends_with(['.', '!', '?', ','])
                && !t.chars().any(|c| c.is_ascii_digit())
                && classify(t).is_some())
            .then(|| (2, t.to_owned()))
        };
        if let Some((level, text)) = heading_of(line).or_else(plain_heading) {
            match classify(&text) {
                // "### Experience" under "## Preferred qualifications" is still preferred.
                Some(Section::Required | Section::Responsibilities)
                    if level >= 3 && matches!(parent, Section::Required | Section::Preferred) =>
                {
                    section = parent;
                }
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
            // Prose inside a list section counts as one item.
            (Some(list), None) if section != Section::Benefits => {
                if list.len() < 50 {
                    list.push(line.trim().chars().take(500).collect());
                }
            }
            _ if section == Section::Skip => {
                skip_text.push_str(line);
                skip_text.push('\n');
            }
            _ => {
                description.push_str(line);
                description.push('\n');
            }
        }
    }
    let _ = labelled_title;

    let text = markdown;
    let title = title.unwrap_or_else(|| {
        warnings.push("could not determine the title; enter it".to_owned());
        "Untitled position".to_owned()
    });
    if title_guessed && title != "Untitled position" {
        warnings.push(format!("took the title \"{title}\" from the text; check it"));
    }
    let employment = employment
        .or_else(|| employment_in(&title))
        .or_else(|| employment_in(&description))
        .or_else(|| employment_in(text));
    let years = years
        .or_else(|| required.iter().find_map(|r| years_in(r)))
        .or_else(|| text.lines().filter(|l| about_experience(l)).find_map(years_in));
    let seniority = seniority.or_else(|| seniority_in(&title));
    let seniority = match seniority {
        Some(s) => Some(s),
        None => match years {
            Some(y) => {
                let s = seniority_for_years(y);
                warnings.push(format!("guessed the seniority {} from {y} years of experience; check it", s.as_str()));
                Some(s)
            }
            // "We need a senior platform engineer": a level named in the opening text.
            None => {
                let opening: String =
                    description.lines().filter(|l| !l.starts_with('#')).take(6).collect::<Vec<_>>().join(" ");
                let s = seniority_in(&opening);
                if let Some(s) = s {
                    warnings.push(format!("guessed the seniority {} from the description; check it", s.as_str()));
                }
                s
            }
        },
    };
    let _ = labelled_seniority;
    let salary = salary.or_else(|| {
        let mut found = None;
        for line in text.lines().filter(|l| !not_pay(l)) {
            let l = line.to_lowercase();
            let about_pay = [
                "salary",
                "compensation",
                "pay",
                "ote",
                "base",
                "package",
                "rate",
                "range",
                "gehalt",
                "salaire",
                "ctc",
            ]
            .iter()
            .any(|w| mentions(&words(&l), w));
            match salary_in(line) {
                // A lone amount counts only on a line about pay: "$5,000 learning budget" is not.
                Some(Pay::Range(s)) if s.min < s.max || about_pay => {
                    found = Some(s);
                    break;
                }
                Some(Pay::Unsure(why)) if about_pay => unsure_pay.push(why),
                _ => {}
            }
        }
        found
    });
    if workplace.is_none() || locations.is_empty() {
        // The opening lines and any line about remote, hybrid or office work.
        let place_lines: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, l)| {
                let lower = l.to_lowercase();
                let w = words(l);
                (*i < 12 && CITIES.iter().any(|(c, _)| mentions(&w, c)))
                    || mentions(&w, "remote")
                    || mentions(&w, "hybrid")
                    || lower.contains("on-site")
                    || lower.contains("onsite")
                    || lower.contains("in office")
                    || lower.contains("in-office")
                    || lower.contains("office in")
                    || lower.contains("based in")
                    || lower.contains("located in")
            })
            .map(|(_, l)| l)
            .take(4)
            .collect();
        let mut unplaced = Vec::new();
        for line in place_lines {
            let mut scratch = Vec::new();
            let (w, l) = locations_in(line, &mut scratch);
            if l.is_empty() {
                unplaced.append(&mut scratch);
            }
            if workplace.is_none() {
                workplace = w;
            }
            if locations.is_empty() && !l.is_empty() {
                locations = l;
                warnings.extend(scratch);
            }
            if workplace.is_some() && !locations.is_empty() {
                break;
            }
        }
        if locations.is_empty() {
            warnings.extend(unplaced.into_iter().take(1));
        }
    }
    if workplace.is_none() && !locations.is_empty() {
        workplace = Some(if locations.iter().all(|l| l.remote) { Workplace::Remote } else { Workplace::Onsite });
    }
    let lower = text.to_lowercase();
    // Equity as pay, not as in "diversity, equity and inclusion".
    let inclusion = |at: usize| {
        lower[at..].starts_with("equity and inclusion")
            || lower[at..].starts_with("equity, and inclusion")
            || lower[..at].ends_with("diversity, ")
            || lower[..at].ends_with("diversity & ")
    };
    let equity = !lower.contains("no equity")
        && (lower.match_indices("equity").any(|(at, _)| !inclusion(at))
            || ["stock option", "rsu", "esop", "vsop", "employee shares", "share options"]
                .iter()
                .any(|w| mentions(&words(&lower), w) || lower.contains(w)));

    // Skills: required when named in the title or in the requirements outside a "nice to have"
    // clause; with no requirements that name any skill, the description and then the
    // responsibilities count instead; preferred when only in a nice-to-have list or clause.
    let clause_grams = |items: &[String]| -> (Grams, Grams) {
        let (mut must, mut nice) = (String::new(), String::new());
        for clause in items.iter().flat_map(|i| clauses(i)) {
            let target = if is_preferred_clause(&clause) { &mut nice } else { &mut must };
            target.push_str(&clause);
            target.push_str(" \n ");
        }
        (Grams::of(&must), Grams::of(&nice))
    };
    let title_grams = Grams::of(&title);
    let (required_must, required_nice) = clause_grams(&required);
    let (intro_must, intro_nice) = clause_grams(&[description.clone()]);
    let (duties_must, duties_nice) = clause_grams(&responsibilities);
    let preferred_grams = Grams::of(&preferred.join("\n"));
    let skills_in_required = vocabulary().iter().any(|s| required_must.has(s));
    let everything = words(&format!(
        "{title}\n{}\n{}\n{}\n{description}",
        required.join("\n"),
        preferred.join("\n"),
        responsibilities.join("\n")
    ));
    let mut found: Vec<(&crate::skills::Skill, u8)> = Vec::new();
    for skill in vocabulary() {
        let rank = if title_grams.has(skill)
            || required_must.has(skill)
            || (!skills_in_required && intro_must.has(skill))
            || (required.is_empty() && duties_must.has(skill))
        {
            0
        } else if preferred_grams.has(skill)
            || required_nice.has(skill)
            || intro_nice.has(skill)
            || duties_nice.has(skill)
        {
            1
        } else if intro_must.has(skill) || duties_must.has(skill) {
            2
        } else {
            continue;
        };
        found.push((skill, rank));
    }
    // "Spring" inside "Spring Boot", "React" inside "React Native": the shorter skill counts only
    // when it is also named on its own.
    let count = |phrase: &str| everything.matches(&format!(" {} ", phrase.to_lowercase())).count();
    let names: Vec<&str> = found.iter().map(|(s, _)| s.name).collect();
    found.retain(|(skill, _)| {
        let own = count(skill.name);
        let own_name = format!(" {} ", skill.name.to_lowercase());
        let within: usize = names
            .iter()
            .filter(|n| n.len() > skill.name.len() && format!(" {} ", n.to_lowercase()).contains(&own_name))
            .map(|n| count(n))
            .sum();
        within == 0 || own > within
    });
    // Required first, then the nice-to-haves, then skills only mentioned in passing.
    found.sort_by_key(|(_, rank)| *rank);
    let skills: Vec<PostingSkill> = found
        .into_iter()
        .map(|(skill, rank)| PostingSkill { name: skill.name.to_owned(), required: rank == 0 })
        .collect();

    let told_wide = warnings.iter().any(|w| w.starts_with("remote \""));
    let mut warn = |missing: bool, what: &str| {
        if missing {
            warnings.push(format!("could not determine {what}"));
        }
    };
    warn(employment.is_none(), "the employment type");
    warn(seniority.is_none(), "the seniority");
    warn(years.is_none(), "the minimum years of experience");
    warn(workplace.is_none(), "the workplace (onsite, hybrid or remote)");
    warn(locations.is_empty() && !told_wide, "a location");
    warn(salary.is_none() && unsure_pay.is_empty(), "the salary");
    warn(!skills.iter().any(|s| s.required), "any required skill from the vocabulary");
    if salary.is_none() {
        warnings.extend(unsure_pay.into_iter().take(1));
    }

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
            locations: locations.into_iter().take(50).collect(),
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

#[cfg(test)]
mod warning_tests {
    use super::*;

    fn warned(i: &Imported, about: &str) -> bool {
        i.warnings.iter().any(|w| w.contains(about))
    }

    #[test]
    fn uncertain_pay_is_a_warning_and_never_a_number() {
        let day = import_markdown("# Senior Data Engineer\n\nLondon, hybrid. Contract.\n\nRate: £550 - £650 per day\n");
        assert!(day.content.salary.is_none());
        assert!(warned(&day, "day rate"), "{:?}", day.warnings);
        let up_to = import_markdown(
            "# Account Executive\n\nAustin, TX. Full-time. 2+ years of sales experience.\n\nOTE up to $160k.\n",
        );
        assert!(up_to.content.salary.is_none());
        assert!(warned(&up_to, "only a maximum"), "{:?}", up_to.warnings);
        let bare = import_markdown("# Rust Engineer\n\nSalary: 70000 - 90000\n");
        assert!(bare.content.salary.is_none());
        assert!(warned(&bare, "names no currency"), "{:?}", bare.warnings);
        let days = import_markdown("# Support Specialist\n\nDublin. Part-time, 5 days a week.\n");
        assert!(days.content.salary.is_none(), "{:?}", days.content.salary);
    }

    #[test]
    fn a_guessed_seniority_or_a_region_too_wide_to_list_is_said() {
        let guessed = import_markdown(
            "# Platform Engineer\n\nBerlin. Full-time.\n\n## Requirements\n- 6+ years of experience with Go\n",
        );
        assert_eq!(guessed.content.seniority, Some(Seniority::Senior));
        assert!(warned(&guessed, "guessed the seniority SENIOR from 6 years"), "{:?}", guessed.warnings);
        let world = import_markdown(
            "# Senior Rust Engineer\n\nRemote, anywhere in the world. Contract.\n\n## Requirements\n- Rust\n",
        );
        assert!(world.content.locations.is_empty());
        assert!(warned(&world, "name the countries"), "{:?}", world.warnings);
        let eu = import_markdown("# Staff SRE\n\n**Location:** Remote — anywhere in the EU\n");
        assert_eq!(eu.content.locations.len(), 27);
        assert!(warned(&eu, "remote within the EU"), "{:?}", eu.warnings);
    }
}
