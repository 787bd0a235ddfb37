//! Generated-document fuzzing: random, schema-valid documents built from the live schema (read by
//! introspection from the running server), with random arguments — boundary numbers, hostile and
//! odd strings, real and forged ids, sometimes as variables — sent as every kind of caller. The
//! server may refuse any of them, but only as GraphQL: never a 5xx, never `INTERNAL`, never a body
//! that is not a GraphQL response. A panic in a resolver would surface as one of those.
//!
//! `HIREGRAPH_FUZZ_DOCUMENTS` sets how many (20,000 by default: CI runs that on each backend);
//! `HIREGRAPH_FUZZ_SEED` replays a run (each failure prints its seed and document).

use std::collections::HashMap;
use std::fmt::Write;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, complete_posting, spawn_app_with};

/// A small, fast, reproducible generator (xorshift64*); no crate needed for test noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug, Clone)]
enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn parse(v: &Value) -> TypeRef {
        match v["kind"].as_str() {
            Some("NON_NULL") => TypeRef::NonNull(Box::new(TypeRef::parse(&v["ofType"]))),
            Some("LIST") => TypeRef::List(Box::new(TypeRef::parse(&v["ofType"]))),
            _ => TypeRef::Named(v["name"].as_str().unwrap_or_default().to_owned()),
        }
    }
    fn named(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.named(),
        }
    }
    fn render(&self) -> String {
        match self {
            TypeRef::Named(n) => n.clone(),
            TypeRef::List(t) => format!("[{}]", t.render()),
            TypeRef::NonNull(t) => format!("{}!", t.render()),
        }
    }
}

struct Arg {
    name: String,
    ty: TypeRef,
    has_default: bool,
}

struct Field {
    name: String,
    args: Vec<Arg>,
    ty: TypeRef,
}

struct Type {
    kind: String,
    fields: Vec<Field>,
    inputs: Vec<Arg>,
    enum_values: Vec<String>,
    possible: Vec<String>,
}

struct Schema {
    types: HashMap<String, Type>,
    query: String,
    mutation: String,
}

const INTROSPECT: &str = "{ __schema { queryType { name } mutationType { name } types { kind name
  fields(includeDeprecated: true) { name args { name defaultValue type { ...T } } type { ...T } }
  inputFields { name defaultValue type { ...T } } enumValues(includeDeprecated: true) { name }
  possibleTypes { name } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

impl Schema {
    async fn read(app: &TestApp) -> Schema {
        let data = app.ok(INTROSPECT, json!({}), None).await;
        let schema = &data["__schema"];
        let args = |list: &Value| -> Vec<Arg> {
            list.as_array()
                .map(|a| {
                    a.iter()
                        .map(|arg| Arg {
                            name: arg["name"].as_str().unwrap().to_owned(),
                            ty: TypeRef::parse(&arg["type"]),
                            has_default: !arg["defaultValue"].is_null(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut types = HashMap::new();
        for t in schema["types"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap().to_owned();
            let fields = t["fields"]
                .as_array()
                .map(|fs| {
                    fs.iter()
                        .map(|f| Field {
                            name: f["name"].as_str().unwrap().to_owned(),
                            args: args(&f["args"]),
                            ty: TypeRef::parse(&f["type"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let names = |key: &str| -> Vec<String> {
                t[key]
                    .as_array()
                    .map(|a| a.iter().map(|v| v["name"].as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default()
            };
            types.insert(
                name,
                Type {
                    kind: t["kind"].as_str().unwrap().to_owned(),
                    fields,
                    inputs: args(&t["inputFields"]),
                    enum_values: names("enumValues"),
                    possible: names("possibleTypes"),
                },
            );
        }
        Schema {
            types,
            query: schema["queryType"]["name"].as_str().unwrap().to_owned(),
            mutation: schema["mutationType"]["name"].as_str().unwrap().to_owned(),
        }
    }
}

/// Ids that exist, by what they name, so generated documents reach past "not found".
#[derive(Default)]
struct Known {
    ids: Vec<(&'static str, String)>,
    emails: Vec<String>,
}

impl Known {
    /// An id fit for an argument, judged by its name and the field it belongs to
    /// (`companyId`, `posting(id:)`, `moveApplication(input: { id })`).
    fn id_for(&self, context: &str, rng: &mut Rng) -> Option<String> {
        let context = context.to_lowercase();
        let fitting: Vec<&String> = self
            .ids
            .iter()
            .filter(|(kind, _)| context.contains(kind) || (*kind == "candidate" && context.contains("profile")))
            .map(|(_, id)| id)
            .collect();
        if fitting.is_empty() {
            return (!self.ids.is_empty()).then(|| rng.pick(&self.ids).1.clone());
        }
        Some((*rng.pick(&fitting)).clone())
    }
}

const STRINGS: &[&str] = &[
    "",
    "a",
    "Rust",
    "senior kubernetes engineer",
    "k8s golang postgres",
    "  padded  ",
    "ünïcödé — 東京 🚀",
    "line one\nline two\ttabbed",
    "' OR 1=1 --",
    "%_\\",
    "<script>alert(1)</script>",
    "NUL\u{0}inside",
    "\"quoted\" ( ) & | ! :*",
    "acme",
    "northwind-systems",
    "https://example.com/path?q=1",
    "+49 30 1234567",
    "a long enough password",
];

struct Generator<'s> {
    schema: &'s Schema,
    known: &'s Known,
    rng: Rng,
    variables: serde_json::Map<String, Value>,
    declarations: Vec<String>,
}

impl Generator<'_> {
    fn string(&mut self) -> String {
        match self.rng.below(10) {
            0 => "x".repeat(self.rng.below(400) + 1),
            1 => format!("fuzz-{}@example.com", self.rng.next() % 1000),
            2 if !self.known.emails.is_empty() => self.rng.pick(&self.known.emails).clone(),
            _ => (*self.rng.pick(STRINGS)).to_owned(),
        }
    }

    fn scalar(&mut self, name: &str, field: &str) -> Value {
        match name {
            "Int" => json!(*self.rng.pick(&[
                0i64,
                1,
                -1,
                2,
                5,
                10,
                20,
                50,
                100,
                101,
                1000,
                i32::MAX as i64,
                i32::MIN as i64
            ])),
            "Float" => json!(*self.rng.pick(&[0.0, -1.5, 0.5, 1e9, 3.25])),
            "Boolean" => json!(self.rng.chance(50)),
            "ID" => {
                if let Some(id) = self.rng.chance(85).then(|| self.known.id_for(field, &mut self.rng)).flatten() {
                    json!(id)
                } else {
                    json!(*self.rng.pick(&[
                        "",
                        "nope",
                        "UG9zdGluZzpub3QtYS11dWlk",
                        "Q29tcGFueTowMDAwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA"
                    ]))
                }
            }
            "DateTime" => json!(*self.rng.pick(&[
                "2026-12-01T00:00:00Z",
                "2030-01-01T12:00:00+02:00",
                "yesterday",
                "1970-01-01T00:00:00Z"
            ])),
            "CurrencyCode" => json!(*self.rng.pick(&["USD", "EUR", "GBP", "usd", "XXX", ""])),
            "CountryCode" => json!(*self.rng.pick(&["US", "DE", "GB", "de", "ZZ", ""])),
            _ if field.ends_with("email") && !self.known.emails.is_empty() && self.rng.chance(50) => {
                json!(self.rng.pick(&self.known.emails))
            }
            _ => json!(self.string()),
        }
    }

    /// A value of `ty` as JSON, which also renders as a GraphQL literal (see `literal`).
    fn value(&mut self, ty: &TypeRef, field: &str, depth: usize) -> Value {
        match ty {
            TypeRef::NonNull(inner) => self.value(inner, field, depth),
            TypeRef::List(inner) => {
                let n = if depth > 3 { 0 } else { self.rng.below(4) };
                Value::Array((0..n).map(|_| self.value(inner, field, depth + 1)).collect())
            }
            TypeRef::Named(name) => {
                let Some(t) = self.schema.types.get(name) else { return Value::Null };
                match t.kind.as_str() {
                    "ENUM" => json!(self.rng.pick(&t.enum_values)),
                    "INPUT_OBJECT" => {
                        let mut object = serde_json::Map::new();
                        for input in &t.inputs {
                            let required = matches!(input.ty, TypeRef::NonNull(_)) && !input.has_default;
                            if required || (depth < 3 && self.rng.chance(50)) {
                                let context = format!("{field}.{}", input.name);
                                object.insert(input.name.clone(), self.value(&input.ty, &context, depth + 1));
                            }
                        }
                        Value::Object(object)
                    }
                    _ => self.scalar(name, field),
                }
            }
        }
    }

    fn literal(&self, value: &Value, ty: &TypeRef) -> String {
        match (value, ty) {
            (_, TypeRef::NonNull(inner)) => self.literal(value, inner),
            (Value::Array(items), TypeRef::List(inner)) => {
                format!("[{}]", items.iter().map(|v| self.literal(v, inner)).collect::<Vec<_>>().join(", "))
            }
            (Value::Object(fields), TypeRef::Named(name)) => {
                let inputs = &self.schema.types[name].inputs;
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        let ty = &inputs.iter().find(|i| &i.name == k).unwrap().ty;
                        format!("{k}: {}", self.literal(v, ty))
                    })
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            }
            (Value::String(s), TypeRef::Named(name))
                if self.schema.types.get(name).is_some_and(|t| t.kind == "ENUM") =>
            {
                s.clone()
            }
            (other, _) => other.to_string(),
        }
    }

    fn arguments(&mut self, field: &Field) -> String {
        let mut parts = Vec::new();
        for arg in &field.args {
            let required = matches!(arg.ty, TypeRef::NonNull(_)) && !arg.has_default;
            // Made-up cursors are refused before anything runs; send them seldom.
            let odds = if matches!(arg.name.as_str(), "after" | "before" | "last") { 5 } else { 40 };
            if !required && !self.rng.chance(odds) {
                continue;
            }
            let value = self.value(&arg.ty, &format!("{}.{}", field.name, arg.name), 0);
            if self.rng.chance(35) {
                let name = format!("v{}", self.declarations.len());
                self.declarations.push(format!("${name}: {}", arg.ty.render()));
                self.variables.insert(name.clone(), value);
                parts.push(format!("{}: ${name}", arg.name));
            } else {
                parts.push(format!("{}: {}", arg.name, self.literal(&value, &arg.ty)));
            }
        }
        if parts.is_empty() { String::new() } else { format!("({})", parts.join(", ")) }
    }

    fn selection(&mut self, type_name: &str, depth: usize, out: &mut String) {
        let Some(t) = self.schema.types.get(type_name) else { return };
        if matches!(t.kind.as_str(), "UNION" | "INTERFACE") {
            out.push_str("{ __typename");
            let possible: Vec<String> = t.possible.iter().filter(|_| self.rng.chance(40)).take(2).cloned().collect();
            for name in &possible {
                let _ = write!(out, " ... on {name} ");
                self.selection(name, depth, out);
            }
            out.push_str(" }");
            return;
        }
        // Disabling the callers' own accounts would leave the rest of the run anonymous; who may
        // disable whom is the authorization matrix's to check.
        let fields: Vec<&Field> = t.fields.iter().filter(|f| f.name != "disableUser").collect();
        if fields.is_empty() {
            return;
        }
        out.push_str("{ ");
        let count = 1 + self.rng.below(if depth > 2 { 2 } else { 4 });
        for i in 0..count {
            let field = *self.rng.pick(&fields);
            let leaf =
                self.schema.types.get(field.ty.named()).is_none_or(|t| matches!(t.kind.as_str(), "SCALAR" | "ENUM"));
            if !leaf && depth >= 4 {
                out.push_str("__typename ");
                continue;
            }
            let args = self.arguments(field);
            let _ = write!(out, "f{i}: {}{args} ", field.name);
            if !leaf {
                self.selection(field.ty.named(), depth + 1, out);
                out.push(' ');
            }
        }
        out.push('}');
    }

    /// One document and its variables.
    fn document(&mut self) -> (String, Value) {
        self.variables.clear();
        self.declarations.clear();
        let (keyword, root) = if self.rng.chance(30) {
            ("mutation", self.schema.mutation.clone())
        } else {
            ("query", self.schema.query.clone())
        };
        let mut body = String::new();
        self.selection(&root, 1, &mut body);
        let declared =
            if self.declarations.is_empty() { String::new() } else { format!("({})", self.declarations.join(", ")) };
        (format!("{keyword} Fuzz{declared} {body}"), Value::Object(self.variables.clone()))
    }
}

async fn world(app: &TestApp) -> (Vec<Option<Session>>, Known) {
    let owner = app.register("fuzz-owner").await;
    let company = app.create_company(&owner, "Fuzz Works").await;
    app.verify_company(&company).await;
    let recruiter = app.register("fuzz-recruiter").await;
    app.add_member(&owner, &company, &recruiter, "RECRUITER").await;
    let posting = app.published_posting(&owner, &company, "Fuzzing Engineer").await;
    let draft = app.create_posting(&owner, complete_posting(&company, "Draft Fuzz")).await;
    let candidate = app.register("fuzz-candidate").await;
    let profile = app
        .upsert_profile(
            &candidate,
            json!({ "displayName": "Fuzz Candidate", "visibility": "EMPLOYERS", "skills": [{ "name": "Rust", "years": 4 }] }),
        )
        .await;
    let application = app.apply(&candidate, &posting).await;
    let admin = app.platform_admin().await;
    let known = Known {
        ids: vec![
            ("company", company),
            ("posting", posting),
            ("posting", draft),
            ("candidate", profile),
            ("application", application),
            ("user", owner.user_id.clone()),
            ("user", candidate.user_id.clone()),
        ],
        emails: vec![owner.email.clone(), candidate.email.clone()],
    };
    (vec![None, Some(candidate), Some(recruiter), Some(owner), Some(admin)], known)
}

#[tokio::test]
async fn generated_documents_never_get_a_5xx_or_an_internal_error() {
    let documents: usize =
        std::env::var("HIREGRAPH_FUZZ_DOCUMENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let seed: u64 = std::env::var("HIREGRAPH_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    let app = spawn_app_with(&[
        ("HIREGRAPH_ANONYMOUS_PER_MINUTE", "0"),
        ("HIREGRAPH_WORKERS", "2"),
        ("HIREGRAPH_DB_MAX_CONNECTIONS", "8"),
        // What this looks for is a document that crashes or leaks internals. On a CI machine whose
        // two cores also run the other tests, 8 requests at a time once kept all 8 connections
        // past the default 2 s wait (2 of 20,000 answered 503, the pool's honest answer): give
        // the pool room, so only the documents are tested.
        ("HIREGRAPH_DB_ACQUIRE_TIMEOUT_MS", "10000"),
    ])
    .await;
    let (callers, known) = world(&app).await;
    let schema = Schema::read(&app).await;
    let mut generator = Generator {
        schema: &schema,
        known: &known,
        rng: Rng(seed | 1),
        variables: Default::default(),
        declarations: Vec::new(),
    };
    let cases: Vec<(String, Value, Option<String>)> = (0..documents)
        .map(|_| {
            let (doc, vars) = generator.document();
            let caller = generator.rng.pick(&callers).as_ref().map(|s| s.access.clone());
            (doc, vars, caller)
        })
        .collect();
    let app = &app;
    let outcomes = std::sync::Mutex::new(std::collections::BTreeMap::new());
    let outcomes = &outcomes;
    let executed = std::sync::atomic::AtomicUsize::new(0);
    let executed = &executed;
    let failures: Vec<String> = futures_util::stream::iter(cases)
        .map(|(doc, vars, token)| async move {
            let mut request =
                app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": doc, "variables": vars }));
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    return (("no response".to_owned(), false), Some(format!("no response ({e}) to {doc} {vars}")));
                }
            };
            let status = response.status().as_u16();
            let body: Option<Value> = response.json().await.ok();
            let graphql = body.as_ref().is_some_and(|b| b.get("data").is_some() || b["errors"].is_array());
            let internal = body.as_ref().and_then(|b| b["errors"].as_array()).is_some_and(|errors| {
                errors.iter().any(|e| matches!(e["extensions"]["code"].as_str(), Some("INTERNAL") | None))
            });
            let outcome = body.as_ref().and_then(|b| b["errors"][0]["extensions"]["code"].as_str().map(str::to_owned));
            let failure = (status >= 500 || !graphql || internal)
                .then(|| format!("{status} {body:?}\n  for {doc}\n  with {vars}"));
            let executed = body.as_ref().is_some_and(|b| b.get("data").is_some_and(|d| !d.is_null()));
            ((outcome.unwrap_or_else(|| "ok".to_owned()), executed), failure)
        })
        .buffer_unordered(8)
        .fold(Vec::new(), |mut failures, ((outcome, ran), failure)| {
            *outcomes.lock().unwrap().entry(outcome).or_insert(0usize) += 1;
            if ran {
                executed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            failures.extend(failure);
            async move { failures }
        })
        .await;
    assert!(
        failures.is_empty(),
        "{} of {documents} documents failed (HIREGRAPH_FUZZ_SEED={seed}); the first:\n{}",
        failures.len(),
        failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    let outcomes = outcomes.lock().unwrap();
    let executed = executed.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{documents} generated documents, seed {seed}: no 5xx, no INTERNAL; {executed} reached resolvers and returned data; first error codes: {outcomes:?}"
    );
    // The generator must reach resolvers, not only the validator: a fuzzer refused at the door
    // proves nothing.
    assert!(executed * 3 > documents, "only {executed} of {documents} documents executed: {outcomes:?}");
}
