use serde_json::json;

use crate::helpers::{complete_posting, error_code, error_fields, spawn_app};

const UPDATE: &str =
    "mutation($i: UpdateCompanyInput!) { updateCompany(input: $i) { company { name website industry } } }";
const CHANGE_ROLE: &str =
    "mutation($i: ChangeCompanyMemberRoleInput!) { changeCompanyMemberRole(input: $i) { member { role } } }";
const REMOVE: &str = "mutation($i: RemoveCompanyMemberInput!) { removeCompanyMember(input: $i) { removedUserId } }";

#[tokio::test]
async fn the_creator_owns_the_company_and_it_is_found_by_slug() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let data = app
        .ok(
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id slug name viewerRole headquarters { city country } } } }",
            json!({ "i": { "name": "Acme Robotics", "headquarters": { "city": "Berlin", "country": "DE" } } }),
            Some(&owner.access),
        )
        .await;
    let company = &data["createCompany"]["company"];
    assert_eq!(company["slug"], "acme-robotics");
    assert_eq!(company["viewerRole"], "OWNER");
    let found = app.ok("{ company(slug: \"acme-robotics\") { id name viewerRole } }", json!({}), None).await;
    assert_eq!(found["company"]["id"], company["id"]);
    assert_eq!(found["company"]["viewerRole"], serde_json::Value::Null);

    let taken = app
        .graphql(
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } } }",
            json!({ "i": { "name": "Acme Robotics" } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(error_code(&taken), Some("CONFLICT"));
}

#[tokio::test]
async fn creating_a_company_needs_a_signed_in_user_and_valid_fields() {
    let app = spawn_app().await;
    let anon = app
        .graphql("mutation { createCompany(input: { name: \"X Corp\" }) { company { id } } }", json!({}), None)
        .await;
    assert_eq!(error_code(&anon), Some("UNAUTHENTICATED"));
    let owner = app.register("owner").await;
    let bad = app
        .graphql(
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } } }",
            json!({ "i": { "name": "X", "slug": "Not A Slug", "website": "nope" } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    let fields = error_fields(&bad);
    assert_eq!(fields, ["input.website"]);
}

#[tokio::test]
async fn admins_edit_the_company_and_recruiters_may_not() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let admin = app.register("admin").await;
    let recruiter = app.register("recruiter").await;
    let company = app.create_company(&owner, "Acme").await;
    app.add_member(&owner, &company, &admin, "ADMIN").await;
    app.add_member(&owner, &company, &recruiter, "RECRUITER").await;

    let edit = json!({ "i": { "id": company, "name": "Acme Robotics", "website": "https://acme.example" } });
    let data = app.ok(UPDATE, edit.clone(), Some(&admin.access)).await;
    assert_eq!(data["updateCompany"]["company"]["name"], "Acme Robotics");
    assert_eq!(error_code(&app.graphql(UPDATE, edit.clone(), Some(&recruiter.access)).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.graphql(UPDATE, edit, None).await), Some("UNAUTHENTICATED"));

    // Omitted fields stay; null clears.
    let data = app.ok(UPDATE, json!({ "i": { "id": company, "website": null } }), Some(&owner.access)).await;
    assert_eq!(data["updateCompany"]["company"]["name"], "Acme Robotics");
    assert_eq!(data["updateCompany"]["company"]["website"], serde_json::Value::Null);
}

#[tokio::test]
async fn only_owners_manage_owners_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let admin = app.register("admin").await;
    let second = app.register("second").await;
    let company = app.create_company(&owner, "Acme").await;
    app.add_member(&owner, &company, &admin, "ADMIN").await;

    // An admin may not create or touch owners.
    let by_admin = app
        .graphql(
            "mutation($i: AddCompanyMemberInput!) { addCompanyMember(input: $i) { member { role } } }",
            json!({ "i": { "companyId": company, "email": second.email, "role": "OWNER" } }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(error_code(&by_admin), Some("FORBIDDEN"));
    let demote = json!({ "i": { "companyId": company, "userId": owner.user_id, "role": "VIEWER" } });
    assert_eq!(error_code(&app.graphql(CHANGE_ROLE, demote.clone(), Some(&admin.access)).await), Some("FORBIDDEN"));

    // The last owner can neither be demoted nor removed, not even by themselves.
    assert_eq!(error_code(&app.graphql(CHANGE_ROLE, demote, Some(&owner.access)).await), Some("CONFLICT"));
    let leave = json!({ "i": { "companyId": company, "userId": owner.user_id } });
    assert_eq!(error_code(&app.graphql(REMOVE, leave.clone(), Some(&owner.access)).await), Some("CONFLICT"));

    // With a second owner, the first may leave.
    app.add_member(&owner, &company, &second, "OWNER").await;
    app.ok(REMOVE, leave, Some(&owner.access)).await;
    let members = app
        .ok(
            "query($s: String!) { company(slug: $s) { members { role user { email } } } }",
            json!({ "s": app.slug_of(&company).await }),
            Some(&second.access),
        )
        .await;
    let roles: Vec<String> = members["company"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(roles, ["ADMIN", "OWNER"]);
}

#[tokio::test]
async fn members_are_listed_only_to_members() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let stranger = app.register("stranger").await;
    let company = app.create_company(&owner, "Acme").await;
    let slug = app.slug_of(&company).await;
    let query = "query($s: String!) { company(slug: $s) { members { user { email } } } }";
    assert_eq!(error_code(&app.graphql(query, json!({ "s": slug }), Some(&stranger.access)).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.graphql(query, json!({ "s": slug }), None).await), Some("UNAUTHENTICATED"));
    let data = app.ok(query, json!({ "s": slug }), Some(&owner.access)).await;
    assert_eq!(data["company"]["members"][0]["user"]["email"], owner.email);
}

#[tokio::test]
async fn a_member_of_one_company_cannot_read_or_change_another_companys_postings() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let a = app.create_company(&alice, "Company A").await;
    let b = app.create_company(&bob, "Company B").await;
    let b_draft = app.create_posting(&bob, complete_posting(&b, "B's secret draft")).await;
    let b_public = app.published_posting(&bob, &b, "B's public job").await;

    // Reading B's draft: as if it did not exist, by every path.
    let by_id = app
        .graphql("query($id: ID!) { posting(id: $id) { title } }", json!({ "id": b_draft }), Some(&alice.access))
        .await;
    assert_eq!(error_code(&by_id), Some("NOT_FOUND"));
    let by_node =
        app.graphql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": b_draft }), Some(&alice.access)).await;
    assert_eq!(error_code(&by_node), Some("NOT_FOUND"));
    let nodes = app
        .ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [b_draft, b_public] }),
            Some(&alice.access),
        )
        .await;
    assert_eq!(nodes["nodes"][0], serde_json::Value::Null);
    assert_eq!(nodes["nodes"][1]["id"], b_public);
    let listed = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Company { postings { totalCount edges { node { id } } } } } }",
            json!({ "id": b }),
            Some(&alice.access),
        )
        .await;
    assert_eq!(listed["node"]["postings"]["totalCount"], 1);
    assert_eq!(listed["node"]["postings"]["edges"][0]["node"]["id"], b_public);

    // Changing B's postings: hidden ones are not found, visible ones forbidden.
    let edit = "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { id } } }";
    let on_draft = app
        .graphql(
            edit,
            json!({ "i": { "id": b_draft, "expectedVersion": 1, "title": "Mine now" } }),
            Some(&alice.access),
        )
        .await;
    assert_eq!(error_code(&on_draft), Some("NOT_FOUND"));
    let on_public = app
        .graphql(
            edit,
            json!({ "i": { "id": b_public, "expectedVersion": 2, "title": "Mine now" } }),
            Some(&alice.access),
        )
        .await;
    assert_eq!(error_code(&on_public), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.transition(&alice, "closePosting", &b_public).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.transition(&alice, "publishPosting", &b_draft).await), Some("NOT_FOUND"));
    let create = app.graphql(
        "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }",
        json!({ "i": complete_posting(&b, "Planted") }),
        Some(&alice.access),
    );
    assert_eq!(error_code(&create.await), Some("FORBIDDEN"));

    // Alice's own company is unaffected.
    let own = app.create_posting(&alice, complete_posting(&a, "A's draft")).await;
    app.ok("query($id: ID!) { posting(id: $id) { title } }", json!({ "id": own }), Some(&alice.access)).await;
}

#[tokio::test]
async fn viewers_read_drafts_but_only_recruiters_and_up_change_postings() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let viewer = app.register("viewer").await;
    let recruiter = app.register("recruiter").await;
    let company = app.create_company(&owner, "Acme").await;
    app.add_member(&owner, &company, &viewer, "VIEWER").await;
    app.add_member(&owner, &company, &recruiter, "RECRUITER").await;
    let draft = app.create_posting(&recruiter, complete_posting(&company, "Draft job")).await;
    let read =
        app.ok("query($id: ID!) { posting(id: $id) { status } }", json!({ "id": draft }), Some(&viewer.access)).await;
    assert_eq!(read["posting"]["status"], "DRAFT");
    assert_eq!(error_code(&app.transition(&viewer, "publishPosting", &draft).await), Some("FORBIDDEN"));
    app.publish(&recruiter, &draft).await;
}

#[tokio::test]
async fn a_company_logo_is_an_https_image_url_and_reaches_job_boards_through_json_ld() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Logo Works").await;
    let set = "mutation($i: UpdateCompanyInput!) { updateCompany(input: $i) { company { logoUrl website } } }";

    let plain = app
        .graphql(set, json!({ "i": { "id": company, "logoUrl": "http://logo.example/a.png" } }), Some(&owner.access))
        .await;
    assert_eq!(error_code(&plain), Some("BAD_USER_INPUT"));
    assert_eq!(error_fields(&plain), ["input.logoUrl"]);
    assert!(plain["errors"][0]["message"].as_str().unwrap().contains("https://"), "{plain}");

    let logo = "https://logo.example/a.png";
    let data = app.ok(set, json!({ "i": { "id": company, "logoUrl": logo } }), Some(&owner.access)).await;
    assert_eq!(data["updateCompany"]["company"]["logoUrl"], logo);
    let id = app.create_posting(&owner, complete_posting(&company, "Logo Engineer")).await;
    app.publish(&owner, &id).await;
    let read = "query($id: ID!) { posting(id: $id) { jsonLd company { logoUrl } } }";
    let seen = app.ok(read, json!({ "id": id }), None).await;
    assert_eq!(seen["posting"]["company"]["logoUrl"], logo);
    assert_eq!(seen["posting"]["jsonLd"]["hiringOrganization"]["logo"], logo);

    // Omitted, the logo stays; null clears it, and the JSON-LD drops it with the next read.
    let data =
        app.ok(set, json!({ "i": { "id": company, "website": "https://logo.example" } }), Some(&owner.access)).await;
    assert_eq!(data["updateCompany"]["company"]["logoUrl"], logo);
    app.ok(set, json!({ "i": { "id": company, "logoUrl": null } }), Some(&owner.access)).await;
    let seen = app.ok(read, json!({ "id": id }), None).await;
    assert_eq!(seen["posting"]["company"]["logoUrl"], serde_json::Value::Null);
    assert!(seen["posting"]["jsonLd"]["hiringOrganization"].get("logo").is_none(), "{seen}");
}

/// An account's memberships are read with the account (one statement, or one cache entry, for
/// both): a change of role or a removal holds from the member's very next request, with the cache
/// on (in-process here, Redis on the Postgres run).
#[tokio::test]
async fn a_members_next_request_sees_a_changed_role_or_removal_at_once() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let member = app.register("member").await;
    let company = app.create_company(&owner, "Acme").await;
    app.add_member(&owner, &company, &member, "RECRUITER").await;
    let draft = app.create_posting(&owner, complete_posting(&company, "Draft job")).await;
    let slug = app.slug_of(&company).await;
    let page =
        "query($s: String!) { company(slug: $s) { viewerRole postings(first: 5) { edges { node { status } } } } }";
    let read = |token: String| {
        let app = &app;
        let slug = slug.clone();
        async move { app.ok(page, json!({ "s": slug }), Some(&token)).await }
    };
    // Twice, so the second is served from the cache.
    for _ in 0..2 {
        let seen = read(member.access.clone()).await;
        assert_eq!(seen["company"]["viewerRole"], "RECRUITER", "{seen}");
        assert_eq!(seen["company"]["postings"]["edges"][0]["node"]["status"], "DRAFT", "{seen}");
    }
    let id = json!({ "companyId": company, "userId": member.user_id });
    app.ok(
        CHANGE_ROLE,
        json!({ "i": { "companyId": company, "userId": member.user_id, "role": "VIEWER" } }),
        Some(&owner.access),
    )
    .await;
    assert_eq!(read(member.access.clone()).await["company"]["viewerRole"], "VIEWER");
    assert_eq!(error_code(&app.transition(&member, "publishPosting", &draft).await), Some("FORBIDDEN"));

    app.ok(REMOVE, json!({ "i": id }), Some(&owner.access)).await;
    let seen = read(member.access.clone()).await;
    assert_eq!(seen["company"]["viewerRole"], serde_json::Value::Null, "{seen}");
    assert_eq!(seen["company"]["postings"]["edges"], json!([]), "a removed member still sees drafts: {seen}");
    let draft_read = app
        .graphql("query($id: ID!) { posting(id: $id) { status } }", json!({ "id": draft }), Some(&member.access))
        .await;
    assert!(draft_read["data"]["posting"].is_null(), "{draft_read}");

    // Added back, the very next request sees the membership again.
    app.add_member(&owner, &company, &member, "VIEWER").await;
    assert_eq!(read(member.access.clone()).await["company"]["viewerRole"], "VIEWER");
}
