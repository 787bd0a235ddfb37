//! The importer measured on a labelled set: 30 job descriptions written for this test in the
//! styles postings arrive in (ATS exports, LinkedIn posts, plain paragraphs, bullets only, German,
//! French, Indian, Canadian, Australian and Singaporean pay), each with the fields a recruiter
//! would enter in an HTML comment at its top. The test fails when the share of fields right drops
//! below the floor, and prints every miss.

use std::collections::BTreeSet;
use std::path::Path;

use hiregraph_domain::import::import_markdown;

/// Share of fields right on the set: 270 of 270 when it was written; the floor leaves room for
/// five misses before the test fails.
const FLOOR: f64 = 0.98;

const EU: &str = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE";

fn expected(md: &str) -> Vec<(String, String)> {
    let block = md.split_once("<!-- expect").and_then(|(_, rest)| rest.split_once("-->")).map(|(b, _)| b).unwrap_or("");
    block
        .lines()
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn set(list: &str) -> BTreeSet<String> {
    if list == "none" {
        return BTreeSet::new();
    }
    list.split(',').map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect()
}

fn locations(list: &str) -> BTreeSet<String> {
    if list == "remote:EU" {
        return EU.split(' ').map(|c| format!("remote/{}", c.to_lowercase())).collect();
    }
    set(list)
}

#[test]
fn imported_fields_match_the_labelled_descriptions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/imports");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 25, "the set needs at least 25 descriptions, has {}", files.len());
    let (mut right, mut total) = (0usize, 0usize);
    let mut misses = Vec::new();
    for file in &files {
        let raw = std::fs::read_to_string(file).unwrap();
        let fields = expected(&raw);
        assert!(fields.len() >= 9, "{} has no complete expect block", file.display());
        let markdown = raw.split_once("-->").map_or(raw.as_str(), |(_, md)| md);
        let imported = import_markdown(markdown);
        let c = &imported.content;
        for (field, want) in &fields {
            let got: String = match field.as_str() {
                "title" => c.title.clone(),
                "employment" => c.employment_type.map_or("none".into(), |e| e.as_str().to_owned()),
                "seniority" => c.seniority.map_or("none".into(), |s| s.as_str().to_owned()),
                "years" => c.min_years_experience.map_or("none".into(), |y| y.to_string()),
                "workplace" => c.workplace.map_or("none".into(), |w| w.as_str().to_owned()),
                "salary" => c.salary.as_ref().map_or("none".into(), |s| {
                    format!("{}-{} {} {}", s.min, s.max, s.currency, s.period.as_str().to_uppercase())
                }),
                "locations" => {
                    let got: BTreeSet<String> = c
                        .locations
                        .iter()
                        .map(|l| {
                            let place = if l.remote { "remote".to_owned() } else { l.city.clone().unwrap_or_default() };
                            format!("{place}/{}", l.country).to_lowercase()
                        })
                        .collect();
                    let ok = got == locations(want);
                    total += 1;
                    right += usize::from(ok);
                    if !ok {
                        misses.push(format!("{}: locations: want {want}, got {got:?}", file.display()));
                    }
                    continue;
                }
                "required" | "preferred" => {
                    let required = field == "required";
                    let got: BTreeSet<String> =
                        c.skills.iter().filter(|s| s.required == required).map(|s| s.name.to_lowercase()).collect();
                    let ok = got == set(want);
                    total += 1;
                    right += usize::from(ok);
                    if !ok {
                        misses.push(format!("{}: {field}: want {want}, got {got:?}", file.display()));
                    }
                    continue;
                }
                other => panic!("{}: unknown field {other}", file.display()),
            };
            let ok = got.eq_ignore_ascii_case(want);
            total += 1;
            right += usize::from(ok);
            if !ok {
                misses.push(format!("{}: {field}: want {want}, got {got}", file.display()));
            }
        }
    }
    let share = right as f64 / total as f64;
    println!("import set: {right}/{total} fields right ({:.1} %)", share * 100.0);
    for miss in &misses {
        println!("  miss {miss}");
    }
    assert!(share >= FLOOR, "{right}/{total} fields right ({share:.3}), floor {FLOOR}:\n{}", misses.join("\n"));
}
