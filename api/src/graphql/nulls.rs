//! Field errors as the GraphQL specification handles them ("Handling Field Errors"): a field whose
//! resolver failed is `null`, and when its type is non-null that `null` goes up to the nearest
//! nullable parent (or `data` itself). async-graphql 7.2 leaves a failed field out of its parent
//! object instead (async-graphql#1820 is about one case of it), which strict generated clients
//! (Apollo iOS and Kotlin, graphql-codegen's) refuse to read.
//!
//! The response is completed after execution, from each error's `path`, the document and the
//! schema's types, so a response without errors pays nothing.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{Name, PathSegment, Response, Value};

/// One step of an error's path: whether the value there may be `null`.
struct Step {
    nullable: bool,
}

/// The field a response key selects in `set`, with the type it was selected on (the type condition
/// of the fragment it sits in, when there is one).
fn find_field<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    key: &str,
    on: Option<&'d str>,
    depth: usize,
) -> Option<(&'d async_graphql::parser::types::Field, Option<&'d str>)> {
    if depth > 32 {
        return None;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) if field.node.response_key().node.as_str() == key => {
                return Some((&field.node, on));
            }
            Selection::Field(_) => {}
            Selection::InlineFragment(inline) => {
                let cond = inline.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()).or(on);
                if let Some(found) = find_field(doc, &inline.node.selection_set.node, key, cond, depth + 1) {
                    return Some(found);
                }
            }
            Selection::FragmentSpread(spread) => {
                let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) else { continue };
                let cond = Some(fragment.node.type_condition.node.on.node.as_str());
                if let Some(found) = find_field(doc, &fragment.node.selection_set.node, key, cond, depth + 1) {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// Whether each step of `path` may be null, or `None` when the path cannot be followed.
fn steps(
    registry: &Registry,
    doc: &ExecutableDocument,
    operation: Option<&str>,
    path: &[PathSegment],
) -> Option<Vec<Step>> {
    let op = match operation {
        Some(name) => doc.operations.iter().find(|(n, _)| n.is_some_and(|n| n.as_str() == name))?.1,
        None => doc.operations.iter().next()?.1,
    };
    let root = match op.node.ty {
        OperationType::Query => registry.query_type.as_str(),
        OperationType::Mutation => registry.mutation_type.as_deref()?,
        OperationType::Subscription => registry.subscription_type.as_deref()?,
    };
    let mut parent: &str = root;
    let mut set = &op.node.selection_set.node;
    let mut ty: &str = root;
    let mut out = Vec::with_capacity(path.len());
    for segment in path {
        match segment {
            PathSegment::Field(key) => {
                let (field, on) = find_field(doc, set, key, None, 0)?;
                let name = field.name.node.as_str();
                ty = if name == "__typename" {
                    "String!"
                } else {
                    let owner = registry.types.get(on.unwrap_or(parent))?;
                    let meta = owner.field_by_name(name).or_else(|| {
                        // A field of an interface's implementor selected without a condition.
                        registry.types.get(parent)?.field_by_name(name)
                    })?;
                    meta.ty.as_str()
                };
                out.push(Step { nullable: !MetaTypeName::create(ty).is_non_null() });
                parent = MetaTypeName::concrete_typename(ty);
                set = &field.selection_set.node;
            }
            PathSegment::Index(_) => {
                let list = match MetaTypeName::create(ty) {
                    MetaTypeName::NonNull(inner) => inner,
                    _ => ty,
                };
                let MetaTypeName::List(item) = MetaTypeName::create(list) else { return None };
                ty = item;
                out.push(Step { nullable: !MetaTypeName::create(ty).is_non_null() });
            }
        }
    }
    Some(out)
}

/// The value `path` leads to, if every step exists.
fn at<'v>(value: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    let mut here = value;
    for segment in path {
        here = match (here, segment) {
            (Value::Object(map), PathSegment::Field(key)) => map.get_mut(key.as_str())?,
            (Value::List(list), PathSegment::Index(i)) => list.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(here)
}

/// Puts `null` where each failed field is missing, bubbling past non-null types.
pub fn complete(registry: &Registry, doc: &ExecutableDocument, operation: Option<&str>, response: &mut Response) {
    if response.errors.is_empty() || !matches!(response.data, Value::Object(_)) {
        return;
    }
    let paths: Vec<Vec<PathSegment>> =
        response.errors.iter().filter(|e| !e.path.is_empty()).map(|e| e.path.clone()).collect();
    for path in paths {
        let Some((last, parent_path)) = path.split_last() else { continue };
        let PathSegment::Field(key) = last else { continue };
        let missing = match at(&mut response.data, parent_path) {
            Some(Value::Object(map)) => !map.contains_key(key.as_str()),
            // The parent is already null, or gone with an ancestor.
            _ => false,
        };
        if !missing {
            continue;
        }
        let Some(steps) = steps(registry, doc, operation, &path) else { continue };
        match steps.iter().rposition(|s| s.nullable) {
            None => {
                response.data = Value::Null;
                return;
            }
            Some(i) => {
                let (target, parent) = (&path[i], &path[..i]);
                match (at(&mut response.data, parent), target) {
                    (Some(Value::Object(map)), PathSegment::Field(key)) => {
                        map.insert(Name::new(key), Value::Null);
                    }
                    (Some(Value::List(list)), PathSegment::Index(n)) => {
                        if let Some(slot) = list.get_mut(*n) {
                            *slot = Value::Null;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
