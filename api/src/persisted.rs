//! Persisted documents. Apollo's automatic persisted queries (APQ): a client sends
//! `extensions.persistedQuery = { version: 1, sha256Hash }` without the query. If this server
//! knows the hash it runs the document. If not, it answers `PersistedQueryNotFound`, and the client
//! sends the query with the hash once; the query is then registered (in the cache: Redis, or in
//! process). Optionally a trusted-documents mode (`HIREGRAPH_TRUSTED_DOCUMENTS`): only the
//! documents of a manifest built with the clients run, by hash or in full, and nothing registers.

use std::collections::HashMap;

use async_graphql::{Request, ServerError, Value};
use hiregraph_persistence::cache::CacheKey;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The documents of a trusted-documents manifest, by their SHA-256 (lowercase hex).
#[derive(Default)]
pub struct TrustedDocuments(HashMap<String, String>);

impl std::fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustedDocuments({} documents)", self.0.len())
    }
}

impl TrustedDocuments {
    /// Reads a manifest: Apollo's (`{"format": "apollo-persisted-query-manifest", "operations":
    /// [{"id", "body"}]}`) or a plain object of hash to document (GraphQL Codegen's
    /// `persisted-documents.json`). Every hash is checked against its document.
    pub fn parse(text: &str) -> Result<Self, String> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let pairs: Vec<(String, String)> = match &json {
            serde_json::Value::Object(map) if map.contains_key("operations") => map["operations"]
                .as_array()
                .ok_or("`operations` must be a list")?
                .iter()
                .map(|op| match (op["id"].as_str(), op["body"].as_str()) {
                    (Some(id), Some(body)) => Ok((id.to_owned(), body.to_owned())),
                    _ => Err(format!("an operation without an `id` and a `body`: {op}")),
                })
                .collect::<Result<_, _>>()?,
            serde_json::Value::Object(map) => map
                .iter()
                .map(|(hash, body)| match body.as_str() {
                    Some(body) => Ok((hash.clone(), body.to_owned())),
                    None => Err(format!("the document of {hash} is not a string")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err("expected an object".into()),
        };
        let mut documents = HashMap::with_capacity(pairs.len());
        for (hash, body) in pairs {
            let hash = hash.strip_prefix("sha256:").unwrap_or(&hash).to_ascii_lowercase();
            if sha256_hex(&body) != hash {
                return Err(format!("the hash {hash} is not the SHA-256 of its document"));
            }
            documents.insert(hash, body);
        }
        if documents.is_empty() {
            return Err("it lists no documents".into());
        }
        Ok(Self(documents))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn error(message: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    error.extensions = Some(ext);
    error
}

fn not_found() -> ServerError {
    // Apollo's clients match this message and code, then send the query with its hash.
    error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
}

fn untrusted() -> ServerError {
    error(
        "this server runs only trusted documents: register the operation in the manifest the server was started with",
        "TRUSTED_DOCUMENT_REQUIRED",
    )
}

fn key_of(hash: &str) -> Option<CacheKey> {
    hash.get(..32).and_then(|prefix| u128::from_str_radix(prefix, 16).ok()).map(CacheKey::PersistedQuery)
}

/// The hash a request's `extensions.persistedQuery` names, or why it cannot be used.
fn requested_hash(request: &mut Request) -> Result<Option<String>, ServerError> {
    let Some(persisted) = request.extensions.remove("persistedQuery") else { return Ok(None) };
    let Value::Object(fields) = persisted else {
        return Err(error("extensions.persistedQuery must be an object", "BAD_REQUEST"));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => {
            return Err(error("extensions.persistedQuery.version must be 1", "PERSISTED_QUERY_NOT_SUPPORTED"));
        }
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(error("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits", "BAD_REQUEST")),
    }
}

/// Fills in a persisted request's document, registers a new one, or refuses. Runs before any
/// other check of the document, which then applies to the document as if it had been sent.
pub async fn resolve(state: &AppState, request: &mut Request) -> Result<(), ServerError> {
    let hash = requested_hash(request)?;
    let trusted = state.settings.trusted_documents.as_deref();
    match (hash, request.query.is_empty()) {
        (None, true) => Ok(()),
        (None, false) => match trusted {
            Some(trusted) if !trusted.0.contains_key(&sha256_hex(&request.query)) => Err(untrusted()),
            _ => Ok(()),
        },
        (Some(hash), true) => {
            if let Some(trusted) = trusted {
                let document = trusted.0.get(&hash).ok_or_else(not_found)?;
                request.query = document.clone();
                return Ok(());
            }
            let Some(key) = key_of(&hash) else { return Err(not_found()) };
            let stored = state.cache.get_many::<(String, String)>(&[key]).await.pop().flatten();
            match stored {
                Some((stored_hash, document)) if stored_hash == hash => {
                    request.query = document;
                    Ok(())
                }
                _ => Err(not_found()),
            }
        }
        (Some(hash), false) => {
            if sha256_hex(&request.query) != hash {
                return Err(error(
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                    "PERSISTED_QUERY_HASH_MISMATCH",
                ));
            }
            match trusted {
                Some(trusted) if trusted.0.contains_key(&hash) => Ok(()),
                Some(_) => Err(untrusted()),
                None => {
                    // Registered before it is run: a document the limits then refuse is only
                    // ever refused again, and costs one cache entry.
                    if let Some(key) = key_of(&hash) {
                        state.cache.put_many(&[(key, &(hash, request.query.clone()))]).await;
                    }
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_of_both_shapes_are_read_and_checked() {
        let doc = "query Feed { postings(first: 5) { totalCount } }";
        let hash = sha256_hex(doc);
        let apollo = serde_json::json!({ "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": hash, "name": "Feed", "type": "query", "body": doc }] });
        assert_eq!(TrustedDocuments::parse(&apollo.to_string()).unwrap().len(), 1);
        let plain = serde_json::json!({ format!("sha256:{hash}"): doc });
        assert!(TrustedDocuments::parse(&plain.to_string()).unwrap().0.contains_key(&hash));
        let wrong = serde_json::json!({ "0".repeat(64): doc });
        assert!(TrustedDocuments::parse(&wrong.to_string()).unwrap_err().contains("is not the SHA-256"));
        assert!(TrustedDocuments::parse("{}").unwrap_err().contains("no documents"));
        assert!(TrustedDocuments::parse("[").unwrap_err().starts_with("not JSON"));
    }
}
