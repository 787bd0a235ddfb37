//! The relevance check: a fixed set of 30 postings, 24 queries each labelled with the postings a
//! person would expect on top, and the mean precision@5 over them. Fails below the floor set from
//! the first honest measurement (see `FLOOR`); prints every query's top five so a drop is easy to
//! read.

use std::collections::HashMap;

use serde_json::json;

use crate::helpers::spawn_app_with;

/// (key, company, title, summary, description, required skills, preferred skills)
type Row =
    (&'static str, usize, &'static str, &'static str, &'static str, &'static [&'static str], &'static [&'static str]);

const COMPANIES: [&str; 3] = ["Northwind Payments", "Bluefin Health", "Orbital Games"];

const POSTINGS: &[Row] = &[
    (
        "be-go",
        0,
        "Senior Backend Engineer (Go)",
        "Build the payment APIs that move money for small businesses.",
        "You will design and run Go services for card payments, settlements and payouts, with PostgreSQL and Kafka underneath.",
        &["Go", "PostgreSQL"],
        &["Kafka"],
    ),
    (
        "be-python",
        1,
        "Backend Engineer, Python",
        "Own the APIs behind our patient booking app.",
        "Python and Django services that schedule appointments for clinics; PostgreSQL for storage and Redis for queues.",
        &["Python", "PostgreSQL"],
        &["Redis"],
    ),
    (
        "be-java",
        0,
        "Java Backend Developer",
        "Scale our ledger and reconciliation services.",
        "Spring Boot services in Java that keep an accurate double-entry ledger, on MySQL with Kafka events.",
        &["Java", "MySQL"],
        &["Kafka"],
    ),
    (
        "fe-react",
        2,
        "Frontend Engineer, React",
        "Build the web storefront where players buy games.",
        "React and TypeScript for a fast storefront, a component library and accessible checkout flows, fed by GraphQL.",
        &["React", "TypeScript"],
        &["GraphQL"],
    ),
    (
        "fe-vue",
        1,
        "Frontend Developer (Vue.js)",
        "Make our clinic dashboard a joy to use.",
        "Vue.js and JavaScript single-page application for clinic staff: calendars, forms and charts.",
        &["JavaScript"],
        &["TypeScript"],
    ),
    (
        "ios",
        1,
        "iOS Engineer",
        "Ship the patient app on iPhone.",
        "Swift and SwiftUI for our iPhone app: video visits, reminders, and offline support.",
        &["Swift"],
        &[],
    ),
    (
        "android",
        1,
        "Android Engineer",
        "Ship the patient app on Android phones.",
        "Kotlin and Jetpack Compose for our Android app: video visits, reminders, and offline support.",
        &["Kotlin"],
        &[],
    ),
    (
        "sre",
        0,
        "Site Reliability Engineer",
        "Keep the payment platform up through every peak.",
        "Run Kubernetes clusters on AWS, codify them with Terraform, watch them with Prometheus, and lead incident response.",
        &["Kubernetes", "Terraform", "AWS"],
        &["Prometheus"],
    ),
    (
        "devops",
        2,
        "DevOps Engineer",
        "Automate our build and release pipelines.",
        "Docker images, CI/CD pipelines and Ansible playbooks for game servers running on Azure.",
        &["Docker", "Ansible"],
        &["Azure"],
    ),
    (
        "platform",
        2,
        "Platform Engineer, Kubernetes",
        "Give game teams a self-service platform.",
        "Operate multi-region Kubernetes on GCP and write Go operators that provision game servers.",
        &["Kubernetes", "Go"],
        &["GCP"],
    ),
    (
        "data-eng",
        1,
        "Data Engineer",
        "Build the pipelines behind our clinical reports.",
        "Batch and streaming pipelines with Spark and Airflow, written in Python and SQL, landing in a warehouse.",
        &["Spark", "Airflow", "Python"],
        &["SQL"],
    ),
    (
        "analytics",
        0,
        "Analytics Engineer",
        "Turn payment events into trustworthy metrics.",
        "Model data with dbt and SQL in our warehouse and publish dashboards that finance relies on.",
        &["dbt", "SQL"],
        &[],
    ),
    (
        "ml",
        2,
        "Machine Learning Engineer",
        "Train models that match players for fair games.",
        "PyTorch models for matchmaking and cheat detection, from training to serving in production.",
        &["Python", "PyTorch", "Machine Learning"],
        &[],
    ),
    (
        "data-sci",
        1,
        "Data Scientist",
        "Find what helps patients keep their appointments.",
        "Statistics, experiments and causal inference in Python, with machine learning where it earns its keep.",
        &["Python"],
        &["SQL", "Machine Learning"],
    ),
    (
        "security",
        0,
        "Security Engineer",
        "Protect cardholder data end to end.",
        "Application security reviews, threat modelling and penetration testing for a PCI environment on Linux.",
        &["Linux"],
        &[],
    ),
    (
        "pm",
        0,
        "Product Manager, Payments",
        "Own the roadmap for merchant payouts.",
        "Talk to merchants, write crisp product requirements and decide what the payments teams build next.",
        &["SQL"],
        &[],
    ),
    (
        "designer",
        2,
        "Product Designer",
        "Design the screens players see first.",
        "User research, wireframes and polished interfaces in Figma for our launcher and storefront.",
        &["Figma"],
        &[],
    ),
    (
        "em",
        0,
        "Engineering Manager, Infrastructure",
        "Lead the team that runs our infrastructure.",
        "Hire, coach and grow a team of infrastructure engineers who run Kubernetes and our databases.",
        &["Kubernetes"],
        &[],
    ),
    (
        "rust",
        2,
        "Systems Engineer (Rust)",
        "Write the netcode of our multiplayer engine.",
        "Low-latency networking and a storage engine in Rust on Linux: distributed systems at game scale.",
        &["Rust", "Linux"],
        &["Distributed Systems"],
    ),
    (
        "embedded",
        1,
        "Embedded Software Engineer",
        "Write firmware for connected medical devices.",
        "C++ firmware on microcontrollers with an RTOS, Bluetooth Low Energy, and rigorous testing.",
        &["C++"],
        &[],
    ),
    (
        "dotnet",
        1,
        ".NET Developer",
        "Integrate our platform with hospital systems.",
        "C# and ASP.NET services on Azure that exchange HL7 and FHIR messages with hospitals, backed by SQL Server.",
        &["C#", "Azure"],
        &["SQL"],
    ),
    (
        "ruby",
        0,
        "Ruby on Rails Developer",
        "Grow the merchant dashboard.",
        "A mature Rails monolith in Ruby with PostgreSQL: invoices, disputes and merchant settings.",
        &["Ruby", "PostgreSQL"],
        &[],
    ),
    (
        "php",
        2,
        "PHP Developer",
        "Maintain the community forums.",
        "Laravel and PHP for the forums where our players meet, on MySQL.",
        &["PHP", "MySQL"],
        &[],
    ),
    (
        "node",
        2,
        "Node.js Backend Engineer",
        "Build the services behind player profiles.",
        "Node.js and TypeScript services with MongoDB that store profiles, friends and achievements.",
        &["Node.js", "MongoDB"],
        &["TypeScript"],
    ),
    (
        "fullstack",
        1,
        "Full-Stack Engineer",
        "Own features from database to browser.",
        "TypeScript everywhere: React in the browser, Node.js behind it, PostgreSQL at the bottom.",
        &["TypeScript", "React", "Node.js"],
        &["PostgreSQL"],
    ),
    (
        "qa",
        2,
        "QA Automation Engineer",
        "Catch bugs before players do.",
        "Automated testing with Selenium and Python for the launcher, the storefront and the game servers.",
        &["Python"],
        &[],
    ),
    (
        "writer",
        0,
        "Technical Writer",
        "Document our payments API for developers.",
        "Write guides, references and tutorials for the payments API, working closely with engineers.",
        &["GraphQL"],
        &[],
    ),
    (
        "support",
        1,
        "Customer Support Engineer",
        "Help clinics when something goes wrong.",
        "Troubleshoot integrations, read logs and SQL, and turn recurring problems into fixes with engineering.",
        &["SQL"],
        &[],
    ),
    (
        "scala",
        0,
        "Scala Data Platform Engineer",
        "Build the streaming platform for payment events.",
        "Scala services on Kafka and Flink that process payment events in real time.",
        &["Scala", "Kafka"],
        &["Flink"],
    ),
    (
        "recruiter",
        2,
        "Technical Recruiter",
        "Hire the engineers who build our games.",
        "Source, screen and close engineering candidates, and run a fair interview process.",
        &["Linux"],
        &[],
    ),
];

/// (query, the keys a person expects on top)
const QUERIES: &[(&str, &[&str])] = &[
    ("golang backend", &["be-go"]),
    ("k8s", &["sre", "platform", "em"]),
    ("react frontend", &["fe-react", "fullstack"]),
    ("machine learning", &["ml", "data-sci"]),
    ("data engineer spark", &["data-eng"]),
    ("ios swift", &["ios"]),
    ("android kotlin", &["android"]),
    ("postgres", &["be-go", "be-python", "ruby", "fullstack"]),
    ("terraform aws", &["sre"]),
    ("product designer figma", &["designer"]),
    ("payments", &["be-go", "pm", "writer", "scala", "analytics"]),
    ("engineering manager", &["em"]),
    ("rust", &["rust"]),
    ("embedded c++ firmware", &["embedded"]),
    ("c# .net azure", &["dotnet"]),
    ("ruby on rails", &["ruby"]),
    ("laravel php", &["php"]),
    ("node.js mongodb", &["node"]),
    ("full stack typescript", &["fullstack"]),
    ("security linux", &["security"]),
    ("analytics dbt", &["analytics"]),
    ("kafka streaming", &["scala", "data-eng"]),
    ("pyhton data scientist", &["data-sci"]),
    ("devops docker", &["devops"]),
    ("technical writer", &["writer"]),
    ("qa automation testing", &["qa"]),
    ("infrastructure engineers", &["em", "sre"]),
];

/// The mean precision@5 must stay at or above this. Precision@5 of a query is the share of its
/// expected postings found in the top five (out of at most five). First measured: 0.944 on SQLite
/// and on Postgres when every search word had to be found ("react frontend" missed the
/// full-stack posting that never says "frontend"). With ranked retrieval (every posting sharing a
/// term is a candidate, those with every term first): 0.981 on both backends, 27 queries, one at
/// 0.50 ("infrastructure engineers": one posting says neither word in its title). With the
/// semantic index beside the words: 1.000 on both backends. The floor leaves room for one more
/// such miss, not for a real drop.
const FLOOR: f64 = 0.96;

/// With meaning on, once the replica's index has read every posting, it answers the searches.
#[tokio::test]
async fn precision_at_5_stays_above_the_floor() {
    precision_at_5(true).await;
}

/// Words alone: the database answers, as it does with `HIREGRAPH_SEMANTIC_SEARCH=false` and
/// until the index has read a change. 0.981 when first measured on both backends.
#[tokio::test]
async fn precision_at_5_by_words_alone_stays_above_the_floor() {
    precision_at_5(false).await;
}

async fn precision_at_5(semantic: bool) {
    let app = spawn_app_with(&[("HIREGRAPH_SEMANTIC_SEARCH", if semantic { "true" } else { "false" })]).await;
    let owner = app.register("relevance").await;
    let mut companies = Vec::new();
    for name in COMPANIES {
        companies.push(app.create_company(&owner, name).await);
    }
    let mut key_of: HashMap<String, &str> = HashMap::new();
    for (key, company, title, summary, description, required, preferred) in POSTINGS {
        let skills: Vec<_> = required
            .iter()
            .map(|s| json!({ "name": s, "required": true }))
            .chain(preferred.iter().map(|s| json!({ "name": s, "required": false })))
            .collect();
        let input = json!({
            "companyId": companies[*company], "title": title, "summary": summary, "description": description,
            "employmentType": "FULL_TIME", "seniority": "MID", "workplace": "REMOTE",
            "locations": [{ "country": "US", "remote": true }], "skills": skills,
        });
        let id = app.create_posting(&owner, input).await;
        app.publish(&owner, &id).await;
        key_of.insert(id, key);
    }
    if semantic {
        app.wait_for_semantic_index(POSTINGS.len()).await;
    }
    let mut report = Vec::new();
    let mut total = 0.0;
    for (query, expected) in QUERIES {
        let data = app
            .ok(
                "query($q: String) { postings(filter: { query: $q }, first: 5) { edges { node { id } } } }",
                json!({ "q": query }),
                None,
            )
            .await;
        let top: Vec<&str> = data["postings"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| key_of[e["node"]["id"].as_str().unwrap()])
            .collect();
        let hits = top.iter().filter(|k| expected.contains(k)).count();
        let precision = hits as f64 / expected.len().min(5) as f64;
        total += precision;
        report.push(format!("{precision:.2}  {query:<28} {top:?}"));
    }
    let mean = total / QUERIES.len() as f64;
    println!(
        "precision@5 per query (meaning {semantic}):\n{}\nmean precision@5: {mean:.3} over {} queries",
        report.join("\n"),
        QUERIES.len()
    );
    assert!(mean >= FLOOR, "mean precision@5 {mean:.3} fell below {FLOOR}:\n{}", report.join("\n"));
}
