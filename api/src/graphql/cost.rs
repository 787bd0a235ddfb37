//! What a query costs, before it runs and after.
//!
//! The requested cost is async-graphql's complexity of the operation that runs, computed the way
//! its complexity limit computes it: every field costs 1 plus its children, except the fields with
//! a `complexity` attribute, whose formula this module mirrors (a connection costs its
//! `first`/`last` times its children, plus 1; a recommendation list its fixed cost plus `first`
//! times its children; `nodes(ids:)` the number of ids times its children, plus 1). A test holds
//! the two equal on a corpus of queries, and every field with an attribute must have a formula
//! here. The walk expands each fragment once, so it costs time linear in the document.
//!
//! The actual cost is the same analysis over what was returned: a connection or list counts the
//! items it returned, a field that came back null costs only itself.
//!
//! `rateLimit(dryRun: true)` answers the cost of the whole document without running it: the
//! document is cut down to its `rateLimit` fields before it executes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Context, Name, Object, OutputType, Positioned, SimpleObject, Value, Variables};

/// The schema's types, as the cost walk reads them (built once at start-up).
pub fn registry() -> Registry {
    let mut registry = Registry {
        query_type: <super::QueryRoot as OutputType>::type_name().into_owned(),
        mutation_type: Some(<super::MutationRoot as OutputType>::type_name().into_owned()),
        subscription_type: Some("Subscription".into()),
        ..Registry::default()
    };
    <super::QueryRoot as OutputType>::create_type_info(&mut registry);
    <super::MutationRoot as OutputType>::create_type_info(&mut registry);
    <super::subscriptions::SubscriptionRoot as async_graphql::SubscriptionType>::create_type_info(&mut registry);
    registry
}

/// How a field with a `complexity` attribute multiplies its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formula {
    /// `connection::page_size(first, last) * children + 1`.
    Page,
    /// `matching::COST + first * children`.
    Recommendations,
    /// `ids.len() * children + 1`.
    Ids,
}

/// The formula of a field that has a `complexity` attribute, by what the field takes.
fn formula(field: &str, args: &[&str]) -> Option<Formula> {
    if field.starts_with("recommended") && args.contains(&"first") {
        Some(Formula::Recommendations)
    } else if args.contains(&"first") {
        Some(Formula::Page)
    } else if args.contains(&"ids") {
        Some(Formula::Ids)
    } else {
        None
    }
}

/// One field of the operation as costed: its response key, how it multiplies, and its children.
#[derive(Debug, Clone)]
struct Node {
    key: Name,
    /// The multiplier asked for (a page size, a list length) and the formula, for fields that
    /// multiply.
    multiply: Option<(Formula, u64)>,
    children: Vec<Node>,
}

impl Node {
    fn requested(&self) -> u64 {
        let children: u64 = self.children.iter().map(Node::requested).fold(0, u64::saturating_add);
        cost(self.multiply, children)
    }

    /// The cost of this field given what it returned.
    fn actual(&self, value: Option<&Value>) -> u64 {
        let Some(value) = value.filter(|v| **v != Value::Null) else { return 1 };
        match self.multiply {
            None => 1u64.saturating_add(children_actual(&self.children, value)),
            Some((formula, _)) => {
                // The items a connection or list returned: its longest list (edges or nodes).
                let count = match value {
                    Value::List(items) => items.len(),
                    Value::Object(map) => map
                        .values()
                        .filter_map(|v| if let Value::List(items) = v { Some(items.len()) } else { None })
                        .max()
                        .unwrap_or(0),
                    _ => 0,
                } as u64;
                cost(Some((formula, count)), children_actual(&self.children, value))
            }
        }
    }
}

fn cost(multiply: Option<(Formula, u64)>, children: u64) -> u64 {
    match multiply {
        None => children.saturating_add(1),
        Some((Formula::Page | Formula::Ids, n)) => n.saturating_mul(children).saturating_add(1),
        Some((Formula::Recommendations, n)) => {
            (super::matching::COST as u64).saturating_add(n.saturating_mul(children))
        }
    }
}

/// The children's cost over a returned value: for a list, the costliest item (each item is
/// counted by the multiplier above it).
fn children_actual(children: &[Node], value: &Value) -> u64 {
    match value {
        Value::List(items) => items.iter().map(|item| children_actual(children, item)).max().unwrap_or(0),
        Value::Object(map) => {
            children.iter().filter_map(|c| map.get(&c.key).map(|v| c.actual(Some(v)))).fold(0, u64::saturating_add)
        }
        _ => 0,
    }
}

/// The operation's cost, asked for and (once it ran) actual.
#[derive(Debug, Clone)]
pub struct Costing {
    nodes: Vec<Node>,
    pub requested: u64,
    /// The operation asked `rateLimit(dryRun: true)`: it is not run, and not charged.
    pub dry_run: bool,
}

impl Costing {
    /// The cost of what the request returned.
    pub fn actual(&self, data: &Value) -> u64 {
        match data {
            Value::Object(_) => children_actual(&self.nodes, data),
            _ => 0,
        }
    }
}

/// The operation a request runs (`None` when the name matches none, which validation reports).
fn operation<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d Positioned<OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

struct Walk<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    memo: HashMap<Name, Vec<Node>>,
}

impl Walk<'_> {
    /// An argument's value, variables resolved (their defaults too); `None` when absent or null.
    fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        let (_, value) = field.arguments.iter().find(|(n, _)| n.node.as_str() == name)?;
        let value = value.node.clone().into_const_with(|var| {
            let found = self.variables.get(&var).cloned().or_else(|| {
                self.operation
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == var)
                    .and_then(|d| d.node.default_value.as_ref().map(|v| v.node.clone()))
            });
            Ok::<_, std::convert::Infallible>(found.unwrap_or(Value::Null))
        });
        value.ok().filter(|v| *v != Value::Null)
    }

    fn int(&self, field: &Field, name: &str) -> Option<i64> {
        match self.argument(field, name)? {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    fn set(&mut self, set: &SelectionSet, type_name: &str) -> Vec<Node> {
        let mut nodes = Vec::new();
        for selection in &set.items {
            match &selection.node {
                // async-graphql's complexity does not count `__typename`.
                Selection::Field(field) if field.node.name.node == "__typename" => {}
                Selection::Field(field) => nodes.push(self.field(&field.node, type_name)),
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map(|c| c.node.on.node.to_string());
                    nodes.extend(self.set(&inline.node.selection_set.node, on.as_deref().unwrap_or(type_name)));
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if let Some(found) = self.memo.get(name) {
                        nodes.extend(found.iter().cloned());
                        continue;
                    }
                    // Unknown fragments are validation's to refuse; cycles were refused before.
                    let Some(fragment) = self.doc.fragments.get(name) else { continue };
                    let on = fragment.node.type_condition.node.on.node.to_string();
                    let found = self.set(&fragment.node.selection_set.node, &on);
                    self.memo.insert(name.clone(), found.clone());
                    nodes.extend(found);
                }
            }
        }
        nodes
    }

    fn field(&mut self, field: &Field, parent: &str) -> Node {
        let key = field.alias.as_ref().unwrap_or(&field.name).node.clone();
        let parent_type = self.registry.types.get(parent);
        let meta = parent_type.and_then(|t| t.field_by_name(field.name.node.as_str()));
        let child_type = meta.map(|m| MetaTypeName::concrete_typename(&m.ty).to_owned()).unwrap_or_default();
        let children = self.set(&field.selection_set.node, &child_type);
        // async-graphql applies a field's formula only under an object type.
        let multiply = match (parent_type, meta) {
            (Some(MetaType::Object { .. }), Some(meta)) if meta.compute_complexity.is_some() => {
                let args: Vec<&str> = meta.args.keys().map(String::as_str).collect();
                formula(field.name.node.as_str(), &args).map(|f| {
                    let n = match f {
                        Formula::Page => super::connection::page_size(
                            self.int(field, "first").map(|n| n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
                            self.int(field, "last").map(|n| n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
                        ) as u64,
                        Formula::Recommendations => {
                            let default = meta.args.get("first").and_then(|a| a.default_value.as_deref()?.parse().ok());
                            self.int(field, "first").or(default).map_or(0, |n| n.max(0) as u64)
                        }
                        Formula::Ids => match self.argument(field, "ids") {
                            Some(Value::List(ids)) => ids.len() as u64,
                            _ => 0,
                        },
                    };
                    (f, n)
                })
            }
            _ => None,
        };
        Node { key, multiply, children }
    }
}

/// Costs the operation a parsed request runs. Call after `limits::admit` (the document is parsed
/// and its size is bounded); `None` when the request names no operation of its document.
pub fn of(
    registry: &Registry,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<Costing> {
    let op = operation(doc, operation_name)?;
    let root = match op.node.ty {
        OperationType::Query => registry.query_type.clone(),
        OperationType::Mutation => registry.mutation_type.clone()?,
        OperationType::Subscription => registry.subscription_type.clone()?,
    };
    let mut walk = Walk { registry, doc, operation: &op.node, variables, memo: HashMap::new() };
    let nodes = walk.set(&op.node.selection_set.node, &root);
    let requested = nodes.iter().map(Node::requested).fold(0, u64::saturating_add);
    let dry_run = op.node.ty == OperationType::Query
        && op.node.selection_set.node.items.iter().any(|s| match &s.node {
            Selection::Field(f) => {
                f.node.name.node == "rateLimit"
                    && matches!(walk.argument(&f.node, "dryRun"), Some(Value::Boolean(true)))
            }
            _ => false,
        });
    Some(Costing { nodes, requested, dry_run })
}

/// The document of a dry run: the operation keeps only its `rateLimit` and `__typename` fields,
/// with the fragments and variables they use, so nothing else is resolved.
pub fn dry_run_document(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<ExecutableDocument> {
    let op = operation(doc, operation_name)?;
    let mut kept = op.clone();
    kept.node.selection_set.node.items.retain(
        |s| matches!(&s.node, Selection::Field(f) if matches!(f.node.name.node.as_str(), "rateLimit" | "__typename")),
    );
    let mut fragments = HashSet::new();
    let mut variables = HashSet::new();
    uses(doc, &kept.node.selection_set.node, &mut fragments, &mut variables);
    kept.node.variable_definitions.retain(|d| variables.contains(&d.node.name.node));
    let operations = match &doc.operations {
        DocumentOperations::Single(_) => DocumentOperations::Single(kept),
        DocumentOperations::Multiple(_) => {
            let name = match &doc.operations {
                DocumentOperations::Multiple(ops) => {
                    ops.iter().find(|(_, o)| std::ptr::eq(*o, op)).map(|(n, _)| n.clone())
                }
                DocumentOperations::Single(_) => None,
            }?;
            DocumentOperations::Multiple([(name, kept)].into_iter().collect())
        }
    };
    let fragments =
        doc.fragments.iter().filter(|(n, _)| fragments.contains(*n)).map(|(n, f)| (n.clone(), f.clone())).collect();
    Some(ExecutableDocument { operations, fragments })
}

/// The fragments and variables a selection uses, through its fragments.
fn uses(doc: &ExecutableDocument, set: &SelectionSet, fragments: &mut HashSet<Name>, variables: &mut HashSet<Name>) {
    // The parser's value type is not exported by name; a macro reads it where its type is known.
    macro_rules! note {
        ($value:expr) => {
            let _ = $value.node.clone().into_const_with(|name| {
                variables.insert(name);
                Ok::<_, std::convert::Infallible>(Value::Null)
            });
        };
    }
    for selection in &set.items {
        let directives = match &selection.node {
            Selection::Field(f) => {
                for (_, v) in &f.node.arguments {
                    note!(v);
                }
                uses(doc, &f.node.selection_set.node, fragments, variables);
                &f.node.directives
            }
            Selection::InlineFragment(i) => {
                uses(doc, &i.node.selection_set.node, fragments, variables);
                &i.node.directives
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                if fragments.insert(name.clone())
                    && let Some(fragment) = doc.fragments.get(name)
                {
                    uses(doc, &fragment.node.selection_set.node, fragments, variables);
                }
                &s.node.directives
            }
        };
        for directive in directives {
            for (_, v) in &directive.node.arguments {
                note!(v);
            }
        }
    }
}

/// A caller's budget as a response reports it.
#[derive(Debug, Clone, Copy, SimpleObject, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    /// The most points the budget holds.
    pub maximum_available: u64,
    /// The points left now.
    pub currently_available: u64,
    /// Points restored per second.
    pub restore_rate: f64,
}

/// What the request costs, as `rateLimit` and `extensions.cost` report it.
#[derive(Debug, Clone, Copy)]
pub struct CostReport {
    pub requested: u64,
    pub throttle: Option<ThrottleStatus>,
}

/// Costs and budgets (`rateLimit`).
#[derive(Default)]
pub struct CostQuery;

/// A query's cost and the caller's budget.
pub struct RateLimit {
    report: CostReport,
    dry_run: bool,
}

#[Object]
impl RateLimit {
    /// What this request's whole document costs, in points (see docs/partners.md).
    async fn requested_query_cost(&self) -> u64 {
        self.report.requested
    }
    /// Whether the rest of the document was left unrun and uncharged.
    async fn dry_run(&self) -> bool {
        self.dry_run
    }
    /// The caller's budget; null when budgets are off for this kind of caller.
    async fn throttle_status(&self) -> Option<ThrottleStatus> {
        self.report.throttle
    }
}

#[Object]
impl CostQuery {
    /// The cost of this request and the caller's budget. With `dryRun: true` nothing else in the
    /// document runs and nothing is charged: the way to learn what a query would cost.
    async fn rate_limit(&self, ctx: &Context<'_>, #[graphql(default = false)] dry_run: bool) -> RateLimit {
        let report = ctx.data_opt::<CostReport>().copied().unwrap_or(CostReport { requested: 0, throttle: None });
        RateLimit { report, dry_run }
    }
}

/// The registry, shared.
pub type SharedRegistry = Arc<Registry>;

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
    use async_graphql::{Request, ServerError, ValidationResult};

    use super::*;

    /// Records async-graphql's own complexity of a request and stops it before execution.
    struct Oracle(Arc<Mutex<Option<usize>>>);

    impl ExtensionFactory for Oracle {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(Oracle(self.0.clone()))
        }
    }

    #[async_graphql::async_trait::async_trait]
    impl Extension for Oracle {
        async fn validation(
            &self,
            ctx: &ExtensionContext<'_>,
            next: NextValidation<'_>,
        ) -> Result<ValidationResult, Vec<ServerError>> {
            let result = next.run(ctx).await?;
            *self.0.lock().unwrap() = Some(result.complexity);
            Err(vec![ServerError::new("stopped after validation", None)])
        }
    }

    const CORPUS: &[(&str, &str)] = &[
        ("{ __typename }", "{}"),
        (
            "query($id: ID!) { posting(id: $id) { id title summary status company { name slug } skills { name } } }",
            r#"{"id":"x"}"#,
        ),
        (
            "{ postings(first: 20) { totalCount edges { cursor node { id title company { name } } } pageInfo { hasNextPage endCursor } } }",
            "{}",
        ),
        ("{ postings { nodes { id } } }", "{}"),
        ("query($n: Int = 7) { postings(first: $n) { nodes { id title } } }", "{}"),
        ("query($n: Int = 7) { postings(first: $n) { nodes { id title } } }", r#"{"n":40}"#),
        ("{ postings(last: 3) { edges { node { id } } } }", "{}"),
        ("{ postings(first: 1000) { nodes { id } } }", "{}"),
        (
            "{ company(slug: \"x\") { name postings(first: 10) { edges { node { title applications { totalCount } pipeline { status count } } } } } }",
            "{}",
        ),
        (
            "{ a: postings(first: 2) { nodes { ...P } } b: postings(first: 3) { nodes { ...P } } } fragment P on Posting { id title company { name } }",
            "{}",
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Posting { title applications(first: 4) { nodes { id } } } } }",
            r#"{"ids":["a","b","c"]}"#,
        ),
        ("{ node(id: \"x\") { id ... on Company { postings(first: 5) { nodes { id } } } } }", "{}"),
        (
            "{ viewer { id recommendedPostings { score posting { title } } applications(first: 5) { totalCount } } }",
            "{}",
        ),
        ("{ viewer { recommendedPostings(first: 3) { score } } }", "{}"),
        ("{ events(first: 30) { edges { node { id type } } } }", "{}"),
        ("{ candidates(first: 15) { nodes { displayName skills { name } } } companies { nodes { name } } }", "{}"),
        ("{ rateLimit { requestedQueryCost throttleStatus { currentlyAvailable } } }", "{}"),
        (
            "mutation($i: UpsertPostingsInput!) { upsertPostings(input: $i) { results { outcome posting { id title } errors { field message } } } }",
            r#"{"i":{"companyId":"c","postings":[]}}"#,
        ),
    ];

    #[test]
    fn the_requested_cost_is_async_graphqls_complexity() {
        let seen = Arc::new(Mutex::new(None));
        let schema = super::super::builder().extension(Oracle(seen.clone())).finish();
        let registry = registry();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for (query, variables) in CORPUS {
            let variables = Variables::from_json(serde_json::from_str(variables).unwrap());
            *seen.lock().unwrap() = None;
            let response = runtime.block_on(schema.execute(Request::new(*query).variables(variables.clone())));
            let theirs =
                seen.lock().unwrap().unwrap_or_else(|| panic!("{query} failed validation: {:?}", response.errors));
            let doc = async_graphql::parser::parse_query(query).unwrap();
            let ours = of(&registry, &doc, None, &variables).unwrap().requested;
            assert_eq!(ours, theirs as u64, "{query}");
        }
    }

    #[test]
    fn every_field_with_a_complexity_attribute_has_a_formula() {
        let registry = registry();
        let mut seen = 0;
        for ty in registry.types.values() {
            let MetaType::Object { name, fields, .. } = ty else { continue };
            for field in fields.values().filter(|f| f.compute_complexity.is_some()) {
                let args: Vec<&str> = field.args.keys().map(String::as_str).collect();
                assert!(formula(&field.name, &args).is_some(), "{name}.{} has no formula in cost.rs", field.name);
                seen += 1;
            }
        }
        assert!(seen >= 8, "{seen} fields with a complexity attribute");
    }

    #[test]
    fn the_actual_cost_counts_what_came_back() {
        let registry = registry();
        let query = "{ postings(first: 20) { nodes { id company { name } } } posting(id: \"x\") { title } }";
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let costing = of(&registry, &doc, None, &Variables::default()).unwrap();
        // postings: 20 × (nodes 1 + id 1 + company 1 + name 1) + 1; posting: 1 + title 1.
        assert_eq!(costing.requested, 20 * 4 + 1 + 2);
        let data = Value::from_json(serde_json::json!({
            "postings": { "nodes": [{ "id": "a", "company": { "name": "A" } }, { "id": "b", "company": null }] },
            "posting": null
        }))
        .unwrap();
        // Two items, each counted as the costliest; a null posting costs only itself.
        assert_eq!(costing.actual(&data), 2 * 4 + 1 + 1);
        assert!(!costing.dry_run);
        let dry = async_graphql::parser::parse_query(
            "query($d: Boolean) { rateLimit(dryRun: $d) { requestedQueryCost } postings(first: 5) { nodes { id } } }",
        )
        .unwrap();
        let vars = Variables::from_json(serde_json::json!({ "d": true }));
        assert!(of(&registry, &dry, None, &vars).unwrap().dry_run);
        let cut = dry_run_document(&dry, None).unwrap();
        let DocumentOperations::Single(op) = &cut.operations else { panic!() };
        assert_eq!(op.node.selection_set.node.items.len(), 1);
        assert_eq!(op.node.variable_definitions.len(), 1, "the variable rateLimit uses stays");
    }
}
