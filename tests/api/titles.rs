//! Job-title semantics, measured: 350 postings whose titles come from 70 occupations (five
//! titles each: synonyms, abbreviations, related and more senior or junior forms), all with the
//! same neutral text, and 110 queries, each a title a person would type, labelled with the
//! occupation it belongs to; the postings of that occupation are the relevant ones. The test
//! reports MAP, NDCG@10 and the share of queries with no result, and fails below the floors
//! recorded from the first measurement (`FLOORS`). Written for hiregraph; no public set was used.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{complete_posting, spawn_app_with};

/// Occupations, each with five posting titles.
const OCCUPATIONS: &[(&str, [&str; 5])] = &[
    (
        "backend",
        [
            "Backend Engineer",
            "Backend Developer",
            "Server-Side Developer",
            "API Engineer",
            "Back End Software Engineer",
        ],
    ),
    ("frontend", ["Frontend Engineer", "Front End Developer", "UI Developer", "Web Developer", "JavaScript Developer"]),
    ("mobile", ["iOS Developer", "Android Developer", "Mobile Engineer", "Mobile App Developer", "Swift Developer"]),
    (
        "data-science",
        ["Data Scientist", "Machine Learning Scientist", "Applied Scientist", "Statistician", "Quantitative Analyst"],
    ),
    (
        "data-eng",
        ["Data Engineer", "ETL Developer", "Big Data Engineer", "Data Pipeline Engineer", "Analytics Engineer"],
    ),
    (
        "sre",
        [
            "Site Reliability Engineer",
            "DevOps Engineer",
            "Platform Engineer",
            "Infrastructure Engineer",
            "Cloud Engineer",
        ],
    ),
    (
        "security",
        [
            "Security Engineer",
            "Cybersecurity Analyst",
            "Information Security Analyst",
            "Penetration Tester",
            "Security Operations Analyst",
        ],
    ),
    ("qa", ["QA Engineer", "Software Tester", "Test Automation Engineer", "Quality Assurance Analyst", "SDET"]),
    (
        "product",
        [
            "Product Manager",
            "Product Owner",
            "Technical Product Manager",
            "Senior Product Manager",
            "Group Product Manager",
        ],
    ),
    (
        "design",
        ["UX Designer", "Product Designer", "UI Designer", "Interaction Designer", "User Experience Researcher"],
    ),
    ("project", ["Project Manager", "Program Manager", "Project Coordinator", "Delivery Manager", "PMO Analyst"]),
    ("dba", ["Database Administrator", "DBA", "Database Engineer", "SQL Server DBA", "Oracle Database Administrator"]),
    (
        "sysadmin",
        [
            "System Administrator",
            "Systems Administrator",
            "IT Administrator",
            "Linux Administrator",
            "Windows Server Administrator",
        ],
    ),
    (
        "it-support",
        [
            "Help Desk Technician",
            "IT Support Specialist",
            "Desktop Support Technician",
            "Service Desk Analyst",
            "Technical Support Engineer",
        ],
    ),
    (
        "network",
        [
            "Network Engineer",
            "Network Architect",
            "Telecommunications Engineer",
            "Network Technician",
            "Wireless Engineer",
        ],
    ),
    ("accounting", ["Accountant", "Staff Accountant", "Certified Public Accountant", "Bookkeeper", "Accounting Clerk"]),
    ("finance", ["Financial Analyst", "FP&A Analyst", "Budget Analyst", "Finance Associate", "Investment Analyst"]),
    ("audit", ["Auditor", "Internal Auditor", "External Auditor", "Audit Associate", "Compliance Auditor"]),
    (
        "payroll",
        ["Payroll Specialist", "Payroll Administrator", "Payroll Clerk", "Payroll Coordinator", "Compensation Analyst"],
    ),
    (
        "hr",
        [
            "Human Resources Manager",
            "HR Generalist",
            "HR Business Partner",
            "People Operations Manager",
            "Human Resources Coordinator",
        ],
    ),
    (
        "recruiting",
        ["Recruiter", "Technical Recruiter", "Talent Acquisition Specialist", "Sourcer", "Recruitment Consultant"],
    ),
    (
        "sales",
        [
            "Sales Representative",
            "Account Executive",
            "Business Development Representative",
            "Sales Associate",
            "Inside Sales Representative",
        ],
    ),
    (
        "sales-lead",
        ["Sales Manager", "Regional Sales Manager", "Vice President of Sales", "Head of Sales", "Sales Director"],
    ),
    (
        "marketing",
        [
            "Marketing Manager",
            "Digital Marketing Specialist",
            "Marketing Coordinator",
            "Growth Marketer",
            "Brand Manager",
        ],
    ),
    ("writing", ["Content Writer", "Copywriter", "Content Strategist", "Technical Writer", "Editor"]),
    (
        "social",
        [
            "Social Media Manager",
            "Community Manager",
            "Social Media Coordinator",
            "Influencer Marketing Manager",
            "Social Media Specialist",
        ],
    ),
    (
        "support",
        [
            "Customer Service Representative",
            "Customer Support Agent",
            "Call Center Agent",
            "Client Service Associate",
            "Customer Care Specialist",
        ],
    ),
    (
        "success",
        [
            "Customer Success Manager",
            "Account Manager",
            "Client Success Manager",
            "Relationship Manager",
            "Key Account Manager",
        ],
    ),
    (
        "reception",
        [
            "Receptionist",
            "Front Desk Agent",
            "Front Desk Coordinator",
            "Front Office Assistant",
            "Guest Services Agent",
        ],
    ),
    (
        "assistant",
        ["Administrative Assistant", "Executive Assistant", "Office Assistant", "Personal Assistant", "Secretary"],
    ),
    (
        "office",
        [
            "Office Manager",
            "Office Administrator",
            "Facilities Coordinator",
            "Operations Coordinator",
            "Administrative Manager",
        ],
    ),
    (
        "logistics",
        [
            "Logistics Coordinator",
            "Logistician",
            "Supply Chain Analyst",
            "Logistics Specialist",
            "Distribution Planner",
        ],
    ),
    (
        "warehouse",
        ["Warehouse Associate", "Warehouse Worker", "Forklift Operator", "Picker Packer", "Material Handler"],
    ),
    ("driving", ["Truck Driver", "Delivery Driver", "CDL Driver", "Courier", "Van Driver"]),
    (
        "purchasing",
        ["Buyer", "Purchasing Agent", "Procurement Specialist", "Purchasing Manager", "Sourcing Specialist"],
    ),
    ("nursing", ["Registered Nurse", "Staff Nurse", "Nurse Practitioner", "Licensed Practical Nurse", "ICU Nurse"]),
    ("physician", ["Physician", "Doctor", "General Practitioner", "Family Medicine Physician", "Internist"]),
    (
        "clinical-aide",
        ["Medical Assistant", "Clinical Assistant", "Patient Care Technician", "Nursing Assistant", "Phlebotomist"],
    ),
    (
        "pharmacy",
        ["Pharmacist", "Pharmacy Technician", "Clinical Pharmacist", "Pharmacy Assistant", "Dispensing Technician"],
    ),
    ("dental", ["Dentist", "Dental Hygienist", "Dental Assistant", "Orthodontist", "Dental Nurse"]),
    (
        "veterinary",
        ["Veterinarian", "Veterinary Technician", "Vet Nurse", "Animal Care Technician", "Veterinary Assistant"],
    ),
    (
        "therapy",
        [
            "Physical Therapist",
            "Physiotherapist",
            "Occupational Therapist",
            "Rehabilitation Therapist",
            "Physical Therapy Assistant",
        ],
    ),
    (
        "psychology",
        ["Psychologist", "Clinical Psychologist", "Counselor", "Mental Health Counselor", "Psychotherapist"],
    ),
    ("teaching", ["Teacher", "Elementary School Teacher", "High School Teacher", "Math Teacher", "Substitute Teacher"]),
    (
        "training",
        ["Tutor", "Instructor", "Corporate Trainer", "Training Specialist", "Learning and Development Specialist"],
    ),
    ("academia", ["Professor", "Lecturer", "Assistant Professor", "Adjunct Professor", "University Lecturer"]),
    ("childcare", ["Nanny", "Babysitter", "Childcare Worker", "Au Pair", "Daycare Teacher"]),
    ("care", ["Caregiver", "Home Health Aide", "Personal Care Assistant", "Elderly Care Worker", "Support Worker"]),
    ("kitchen", ["Chef", "Cook", "Line Cook", "Sous Chef", "Kitchen Assistant"]),
    ("service", ["Waiter", "Waitress", "Server", "Bartender", "Restaurant Host"]),
    ("hotel", ["Hotel Manager", "Front Office Manager", "Guest Relations Manager", "Hospitality Manager", "Concierge"]),
    ("cleaning", ["Cleaner", "Janitor", "Housekeeper", "Custodian", "Room Attendant"]),
    ("guarding", ["Security Guard", "Security Officer", "Loss Prevention Officer", "Patrol Officer", "Doorman"]),
    (
        "electrical",
        [
            "Electrician",
            "Electrical Technician",
            "Apprentice Electrician",
            "Journeyman Electrician",
            "Electrical Installer",
        ],
    ),
    ("plumbing", ["Plumber", "Pipefitter", "Plumbing Technician", "Heating Engineer", "HVAC Technician"]),
    ("carpentry", ["Carpenter", "Joiner", "Cabinet Maker", "Woodworker", "Finish Carpenter"]),
    ("construction", ["Construction Worker", "Laborer", "Construction Manager", "Site Manager", "Foreman"]),
    (
        "mechanics",
        ["Auto Mechanic", "Automotive Technician", "Mechanic", "Diesel Mechanic", "Vehicle Service Technician"],
    ),
    ("metalwork", ["Welder", "Fabricator", "Machinist", "CNC Operator", "Metal Worker"]),
    (
        "engineering",
        ["Civil Engineer", "Structural Engineer", "Mechanical Engineer", "Design Engineer", "Project Engineer"],
    ),
    ("law", ["Lawyer", "Attorney", "Legal Counsel", "Solicitor", "Corporate Counsel"]),
    ("paralegal", ["Paralegal", "Legal Assistant", "Legal Secretary", "Law Clerk", "Litigation Support Specialist"]),
    (
        "mediation",
        ["Mediator", "Arbitrator", "Conflict Resolution Specialist", "Ombudsman", "Dispute Resolution Officer"],
    ),
    ("records", ["Archivist", "Librarian", "Records Manager", "Library Assistant", "Curator"]),
    ("retail", ["Retail Sales Associate", "Cashier", "Store Associate", "Shop Assistant", "Sales Clerk"]),
    ("store", ["Store Manager", "Retail Manager", "Assistant Store Manager", "Shop Manager", "Branch Manager"]),
    ("real-estate", ["Real Estate Agent", "Realtor", "Property Manager", "Leasing Consultant", "Estate Agent"]),
    ("insurance", ["Insurance Agent", "Underwriter", "Claims Adjuster", "Insurance Broker", "Claims Handler"]),
    ("banking", ["Bank Teller", "Personal Banker", "Loan Officer", "Mortgage Advisor", "Credit Analyst"]),
    (
        "consulting",
        ["Management Consultant", "Strategy Consultant", "Business Analyst", "Strategy Analyst", "Business Consultant"],
    ),
];

/// Queries as people type them, each with the occupation whose postings are relevant.
const QUERIES: &[(&str, &str)] = &[
    ("backend software engineer", "backend"),
    ("server side programmer", "backend"),
    ("front-end web developer", "frontend"),
    ("react developer", "frontend"),
    ("ios engineer", "mobile"),
    ("android app developer", "mobile"),
    ("machine learning", "data-science"),
    ("data scientist", "data-science"),
    ("etl engineer", "data-eng"),
    ("data pipelines", "data-eng"),
    ("sre", "sre"),
    ("devops", "sre"),
    ("cloud infrastructure engineer", "sre"),
    ("cyber security", "security"),
    ("infosec analyst", "security"),
    ("software quality assurance", "qa"),
    ("qa tester", "qa"),
    ("product manager", "product"),
    ("product owner", "product"),
    ("ux ui designer", "design"),
    ("user experience designer", "design"),
    ("program manager", "project"),
    ("project coordinator", "project"),
    ("database administrator", "dba"),
    ("sysadmin", "sysadmin"),
    ("linux systems administrator", "sysadmin"),
    ("helpdesk support", "it-support"),
    ("it technician", "it-support"),
    ("network administrator", "network"),
    ("bookkeeping", "accounting"),
    ("accountant", "accounting"),
    ("financial planning analyst", "finance"),
    ("internal audit", "audit"),
    ("payroll", "payroll"),
    ("hr manager", "hr"),
    ("human resources", "hr"),
    ("people operations", "hr"),
    ("talent acquisition", "recruiting"),
    ("recruiter", "recruiting"),
    ("salesperson", "sales"),
    ("business development", "sales"),
    ("vp sales", "sales-lead"),
    ("sales director", "sales-lead"),
    ("digital marketing", "marketing"),
    ("marketing specialist", "marketing"),
    ("copywriting", "writing"),
    ("content writer", "writing"),
    ("social media", "social"),
    ("community manager", "social"),
    ("customer service", "support"),
    ("call centre agent", "support"),
    ("customer success", "success"),
    ("account manager", "success"),
    ("front desk", "reception"),
    ("front desk supervisor", "reception"),
    ("receptionist", "reception"),
    ("executive assistant", "assistant"),
    ("secretary", "assistant"),
    ("office manager", "office"),
    ("logistics specialist", "logistics"),
    ("supply chain", "logistics"),
    ("warehouse", "warehouse"),
    ("forklift driver", "warehouse"),
    ("truck driver", "driving"),
    ("delivery driver", "driving"),
    ("procurement", "purchasing"),
    ("purchasing", "purchasing"),
    ("nurse", "nursing"),
    ("registered nurse", "nursing"),
    ("doctor", "physician"),
    ("medical doctor", "physician"),
    ("medical assistant", "clinical-aide"),
    ("pharmacist", "pharmacy"),
    ("dental", "dental"),
    ("dentist", "dental"),
    ("vet", "veterinary"),
    ("veterinary", "veterinary"),
    ("physiotherapy", "therapy"),
    ("therapist", "therapy"),
    ("psychologist", "psychology"),
    ("counselling", "psychology"),
    ("teacher", "teaching"),
    ("school teacher", "teaching"),
    ("trainer", "training"),
    ("tutoring", "training"),
    ("professor", "academia"),
    ("university lecturer", "academia"),
    ("nanny", "childcare"),
    ("child care", "childcare"),
    ("caregiver", "care"),
    ("home care", "care"),
    ("chef", "kitchen"),
    ("cook", "kitchen"),
    ("waiter", "service"),
    ("bartender", "service"),
    ("hotel manager", "hotel"),
    ("cleaner", "cleaning"),
    ("housekeeping", "cleaning"),
    ("security guard", "guarding"),
    ("electrician", "electrical"),
    ("plumber", "plumbing"),
    ("carpenter", "carpentry"),
    ("construction", "construction"),
    ("car mechanic", "mechanics"),
    ("welder", "metalwork"),
    ("civil engineer", "engineering"),
    ("lawyer", "law"),
    ("paralegal", "paralegal"),
    ("mediator", "mediation"),
    ("archivist", "records"),
];

/// The floors: (MAP, NDCG@10, share of queries with no result at most). Measured when the set
/// was written, the same on SQLite and Postgres: words alone MAP 0.393, NDCG@10 0.517, 3.6 % with
/// no result; with the semantic index and the occupation vocabulary MAP 0.625, NDCG@10 0.720–0.721, none
/// without a result. The floors leave room for noise, not for losing what meaning adds.
const FLOORS: (f64, f64, f64) = (0.6, 0.7, 0.01);

/// Words alone (the database answers: `HIREGRAPH_SEMANTIC_SEARCH=false`, or until the index has
/// read a change): MAP 0.409, NDCG@10 0.535 on SQLite, 0.394 and 0.517 on Postgres, 1.8 % with no
/// result on both, when this test was added. The floors sit just under, so ranking by words cannot
/// silently drop.
const WORD_FLOORS: (f64, f64, f64) = (0.37, 0.49, 0.04);

const SEARCH: &str = "query($q: String) { postings(filter: { query: $q }, first: 50) { edges { node { id } } } }";

/// Average precision of one ranked list against `relevant` items.
fn average_precision(ranked: &[bool], relevant: usize) -> f64 {
    let mut hits = 0;
    let mut sum = 0.0;
    for (i, &is) in ranked.iter().enumerate() {
        if is {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    sum / relevant as f64
}

/// NDCG@10 with binary gains.
fn ndcg_at_10(ranked: &[bool], relevant: usize) -> f64 {
    let dcg: f64 =
        ranked.iter().take(10).enumerate().filter(|(_, is)| **is).map(|(i, _)| 1.0 / (i as f64 + 2.0).log2()).sum();
    let ideal: f64 = (0..relevant.min(10)).map(|i| 1.0 / (i as f64 + 2.0).log2()).sum();
    dcg / ideal
}

#[tokio::test]
async fn job_titles_find_their_occupation_by_meaning() {
    job_titles(true, FLOORS).await;
}

#[tokio::test]
async fn job_titles_find_their_occupation_by_words_alone() {
    job_titles(false, WORD_FLOORS).await;
}

async fn job_titles(semantic: bool, floors: (f64, f64, f64)) {
    let app = spawn_app_with(&[("HIREGRAPH_SEMANTIC_SEARCH", if semantic { "true" } else { "false" })]).await;
    let owner = app.register("titles").await;
    let company = app.create_company(&owner, "Title Test").await;
    let partner = app.create_partner_app(&owner, &company, &["POSTINGS_WRITE".into()]).await;
    let key = app.create_api_key(&owner, &partner.id).await;
    let mut occupation_of: HashMap<String, &str> = HashMap::new();
    let titles: Vec<(&str, &str)> =
        OCCUPATIONS.iter().flat_map(|(occupation, titles)| titles.iter().map(move |t| (*occupation, *t))).collect();
    for (batch, chunk) in titles.chunks(100).enumerate() {
        let items: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, (_, title))| {
                let mut posting = complete_posting(&company, title);
                let fields = posting.as_object_mut().unwrap();
                fields.remove("companyId");
                fields.insert("externalId".into(), format!("title-{batch}-{i}").into());
                fields.insert("summary".into(), "Join our team.".into());
                fields.insert(
                    "description".into(),
                    "We are hiring for this role. Apply through this posting and we will reply within a week.".into(),
                );
                fields.insert("responsibilities".into(), json!(["Do the job well"]));
                fields.insert("requiredQualifications".into(), json!(["Experience in the role"]));
                fields.insert("skills".into(), json!([{ "name": "Communication", "required": true }]));
                posting
            })
            .collect();
        let body = app
            .ok(
                "mutation($i: UpsertPostingsInput!) { upsertPostings(input: $i) { results { outcome errors { field message } posting { id } } } }",
                json!({ "i": { "companyId": company, "postings": items, "publish": true } }),
                Some(&key),
            )
            .await;
        for (result, (occupation, _)) in body["upsertPostings"]["results"].as_array().unwrap().iter().zip(chunk) {
            assert_eq!(result["outcome"], "CREATED", "{result}");
            occupation_of.insert(result["posting"]["id"].as_str().unwrap().to_owned(), occupation);
        }
    }
    if semantic {
        app.wait_for_semantic_index(titles.len()).await;
    }

    let (mut map, mut ndcg, mut empty) = (0.0, 0.0, 0);
    let mut report = Vec::new();
    for (query, occupation) in QUERIES {
        let data = app.ok(SEARCH, json!({ "q": query }), None).await;
        let ranked: Vec<&str> = data["postings"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| occupation_of[e["node"]["id"].as_str().unwrap()])
            .collect();
        let relevant: Vec<bool> = ranked.iter().map(|o| o == occupation).collect();
        let (ap, n) = (average_precision(&relevant, 5), ndcg_at_10(&relevant, 5));
        map += ap;
        ndcg += n;
        empty += usize::from(ranked.is_empty());
        report.push(format!("{ap:.2} {n:.2}  {query:<30} {:?}", &ranked[..ranked.len().min(6)]));
    }
    let count = QUERIES.len() as f64;
    let (map, ndcg, empty) = (map / count, ndcg / count, empty as f64 / count);
    println!(
        "AP NDCG@10 per query (meaning {semantic}):\n{}\nMAP {map:.3}, NDCG@10 {ndcg:.3}, no result {:.1} % over {} queries and {} postings",
        report.join("\n"),
        empty * 100.0,
        QUERIES.len(),
        titles.len()
    );
    assert!(QUERIES.len() >= 100 && titles.len() >= 300);
    let (map_floor, ndcg_floor, empty_ceiling) = floors;
    assert!(
        map >= map_floor && ndcg >= ndcg_floor && empty <= empty_ceiling,
        "MAP {map:.3} (floor {map_floor}), NDCG@10 {ndcg:.3} (floor {ndcg_floor}), no result {empty:.3} (at most {empty_ceiling}):\n{}",
        report.join("\n")
    );
}
