//! Walks every cell of `docs/authorization.md` against the real server.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, complete_posting};

const ACTORS: [&str; 9] = [
    "anonymous",
    "other candidate",
    "applicant",
    "VIEWER",
    "RECRUITER",
    "ADMIN",
    "OWNER",
    "other company",
    "platform admin",
];

/// The partner apps of the partner matrix: one scope each, of company A, and every scope of B.
const PARTNERS: [&str; 8] = [
    "postings:read",
    "postings:write",
    "applications:read",
    "applications:write",
    "applications:submit",
    "events:read",
    "webhooks:manage",
    "every scope, other company",
];

/// The GraphQL spelling of a scope (`postings:read` → `POSTINGS_READ`).
fn scope_enum(scope: &str) -> String {
    scope.replace(':', "_").to_uppercase()
}

fn authorization_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/authorization.md");
    std::fs::read_to_string(path).expect("docs/authorization.md")
}

/// The rows of the first table under `section`, split into cells (the header row included).
fn table(section: &str) -> Vec<Vec<String>> {
    let text = authorization_md();
    let part = text.split(&format!("\n{section}\n")).nth(1).unwrap_or_else(|| panic!("a `{section}` section"));
    let rows = part.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|'));
    let cells = |line: &str| line.trim().trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect::<Vec<_>>();
    rows.enumerate().filter(|(i, _)| *i != 1).map(|(_, line)| cells(line)).collect()
}

/// A matrix as written: (operation, actor) → expected outcome.
fn read_matrix(section: &str, actors: &[&str]) -> Vec<(String, Vec<(String, String)>)> {
    let rows = table(section);
    assert_eq!(rows[0][1..], actors.iter().map(|a| a.to_string()).collect::<Vec<_>>(), "the columns of {section}");
    rows[1..]
        .iter()
        .map(|c| {
            assert_eq!(c.len(), actors.len() + 1, "row `{}` of {section} has a cell per actor", c[0]);
            (c[0].clone(), actors.iter().map(|a| a.to_string()).zip(c[1..].iter().cloned()).collect())
        })
        .collect()
}

/// "✓" when the response has no error, else the first error's code.
fn outcome(body: &Value) -> String {
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None if body.get("errors").is_some() => format!("uncoded error: {body}"),
        None => "✓".to_owned(),
    }
}

struct World {
    app: TestApp,
    sessions: HashMap<&'static str, Session>,
    company_a: String,
    company_c: String,
    owner_c: Session,
    posting_p: String,
    draft_d: String,
    applicant_profile: String,
    private_profile: String,
    public_profile: String,
    /// An `EMPLOYERS` profile of a candidate who applied nowhere.
    employers_profile: String,
    application: String,
    /// Each partner column's API key.
    partner_keys: HashMap<&'static str, String>,
    /// A partner app of company A, for the key-issuing row.
    partner_app: String,
}

impl World {
    fn token(&self, actor: &str) -> Option<&str> {
        self.sessions.get(actor).map(|s| s.access.as_str()).or_else(|| self.partner_keys.get(actor).map(String::as_str))
    }

    async fn run(&self, query: &str, vars: Value, actor: &str) -> Value {
        self.app.graphql(query, vars, self.token(actor)).await
    }

    async fn profile(&self, who: &Session, name: &str, visibility: &str) -> String {
        let data = self
            .app
            .ok(
                "mutation($i: UpsertCandidateProfileInput!) { upsertCandidateProfile(input: $i) { profile { id } } }",
                json!({ "i": {
                    "displayName": name, "visibility": visibility, "email": who.email, "phone": "+49 30 1234567",
                    "desiredSalary": { "min": 1, "max": 2, "currency": "EUR", "period": "YEAR" },
                    "skills": [{ "name": "Rust", "years": 3 }], "seniority": "SENIOR"
                } }),
                Some(&who.access),
            )
            .await;
        data["upsertCandidateProfile"]["profile"]["id"].as_str().unwrap().to_owned()
    }

    async fn apply(&self, who: &str, posting: &str) -> String {
        let data = self
            .app
            .ok(
                "mutation($i: ApplyToPostingInput!) { applyToPosting(input: $i) { application { id } } }",
                json!({ "i": { "postingId": posting } }),
                self.token(who),
            )
            .await;
        data["applyToPosting"]["application"]["id"].as_str().unwrap().to_owned()
    }

    /// A fresh published posting of company A and the applicant's application to it.
    async fn fresh_application(&self) -> String {
        let posting = self.app.published_posting(&self.sessions["OWNER"], &self.company_a, "Fresh job").await;
        self.apply("applicant", &posting).await
    }

    async fn setup() -> Self {
        // Webhook rows register a loopback URL.
        let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
        let mut sessions = HashMap::new();
        for actor in ACTORS.iter().filter(|a| !matches!(**a, "anonymous" | "platform admin")) {
            sessions.insert(*actor, app.register(&actor.replace(' ', "-")).await);
        }
        // The platform admin's role is granted in the database, where every request reads it.
        sessions.insert("platform admin", app.platform_admin().await);

        let owner = sessions["OWNER"].clone();
        let company_a = app.create_company(&owner, "Company A").await;
        for role in ["ADMIN", "RECRUITER", "VIEWER"] {
            app.add_member(&owner, &company_a, &sessions[role], role).await;
        }
        let company_b = app.create_company(&sessions["other company"], "Company B").await;
        let owner_c = app.register("owner-c").await;
        let company_c = app.create_company(&owner_c, "Company C").await;
        let posting_p = app.published_posting(&owner, &company_a, "Posting P").await;
        let draft_d = app.create_posting(&owner, complete_posting(&company_a, "Draft D")).await;
        let private_candidate = app.register("private-candidate").await;
        let mut world = World {
            app,
            sessions,
            company_a,
            company_c,
            owner_c,
            posting_p,
            draft_d,
            applicant_profile: String::new(),
            private_profile: String::new(),
            public_profile: String::new(),
            employers_profile: String::new(),
            application: String::new(),
            partner_keys: HashMap::new(),
            partner_app: String::new(),
        };
        world.applicant_profile = world.profile(&world.sessions["applicant"], "The Applicant", "EMPLOYERS").await;
        world.public_profile = world.profile(&world.sessions["other candidate"], "Other Candidate", "PUBLIC").await;
        world.private_profile = world.profile(&private_candidate, "Private Applicant", "PRIVATE").await;
        let employers_candidate = world.app.register("employers-candidate").await;
        world.employers_profile = world.profile(&employers_candidate, "Employers Only", "EMPLOYERS").await;
        // Company A is verified by the platform admin; company B is not.
        world
            .app
            .ok(
                "mutation($i: VerifyCompanyInput!) { verifyCompany(input: $i) { company { verified } } }",
                json!({ "i": { "id": world.company_a } }),
                world.token("platform admin"),
            )
            .await;
        world.application = world.apply("applicant", &world.posting_p).await;
        world
            .app
            .ok(
                "mutation($i: ApplyToPostingInput!) { applyToPosting(input: $i) { application { id } } }",
                json!({ "i": { "postingId": world.posting_p } }),
                Some(&private_candidate.access),
            )
            .await;
        // A company move with a private note, and a hiring-team note.
        let recruiter = world.sessions["RECRUITER"].access.clone();
        world
            .app
            .ok(
                "mutation($i: MoveApplicationInput!) { moveApplication(input: $i) { application { status } } }",
                json!({ "i": { "id": world.application, "to": "SCREENING", "note": "Internal: strong Rust." } }),
                Some(&recruiter),
            )
            .await;
        world
            .app
            .ok(
                "mutation($i: AddApplicationNoteInput!) { addApplicationNote(input: $i) { note { body } } }",
                json!({ "i": { "applicationId": world.application, "body": "Call her back on Monday." } }),
                Some(&recruiter),
            )
            .await;
        for partner in PARTNERS {
            let (owner, company, scopes) = match partner {
                "every scope, other company" => {
                    let scopes: Vec<String> = PARTNERS[..7].iter().map(|s| scope_enum(s)).collect();
                    (&world.sessions["other company"], &company_b, scopes)
                }
                scope => (&world.sessions["OWNER"], &world.company_a, vec![scope_enum(scope)]),
            };
            let app_id = world.app.create_partner_app(owner, company, &scopes).await.id;
            let key = world.app.create_api_key(owner, &app_id).await;
            world.partner_keys.insert(partner, key);
        }
        world.partner_app = world.app.create_partner_app(&owner, &world.company_a, &["EVENTS_READ".into()]).await.id;
        world
    }

    async fn cell(&self, operation: &str, actor: &str) -> String {
        let a = actor;
        match operation {
            "read published posting" => {
                outcome(&self.run("query($id: ID!) { posting(id: $id) { title } }", json!({ "id": self.posting_p }), a).await)
            }
            "read draft posting" => {
                outcome(&self.run("query($id: ID!) { posting(id: $id) { title } }", json!({ "id": self.draft_d }), a).await)
            }
            "read draft posting by node" => {
                outcome(&self.run("query($id: ID!) { node(id: $id) { id } }", json!({ "id": self.draft_d }), a).await)
            }
            "list company postings with drafts" => {
                let body = self
                    .run(
                        "query($id: ID!) { node(id: $id) { ... on Company { postings(first: 100) { edges { node { id } } } } } }",
                        json!({ "id": self.company_a }),
                        a,
                    )
                    .await;
                let ids: Vec<&str> = body["data"]["node"]["postings"]["edges"]
                    .as_array()
                    .map(|e| e.iter().filter_map(|e| e["node"]["id"].as_str()).collect())
                    .unwrap_or_default();
                match outcome(&body).as_str() {
                    "✓" if ids.contains(&self.draft_d.as_str()) => "✓ all".to_owned(),
                    "✓" => "✓ public only".to_owned(),
                    other => other.to_owned(),
                }
            }
            "create posting" => outcome(
                &self
                    .run(
                        "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }",
                        json!({ "i": complete_posting(&self.company_a, "By matrix") }),
                        a,
                    )
                    .await,
            ),
            "update published posting" => {
                let version = self
                    .app
                    .ok("query($id: ID!) { posting(id: $id) { version } }", json!({ "id": self.posting_p }), None)
                    .await["posting"]["version"]
                    .clone();
                outcome(
                    &self
                        .run(
                            "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { id } } }",
                            json!({ "i": { "id": self.posting_p, "expectedVersion": version, "summary": format!("edited by {a}") } }),
                            a,
                        )
                        .await,
                )
            }
            "upsert postings" => {
                let mut posting = complete_posting(&self.company_a, "Upserted");
                posting.as_object_mut().unwrap().remove("companyId");
                posting["externalId"] = format!("ext-{}", uuid::Uuid::now_v7()).into();
                let body = self
                    .run(
                        "mutation($i: UpsertPostingsInput!) { upsertPostings(input: $i) { results { outcome errors { message } } } }",
                        json!({ "i": { "companyId": self.company_a, "postings": [posting] } }),
                        a,
                    )
                    .await;
                match outcome(&body).as_str() {
                    "✓" if body["data"]["upsertPostings"]["results"][0]["outcome"] != "CREATED" => format!("not created: {body}"),
                    other => other.to_owned(),
                }
            }
            "publish draft" => {
                let draft = self.app.create_posting(&self.sessions["OWNER"], complete_posting(&self.company_a, "To publish")).await;
                outcome(
                    &self
                        .run("mutation($i: PostingStatusInput!) { publishPosting(input: $i) { posting { id } } }", json!({ "i": { "id": draft } }), a)
                        .await,
                )
            }
            "update company" => outcome(
                &self
                    .run(
                        "mutation($i: UpdateCompanyInput!) { updateCompany(input: $i) { company { id } } }",
                        json!({ "i": { "id": self.company_a, "industry": format!("set by {a}") } }),
                        a,
                    )
                    .await,
            ),
            "add recruiter to company" | "add owner to company" => {
                let newcomer = self.app.register("newcomer").await;
                let role = if operation.contains("owner") { "OWNER" } else { "RECRUITER" };
                outcome(
                    &self
                        .run(
                            "mutation($i: AddCompanyMemberInput!) { addCompanyMember(input: $i) { member { role } } }",
                            json!({ "i": { "companyId": self.company_a, "email": newcomer.email, "role": role } }),
                            a,
                        )
                        .await,
                )
            }
            "list company members" => outcome(
                &self
                    .run(
                        "query($id: ID!) { node(id: $id) { ... on Company { members { role } } } }",
                        json!({ "id": self.company_a }),
                        a,
                    )
                    .await,
            ),
            "verify company" => outcome(
                &self
                    .run(
                        "mutation($i: VerifyCompanyInput!) { verifyCompany(input: $i) { company { verified } } }",
                        json!({ "i": { "id": self.company_a } }),
                        a,
                    )
                    .await,
            ),
            "read public profile" => outcome(&self.candidate(&self.public_profile, "displayName", a).await),
            "read employers-only profile" => outcome(&self.candidate(&self.applicant_profile, "displayName", a).await),
            "read employers-only profile of a candidate who applied nowhere" => {
                outcome(&self.candidate(&self.employers_profile, "displayName", a).await)
            }
            "search candidates lists employers-only profiles" => {
                let body = self.run("{ candidates(first: 100) { totalCount edges { node { id } } } }", json!({}), a).await;
                let edges = body["data"]["candidates"]["edges"].as_array().cloned().unwrap_or_default();
                let listed = edges.iter().any(|e| e["node"]["id"] == self.employers_profile.as_str());
                let counted = body["data"]["candidates"]["totalCount"].as_u64() == Some(edges.len() as u64);
                match outcome(&body).as_str() {
                    "✓" if !counted => format!("totalCount disagrees with the list: {body}"),
                    "✓" if listed => "✓ listed".to_owned(),
                    "✓" => "✓ never".to_owned(),
                    other => other.to_owned(),
                }
            }
            "disable a user" => {
                let user = self.app.register("to-disable").await;
                outcome(
                    &self
                        .run(
                            "mutation($i: DisableUserInput!) { disableUser(input: $i) { user { disabled } } }",
                            json!({ "i": { "id": user.user_id } }),
                            a,
                        )
                        .await,
                )
            }
            "read private profile of an applicant" => outcome(&self.candidate(&self.private_profile, "displayName", a).await),
            "read private profile by nodes" => {
                let body = self
                    .run("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": [self.private_profile] }), a)
                    .await;
                match outcome(&body).as_str() {
                    "✓" if body["data"]["nodes"][0].is_null() => "NOT_FOUND".to_owned(),
                    other => other.to_owned(),
                }
            }
            "read applicant's email" => outcome(&self.candidate(&self.applicant_profile, "email", a).await),
            "read applicant's phone and desired salary" => {
                let body = self.candidate(&self.applicant_profile, "phone desiredSalary { min }", a).await;
                let codes: Vec<&str> =
                    body["errors"].as_array().map(|e| e.iter().filter_map(|e| e["extensions"]["code"].as_str()).collect()).unwrap_or_default();
                // Both fields are hidden together, or neither is.
                assert!(codes.is_empty() || codes.len() == 2 || codes == ["NOT_FOUND"], "{body}");
                outcome(&body)
            }
            "read email of a candidate who applied nowhere" => outcome(&self.candidate(&self.public_profile, "email", a).await),
            "search candidates" => {
                outcome(&self.run("{ candidates(first: 100) { totalCount edges { node { id } } } }", json!({}), a).await)
            }
            "search candidates lists private profiles" => {
                let body = self.run("{ candidates(first: 100) { edges { node { id } } } }", json!({}), a).await;
                let listed = body["data"]["candidates"]["edges"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["node"]["id"] == self.private_profile.as_str()));
                match outcome(&body).as_str() {
                    "✓" if listed => "✓ listed".to_owned(),
                    "✓" => "✓ never".to_owned(),
                    other => other.to_owned(),
                }
            }
            "apply to a posting" => {
                let posting = self.app.published_posting(&self.owner_c, &self.company_c, "Elsewhere").await;
                outcome(
                    &self
                        .run(
                            "mutation($i: ApplyToPostingInput!) { applyToPosting(input: $i) { application { id } } }",
                            json!({ "i": { "postingId": posting } }),
                            a,
                        )
                        .await,
                )
            }
            "submit an applicant" => {
                // To a posting of company C: a job board submits anywhere on the platform.
                let posting = self.app.published_posting(&self.owner_c, &self.company_c, "Submitted to").await;
                let body = self
                    .run(
                        "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) { result application { status } } }",
                        json!({ "i": { "postingId": posting, "candidate": { "name": "Sam Board", "email": format!("sam-{a}@board.example").replace([' ', ','], "-") } } }),
                        a,
                    )
                    .await;
                match outcome(&body).as_str() {
                    "✓" if body["data"]["submitApplication"]["result"] != "CREATED" => format!("not created: {body}"),
                    other => other.to_owned(),
                }
            }
            "claim submitted applications" => outcome(
                &self
                    .run(
                        "mutation($i: ClaimApplicationsInput!) { claimApplications(input: $i) { claimedCount } }",
                        json!({ "i": { "token": "hgclaim_unknown" } }),
                        a,
                    )
                    .await,
            ),
            "read application" => {
                outcome(&self.run("query($id: ID!) { application(id: $id) { status } }", json!({ "id": self.application }), a).await)
            }
            "read application by node" => {
                outcome(&self.run("query($id: ID!) { node(id: $id) { id } }", json!({ "id": self.application }), a).await)
            }
            "read application events" => outcome(
                &self.run("query($id: ID!) { application(id: $id) { events { from to at } } }", json!({ "id": self.application }), a).await,
            ),
            "read company note on a move" => outcome(
                &self.run("query($id: ID!) { application(id: $id) { events { to note } } }", json!({ "id": self.application }), a).await,
            ),
            "read application notes" => outcome(
                &self.run("query($id: ID!) { application(id: $id) { notes { body } } }", json!({ "id": self.application }), a).await,
            ),
            "list posting applications" => outcome(
                &self
                    .run(
                        "query($id: ID!) { posting(id: $id) { applications(first: 10) { totalCount edges { node { status } } } } }",
                        json!({ "id": self.posting_p }),
                        a,
                    )
                    .await,
            ),
            "read applicant's email through posting applications" => {
                let body = self
                    .run(
                        "query($id: ID!) { posting(id: $id) { applications(first: 10) { edges { node { candidate { email } } } } } }",
                        json!({ "id": self.posting_p }),
                        a,
                    )
                    .await;
                if outcome(&body) == "✓" {
                    let emails: Vec<&str> = body["data"]["posting"]["applications"]["edges"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|e| e["node"]["candidate"]["email"].as_str())
                        .collect();
                    assert!(emails.contains(&self.sessions["applicant"].email.as_str()), "{body}");
                }
                outcome(&body)
            }
            "read posting pipeline" => outcome(
                &self.run("query($id: ID!) { posting(id: $id) { pipeline { status count } } }", json!({ "id": self.posting_p }), a).await,
            ),
            "recommended candidates for a posting" => {
                let body = self
                    .run(
                        "query($id: ID!) { posting(id: $id) { recommendedCandidates(first: 10) { candidate { id } } } }",
                        json!({ "id": self.posting_p }),
                        a,
                    )
                    .await;
                let listed = body["data"]["posting"]["recommendedCandidates"].to_string();
                match outcome(&body).as_str() {
                    // Only the PUBLIC candidate who has not applied fits: applicants are in the
                    // pipeline already, and PRIVATE profiles are never recommended.
                    "✓" if listed.contains(&self.public_profile)
                        && !listed.contains(&self.applicant_profile)
                        && !listed.contains(&self.private_profile) =>
                    {
                        "✓".to_owned()
                    }
                    "✓" => format!("wrong list: {listed}"),
                    other => other.to_owned(),
                }
            }
            "move application" | "reject application" | "withdraw application" | "add application note" => {
                let id = self.fresh_application().await;
                let (query, input) = match operation {
                    "move application" => (
                        "mutation($i: MoveApplicationInput!) { moveApplication(input: $i) { application { status } } }",
                        json!({ "id": id, "to": "INTERVIEW" }),
                    ),
                    "reject application" => (
                        "mutation($i: RejectApplicationInput!) { rejectApplication(input: $i) { application { status } } }",
                        json!({ "id": id }),
                    ),
                    "withdraw application" => (
                        "mutation($i: WithdrawApplicationInput!) { withdrawApplication(input: $i) { application { status } } }",
                        json!({ "id": id }),
                    ),
                    _ => (
                        "mutation($i: AddApplicationNoteInput!) { addApplicationNote(input: $i) { note { body } } }",
                        json!({ "applicationId": id, "body": "A note" }),
                    ),
                };
                outcome(&self.run(query, json!({ "i": input }), a).await)
            }
            "read company events" => outcome(
                &self
                    .run(
                        "query($c: ID!) { events(companyId: $c, first: 5) { edges { node { type } } } }",
                        json!({ "c": self.company_a }),
                        a,
                    )
                    .await,
            ),
            "create webhook endpoint" => outcome(
                &self
                    .run(
                        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
                        json!({ "i": { "companyId": self.company_a, "url": "http://127.0.0.1:9/hooks" } }),
                        a,
                    )
                    .await,
            ),
            "list webhook endpoints" => outcome(
                &self
                    .run(
                        "query($id: ID!) { node(id: $id) { ... on Company { webhookEndpoints { url } } } }",
                        json!({ "id": self.company_a }),
                        a,
                    )
                    .await,
            ),
            "create partner app" => outcome(
                &self
                    .run(
                        "mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { clientSecret } }",
                        json!({ "i": { "companyId": self.company_a, "name": format!("By {a}"), "scopes": ["POSTINGS_READ"] } }),
                        a,
                    )
                    .await,
            ),
            "list partner apps" => outcome(
                &self
                    .run(
                        "query($id: ID!) { node(id: $id) { ... on Company { partnerApps { name scopes } } } }",
                        json!({ "id": self.company_a }),
                        a,
                    )
                    .await,
            ),
            "issue API key" => outcome(
                &self
                    .run(
                        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
                        json!({ "i": { "partnerAppId": self.partner_app, "name": format!("By {a}") } }),
                        a,
                    )
                    .await,
            ),
            "set partner app budget" => outcome(
                &self
                    .run(
                        "mutation($i: SetPartnerAppCostBudgetInput!) { setPartnerAppCostBudget(input: $i) { partnerApp { costPerMinute } } }",
                        json!({ "i": { "partnerAppId": self.partner_app, "pointsPerMinute": 60000 } }),
                        a,
                    )
                    .await,
            ),
            other => panic!("docs/authorization.md has a row `{other}` that no test runs"),
        }
    }

    async fn candidate(&self, id: &str, fields: &str, actor: &str) -> Value {
        self.run(&format!("query($id: ID!) {{ candidate(id: $id) {{ {fields} }} }}"), json!({ "id": id }), actor).await
    }
}

#[tokio::test]
async fn every_cell_of_the_authorization_matrices_holds() {
    let matrix = read_matrix("## The matrix", &ACTORS);
    assert!(matrix.len() >= 30, "the matrix has {} rows", matrix.len());
    let partners = read_matrix("## The partner matrix", &PARTNERS);
    assert!(partners.len() >= 30, "the partner matrix has {} rows", partners.len());
    // One row per scope, the same scopes the partner matrix has a column for.
    let scopes: Vec<String> =
        table("## Partner scopes")[1..].iter().map(|r| r[0].trim_matches('`').to_owned()).collect();
    assert_eq!(scopes, PARTNERS[..7].iter().map(|s| s.to_string()).collect::<Vec<_>>(), "the scope rows");
    let world = World::setup().await;
    // Every scope the schema knows has a row, and no row names one it does not.
    let known = world.app.ok(r#"{ __type(name: "PartnerScope") { enumValues { name } } }"#, json!({}), None).await;
    let known: Vec<String> = known["__type"]["enumValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(known, scopes.iter().map(|s| scope_enum(s)).collect::<Vec<_>>(), "PartnerScope and the scope rows");
    let mut wrong = Vec::new();
    for (operation, cells) in matrix.iter().chain(&partners) {
        for (actor, expected) in cells {
            let got = world.cell(operation, actor).await;
            if &got != expected {
                wrong.push(format!("{operation} / {actor}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "cells that do not hold:\n{}", wrong.join("\n"));
}
