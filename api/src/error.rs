//! The API's error, mapped once to the codes of DESIGN §5. Nothing internal reaches a client:
//! the catch-all logs the whole cause chain (under the request's span, which carries its id) and
//! answers `INTERNAL` alone.

use async_graphql::{ErrorExtensions, Value};
use hiregraph_domain::{FieldError, ValidationErrors};
use hiregraph_persistence::{DbErr, Fault, StoreError};

#[derive(Debug)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    NotFound(String),
    /// Invalid input: a summary and every offending field path.
    BadInput(String, Vec<FieldError>),
    Conflict(String),
    /// Over a rate limit: try again after this long.
    RateLimited(String, std::time::Duration),
    /// A subscription fell too far behind its events and ended: resubscribe and reload.
    Lagged(String),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadInput(format!("{field}: {message}"), vec![FieldError::new(field, message)])
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        Self::BadInput(errors.to_string(), errors.0)
    }

    /// Nested validation errors under an input path, e.g. `input`.
    pub fn invalid_under(errors: ValidationErrors, parent: &str) -> Self {
        Self::invalid(ValidationErrors(errors.0.into_iter().map(|e| e.under(parent)).collect()))
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadInput(..) => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::RateLimited(..) => "RATE_LIMITED",
            Self::Lagged(_) => "SUBSCRIPTION_LAGGED",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate(what) => Self::Conflict(format!("{what} already exists")),
            StoreError::StaleVersion => {
                Self::Conflict("the record was changed since you read it; reload and retry".into())
            }
            other => Self::internal(other),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let retry_after = match &err {
            AppError::RateLimited(_, wait) => Some(retry_after_secs(*wait)),
            _ => None,
        };
        let (message, fields) = match err {
            AppError::Unauthenticated(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::Lagged(m) => (m, Vec::new()),
            AppError::BadInput(m, fields) => (m, fields),
            AppError::RateLimited(m, _) => (m, Vec::new()),
            AppError::Internal(cause) if fault(cause.as_ref()) != Fault::Other => {
                let fault = fault(cause.as_ref());
                log_fault(fault, cause.as_ref());
                let message = match fault {
                    Fault::Timeout => "the database took too long to answer; try again",
                    _ => "the database is not answering; try again shortly",
                };
                return async_graphql::Error::new(message).extend_with(|_, ext| {
                    ext.set("code", if fault == Fault::Timeout { "TIMEOUT" } else { "SERVICE_UNAVAILABLE" });
                    ext.set("retryAfter", 1);
                });
            }
            AppError::Internal(cause) => {
                let mut chain = cause.to_string();
                let mut source = cause.source();
                while let Some(s) = source {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    source = s.source();
                }
                tracing::error!(error = %chain, "internal error");
                ("internal error".to_owned(), Vec::new())
            }
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
            if !fields.is_empty() {
                let list: Vec<Value> = fields
                    .iter()
                    .map(|f| {
                        let mut obj = async_graphql::indexmap::IndexMap::new();
                        obj.insert(async_graphql::Name::new("path"), Value::from(f.field.clone()));
                        obj.insert(async_graphql::Name::new("message"), Value::from(f.message.clone()));
                        Value::Object(obj)
                    })
                    .collect();
                ext.set("fields", Value::List(list));
            }
        })
    }
}

/// Whole seconds to wait, rounded up: what `Retry-After` and `extensions.retryAfter` say.
pub fn retry_after_secs(wait: std::time::Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

/// The database fault somewhere in an error's cause chain, if any.
fn fault(err: &(dyn std::error::Error + 'static)) -> Fault {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(store) = e.downcast_ref::<StoreError>() {
            return store.fault();
        }
        if let Some(db) = e.downcast_ref::<DbErr>() {
            return Fault::of(db);
        }
        current = e.source();
    }
    Fault::Other
}

/// Logs a database fault at most once a second: when the database is down every request fails
/// alike, and one line says as much as a thousand.
fn log_fault(fault: Fault, cause: &(dyn std::error::Error + 'static)) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if LAST.swap(second, Ordering::Relaxed) == second {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let suppressed = SUPPRESSED.swap(0, Ordering::Relaxed);
    tracing::warn!(?fault, error = %cause, suppressed, "database fault; answering 503");
}
