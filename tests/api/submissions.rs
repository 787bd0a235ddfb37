//! Applicants a job board submits (`submitApplication`, scope `applications:submit`), and how the
//! person claims them after signing up.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code, error_fields, spawn_app, unique_email};

const SUBMIT: &str = "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) {
    result claimToken
    application { id status externalId coverLetter resumeText answers { question answer } source { kind partnerName } }
} }";

const CLAIM: &str = "mutation($i: ClaimApplicationsInput!) { claimApplications(input: $i) {
    claimedCount candidateProfile { id displayName email }
} }";

/// A company with a published posting, and a job board (another company) with a submitting key.
struct Board {
    app: TestApp,
    employer: Session,
    company: String,
    posting: String,
    key: String,
}

async fn board() -> Board {
    let app = spawn_app().await;
    let employer = app.register("employer").await;
    let company = app.create_company(&employer, "Hiring Co").await;
    let posting = app.published_posting(&employer, &company, "Backend Engineer").await;
    let board_owner = app.register("board-owner").await;
    let board_company = app.create_company(&board_owner, "Jobs Board").await;
    let partner = app.create_partner_app(&board_owner, &board_company, &["APPLICATIONS_SUBMIT".into()]).await;
    let key = app.create_api_key(&board_owner, &partner.id).await;
    Board { app, employer, company, posting, key }
}

fn candidate(email: &str) -> Value {
    json!({
        "name": "Ada Lovelace", "email": email, "phone": "+44 20 7946 0000", "headline": "Analyst",
        "location": { "city": "London", "country": "GB" }, "profileUrl": "https://ada.example/cv",
        "resumeText": "Wrote the first program."
    })
}

impl Board {
    async fn submit(&self, input: Value) -> Value {
        self.app.graphql(SUBMIT, json!({ "i": input }), Some(&self.key)).await
    }

    async fn applications_seen_by_employer(&self, posting: &str) -> Value {
        self.app
            .ok(
                "query($id: ID!) { posting(id: $id) { applications(first: 50) { totalCount edges { node {
                    id resumeText answers { question answer } source { kind partnerName }
                    candidate { displayName email phone headline links { url } visibility }
                } } } } }",
                json!({ "id": posting }),
                Some(&self.employer.access),
            )
            .await["posting"]["applications"]
            .clone()
    }
}

#[tokio::test]
async fn a_job_board_submits_an_applicant_whom_the_company_sees_whole_and_a_replay_writes_nothing() {
    let b = board().await;
    let email = unique_email("ada");
    let input = json!({
        "postingId": b.posting, "externalId": "board-app-1", "candidate": candidate(&email),
        "coverLetter": "Dear team,", "answers": [{ "question": "Notice period?", "answer": "One month" }]
    });
    let body = b.submit(input.clone()).await;
    let out = &body["data"]["submitApplication"];
    assert_eq!(out["result"], "CREATED", "{body}");
    assert!(out["claimToken"].as_str().unwrap().starts_with("hgclaim_"), "{body}");
    let application = &out["application"];
    assert_eq!(application["status"], "APPLIED");
    assert_eq!(application["externalId"], "board-app-1");
    assert_eq!(application["source"], json!({ "kind": "PARTNER", "partnerName": "Integration" }));
    assert_eq!(application["resumeText"], "Wrote the first program.");
    let id = application["id"].as_str().unwrap().to_owned();

    // The hiring company sees the applicant with contact data, the résumé and the answers.
    let seen = b.applications_seen_by_employer(&b.posting).await;
    assert_eq!(seen["totalCount"], 1, "{seen}");
    let node = &seen["edges"][0]["node"];
    assert_eq!(node["id"], id.as_str());
    assert_eq!(node["answers"], json!([{ "question": "Notice period?", "answer": "One month" }]));
    assert_eq!(node["candidate"]["email"], email.as_str());
    assert_eq!(node["candidate"]["phone"], "+44 20 7946 0000");
    assert_eq!(node["candidate"]["links"][0]["url"], "https://ada.example/cv");
    assert_eq!(node["candidate"]["visibility"], "PRIVATE");

    // A replay with the same external id answers with the same application and writes nothing.
    let replay = b.submit(input.clone()).await;
    assert_eq!(replay["data"]["submitApplication"]["result"], "UNCHANGED", "{replay}");
    assert_eq!(replay["data"]["submitApplication"]["application"]["id"], id.as_str());
    assert!(replay["data"]["submitApplication"]["claimToken"].is_null());
    // The same person again under another external id (the email in another case): one
    // application per person and posting.
    let mut again = input.clone();
    again["externalId"] = "board-app-2".into();
    again["candidate"]["email"] = email.to_uppercase().into();
    let dup = b.submit(again).await;
    assert_eq!(error_code(&dup), Some("CONFLICT"), "{dup}");
    // The external id of another posting's application is taken.
    let other = b.app.published_posting(&b.employer, &b.company, "Frontend Engineer").await;
    let mut elsewhere = input.clone();
    elsewhere["postingId"] = other.clone().into();
    let taken = b.submit(elsewhere).await;
    assert_eq!(error_fields(&taken), ["input.externalId"], "{taken}");
    assert_eq!(b.applications_seen_by_employer(&other).await["totalCount"], 0);

    // The job board cannot read the company's application back.
    let read =
        b.app.graphql("query($id: ID!) { application(id: $id) { id } }", json!({ "id": id }), Some(&b.key)).await;
    assert_eq!(error_code(&read), Some("NOT_FOUND"), "{read}");
    assert_eq!(b.applications_seen_by_employer(&b.posting).await["totalCount"], 1);
}

#[tokio::test]
async fn bad_submissions_name_every_wrong_field_and_write_nothing() {
    let b = board().await;
    let bad = b
        .submit(json!({
            "postingId": b.posting, "externalId": " ",
            "candidate": { "name": "", "email": "not an email", "phone": "call me", "profileUrl": "ftp://x" },
            "answers": [{ "question": "", "answer": "yes" }]
        }))
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"), "{bad}");
    let mut fields = error_fields(&bad);
    fields.sort();
    assert_eq!(
        fields,
        [
            "input.answers.0.question",
            "input.candidate.email",
            "input.candidate.name",
            "input.candidate.phone",
            "input.candidate.profileUrl",
            "input.externalId"
        ],
        "{bad}"
    );
    // A draft takes no applications; an unknown posting is not found.
    let draft = b.app.create_posting(&b.employer, crate::helpers::complete_posting(&b.company, "Draft")).await;
    let refused = b.submit(json!({ "postingId": draft, "candidate": candidate(&unique_email("x")) })).await;
    assert_eq!(error_code(&refused), Some("NOT_FOUND"), "a partner of another company does not see drafts: {refused}");
    let many: Vec<Value> = (0..51).map(|i| json!({ "question": format!("Q{i}"), "answer": "A" })).collect();
    let too_many =
        b.submit(json!({ "postingId": b.posting, "candidate": candidate(&unique_email("x")), "answers": many })).await;
    assert_eq!(error_fields(&too_many), ["input.answers"], "{too_many}");
    assert_eq!(b.applications_seen_by_employer(&b.posting).await["totalCount"], 0);
    // People apply themselves; they do not submit others.
    let person = b.app.register("person").await;
    let by_person = b
        .app
        .graphql(
            SUBMIT,
            json!({ "i": { "postingId": b.posting, "candidate": candidate(&person.email) } }),
            Some(&person.access),
        )
        .await;
    assert_eq!(error_code(&by_person), Some("FORBIDDEN"), "{by_person}");
}

#[tokio::test]
async fn fifty_concurrent_submissions_of_one_person_make_one_application() {
    let b = board().await;
    let email = unique_email("rush");
    let requests = (0..50).map(|i| {
        let input =
            json!({ "postingId": b.posting, "externalId": format!("rush-{i}"), "candidate": candidate(&email) });
        b.submit(input)
    });
    let answers = futures_util::future::join_all(requests).await;
    let created = answers.iter().filter(|a| a["data"]["submitApplication"]["result"] == "CREATED").count();
    let conflicts = answers.iter().filter(|a| error_code(a) == Some("CONFLICT")).count();
    assert_eq!((created, conflicts), (1, 49), "{answers:?}");
    let seen = b.applications_seen_by_employer(&b.posting).await;
    assert_eq!(seen["totalCount"], 1, "{seen}");
}

async fn claim(app: &TestApp, who: &Session, token: &str) -> Value {
    app.graphql(CLAIM, json!({ "i": { "token": token } }), Some(&who.access)).await
}

#[tokio::test]
async fn the_person_claims_their_applications_with_the_token_and_an_account_under_the_same_email() {
    let b = board().await;
    let person = b.app.register("claimer").await;
    let second = b.app.published_posting(&b.employer, &b.company, "Data Engineer").await;
    let mut tokens = Vec::new();
    for posting in [&b.posting, &second] {
        let body = b.submit(json!({ "postingId": posting, "candidate": candidate(&person.email) })).await;
        tokens.push(body["data"]["submitApplication"]["claimToken"].as_str().unwrap().to_owned());
    }
    // Submitting never touches the account: it has no applications until it claims.
    let mine = "{ viewer { applications(first: 10) { totalCount } candidateProfile { id } } }";
    let before = b.app.ok(mine, json!({}), Some(&person.access)).await;
    assert_eq!(before["viewer"]["applications"]["totalCount"], 0, "{before}");
    assert!(before["viewer"]["candidateProfile"].is_null());

    // Someone else holding the token cannot claim it; nor can an anonymous caller or a partner.
    let stranger = b.app.register("stranger").await;
    assert_eq!(error_code(&claim(&b.app, &stranger, &tokens[0]).await), Some("FORBIDDEN"));
    let anonymous = b.app.graphql(CLAIM, json!({ "i": { "token": tokens[0] } }), None).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    let partner = b.app.graphql(CLAIM, json!({ "i": { "token": tokens[0] } }), Some(&b.key)).await;
    assert_eq!(error_code(&partner), Some("FORBIDDEN"));

    let claimed = claim(&b.app, &person, &tokens[0]).await;
    assert_eq!(claimed["data"]["claimApplications"]["claimedCount"], 2, "{claimed}");
    assert_eq!(claimed["data"]["claimApplications"]["candidateProfile"]["displayName"], "Ada Lovelace");
    let after = b.app.ok(mine, json!({}), Some(&person.access)).await;
    assert_eq!(after["viewer"]["applications"]["totalCount"], 2, "{after}");
    // Every token of that applicant is spent by the claim.
    let spent = claim(&b.app, &person, &tokens[1]).await;
    assert_eq!(error_fields(&spent), ["input.token"], "{spent}");
    // The person now withdraws as the applicant.
    let id = b.applications_seen_by_employer(&b.posting).await["edges"][0]["node"]["id"].clone();
    b.app
        .ok(
            "mutation($i: WithdrawApplicationInput!) { withdrawApplication(input: $i) { application { status } } }",
            json!({ "i": { "id": id } }),
            Some(&person.access),
        )
        .await;
    // A later submission for the same email is a new applicant record again, claimed into the
    // existing profile: the application to a posting applied to already stays behind.
    let third = b.app.published_posting(&b.employer, &b.company, "Platform Engineer").await;
    let mut later = Vec::new();
    for posting in [&b.posting, &third] {
        later.push(b.submit(json!({ "postingId": posting, "candidate": candidate(&person.email) })).await);
    }
    let token = later[1]["data"]["submitApplication"]["claimToken"].as_str().unwrap().to_owned();
    let merged = claim(&b.app, &person, &token).await;
    assert_eq!(merged["data"]["claimApplications"]["claimedCount"], 1, "{merged}");
    let profile = &after["viewer"]["candidateProfile"]["id"];
    assert_eq!(&merged["data"]["claimApplications"]["candidateProfile"]["id"], profile);
    let end = b.app.ok(mine, json!({}), Some(&person.access)).await;
    assert_eq!(end["viewer"]["applications"]["totalCount"], 3, "{end}");
}
