//! The object verbs: get, list, create, update (PUT), patch, delete and deletecollection, plus the
//! SelfSubjectAccessReview "create" that answers from the policy instead of storing anything.

use std::io::Write as _;
use std::sync::Arc;

use hyper::{Response, StatusCode, header};
use serde_json::{Value, json};

use super::body::{Body, json_response, json_value};
use super::handler::Render;
use super::query::Query;
use super::route::Target;
use super::server::ApiState;
use super::status::{ApiError, ApiResult};
use super::table;
use crate::auth::{Attributes, Identity};
use crate::store::resource::{Resource, ResourceInfo};
use crate::store::{DeleteOptions, ListQuery, Propagation, UpdateScope, admission};
use kube_grammar::selector::{FieldSelector, LabelSelector};

fn namespace_of(target: &Target) -> &str {
    target.namespace.as_deref().unwrap_or_default()
}

fn name_of(target: &Target) -> &str {
    target.name.as_deref().unwrap_or_default()
}

/// Parses the label and field selectors of a list, watch or deletecollection request.
pub fn selectors(info: &ResourceInfo, query: &Query) -> ApiResult<(LabelSelector, FieldSelector)> {
    let labels =
        LabelSelector::parse(query.get("labelSelector").unwrap_or_default()).map_err(|e| ApiError::bad_request(e.0))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or_default(), |k| info.supports_field(k))
        .map_err(|e| ApiError::bad_request(e.0))?;
    Ok((labels, fields))
}

/// GET of one object (or its `status`).
pub fn get(state: &ApiState, target: &Target, render: Render) -> ApiResult<Response<Body>> {
    let object = state.store.get(target.info.resource, namespace_of(target), name_of(target))?;
    Ok(match render {
        Render::Json => json_value(StatusCode::OK, &object),
        Render::Table(include) => json_value(
            StatusCode::OK,
            &table::table(target.info, std::slice::from_ref(&object), include, None, None, true),
        ),
    })
}

/// GET of a collection.
pub fn list(state: &ApiState, target: &Target, query: &Query, render: Render) -> ApiResult<Response<Body>> {
    let info = target.info;
    let (labels, fields) = selectors(info, query)?;
    let limit = query.number("limit")?.unwrap_or(0).max(0) as usize;
    let list_query = ListQuery {
        namespace: target.namespace.as_deref(),
        labels,
        fields,
        limit,
        continue_token: query.get("continue").filter(|c| !c.is_empty()),
    };
    let page = state.store.list(info.resource, &list_query)?;
    if let Render::Table(include) = render {
        return Ok(json_value(
            StatusCode::OK,
            &table::table(info, &page.items, include, Some(page.revision), page.continue_token.as_deref(), true),
        ));
    }
    let mut buf = Vec::with_capacity(128 + page.items.len() * 1024);
    let _ = write!(
        buf,
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{}\"",
        info.list_kind(),
        info.api_version(),
        page.revision
    );
    if let Some(token) = &page.continue_token {
        let _ = write!(buf, ",\"continue\":{}", Value::String(token.clone()));
    }
    if let Some(n) = page.remaining {
        let _ = write!(buf, ",\"remainingItemCount\":{n}");
    }
    buf.extend_from_slice(b"},\"items\":[");
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let _ = serde_json::to_writer(&mut buf, &**item);
    }
    buf.extend_from_slice(b"]}");
    Ok(json_response(StatusCode::OK, buf))
}

fn parse_json(body: &[u8]) -> ApiResult<Value> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    }
    Ok(value)
}

/// Checks `apiVersion`/`kind` of a body against the resource the path names.
fn check_type(info: &ResourceInfo, object: &Value) -> ApiResult<()> {
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    let kind = object.get("kind").and_then(Value::as_str);
    if let Some(v) = api_version
        && v != info.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    if let Some(k) = kind
        && k != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            info.kind
        )));
    }
    Ok(())
}

/// Applies `fieldValidation` to the unknown fields decoding found: Strict fails, Warn (the default)
/// adds `Warning` headers, Ignore drops them silently.
fn field_validation(query: &Query, unknown: &[String]) -> ApiResult<Vec<String>> {
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    match query.get("fieldValidation").unwrap_or("Warn") {
        "Strict" => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect::<Vec<_>>().join(", ")
        ))),
        "Ignore" => Ok(Vec::new()),
        "Warn" | "" => Ok(unknown.iter().map(|f| format!("299 - \"unknown field \\\"{f}\\\"\"")).collect()),
        other => Err(ApiError::bad_request(format!(
            "fieldValidation must be one of Ignore, Warn or Strict, got \"{other}\""
        ))),
    }
}

fn with_warnings(mut response: Response<Body>, warnings: Vec<String>) -> Response<Body> {
    for w in warnings {
        if let Ok(v) = header::HeaderValue::from_str(&w) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

/// POST to a collection.
pub fn create(
    state: &ApiState,
    user: &Identity,
    target: &Target,
    query: &Query,
    body: &[u8],
) -> ApiResult<Response<Body>> {
    let info = target.info;
    let mut object = parse_json(body)?;
    check_type(info, &object)?;
    if info.resource == Resource::SelfSubjectAccessReviews {
        return access_review(state, user, object);
    }
    if info.namespaced {
        let ns = namespace_of(target);
        if ns.is_empty() {
            return Err(ApiError::bad_request(format!("{} must be created in a namespace", info.plural)));
        }
        match object.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
        match object.get_mut("metadata") {
            None => object["metadata"] = json!({"namespace": ns}),
            Some(Value::Object(meta)) => {
                meta.insert("namespace".into(), json!(ns));
            }
            // Decoding reports a malformed `metadata` as a 400.
            Some(_) => {}
        }
    }
    let (decoded, unknown) = admission::decode(info, object)?;
    let warnings = field_validation(query, &unknown)?;
    let created = state.store.create(info.resource, decoded)?;
    Ok(with_warnings(json_value(StatusCode::CREATED, &created), warnings))
}

fn scope(target: &Target) -> UpdateScope {
    if target.subresource.as_deref() == Some("status") { UpdateScope::Status } else { UpdateScope::Main }
}

/// PUT of an object (or its `status`).
pub fn update(state: &ApiState, target: &Target, query: &Query, body: &[u8]) -> ApiResult<Response<Body>> {
    let info = target.info;
    let object = parse_json(body)?;
    check_type(info, &object)?;
    if let Some(ns) = object.pointer("/metadata/namespace").and_then(Value::as_str)
        && info.namespaced
        && !ns.is_empty()
        && ns != namespace_of(target)
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let (decoded, unknown) = admission::decode(info, object)?;
    let warnings = field_validation(query, &unknown)?;
    let updated = state.store.update(info.resource, namespace_of(target), name_of(target), decoded, scope(target))?;
    Ok(with_warnings(json_value(StatusCode::OK, &updated), warnings))
}

/// The patch formats the server understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatchType {
    Merge,
    Json,
}

fn patch_type(content_type: &str) -> ApiResult<PatchType> {
    match content_type.split(';').next().unwrap_or_default().trim() {
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/json-patch+json" => Ok(PatchType::Json),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// PATCH of an object (or its `status`) with a JSON merge patch or a JSON patch.
pub fn patch(
    state: &ApiState,
    target: &Target,
    query: &Query,
    content_type: &str,
    body: &[u8],
) -> ApiResult<Response<Body>> {
    let info = target.info;
    let kind = patch_type(content_type)?;
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
    let ops: Option<json_patch::Patch> = match kind {
        PatchType::Json => Some(
            serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("the JSON patch is malformed: {e}")))?,
        ),
        PatchType::Merge => None,
    };
    let mut warnings = Vec::new();
    let updated =
        state.store.modify(info.resource, namespace_of(target), name_of(target), scope(target), |current| {
            let mut doc = current.clone();
            match &ops {
                Some(ops) => json_patch::patch(&mut doc, ops).map_err(|e| ApiError {
                    code: 422,
                    reason: "Invalid",
                    message: format!("the JSON patch could not be applied: {e}"),
                    details: None,
                    retry_after_seconds: None,
                })?,
                None => json_patch::merge(&mut doc, &patch),
            }
            check_type(info, &doc)?;
            let (decoded, unknown) = admission::decode(info, doc)?;
            warnings = field_validation(query, &unknown)?;
            Ok(decoded)
        })?;
    Ok(with_warnings(json_value(StatusCode::OK, &updated), warnings))
}

fn delete_options(query: &Query, body: &[u8]) -> ApiResult<DeleteOptions> {
    let mut options = DeleteOptions { grace_period_seconds: query.number("gracePeriodSeconds")?, ..Default::default() };
    let mut policy = query.get("propagationPolicy").map(str::to_string);
    if query.get("orphanDependents") == Some("true") {
        policy = Some("Orphan".into());
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        let b: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the DeleteOptions body is not valid JSON: {e}")))?;
        if let Some(g) = b.get("gracePeriodSeconds").and_then(Value::as_i64) {
            options.grace_period_seconds = Some(g);
        }
        if let Some(p) = b.get("propagationPolicy").and_then(Value::as_str) {
            policy = Some(p.to_string());
        }
        if b.get("orphanDependents").and_then(Value::as_bool) == Some(true) {
            policy = Some("Orphan".into());
        }
        if let Some(dry) = b.get("dryRun").and_then(Value::as_array)
            && !dry.is_empty()
        {
            return Err(ApiError::bad_request("dryRun is not supported by the embedded cluster"));
        }
        options.precondition_uid = b.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_string);
        options.precondition_resource_version =
            b.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_string);
    }
    options.propagation = match policy.as_deref() {
        None | Some("") => None,
        Some("Orphan") => Some(Propagation::Orphan),
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    };
    Ok(options)
}

fn deleted_response(info: &ResourceInfo, object: &Arc<Value>, still_there: bool) -> Value {
    // Like the real registry: pods and namespaces return the object; other resources return a
    // success Status once the object is gone.
    if still_there || matches!(info.resource, Resource::Pods | Resource::Namespaces) {
        return (**object).clone();
    }
    let mut details = json!({
        "name": object.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
        "kind": info.plural,
        "uid": object.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
    });
    if !info.group.is_empty() {
        details["group"] = json!(info.group);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

/// DELETE of an object.
pub fn delete(state: &ApiState, target: &Target, query: &Query, body: &[u8]) -> ApiResult<Response<Body>> {
    let info = target.info;
    let options = delete_options(query, body)?;
    let result = state.store.delete(info.resource, namespace_of(target), name_of(target), &options)?;
    let still_there = state.store.get(info.resource, namespace_of(target), name_of(target)).is_ok();
    Ok(json_value(StatusCode::OK, &deleted_response(info, &result, still_there)))
}

/// DELETE of a collection (with selectors): deletes each match and returns them as a list.
pub fn delete_collection(state: &ApiState, target: &Target, query: &Query, body: &[u8]) -> ApiResult<Response<Body>> {
    let info = target.info;
    let options = delete_options(query, body)?;
    let (labels, fields) = selectors(info, query)?;
    let page = state.store.list(
        info.resource,
        &ListQuery { namespace: target.namespace.as_deref(), labels, fields, ..Default::default() },
    )?;
    let mut items = Vec::new();
    for item in &page.items {
        let ns = item.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
        let name = item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        match state.store.delete(info.resource, ns, name, &options) {
            Ok(o) => items.push((*o).clone()),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(json_value(
        StatusCode::OK,
        &json!({"kind": info.list_kind(), "apiVersion": info.api_version(), "metadata": {"resourceVersion": state.store.revision().to_string()}, "items": items}),
    ))
}

/// Answers a SelfSubjectAccessReview from the same evaluation that authorizes requests.
fn access_review(state: &ApiState, user: &Identity, mut review: Value) -> ApiResult<Response<Body>> {
    let (decoded, _) = admission::decode(Resource::SelfSubjectAccessReviews.info(), review.clone())?;
    drop(decoded);
    let decision = if let Some(attrs) = review.pointer("/spec/resourceAttributes") {
        let s = |k: &str| attrs.get(k).and_then(Value::as_str).unwrap_or_default();
        let verb = s("verb");
        if verb.is_empty() {
            return Err(ApiError::invalid(
                Resource::SelfSubjectAccessReviews.info(),
                "",
                vec![super::status::Cause::required("spec.resourceAttributes.verb")],
            ));
        }
        let namespace = Some(s("namespace")).filter(|n| !n.is_empty());
        let subresource = Some(s("subresource")).filter(|n| !n.is_empty());
        let name = Some(s("name")).filter(|n| !n.is_empty());
        let attributes = Attributes { verb, group: s("group"), resource: s("resource"), subresource, namespace, name };
        state.policy.authorize(&state.store, user, &attributes)
    } else if review.pointer("/spec/nonResourceAttributes").is_some() {
        // Non-resource URLs (discovery, health) are open to every authenticated user here.
        crate::auth::Decision {
            allowed: true,
            reason: format!("allowed by the embedded cluster's policy for user \"{}\"", user.name),
            denial: String::new(),
        }
    } else {
        return Err(ApiError::invalid(
            Resource::SelfSubjectAccessReviews.info(),
            "",
            vec![super::status::Cause::required("spec.resourceAttributes")],
        ));
    };
    review["status"] = json!({"allowed": decision.allowed});
    if !decision.reason.is_empty() {
        review["status"]["reason"] = json!(decision.reason);
    }
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    if !review.get("metadata").is_some_and(Value::is_object) {
        review["metadata"] = json!({});
    }
    review["metadata"]["creationTimestamp"] = Value::Null;
    Ok(json_value(StatusCode::CREATED, &review))
}
