//! The demo dataset loaded into an empty database: companies with members, 60 published postings
//! of varied shape, a few in other statuses, and the structured fixture posting
//! "Senior Software Engineer - Backend/Infrastructure". Every demo account's password is
//! [`DEMO_PASSWORD`].

use chrono::Duration;
use hiregraph_domain::accounts::PlatformRole;
use hiregraph_domain::candidates::Visibility;
use hiregraph_domain::companies::{CompanyProfile, CompanyRole, Membership, SizeBand};
use hiregraph_domain::postings::{
    EmploymentType, Posting, PostingContent, PostingSkill, PostingStatus, Seniority, Workplace,
};
use hiregraph_domain::values::{Email, Location, SalaryPeriod, SalaryRange, Slug, WebUrl};
use hiregraph_domain::{CompanyId, PostingId, UserId};
use hiregraph_persistence::{Database, companies, postings, users};

use crate::auth::password;
use crate::error::{AppError, AppResult};
use crate::state::now;

pub const DEMO_PASSWORD: &str = "hiregraph-demo-password";

struct DemoCompany {
    slug: &'static str,
    name: &'static str,
    industry: &'static str,
    size: SizeBand,
    city: &'static str,
    region: Option<&'static str>,
    country: &'static str,
    currency: &'static str,
    /// Yearly pay of a mid-level engineer, in the company's currency.
    mid_salary: i64,
    description: &'static str,
}

const COMPANIES: &[DemoCompany] = &[
    DemoCompany {
        slug: "northwind-systems",
        name: "Northwind Systems",
        industry: "Cloud infrastructure",
        size: SizeBand::S1001To5000,
        city: "San Francisco",
        region: Some("CA"),
        country: "US",
        currency: "USD",
        mid_salary: 165_000,
        description: "Distributed systems that power critical infrastructure for millions of users.",
    },
    DemoCompany {
        slug: "acme-robotics",
        name: "Acme Robotics",
        industry: "Robotics",
        size: SizeBand::S201To1000,
        city: "Berlin",
        region: None,
        country: "DE",
        currency: "EUR",
        mid_salary: 75_000,
        description: "Warehouse robots that pick, pack and learn.",
    },
    DemoCompany {
        slug: "lumen-health",
        name: "Lumen Health",
        industry: "Health technology",
        size: SizeBand::S51To200,
        city: "London",
        region: None,
        country: "GB",
        currency: "GBP",
        mid_salary: 70_000,
        description: "Clinical software that gives nurses their evenings back.",
    },
    DemoCompany {
        slug: "fjord-payments",
        name: "Fjord Payments",
        industry: "Financial services",
        size: SizeBand::S201To1000,
        city: "Oslo",
        region: None,
        country: "NO",
        currency: "NOK",
        mid_salary: 850_000,
        description: "Instant payments for the Nordics.",
    },
    DemoCompany {
        slug: "kite-logistics",
        name: "Kite Logistics",
        industry: "Logistics",
        size: SizeBand::S51To200,
        city: "Amsterdam",
        region: None,
        country: "NL",
        currency: "EUR",
        mid_salary: 70_000,
        description: "Route planning for city couriers.",
    },
    DemoCompany {
        slug: "saffron-labs",
        name: "Saffron Labs",
        industry: "Artificial intelligence",
        size: SizeBand::S11To50,
        city: "Bengaluru",
        region: Some("KA"),
        country: "IN",
        currency: "INR",
        mid_salary: 3_200_000,
        description: "Speech models for the languages of India.",
    },
    DemoCompany {
        slug: "maple-learning",
        name: "Maple Learning",
        industry: "Education",
        size: SizeBand::S51To200,
        city: "Toronto",
        region: Some("ON"),
        country: "CA",
        currency: "CAD",
        mid_salary: 120_000,
        description: "Tutoring that adapts to every student.",
    },
    DemoCompany {
        slug: "solstice-energy",
        name: "Solstice Energy",
        industry: "Climate technology",
        size: SizeBand::S201To1000,
        city: "Austin",
        region: Some("TX"),
        country: "US",
        currency: "USD",
        mid_salary: 150_000,
        description: "Software for grid-scale batteries.",
    },
];

struct Role {
    title: &'static str,
    summary: &'static str,
    required: &'static [&'static str],
    preferred: &'static [&'static str],
}

const ROLES: &[Role] = &[
    Role {
        title: "Backend Engineer",
        summary: "Build the APIs and services behind our product.",
        required: &["Rust", "PostgreSQL"],
        preferred: &["Redis", "Kubernetes"],
    },
    Role {
        title: "Frontend Engineer",
        summary: "Craft fast, accessible interfaces.",
        required: &["TypeScript", "React"],
        preferred: &["GraphQL", "CSS"],
    },
    Role {
        title: "Site Reliability Engineer",
        summary: "Keep production fast, safe and boring.",
        required: &["Kubernetes", "Terraform"],
        preferred: &["Go", "Prometheus"],
    },
    Role {
        title: "Data Engineer",
        summary: "Own the pipelines that feed analytics and models.",
        required: &["Python", "SQL"],
        preferred: &["Spark", "Kafka"],
    },
    Role {
        title: "Machine Learning Engineer",
        summary: "Ship models from notebook to production.",
        required: &["Python", "PyTorch"],
        preferred: &["Kubernetes", "MLOps"],
    },
    Role {
        title: "Mobile Engineer",
        summary: "Build our iOS and Android apps.",
        required: &["Kotlin", "Swift"],
        preferred: &["GraphQL"],
    },
    Role {
        title: "Product Designer",
        summary: "Shape how people experience our product.",
        required: &["Figma", "User Research"],
        preferred: &["Prototyping"],
    },
    Role {
        title: "Security Engineer",
        summary: "Find and fix weaknesses before anyone else does.",
        required: &["Application Security", "Go"],
        preferred: &["Threat Modeling"],
    },
    Role {
        title: "Platform Engineer",
        summary: "Give every team paved roads to production.",
        required: &["Go", "Kubernetes"],
        preferred: &["Terraform", "AWS"],
    },
    Role {
        title: "Full-Stack Engineer",
        summary: "Own features end to end.",
        required: &["TypeScript", "Node.js"],
        preferred: &["PostgreSQL", "React"],
    },
    Role {
        title: "Engineering Manager",
        summary: "Grow a team of six engineers and the systems they own.",
        required: &["People Management", "System Design"],
        preferred: &["Rust"],
    },
    Role {
        title: "QA Automation Engineer",
        summary: "Make every release safe to ship.",
        required: &["Playwright", "TypeScript"],
        preferred: &["CI/CD"],
    },
];

const SENIORITIES: [Seniority; 6] =
    [Seniority::Junior, Seniority::Mid, Seniority::Senior, Seniority::Mid, Seniority::Staff, Seniority::Intern];
const WORKPLACES: [Workplace; 3] = [Workplace::Hybrid, Workplace::Remote, Workplace::Onsite];

fn err(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string().into())
}

fn salary_for(company: &DemoCompany, seniority: Seniority) -> (i64, i64) {
    let factor = match seniority {
        Seniority::Intern => 35,
        Seniority::Junior => 70,
        Seniority::Mid => 100,
        Seniority::Senior => 130,
        Seniority::Staff => 160,
        Seniority::Principal => 190,
    };
    let base = company.mid_salary * factor / 100;
    (base / 1000 * 1000, (base * 130 / 100) / 1000 * 1000)
}

fn generated_posting(i: usize, company: &DemoCompany) -> AppResult<PostingContent> {
    let role = &ROLES[i % ROLES.len()];
    let seniority = SENIORITIES[(i / 2) % SENIORITIES.len()];
    let workplace = WORKPLACES[i % WORKPLACES.len()];
    let employment_type = match i % 9 {
        4 => EmploymentType::Contract,
        7 => EmploymentType::PartTime,
        _ if seniority == Seniority::Intern => EmploymentType::Internship,
        _ => EmploymentType::FullTime,
    };
    let office = Location::new(Some(company.city), company.region, company.country, false).map_err(err)?;
    let locations = match workplace {
        Workplace::Remote => vec![Location::new(None, None, company.country, true).map_err(err)?],
        _ => vec![office],
    };
    let salary = if i % 6 == 5 {
        None
    } else {
        let (min, max) = salary_for(company, seniority);
        Some(SalaryRange::new(min, max, company.currency, SalaryPeriod::Year).map_err(err)?)
    };
    let level = seniority.as_str().to_lowercase();
    let title = match seniority {
        Seniority::Mid => role.title.to_owned(),
        Seniority::Intern => format!("{} Intern", role.title),
        _ => format!("{}{} {}", level[..1].to_uppercase(), &level[1..], role.title),
    };
    let mut skills: Vec<PostingSkill> =
        role.required.iter().map(|s| PostingSkill { name: (*s).to_owned(), required: true }).collect();
    skills.extend(role.preferred.iter().map(|s| PostingSkill { name: (*s).to_owned(), required: false }));
    Ok(PostingContent {
        title,
        summary: Some(role.summary.to_owned()),
        description: format!(
            "## About {name}\n\n{about}\n\n## The role\n\n{summary} You will work with a small, senior team and own your work from design to production.\n",
            name = company.name,
            about = company.description,
            summary = role.summary,
        ),
        responsibilities: vec![
            format!("{} in a team that ships every day", role.summary.trim_end_matches('.')),
            "Review designs and code with your peers".to_owned(),
            "Improve how the team works, one change at a time".to_owned(),
        ],
        required_qualifications: role.required.iter().map(|s| format!("Professional experience with {s}")).collect(),
        preferred_qualifications: role.preferred.iter().map(|s| format!("Familiarity with {s}")).collect(),
        employment_type: Some(employment_type),
        seniority: Some(seniority),
        min_years_experience: Some(match seniority {
            Seniority::Intern => 0,
            Seniority::Junior => 1,
            Seniority::Mid => 3,
            Seniority::Senior => 5,
            Seniority::Staff => 8,
            Seniority::Principal => 10,
        }),
        workplace: Some(workplace),
        locations,
        salary,
        equity: i.is_multiple_of(3),
        skills,
        benefits: vec!["Health insurance".to_owned(), "Learning budget".to_owned(), "30 days of paid leave".to_owned()],
        expires_at: None,
    })
}

/// The fixture posting, structured by hand from its Markdown.
pub fn fixture_posting() -> AppResult<PostingContent> {
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let skill = |name: &str, required: bool| PostingSkill { name: name.to_owned(), required };
    Ok(PostingContent {
        title: "Senior Software Engineer - Backend/Infrastructure".to_owned(),
        summary: Some("Lead the design and implementation of scalable backend systems and cloud infrastructure.".to_owned()),
        description: "## Company Overview\n\nWe are a technology leader building next-generation distributed systems that power critical infrastructure for millions of users. Our engineering team works on challenging problems at scale, leveraging cutting-edge technologies and best practices in software engineering.\n\n## Role Overview\n\nWe're seeking an experienced Senior Software Engineer to lead the design and implementation of scalable backend systems and cloud infrastructure. You'll work on high-impact projects, mentor team members, and drive technical excellence across the organization.\n\n## Education\n\n- Bachelor's or Master's degree in Computer Science, Engineering, or related field\n- Equivalent practical experience will be considered\n- PhD in relevant field is a plus\n\n## Technical Stack\n\n- **Languages:** Python, Java, Go, Scala\n- **Frameworks:** Django, Flask, Spring Boot, FastAPI\n- **Databases:** PostgreSQL, DynamoDB, MongoDB, Cassandra, Redis\n- **Cloud:** AWS (ECS, EKS, Lambda, S3, RDS, DynamoDB, CloudFormation)\n- **Containers:** Docker, Kubernetes, Helm\n- **CI/CD:** Jenkins, GitLab CI, GitHub Actions, ArgoCD\n- **Monitoring:** Datadog, Prometheus, Grafana, ELK Stack\n- **Message Queues:** Apache Kafka, RabbitMQ, AWS SQS/SNS\n- **Infrastructure:** Terraform, Ansible, CloudFormation\n".to_owned(),
        responsibilities: list(&[
            "Lead the design and architecture of distributed systems handling millions of requests",
            "Make key technical decisions and set engineering standards",
            "Drive adoption of best practices in code quality, testing, and deployment",
            "Conduct thorough code reviews and provide technical guidance",
            "Influence technical strategy and roadmap planning",
            "Design and implement highly scalable microservices architectures",
            "Build high-performance APIs and backend services",
            "Optimize system performance, latency, and resource utilization",
            "Implement robust monitoring, logging, and alerting solutions",
            "Design fault-tolerant and resilient distributed systems",
            "Architect cloud-native applications on AWS, GCP, or Azure",
            "Implement infrastructure as code using Terraform, CloudFormation",
            "Build and optimize CI/CD pipelines for automated deployments",
            "Design and implement container orchestration with Kubernetes",
            "Establish observability and incident response practices",
            "Mentor engineers and facilitate knowledge sharing",
            "Lead technical discussions and architectural reviews",
            "Collaborate with product and engineering leadership",
            "Interview and evaluate engineering candidates",
            "Drive initiatives to improve team productivity and efficiency",
        ]),
        required_qualifications: list(&[
            "6+ years of professional software engineering experience",
            "3+ years working on distributed systems at scale",
            "Proven track record of leading complex technical projects",
            "Experience building systems serving millions of users",
            "Strong background in system design and architecture",
            "Expert-level proficiency in Python, Java, Go, or similar languages",
            "Deep understanding of distributed systems concepts",
            "Strong experience with microservices architecture",
            "Expertise in building RESTful APIs and GraphQL services",
            "Advanced knowledge of database design and optimization",
            "Experience with message queuing systems (Kafka, RabbitMQ, SQS)",
            "Extensive experience with cloud platforms (AWS preferred)",
            "Strong knowledge of Docker and Kubernetes",
            "Experience with infrastructure as code (Terraform, CloudFormation)",
            "Expertise in CI/CD pipeline design and implementation",
            "Understanding of networking, security, and compliance",
            "Experience with both SQL and NoSQL databases at scale",
            "Strong understanding of caching strategies (Redis, Memcached)",
            "Expertise in performance optimization and profiling",
            "Knowledge of data processing pipelines and ETL",
            "Experience with monitoring tools (Datadog, Prometheus, Grafana)",
            "Experience designing for high availability and fault tolerance",
            "Understanding of CAP theorem and consistency models",
            "Experience with load balancing and service discovery",
            "Proven ability to lead and mentor engineers",
            "Excellent written and verbal communication skills",
            "Experience working with cross-functional teams",
            "Ability to translate technical concepts for non-technical stakeholders",
            "Strong project management and organizational skills",
        ]),
        preferred_qualifications: list(&[
            "Experience with event-driven architectures",
            "Knowledge of service mesh (Istio, Linkerd)",
            "Experience with serverless architectures (Lambda, Cloud Functions)",
            "Familiarity with chaos engineering and resilience testing",
            "Experience with multi-region deployments and disaster recovery",
            "Experience with Apache Spark, Hadoop, or other big data technologies",
            "Knowledge of machine learning infrastructure and MLOps",
            "Experience with real-time streaming systems (Kafka Streams, Flink)",
            "Familiarity with security best practices and compliance (SOC2, HIPAA)",
            "Experience with observability platforms (OpenTelemetry, Jaeger)",
            "Experience as tech lead or architect",
            "Track record of improving engineering processes",
            "Contributions to open-source projects",
            "Public speaking or technical writing",
            "Experience scaling engineering teams",
        ]),
        employment_type: Some(EmploymentType::FullTime),
        seniority: Some(Seniority::Senior),
        min_years_experience: Some(6),
        workplace: Some(Workplace::Remote),
        locations: vec![
            Location::new(None, None, "US", true).map_err(err)?,
            Location::new(Some("San Francisco Bay Area"), Some("CA"), "US", false).map_err(err)?,
        ],
        salary: Some(SalaryRange::new(160_000, 240_000, "USD", SalaryPeriod::Year).map_err(err)?),
        equity: true,
        skills: vec![
            skill("Python", true),
            skill("Java", true),
            skill("Go", true),
            skill("Distributed Systems", true),
            skill("Microservices", true),
            skill("AWS", true),
            skill("Docker", true),
            skill("Kubernetes", true),
            skill("Terraform", true),
            skill("PostgreSQL", true),
            skill("Redis", true),
            skill("Kafka", true),
            skill("CI/CD", true),
            skill("System Design", true),
            skill("Scala", false),
            skill("GCP", false),
            skill("RabbitMQ", false),
            skill("Spark", false),
            skill("OpenTelemetry", false),
            skill("Istio", false),
        ],
        benefits: list(&[
            "Highly competitive compensation ($160,000 - $240,000) + significant equity",
            "Comprehensive benefits package",
            "Flexible work arrangements (remote-friendly)",
            "Generous PTO and parental leave",
            "Learning and development budget ($5,000/year)",
            "Latest hardware and tools",
            "Conference attendance and speaking opportunities",
        ]),
        expires_at: None,
    })
}

/// Loads the demo data when the database holds no company yet. Returns whether it loaded.
pub async fn load_if_empty(db: &Database) -> AppResult<bool> {
    if companies::count(&db.conn).await? > 0 {
        return Ok(false);
    }
    // One hash for every demo account: they share the documented password anyway.
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
    let start = now();
    let write = db.write().await.map_err(AppError::internal)?;
    let txn = write.conn();
    let user = |email: &str| Email::parse(email).map_err(err);
    let admin = UserId::generate();
    users::insert(admin, &user("admin@hiregraph.example")?, &hash, PlatformRole::Admin, start, txn).await?;
    users::insert(UserId::generate(), &user("candidate@hiregraph.example")?, &hash, PlatformRole::Member, start, txn)
        .await?;
    let mut company_ids = Vec::new();
    let mut recruiters = std::collections::HashMap::new();
    for (n, c) in COMPANIES.iter().enumerate() {
        let id = CompanyId::generate();
        let profile = CompanyProfile {
            name: c.name.to_owned(),
            description: Some(c.description.to_owned()),
            website: Some(WebUrl::parse(&format!("https://{}.example", c.slug)).map_err(err)?),
            logo: Some(WebUrl::parse_image("logoUrl", &format!("https://{}.example/logo.png", c.slug)).map_err(err)?),
            industry: Some(c.industry.to_owned()),
            size: Some(c.size),
            headquarters: Some(Location::new(Some(c.city), c.region, c.country, false).map_err(err)?),
        };
        companies::insert(id, &Slug::parse(c.slug).map_err(err)?, &profile, start, txn).await?;
        if n % 2 == 0 {
            companies::set_verified(id, true, start, txn).await?;
        }
        for role in [CompanyRole::Owner, CompanyRole::Recruiter, CompanyRole::Viewer] {
            let member = UserId::generate();
            let email = format!("{}@{}.example", role.as_str().to_lowercase(), c.slug);
            users::insert(member, &user(&email)?, &hash, PlatformRole::Member, start, txn).await?;
            companies::insert_member(&Membership { company_id: id, user_id: member, role, created_at: start }, txn)
                .await?;
            if role == CompanyRole::Recruiter {
                recruiters.insert(id, member);
            }
        }
        company_ids.push(id);
    }
    let insert = |content: PostingContent, company: CompanyId, status: PostingStatus, age_hours: i64| {
        let id = PostingId::generate();
        let at = start - Duration::hours(age_hours);
        let slug = format!(
            "{}-{}",
            Slug::from_text(&content.title).map(|s| s.as_str().to_owned()).unwrap_or_default(),
            &id.0.simple().to_string()[24..]
        );
        Posting {
            id,
            company_id: company,
            slug,
            content,
            status,
            published_at: matches!(status, PostingStatus::Published | PostingStatus::Paused | PostingStatus::Closed)
                .then_some(at),
            version: 1,
            created_at: at,
            updated_at: at,
        }
    };
    let mut all = vec![insert(fixture_posting()?, company_ids[0], PostingStatus::Published, 1)];
    for i in 0..64 {
        let company = i % COMPANIES.len();
        let status = match i {
            60 => PostingStatus::Draft,
            61 => PostingStatus::Paused,
            62 => PostingStatus::Closed,
            63 => PostingStatus::Draft,
            _ => PostingStatus::Published,
        };
        all.push(insert(generated_posting(i, &COMPANIES[company])?, company_ids[company], status, 2 + i as i64 * 7));
    }
    postings::insert_many(&all, txn).await?;
    let candidates = load_candidates(&all, &recruiters, &hash, start, txn).await?;
    write.commit().await.map_err(AppError::internal)?;
    tracing::info!(
        companies = COMPANIES.len(),
        postings = all.len(),
        candidates,
        "loaded the demo data (password for every demo account: {DEMO_PASSWORD})"
    );
    Ok(true)
}

struct DemoCandidate {
    name: &'static str,
    headline: &'static str,
    city: &'static str,
    country: &'static str,
    years: i32,
    seniority: Seniority,
    skills: &'static [(&'static str, i32)],
    visibility: Visibility,
    open_to: &'static [Workplace],
}

const CANDIDATES: &[DemoCandidate] = &[
    DemoCandidate {
        name: "Ada Okafor",
        headline: "Backend engineer who loves boring, reliable systems",
        city: "Berlin",
        country: "DE",
        years: 7,
        seniority: Seniority::Senior,
        skills: &[("Rust", 4), ("PostgreSQL", 7), ("Kubernetes", 3)],
        visibility: Visibility::Public,
        open_to: &[Workplace::Remote, Workplace::Hybrid],
    },
    DemoCandidate {
        name: "Bruno Lima",
        headline: "Frontend engineer, accessibility nerd",
        city: "Lisbon",
        country: "PT",
        years: 4,
        seniority: Seniority::Mid,
        skills: &[("TypeScript", 4), ("React", 4), ("GraphQL", 2)],
        visibility: Visibility::Employers,
        open_to: &[Workplace::Remote],
    },
    DemoCandidate {
        name: "Chen Wei",
        headline: "SRE: on call so you don't have to be",
        city: "San Francisco",
        country: "US",
        years: 9,
        seniority: Seniority::Staff,
        skills: &[("Kubernetes", 6), ("Terraform", 5), ("Go", 6)],
        visibility: Visibility::Public,
        open_to: &[Workplace::Onsite, Workplace::Hybrid],
    },
    DemoCandidate {
        name: "Dana Cohen",
        headline: "Data engineer building lakehouses",
        city: "London",
        country: "GB",
        years: 5,
        seniority: Seniority::Mid,
        skills: &[("Python", 5), ("SQL", 5), ("Spark", 3)],
        visibility: Visibility::Private,
        open_to: &[Workplace::Hybrid],
    },
    DemoCandidate {
        name: "Emeka Eze",
        headline: "ML engineer shipping speech models",
        city: "Bengaluru",
        country: "IN",
        years: 3,
        seniority: Seniority::Junior,
        skills: &[("Python", 3), ("PyTorch", 3)],
        visibility: Visibility::Public,
        open_to: &[Workplace::Remote, Workplace::Onsite],
    },
    DemoCandidate {
        name: "Freya Nilsen",
        headline: "Payments backend, Go and Postgres",
        city: "Oslo",
        country: "NO",
        years: 6,
        seniority: Seniority::Senior,
        skills: &[("Go", 5), ("PostgreSQL", 6), ("Kafka", 3)],
        visibility: Visibility::Employers,
        open_to: &[Workplace::Hybrid, Workplace::Remote],
    },
    DemoCandidate {
        name: "Gabriel Roy",
        headline: "Mobile engineer (Kotlin, Swift)",
        city: "Toronto",
        country: "CA",
        years: 5,
        seniority: Seniority::Mid,
        skills: &[("Kotlin", 5), ("Swift", 3)],
        visibility: Visibility::Public,
        open_to: &[Workplace::Onsite],
    },
    DemoCandidate {
        name: "Hana Sato",
        headline: "Security engineer and CTF player",
        city: "Amsterdam",
        country: "NL",
        years: 8,
        seniority: Seniority::Senior,
        skills: &[("Application Security", 8), ("Go", 4)],
        visibility: Visibility::Employers,
        open_to: &[Workplace::Remote],
    },
];

/// What a demo candidate asks for a year: by country's currency and years of experience, so
/// recommendations show salary overlaps and misses. Candidates elsewhere say nothing.
fn desired_salary(c: &DemoCandidate) -> AppResult<Option<SalaryRange>> {
    let (base, step, currency) = match c.country {
        "US" => (110_000, 8_000, "USD"),
        "GB" => (55_000, 4_000, "GBP"),
        "DE" | "NL" | "PT" => (55_000, 4_000, "EUR"),
        "CA" => (90_000, 6_000, "CAD"),
        _ => return Ok(None),
    };
    let min = base + step * i64::from(c.years);
    SalaryRange::new(min, min + min / 5, currency, SalaryPeriod::Year).map(Some).map_err(err)
}

/// Demo candidates with profiles, each applying to three postings, with applications in every
/// pipeline status. Company moves are made by the posting company's recruiter.
async fn load_candidates(
    postings_list: &[Posting],
    recruiters: &std::collections::HashMap<CompanyId, UserId>,
    hash: &str,
    start: chrono::DateTime<chrono::Utc>,
    txn: &impl hiregraph_persistence::ConnectionTrait,
) -> AppResult<usize> {
    use hiregraph_domain::CandidateId;
    use hiregraph_domain::applications::{Application, ApplicationEvent, ApplicationStatus as S, Source};
    use hiregraph_domain::candidates::{CandidateProfile, CandidateSkill, ProfileContent, WorkExperience};
    use hiregraph_persistence::{applications, candidates};

    let public: Vec<&Posting> = postings_list.iter().filter(|p| p.status == PostingStatus::Published).take(9).collect();
    let paths: [&[S]; 7] = [
        &[],
        &[S::Screening],
        &[S::Screening, S::Interview],
        &[S::Interview, S::Offer],
        &[S::Screening, S::Interview, S::Offer, S::Hired],
        &[S::Screening, S::Rejected],
        &[S::Withdrawn],
    ];
    for (i, c) in CANDIDATES.iter().enumerate() {
        let email =
            if i == 0 { "candidate@hiregraph.example".to_owned() } else { format!("candidate{i}@hiregraph.example") };
        let email = Email::parse(&email).map_err(err)?;
        let user = match users::find_by_email(&email, txn).await? {
            Some(existing) => existing.id,
            None => {
                let id = UserId::generate();
                users::insert(id, &email, hash, PlatformRole::Member, start, txn).await?;
                id
            }
        };
        let profile = CandidateProfile {
            id: CandidateId::generate(),
            user_id: Some(user),
            content: ProfileContent {
                display_name: c.name.to_owned(),
                headline: Some(c.headline.to_owned()),
                bio: Some(format!("{}, with {} years of experience.", c.headline, c.years)),
                location: Some(Location::new(Some(c.city), None, c.country, false).map_err(err)?),
                years_experience: Some(c.years),
                seniority: Some(c.seniority),
                skills: c
                    .skills
                    .iter()
                    .map(|(n, y)| CandidateSkill { name: (*n).to_owned(), years: Some(*y) })
                    .collect(),
                work_history: vec![WorkExperience {
                    company: "Previous Co".to_owned(),
                    title: c.headline.split([',', ':']).next().unwrap_or(c.headline).to_owned(),
                    start: format!("{}-01", 2025 - c.years),
                    end: None,
                    description: None,
                }],
                education: vec![],
                links: vec![],
                desired_salary: desired_salary(c)?,
                open_to: c.open_to.to_vec(),
                visibility: c.visibility,
                contact_email: Some(email.clone()),
                contact_phone: Some(format!("+1 555 010 {i:04}")),
            },
            created_at: start,
            updated_at: start,
        };
        candidates::insert(&profile, txn).await?;
        for k in 0..3 {
            let posting = public[(i + k * 3) % public.len()];
            let at = start - Duration::hours(48 - (i * 3 + k) as i64);
            let application = Application {
                id: hiregraph_domain::ApplicationId::generate(),
                posting_id: posting.id,
                company_id: posting.company_id,
                candidate_id: profile.id,
                cover_letter: Some(format!("I would love to join as {}.", posting.content.title)),
                source: if k == 2 { Source::Referral } else { Source::Direct },
                status: S::Applied,
                created_at: at,
                updated_at: at,
                resume_text: None,
                answers: Vec::new(),
            };
            applications::insert(&application, user, txn).await?;
            let mut from = S::Applied;
            for (step, to) in paths[(i + k) % paths.len()].iter().enumerate() {
                let when = at + Duration::minutes(30 * (step as i64 + 1));
                applications::set_status(application.id, from, *to, when, txn).await?;
                let actor = if *to == S::Withdrawn {
                    user
                } else {
                    recruiters.get(&posting.company_id).copied().unwrap_or(user)
                };
                let note = (*to == S::Rejected).then(|| "Strong profile; we need more on-call experience.".to_owned());
                let event = ApplicationEvent {
                    id: uuid::Uuid::now_v7(),
                    application_id: application.id,
                    from: Some(from),
                    to: *to,
                    actor,
                    note,
                    at: when,
                };
                applications::insert_event(&event, txn).await?;
                from = *to;
            }
        }
    }
    Ok(CANDIDATES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_posting_is_complete() {
        let at = now();
        assert!(fixture_posting().unwrap().missing_for_publication(at).is_empty());
        for i in 0..64 {
            let content = generated_posting(i, &COMPANIES[i % COMPANIES.len()]).unwrap();
            assert!(content.missing_for_publication(at).is_empty(), "{i}: {:?}", content.missing_for_publication(at));
        }
    }
}
