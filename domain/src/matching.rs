//! How well a candidate and a posting fit each other: a score from 0 to 100 and the reasons for
//! it. The same function ranks postings for a candidate and candidates for a posting.
//!
//! Points, out of 100:
//!
//! | part | points | full points when | half points when |
//! |---|---|---|---|
//! | required skills | 40 | every required skill is the candidate's (pro rata otherwise) | — |
//! | preferred skills | 10 | every preferred skill is the candidate's, or none are listed (pro rata) | — |
//! | role | 10 | the headline and the title name the same job by meaning (closeness ≥ 0.75) | related jobs (≥ 0.6), or unknown |
//! | seniority | 10 | the same level | one level apart, or either side does not say |
//! | experience | 10 | the candidate has the minimum years (or none is asked) | up to 2 years short, or unknown |
//! | salary | 10 | same currency and period, and the posting's maximum reaches the candidate's minimum | within 10 % of it, or unknown / not comparable / private |
//! | workplace | 5 | the candidate is open to the posting's workplace | hybrid for a candidate open to onsite or remote only, or unknown |
//! | location | 5 | remote in the candidate's country, or an office in the candidate's city | an office in the candidate's country, or unknown |
//!
//! Skills compare by their vocabulary entry, so "Postgres" meets "PostgreSQL". The role compares
//! the candidate's headline with the posting's title (with its skills and summary) by the cosine
//! of their text embeddings — the same meaning search uses — which the caller computes and hands
//! in: "Site Reliability Engineer" meets "SRE" fully and "Platform Engineer" as related. A pair
//! that shares no skill and whose roles are not at least related is not a match. The total is
//! rounded to the nearest whole point.

use serde::{Deserialize, Serialize};

use crate::candidates::ProfileContent;
use crate::postings::{PostingContent, PostingSkill, Seniority, Workplace};
use crate::skills::match_key;
use crate::values::{Location, SalaryRange};

pub const REQUIRED_SKILLS_POINTS: f64 = 40.0;
pub const PREFERRED_SKILLS_POINTS: f64 = 10.0;
pub const ROLE_POINTS: f64 = 10.0;
pub const SENIORITY_POINTS: f64 = 10.0;
pub const EXPERIENCE_POINTS: f64 = 10.0;
pub const SALARY_POINTS: f64 = 10.0;
pub const WORKPLACE_POINTS: f64 = 5.0;
pub const LOCATION_POINTS: f64 = 5.0;

/// Closeness (cosine of the two embeddings) from which a headline and a title name the same job.
/// On the static embeddings: "Site Reliability Engineer" and an "SRE" posting 0.83, "Backend
/// Engineer" and "Go Backend Engineer" 0.92, "iOS Developer" and "iOS Engineer" 0.80.
pub const SAME_ROLE: f32 = 0.75;
/// Closeness from which they are related jobs: "Site Reliability Engineer" and "Platform
/// Engineer" 0.64, "Registered Nurse" and "Nurse Practitioner" 0.62; unrelated jobs score below
/// 0.45 ("Registered Nurse" and "Backend Engineer" 0.15, "Data Scientist" and "Accountant" 0.18).
pub const RELATED_ROLE: f32 = 0.6;

/// What matching reads of a posting.
#[derive(Debug, Clone, PartialEq)]
pub struct PostingFacts {
    pub title: String,
    pub skills: Vec<PostingSkill>,
    pub seniority: Option<Seniority>,
    pub min_years: Option<i32>,
    pub workplace: Option<Workplace>,
    pub locations: Vec<Location>,
    pub salary: Option<SalaryRange>,
}

/// What the candidate wants to be paid, as far as the one asking may know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DesiredSalary {
    Known(SalaryRange),
    NotGiven,
    /// The candidate's desired salary is not the asker's to see.
    Private,
}

/// What matching reads of a candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateFacts {
    pub headline: Option<String>,
    pub skills: Vec<String>,
    pub seniority: Option<Seniority>,
    pub years: Option<i32>,
    pub desired_salary: DesiredSalary,
    pub open_to: Vec<Workplace>,
    pub location: Option<Location>,
}

/// What scoring reads of a candidate beside skill names, borrowed: an index of many candidates
/// keeps these in whatever form is compact and lends them out for each candidate it weighs,
/// without a copy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CandidateTraits<'a> {
    pub headline: Option<&'a str>,
    pub seniority: Option<Seniority>,
    pub years: Option<i32>,
    pub desired_salary: DesiredSalary,
    pub open_to: &'a [Workplace],
    pub location: Option<&'a Location>,
}

/// What scoring reads of a posting beside skill names, borrowed likewise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostingTraits<'a> {
    /// Read only to explain (ranking writes no notes): an index may lend an empty title.
    pub title: &'a str,
    pub seniority: Option<Seniority>,
    pub min_years: Option<i32>,
    pub workplace: Option<Workplace>,
    pub locations: &'a [Location],
    pub salary: Option<SalaryRange>,
}

impl PostingFacts {
    pub fn traits(&self) -> PostingTraits<'_> {
        PostingTraits {
            title: &self.title,
            seniority: self.seniority,
            min_years: self.min_years,
            workplace: self.workplace,
            locations: &self.locations,
            salary: self.salary,
        }
    }

    pub fn of(content: &PostingContent) -> Self {
        Self {
            title: content.title.clone(),
            skills: content.skills.clone(),
            seniority: content.seniority,
            min_years: content.min_years_experience,
            workplace: content.workplace,
            locations: content.locations.clone(),
            salary: content.salary,
        }
    }
}

impl CandidateFacts {
    pub fn traits(&self) -> CandidateTraits<'_> {
        CandidateTraits {
            headline: self.headline.as_deref(),
            seniority: self.seniority,
            years: self.years,
            desired_salary: self.desired_salary,
            open_to: &self.open_to,
            location: self.location.as_ref(),
        }
    }

    /// A profile's facts; `salary_visible` says whether the one asking may weigh the desired salary.
    pub fn of(content: &ProfileContent, salary_visible: bool) -> Self {
        Self {
            headline: content.headline.clone(),
            skills: content.skills.iter().map(|s| s.name.clone()).collect(),
            seniority: content.seniority,
            years: content.years_experience,
            desired_salary: match (salary_visible, content.desired_salary) {
                (false, _) => DesiredSalary::Private,
                (true, Some(range)) => DesiredSalary::Known(range),
                (true, None) => DesiredSalary::NotGiven,
            },
            open_to: content.open_to.clone(),
            location: content.location.clone(),
        }
    }
}

/// How one part fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fit {
    Match,
    Partial,
    Mismatch,
    Unknown,
}

impl Fit {
    fn share(self) -> f64 {
        match self {
            Self::Match => 1.0,
            Self::Partial | Self::Unknown => 0.5,
            Self::Mismatch => 0.0,
        }
    }
}

/// Why a pair scored what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// Posting skill names, in the posting's order.
    pub matched_required: Vec<String>,
    pub missing_required: Vec<String>,
    pub matched_preferred: Vec<String>,
    /// The candidate's headline against the posting's title, by meaning.
    pub role: Fit,
    pub seniority: Fit,
    pub experience: Fit,
    pub salary: Fit,
    pub workplace: Fit,
    pub location: Fit,
    /// One sentence per part, for people.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub score: u8,
    pub explanation: Explanation,
}

/// How many of a posting's skills the candidate has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkillCounts {
    pub required_total: usize,
    pub required_matched: usize,
    pub preferred_total: usize,
    pub preferred_matched: usize,
}

/// How close the candidate's headline is to the posting's title by meaning: the cosine of their
/// embeddings, or `None` when it could not be compared (no headline, no known word, or the
/// posting not yet embedded).
pub type Closeness = Option<f32>;

/// Scores a pair; `None` when they share no skill and their roles are not related.
pub fn score(candidate: &CandidateFacts, posting: &PostingFacts, closeness: Closeness) -> Option<Match> {
    let own: Vec<String> = candidate.skills.iter().map(|s| match_key(s)).collect();
    let has = |skill: &PostingSkill| own.contains(&match_key(&skill.name));
    let names = |required: bool, matched: bool| -> Vec<String> {
        posting.skills.iter().filter(|s| s.required == required && has(s) == matched).map(|s| s.name.clone()).collect()
    };
    let matched_required = names(true, true);
    let missing_required = names(true, false);
    let matched_preferred = names(false, true);
    let counts = SkillCounts {
        required_total: matched_required.len() + missing_required.len(),
        required_matched: matched_required.len(),
        preferred_total: posting.skills.iter().filter(|s| !s.required).count(),
        preferred_matched: matched_preferred.len(),
    };
    let (score, parts) = total(candidate.traits(), posting.traits(), counts, closeness, true)?;
    let mut notes = Vec::new();
    let skills = |n: usize| if n == 1 { "skill" } else { "skills" };
    notes.push(match (missing_required.is_empty(), counts.required_total) {
        (true, 1) => "Has the 1 required skill".to_owned(),
        (true, n) => format!("Has all {n} required skills"),
        (false, n) => format!(
            "Has {} of {n} required {}; missing {}",
            counts.required_matched,
            skills(n),
            missing_required.join(", ")
        ),
    });
    if counts.preferred_total > 0 {
        let n = counts.preferred_total;
        notes.push(format!("Has {} of {n} preferred {}", counts.preferred_matched, skills(n)));
    }
    notes.extend(parts.iter().map(|(_, note)| note.clone()));
    let [role, seniority, experience, salary, workplace, location] = parts.map(|(fit, _)| fit);
    Some(Match {
        score,
        explanation: Explanation {
            matched_required,
            missing_required,
            matched_preferred,
            role,
            seniority,
            experience,
            salary,
            workplace,
            location,
            notes,
        },
    })
}

/// The score alone, from skill counts instead of skill names (the posting's `skills`, title and
/// the headline are not read): what ranking many postings needs. Equal to [`score`]'s for the
/// same pair.
pub fn score_from_counts(
    candidate: CandidateTraits<'_>,
    posting: PostingTraits<'_>,
    counts: SkillCounts,
    closeness: Closeness,
) -> Option<u8> {
    total(candidate, posting, counts, closeness, false).map(|(score, _)| score)
}

/// A part's fit and its sentence (empty when not explaining: ranking many pairs writes none).
type Part = (Fit, String);

/// A note when explaining, nothing (and no allocation) when ranking.
macro_rules! note {
    ($explain:expr, $($arg:tt)*) => {
        if $explain { format!($($arg)*) } else { String::new() }
    };
}

fn total(
    candidate: CandidateTraits<'_>,
    posting: PostingTraits<'_>,
    counts: SkillCounts,
    closeness: Closeness,
    explain: bool,
) -> Option<(u8, [Part; 6])> {
    let role = role_fit(candidate.headline, posting.title, closeness, explain);
    let related = matches!(role.0, Fit::Match | Fit::Partial);
    if counts.required_matched == 0 && counts.preferred_matched == 0 && !related {
        return None;
    }
    let ratio = |matched: usize, total: usize| if total == 0 { 1.0 } else { matched as f64 / total as f64 };
    let parts = [
        role,
        seniority_fit(candidate.seniority, posting.seniority, explain),
        experience_fit(candidate.years, posting.min_years, explain),
        salary_fit(candidate.desired_salary, posting.salary, explain),
        workplace_fit(candidate.open_to, posting.workplace, explain),
        location_fit(candidate.location, posting, explain),
    ];
    let weights = [ROLE_POINTS, SENIORITY_POINTS, EXPERIENCE_POINTS, SALARY_POINTS, WORKPLACE_POINTS, LOCATION_POINTS];
    let points = REQUIRED_SKILLS_POINTS * ratio(counts.required_matched, counts.required_total)
        + PREFERRED_SKILLS_POINTS * ratio(counts.preferred_matched, counts.preferred_total)
        + parts.iter().zip(weights).map(|((fit, _), weight)| weight * fit.share()).sum::<f64>();
    Some((points.round().clamp(0.0, 100.0) as u8, parts))
}

fn role_fit(headline: Option<&str>, title: &str, closeness: Closeness, explain: bool) -> (Fit, String) {
    let Some(headline) = headline.filter(|h| !h.trim().is_empty()) else {
        return (Fit::Unknown, note!(explain, "Role: the candidate has no headline to compare"));
    };
    let Some(c) = closeness else {
        return (Fit::Unknown, note!(explain, "Role: \"{headline}\" and \"{title}\" could not be compared"));
    };
    let (fit, how) = if c >= SAME_ROLE {
        (Fit::Match, "the same job")
    } else if c >= RELATED_ROLE {
        (Fit::Partial, "related jobs")
    } else {
        (Fit::Mismatch, "different jobs")
    };
    (fit, note!(explain, "Role: \"{headline}\" and \"{title}\" are {how} by meaning (closeness {c:.2})"))
}

fn level(s: Seniority) -> i32 {
    Seniority::ALL.iter().position(|l| *l == s).map_or(0, |p| p as i32)
}

fn seniority_fit(candidate: Option<Seniority>, posting: Option<Seniority>, explain: bool) -> (Fit, String) {
    match (candidate, posting) {
        (Some(c), Some(p)) => {
            let apart = (level(c) - level(p)).abs();
            let fit = match apart {
                0 => Fit::Match,
                1 => Fit::Partial,
                _ => Fit::Mismatch,
            };
            let how = |n| match n {
                0 => "the same level".to_owned(),
                1 => "one level apart".to_owned(),
                n => format!("{n} levels apart"),
            };
            (fit, note!(explain, "Seniority: {} asked, candidate is {} ({})", p.as_str(), c.as_str(), how(apart)))
        }
        (None, Some(p)) => (Fit::Unknown, note!(explain, "Seniority: {} asked, candidate does not say", p.as_str())),
        (_, None) => (Fit::Unknown, note!(explain, "Seniority: the posting does not say")),
    }
}

fn experience_fit(candidate: Option<i32>, min: Option<i32>, explain: bool) -> (Fit, String) {
    match (candidate, min) {
        (_, None | Some(0)) => (Fit::Match, note!(explain, "Experience: no minimum asked")),
        (None, Some(min)) => (Fit::Unknown, note!(explain, "Experience: {min} years asked, candidate does not say")),
        (Some(years), Some(min)) => {
            let fit = if years >= min {
                Fit::Match
            } else if years + 2 >= min {
                Fit::Partial
            } else {
                Fit::Mismatch
            };
            (fit, note!(explain, "Experience: {min} years asked, candidate has {years}"))
        }
    }
}

fn salary_fit(desired: DesiredSalary, offered: Option<SalaryRange>, explain: bool) -> (Fit, String) {
    let Some(offered) = offered else {
        return (Fit::Unknown, note!(explain, "Salary: unknown, the posting gives none"));
    };
    let desired = match desired {
        DesiredSalary::Known(d) => d,
        DesiredSalary::NotGiven => {
            return (Fit::Unknown, note!(explain, "Salary: unknown, the candidate gives no desired salary"));
        }
        DesiredSalary::Private => {
            return (Fit::Unknown, note!(explain, "Salary: unknown, the candidate keeps it private"));
        }
    };
    let unit = |s: &SalaryRange| format!("{} per {}", s.currency().as_str(), s.period().as_str());
    if desired.currency() != offered.currency() || desired.period() != offered.period() {
        return (
            Fit::Unknown,
            note!(explain, "Salary: unknown, not comparable ({} offered, {} wanted)", unit(&offered), unit(&desired)),
        );
    }
    let range = |s: &SalaryRange| format!("{}–{}", s.min(), s.max());
    let fit = if offered.max() >= desired.min() {
        Fit::Match
    } else if offered.max() * 10 >= desired.min() * 9 {
        Fit::Partial
    } else {
        Fit::Mismatch
    };
    let how = match fit {
        Fit::Match => "reaches",
        Fit::Partial => "falls less than 10 % short of",
        _ => "falls short of",
    };
    (fit, note!(explain, "Salary: {} {} offered {how} the {} wanted", range(&offered), unit(&offered), range(&desired)))
}

fn workplace_fit(open_to: &[Workplace], workplace: Option<Workplace>, explain: bool) -> (Fit, String) {
    let Some(workplace) = workplace else {
        return (Fit::Unknown, note!(explain, "Workplace: the posting does not say"));
    };
    let asked = workplace.as_str();
    if open_to.is_empty() {
        return (Fit::Unknown, note!(explain, "Workplace: {asked}, candidate does not say what they are open to"));
    }
    if open_to.contains(&workplace) {
        (Fit::Match, note!(explain, "Workplace: {asked}, candidate is open to it"))
    } else if workplace == Workplace::Hybrid {
        (Fit::Partial, note!(explain, "Workplace: {asked}, candidate is open to onsite or remote only"))
    } else {
        (Fit::Mismatch, note!(explain, "Workplace: {asked}, candidate is not open to it"))
    }
}

fn location_fit(candidate: Option<&Location>, posting: PostingTraits<'_>, explain: bool) -> (Fit, String) {
    let Some(home) = candidate else {
        return (Fit::Unknown, note!(explain, "Location: candidate does not say where they are"));
    };
    if posting.locations.is_empty() {
        return (Fit::Unknown, note!(explain, "Location: the posting does not say"));
    }
    let country = home.country();
    let remote_ok = posting.workplace != Some(Workplace::Onsite);
    let same_city = |l: &Location| match (l.city(), home.city()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b) && l.country() == country,
        _ => false,
    };
    if remote_ok && posting.locations.iter().any(|l| l.is_remote() && l.country() == country) {
        return (Fit::Match, note!(explain, "Location: remote in {}, where the candidate is", country.as_str()));
    }
    if posting.workplace != Some(Workplace::Remote) {
        if let Some(office) = posting.locations.iter().find(|l| !l.is_remote() && same_city(l)) {
            return (
                Fit::Match,
                note!(explain, "Location: an office in {}, the candidate's city", office.city().unwrap_or("")),
            );
        }
        if posting.locations.iter().any(|l| !l.is_remote() && l.country() == country) {
            return (
                Fit::Partial,
                note!(explain, "Location: an office in {}, the candidate's country", country.as_str()),
            );
        }
    }
    let places = || {
        let places: Vec<String> = posting
            .locations
            .iter()
            .take(3)
            .map(|l| match (l.is_remote(), l.city()) {
                (true, _) | (false, None) => format!("remote in {}", l.country().as_str()),
                (false, Some(city)) => format!("{city} ({})", l.country().as_str()),
            })
            .collect();
        places.join(", ")
    };
    (Fit::Mismatch, note!(explain, "Location: {}; the candidate is in {}", places(), country.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::SalaryPeriod;

    fn place(city: Option<&str>, country: &str, remote: bool) -> Location {
        Location::new(city, None, country, remote).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn usd(min: i64, max: i64) -> SalaryRange {
        SalaryRange::new(min, max, "USD", SalaryPeriod::Year).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn posting() -> PostingFacts {
        let skill = |name: &str, required| PostingSkill { name: name.to_owned(), required };
        PostingFacts {
            title: "Go Platform Engineer".into(),
            skills: vec![
                skill("Go", true),
                skill("PostgreSQL", true),
                skill("Kubernetes", true),
                skill("Kafka", false),
            ],
            seniority: Some(Seniority::Senior),
            min_years: Some(5),
            workplace: Some(Workplace::Remote),
            locations: vec![place(None, "US", true)],
            salary: Some(usd(160_000, 200_000)),
        }
    }

    fn candidate() -> CandidateFacts {
        CandidateFacts {
            headline: Some("Platform Engineer".into()),
            skills: vec!["golang".into(), "Postgres".into(), "k8s".into(), "Kafka".into()],
            seniority: Some(Seniority::Senior),
            years: Some(7),
            desired_salary: DesiredSalary::Known(usd(180_000, 220_000)),
            open_to: vec![Workplace::Remote],
            location: Some(place(Some("Denver"), "US", false)),
        }
    }

    /// Closeness of the same job.
    const SAME: Closeness = Some(0.8);

    fn scored(c: &CandidateFacts, p: &PostingFacts) -> Match {
        scored_at(c, p, SAME)
    }

    fn scored_at(c: &CandidateFacts, p: &PostingFacts, closeness: Closeness) -> Match {
        let m = score(c, p, closeness).unwrap_or_else(|| panic!("expected a match"));
        // Ranking by counts gives the same score as explaining by names.
        let own: Vec<String> = c.skills.iter().map(|s| match_key(s)).collect();
        let count = |required: bool, matched: bool| {
            p.skills
                .iter()
                .filter(|s| s.required == required && (!matched || own.contains(&match_key(&s.name))))
                .count()
        };
        let counts = SkillCounts {
            required_total: count(true, false),
            required_matched: count(true, true),
            preferred_total: count(false, false),
            preferred_matched: count(false, true),
        };
        let bare = PostingFacts { skills: Vec::new(), title: String::new(), ..p.clone() };
        let unnamed = CandidateFacts { skills: Vec::new(), ..c.clone() };
        assert_eq!(score_from_counts(unnamed.traits(), bare.traits(), counts, closeness), Some(m.score));
        m
    }

    #[test]
    fn a_perfect_fit_scores_100_and_aliases_count() {
        let m = scored(&candidate(), &posting());
        assert_eq!(m.score, 100);
        assert_eq!(m.explanation.matched_required, ["Go", "PostgreSQL", "Kubernetes"]);
        assert!(m.explanation.missing_required.is_empty());
        assert_eq!(m.explanation.matched_preferred, ["Kafka"]);
        assert_eq!(m.explanation.notes[0], "Has all 3 required skills");
        assert_eq!(m.explanation.notes[1], "Has 1 of 1 preferred skill");
    }

    #[test]
    fn notes_count_one_skill_in_the_singular() {
        let mut p = posting();
        p.skills.retain(|s| s.name == "Go");
        assert_eq!(scored(&candidate(), &p).explanation.notes[0], "Has the 1 required skill");
        let c = CandidateFacts { skills: vec!["Kafka".into()], ..candidate() };
        let mut p = posting();
        p.skills.retain(|s| s.name == "Go" || s.name == "Kafka");
        assert_eq!(scored(&c, &p).explanation.notes[0], "Has 0 of 1 required skill; missing Go");
    }

    #[test]
    fn no_shared_skill_is_no_match_unless_the_roles_are_related() {
        let c = CandidateFacts { skills: vec!["Figma".into()], ..candidate() };
        assert!(score(&c, &posting(), Some(0.5)).is_none());
        assert!(score(&c, &posting(), None).is_none(), "an unknown role does not make a match");
        // Related by meaning: a match on the role alone, every skill missing (0 + 0 + 5 + 40).
        let m = scored_at(&c, &posting(), Some(0.64));
        assert_eq!((m.score, m.explanation.role), (45, Fit::Partial));
        assert_eq!(m.explanation.missing_required, ["Go", "PostgreSQL", "Kubernetes"]);
        let m = scored_at(&c, &posting(), Some(0.83));
        assert_eq!((m.score, m.explanation.role), (50, Fit::Match));
    }

    #[test]
    fn the_role_is_explained_with_both_texts() {
        let p = posting();
        let m = scored_at(&candidate(), &p, Some(0.83));
        assert!(
            m.explanation.notes.iter().any(|n| n
                == "Role: \"Platform Engineer\" and \"Go Platform Engineer\" are the same job by meaning (closeness 0.83)"),
            "{:?}",
            m.explanation.notes
        );
        // Related: half the points; unrelated: none; not comparable or no headline: half.
        let at = |closeness| {
            let m = scored_at(&candidate(), &p, closeness);
            (m.score, m.explanation.role)
        };
        assert_eq!(at(Some(0.64)), (95, Fit::Partial));
        assert_eq!(at(Some(0.2)), (90, Fit::Mismatch));
        assert_eq!(at(None), (95, Fit::Unknown));
        let nameless = CandidateFacts { headline: None, ..candidate() };
        let m = scored_at(&nameless, &p, None);
        assert_eq!((m.score, m.explanation.role), (95, Fit::Unknown));
        assert!(m.explanation.notes.iter().any(|n| n.contains("no headline")));
    }

    #[test]
    fn each_part_costs_what_the_table_says() {
        let p = posting();
        // One of three required skills missing: 40 * 2/3 = 26.7, so 13.3 points fewer.
        let c = CandidateFacts { skills: vec!["Go".into(), "PostgreSQL".into(), "Kafka".into()], ..candidate() };
        let m = scored(&c, &p);
        assert_eq!((m.score, m.explanation.missing_required.clone()), (87, vec!["Kubernetes".to_owned()]));
        // Without the preferred skill: 10 fewer.
        let c = CandidateFacts { skills: vec!["Go".into(), "PostgreSQL".into(), "Kubernetes".into()], ..candidate() };
        assert_eq!(scored(&c, &p).score, 90);
        // One level apart: half of 10.
        let c = CandidateFacts { seniority: Some(Seniority::Mid), ..candidate() };
        assert_eq!((scored(&c, &p).score, scored(&c, &p).explanation.seniority), (95, Fit::Partial));
        // Two levels apart: 10 fewer.
        let c = CandidateFacts { seniority: Some(Seniority::Junior), ..candidate() };
        assert_eq!(scored(&c, &p).explanation.seniority, Fit::Mismatch);
        assert_eq!(scored(&c, &p).score, 90);
        // Experience: 2 years short is partial, 3 is a mismatch.
        let c = CandidateFacts { years: Some(3), ..candidate() };
        assert_eq!((scored(&c, &p).score, scored(&c, &p).explanation.experience), (95, Fit::Partial));
        let c = CandidateFacts { years: Some(2), ..candidate() };
        assert_eq!((scored(&c, &p).score, scored(&c, &p).explanation.experience), (90, Fit::Mismatch));
        // Workplace: a candidate who wants onsite only, for a remote job.
        let c = CandidateFacts { open_to: vec![Workplace::Onsite], ..candidate() };
        assert_eq!((scored(&c, &p).score, scored(&c, &p).explanation.workplace), (95, Fit::Mismatch));
        // Location: a candidate in another country.
        let c = CandidateFacts { location: Some(place(Some("Berlin"), "DE", false)), ..candidate() };
        assert_eq!((scored(&c, &p).score, scored(&c, &p).explanation.location), (95, Fit::Mismatch));
    }

    #[test]
    fn salary_overlap_needs_the_same_currency_and_period() {
        let p = posting();
        let with = |desired| CandidateFacts { desired_salary: desired, ..candidate() };
        let fit = |desired| {
            let m = scored(&with(desired), &p);
            (m.score, m.explanation.salary)
        };
        assert_eq!(fit(DesiredSalary::Known(usd(200_000, 250_000))), (100, Fit::Match));
        assert_eq!(fit(DesiredSalary::Known(usd(210_000, 250_000))), (95, Fit::Partial));
        assert_eq!(fit(DesiredSalary::Known(usd(300_000, 350_000))), (90, Fit::Mismatch));
        let eur = SalaryRange::new(100_000, 120_000, "EUR", SalaryPeriod::Year).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(fit(DesiredSalary::Known(eur)), (95, Fit::Unknown));
        let hourly = SalaryRange::new(90, 120, "USD", SalaryPeriod::Hour).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(fit(DesiredSalary::Known(hourly)), (95, Fit::Unknown));
        assert_eq!(fit(DesiredSalary::NotGiven), (95, Fit::Unknown));
        let private = scored(&with(DesiredSalary::Private), &p);
        assert_eq!(private.score, 95);
        assert!(private.explanation.notes.iter().any(|n| n.contains("private")));
        assert!(!private.explanation.notes.iter().any(|n| n.contains("180000")));
    }

    #[test]
    fn offices_fit_by_city_then_country() {
        let mut p = posting();
        p.workplace = Some(Workplace::Hybrid);
        p.locations = vec![place(Some("Denver"), "US", false)];
        let c = CandidateFacts { open_to: vec![Workplace::Hybrid], ..candidate() };
        assert_eq!(scored(&c, &p).explanation.location, Fit::Match);
        p.locations = vec![place(Some("Austin"), "US", false)];
        assert_eq!(scored(&c, &p).explanation.location, Fit::Partial);
        p.locations = vec![place(Some("Berlin"), "DE", false)];
        assert_eq!(scored(&c, &p).explanation.location, Fit::Mismatch);
        // Hybrid for a candidate open to remote only is half a fit.
        assert_eq!(scored(&candidate(), &p).explanation.workplace, Fit::Partial);
    }

    #[test]
    fn scoring_is_deterministic_and_bounded() {
        let bare = CandidateFacts {
            headline: None,
            skills: vec!["Kafka".into()],
            seniority: None,
            years: None,
            desired_salary: DesiredSalary::NotGiven,
            open_to: Vec::new(),
            location: None,
        };
        let a = scored(&bare, &posting());
        assert_eq!(a, scored(&bare, &posting()));
        // Only the preferred skill: 0 + 10 + halves of 10, 10, 10, 10, 5, 5 = 35.
        assert_eq!(a.score, 35);
        assert_eq!(a.explanation.missing_required, ["Go", "PostgreSQL", "Kubernetes"]);
    }
}
