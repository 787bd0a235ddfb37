//! Request limits enforced before any resolver runs, and the phase a request reached (so the
//! HTTP layer can answer 400 for a request that never executed, as GraphQL over HTTP asks).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Response, ServerError, ServerResult, ValidationResult, Variables};

/// Set once execution starts; a request whose errors came before that failed as a whole.
#[derive(Default)]
pub struct Phase {
    executed: AtomicBool,
}

impl Phase {
    pub fn executed(&self) -> bool {
        self.executed.load(Ordering::Relaxed)
    }
}

pub struct Limits {
    pub max_depth: usize,
    pub max_aliases: usize,
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension { max_depth: self.max_depth, max_aliases: self.max_aliases })
    }
}

struct LimitsExtension {
    max_depth: usize,
    max_aliases: usize,
}

fn coded(mut error: ServerError, code: &str) -> ServerError {
    let mut ext = error.extensions.take().unwrap_or_default();
    if ext.get("code").is_none() {
        ext.set("code", code);
    }
    error.extensions = Some(ext);
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await.map_err(|e| coded(e, "GRAPHQL_PARSE_FAILED"))?;
        let shape = Shape::of(&doc);
        if shape.depth > self.max_depth {
            return Err(coded(
                ServerError::new(
                    format!("the query is nested {} levels deep; the limit is {}", shape.depth, self.max_depth),
                    None,
                ),
                "QUERY_TOO_COMPLEX",
            ));
        }
        if shape.aliases > self.max_aliases {
            return Err(coded(
                ServerError::new(
                    format!("the query uses {} aliases; the limit is {}", shape.aliases, self.max_aliases),
                    None,
                ),
                "QUERY_TOO_COMPLEX",
            ));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if e.message.contains("too complex") {
                        "QUERY_TOO_COMPLEX"
                    } else {
                        "GRAPHQL_VALIDATION_FAILED"
                    };
                    coded(e, code)
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(phase) = ctx.data_opt::<Arc<Phase>>() {
            phase.executed.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }
}

/// Depth (introspection subtrees excepted: GraphiQL's own query must pass) and alias count of
/// every operation in a document, following fragments once.
struct Shape {
    depth: usize,
    aliases: usize,
}

impl Shape {
    fn of(doc: &ExecutableDocument) -> Self {
        let mut shape = Shape { depth: 0, aliases: 0 };
        for (_, op) in doc.operations.iter() {
            let mut seen = HashSet::new();
            let depth = walk(&op.node.selection_set, doc, 1, &mut shape.aliases, &mut seen);
            shape.depth = shape.depth.max(depth);
        }
        shape
    }
}

fn walk(
    set: &Positioned<SelectionSet>,
    doc: &ExecutableDocument,
    level: usize,
    aliases: &mut usize,
    seen: &mut HashSet<Name>,
) -> usize {
    let mut deepest = level - 1;
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                if field.node.alias.is_some() {
                    *aliases += 1;
                }
                if name == "__schema" || name == "__type" {
                    continue;
                }
                let below = if field.node.selection_set.node.items.is_empty() {
                    level
                } else {
                    walk(&field.node.selection_set, doc, level + 1, aliases, seen)
                };
                deepest = deepest.max(below);
            }
            Selection::InlineFragment(fragment) => {
                deepest = deepest.max(walk(&fragment.node.selection_set, doc, level, aliases, seen));
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.clone();
                // A fragment is followed once per path; cycles are refused by validation later.
                if seen.insert(name.clone()) {
                    if let Some(fragment) = doc.fragments.get(&name) {
                        let fragment: &Positioned<FragmentDefinition> = fragment;
                        deepest = deepest.max(walk(&fragment.node.selection_set, doc, level, aliases, seen));
                    }
                    seen.remove(&name);
                }
            }
        }
    }
    deepest
}
