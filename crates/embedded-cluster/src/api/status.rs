//! Kubernetes `Status` errors: every failure the embedded API server reports is one of these, with the
//! same `reason`, `code` and message shapes a real API server uses, so clients (kube-rs, kubectl)
//! classify them exactly as they would in production.

use serde_json::{Value, json};

use crate::store::resource::ResourceInfo;

/// One `metav1.StatusCause`: which field was wrong and why (used by `Invalid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// Machine-readable reason such as `FieldValueRequired`.
    pub reason: &'static str,
    /// Human-readable text such as `Required value`.
    pub message: String,
    /// JSON path of the field, e.g. `spec.containers[0].name`.
    pub field: String,
}

impl Cause {
    /// A required field is missing.
    pub fn required(field: impl Into<String>) -> Self {
        Cause { reason: "FieldValueRequired", message: "Required value".into(), field: field.into() }
    }

    /// A field holds a value that is not allowed; `detail` says why.
    pub fn invalid(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: \"{value}\": {detail}"),
            field: field.into(),
        }
    }

    /// A required field is missing, with the reason.
    pub fn required_because(field: impl Into<String>, detail: &str) -> Self {
        Cause { reason: "FieldValueRequired", message: format!("Required value: {detail}"), field: field.into() }
    }

    /// A field holds a value that is not allowed, printed as Go prints it (not quoted).
    pub fn invalid_value(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Cause { reason: "FieldValueInvalid", message: format!("Invalid value: {value}: {detail}"), field: field.into() }
    }

    /// A field holds a value outside a fixed set.
    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        Cause {
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: \"{value}\": supported values: {}",
                supported.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
            ),
            field: field.into(),
        }
    }

    /// A field may not be changed or set.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Cause { reason: "FieldValueForbidden", message: format!("Forbidden: {detail}"), field: field.into() }
    }

    /// The same value appears twice where it must be unique.
    pub fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Cause { reason: "FieldValueDuplicate", message: format!("Duplicate value: \"{value}\""), field: field.into() }
    }
}

/// An API failure, rendered as a `Status` object with the matching HTTP code.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status code (also `Status.code`).
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`.
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`, when the error is about one object.
    pub details: Option<Value>,
    /// Seconds a client should wait before retrying (429/503); also sent as `Retry-After`.
    pub retry_after_seconds: Option<u32>,
}

/// Result type of the embedded API server's operations.
pub type ApiResult<T> = Result<T, ApiError>;

fn qualified(info: &ResourceInfo) -> String {
    if info.group.is_empty() { info.plural.to_string() } else { format!("{}.{}", info.plural, info.group) }
}

/// `Kind.group` (`Job.batch`, `Pod`), as the API server names a kind in validation errors.
fn qualified_kind(info: &ResourceInfo) -> String {
    if info.group.is_empty() { info.kind.to_string() } else { format!("{}.{}", info.kind, info.group) }
}

fn details(info: &ResourceInfo, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": info.plural });
    if !info.group.is_empty() {
        d["group"] = json!(info.group);
    }
    d
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None, retry_after_seconds: None }
    }

    /// 404 for a named object.
    pub fn not_found(info: &ResourceInfo, name: &str) -> Self {
        ApiError {
            details: Some(details(info, name)),
            ..Self::new(404, "NotFound", format!("{} \"{name}\" not found", qualified(info)))
        }
    }

    /// 404 for a path the server does not serve at all.
    pub fn no_route(path: &str) -> Self {
        Self::new(404, "NotFound", format!("the server could not find the requested resource ({path})"))
    }

    /// 409 when creating an object whose name is taken.
    pub fn already_exists(info: &ResourceInfo, name: &str) -> Self {
        ApiError {
            details: Some(details(info, name)),
            ..Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", qualified(info)))
        }
    }

    /// 409 when a write carries a stale `resourceVersion` (or a failed precondition).
    pub fn conflict(info: &ResourceInfo, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(details(info, name)),
            ..Self::new(
                409,
                "Conflict",
                format!("Operation cannot be fulfilled on {} \"{name}\": {why}", qualified(info)),
            )
        }
    }

    /// 409 for the usual optimistic-concurrency failure.
    pub fn stale(info: &ResourceInfo, name: &str) -> Self {
        Self::conflict(
            info,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 with field causes, worded like the API server's validation errors.
    pub fn invalid(info: &ResourceInfo, name: &str, causes: Vec<Cause>) -> Self {
        let summary = match causes.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!(
                "[{}]",
                many.iter().map(|c| format!("{}: {}", c.field, c.message)).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut d = json!({ "name": name, "kind": info.kind });
        if !info.group.is_empty() {
            d["group"] = json!(info.group);
        }
        d["causes"] = Value::Array(
            causes.iter().map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field})).collect(),
        );
        ApiError {
            details: Some(d),
            ..Self::new(422, "Invalid", format!("{} \"{name}\" is invalid: {summary}", qualified_kind(info)))
        }
    }

    /// 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401 for a missing or unknown bearer token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 worded like the API server's authorization denial (`responsewriters.ForbiddenStatusError`),
    /// naming user, verb, resource, group and namespace, and the authorizer's `reason` if any.
    pub fn forbidden(
        user: &str,
        verb: &str,
        info: &ResourceInfo,
        subresource: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
        reason: &str,
    ) -> Self {
        let resource = match subresource {
            Some(sub) => format!("{}/{sub}", info.plural),
            None => info.plural.to_string(),
        };
        let subject = match name {
            Some(n) => format!("{} \"{n}\"", qualified(info)),
            None => qualified(info),
        };
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        let mut d = json!({ "kind": info.plural });
        if let Some(n) = name {
            d["name"] = json!(n);
        }
        if !info.group.is_empty() {
            d["group"] = json!(info.group);
        }
        ApiError {
            details: Some(d),
            ..Self::new(
                403,
                "Forbidden",
                format!(
                    "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}{}",
                    info.group,
                    if reason.is_empty() { String::new() } else { format!(": {reason}") }
                ),
            )
        }
    }

    /// 403 for a write the server refuses for a reason other than RBAC.
    pub fn forbidden_because(info: &ResourceInfo, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(details(info, name)),
            ..Self::new(403, "Forbidden", format!("{} \"{name}\" is forbidden: {why}", qualified(info)))
        }
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_supported(info: &ResourceInfo, verb: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind \"{}\"", qualified(info)),
        )
    }

    /// 410 for a watch or continue token older than the server's history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 415 for a patch or body type the server cannot read.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format ({content_type}) - accepted media types include: application/json-patch+json, application/merge-patch+json"
            ),
        )
    }

    /// 429 from fault injection (or overload), with a retry hint.
    pub fn too_many_requests(retry_after_seconds: u32) -> Self {
        ApiError {
            details: Some(json!({ "retryAfterSeconds": retry_after_seconds })),
            retry_after_seconds: Some(retry_after_seconds),
            ..Self::new(429, "TooManyRequests", "Too many requests, please try again later.")
        }
    }

    /// A 5xx (fault injection or an internal failure).
    pub fn server_error(code: u16, message: impl Into<String>) -> Self {
        let reason = match code {
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        Self::new(code, reason, message)
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}
