//! One request, start to finish: latency and failure injection, authentication, routing,
//! authorization, then the verb. Every failure becomes a `Status`; nothing here panics on input.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode, header};
use serde_json::Value;

use super::body::{Body, error_response, json_value};
use super::query::Query;
use super::route::{self, Route, Target};
use super::server::ApiState;
use super::status::{ApiError, ApiResult};
use super::{discovery, logs, objects, openapi, watch};
use crate::auth::{Attributes, Identity};

/// The most a request body may hold (the real API server's limit).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How a client asked for objects to be rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Render {
    /// Plain JSON objects and lists.
    Json,
    /// `meta.k8s.io/v1` Tables (kubectl's server-side printing), with the row objects as asked.
    Table(IncludeObject),
}

/// `includeObject` of a Table request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object in rows.
    None,
    /// `PartialObjectMetadata` in rows (the default).
    Metadata,
    /// The full object in rows.
    Object,
}

fn render_for(headers: &HeaderMap, query: &Query) -> ApiResult<Render> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    let offers: Vec<&str> = accept.split(',').map(str::trim).collect();
    if offers.iter().any(|o| o.starts_with("application/json") && o.contains("as=Table")) {
        let include = match query.get("includeObject") {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        };
        return Ok(Render::Table(include));
    }
    let json_ok = offers.iter().any(|o| {
        let media = o.split(';').next().unwrap_or_default().trim();
        matches!(media, "application/json" | "application/*" | "*/*" | "") && !o.contains("as=")
    });
    if json_ok {
        Ok(Render::Json)
    } else {
        Err(ApiError {
            code: 406,
            reason: "NotAcceptable",
            message: format!("only the following media types are accepted: application/json (asked for: {accept})"),
            details: None,
            retry_after_seconds: None,
        })
    }
}

fn bearer_token(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .unwrap_or_default()
}

/// Entry point for every request (`subject`: who the connection's client certificate names).
pub async fn handle(
    state: Arc<ApiState>,
    subject: Option<super::tls::ClientSubject>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let latency = state.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = match dispatch(&state, subject, req).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    Ok(response)
}

async fn dispatch(
    state: &Arc<ApiState>,
    subject: Option<super::tls::ClientSubject>,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let path = req.uri().path().to_string();
    let route = route::parse(&path);
    if route == Some(Route::Health) {
        return Ok(Response::new(super::body::full(Bytes::from_static(b"ok"))));
    }
    // As kube-apiserver's union of authenticators: the client certificate, then the bearer token.
    let user = match subject {
        Some(s) => state.policy.authenticate_certificate(&s.user, &s.groups),
        None => {
            state.policy.authenticate(&state.store, bearer_token(req.headers())).ok_or_else(ApiError::unauthorized)?
        }
    };
    if let Some(err) = state.faults.injected_failure(&path) {
        return Err(err);
    }
    if req.headers().keys().any(|k| k.as_str().starts_with("impersonate-")) {
        // Acting as the real user instead would be silently wrong.
        return Err(ApiError::bad_request(
            "impersonation (Impersonate-User/-Group headers, `kubectl --as`) is not supported by the tlc embedded cluster: authenticate with the user's or service account's own token",
        ));
    }
    let query = Query::parse(req.uri().query());
    let route = route.ok_or_else(|| ApiError::no_route(&path))?;
    let read_only = |doc: Option<Value>| -> ApiResult<Response<Body>> {
        if req.method() != Method::GET {
            return Err(ApiError {
                code: 405,
                reason: "MethodNotAllowed",
                message: format!("the server does not allow this method on the requested resource ({path})"),
                details: None,
                retry_after_seconds: None,
            });
        }
        doc.map(|d| json_value(StatusCode::OK, &d)).ok_or_else(|| ApiError::no_route(&path))
    };
    match route {
        Route::Health => Ok(Response::new(super::body::full(Bytes::from_static(b"ok")))),
        Route::Version => read_only(Some(discovery::version())),
        Route::CoreVersions => read_only(Some(discovery::core_versions(&state.server_address))),
        Route::Groups => read_only(Some(discovery::api_groups())),
        Route::Group(g) => read_only(discovery::api_group(&g)),
        Route::GroupVersion(g, v) => read_only(discovery::resource_list(&g, &v)),
        Route::OpenApi(p) => read_only(openapi::document(&p)),
        Route::Resource(target) => resource(state, &user, target, query, req).await,
    }
}

fn verb_for(method: &Method, target: &Target, query: &Query) -> ApiResult<&'static str> {
    let named = target.name.is_some();
    Ok(match (method, named) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) => {
            if query.flag("watch")? {
                "watch"
            } else {
                "list"
            }
        }
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => {
            return Err(ApiError::method_not_supported(target.info, method.as_str()));
        }
    })
}

/// The name a field selector requires exactly (`metadata.name=x` or `==`, among other terms), if
/// it is a valid path segment.
fn exact_name(selector: &str) -> Option<&str> {
    selector
        .split(',')
        .filter_map(|term| term.trim().strip_prefix("metadata.name"))
        .filter_map(|rest| rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')))
        .map(str::trim)
        .find(|n| !n.is_empty() && *n != "." && *n != ".." && !n.contains('/') && !n.contains('%'))
}

/// Reads a request body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(req: Request<Incoming>) -> ApiResult<(HeaderMap, Bytes)> {
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    match limited.collect().await {
        Ok(c) => Ok((parts.headers, c.to_bytes())),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                Err(ApiError {
                    code: 413,
                    reason: "RequestEntityTooLarge",
                    message: format!("the request body exceeds the limit of {MAX_BODY_BYTES} bytes"),
                    details: None,
                    retry_after_seconds: None,
                })
            } else {
                Err(ApiError::bad_request(format!("reading the request body failed: {e}")))
            }
        }
    }
}

async fn resource(
    state: &Arc<ApiState>,
    user: &Identity,
    target: Target,
    query: Query,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let info = target.info;
    let verb = verb_for(req.method(), &target, &query)?;
    // A list or watch for one name (`fieldSelector=metadata.name=x`) is about that object, as the
    // API server's request info says.
    let name = match verb {
        "list" | "watch" => query.get("fieldSelector").and_then(exact_name),
        _ => target.name.as_deref(),
    };
    let attributes = Attributes {
        verb,
        group: info.group,
        resource: info.plural,
        subresource: target.subresource.as_deref(),
        namespace: target.namespace.as_deref(),
        name,
    };
    match attributes.subresource {
        Some(sub) => state.metrics.requests.count(verb, &format!("{}/{sub}", info.plural)),
        None => state.metrics.requests.count(verb, info.plural),
    }
    let decision = state.policy.authorize(&state.store, user, &attributes);
    if !decision.allowed {
        return Err(ApiError::forbidden(
            &user.name,
            verb,
            info,
            target.subresource.as_deref(),
            target.namespace.as_deref(),
            name,
            &decision.denial,
        ));
    }
    let base_verb = if target.subresource.as_deref() == Some("log") { "get" } else { verb };
    if !info.verbs.contains(&base_verb) && target.subresource.is_none() {
        return Err(ApiError::method_not_supported(info, verb));
    }
    if query.get("dryRun").is_some_and(|d| !d.is_empty()) {
        return Err(ApiError::bad_request("dryRun is not supported by the embedded cluster"));
    }
    match (verb, target.subresource.as_deref()) {
        ("get", Some("log")) => logs::serve(state, &target, &query).await,
        ("get", _) => {
            let render = render_for(req.headers(), &query)?;
            objects::get(state, &target, render)
        }
        ("list", _) => {
            let render = render_for(req.headers(), &query)?;
            objects::list(state, &target, &query, render)
        }
        ("watch", _) => {
            let render = render_for(req.headers(), &query)?;
            watch::serve(state, &target, &query, render)
        }
        ("create", _) => {
            let (headers, body) = read_body(req).await?;
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
            if content_type.starts_with(super::protobuf::MEDIA_TYPE) {
                use crate::store::resource::Resource;
                let object = match info.resource {
                    Resource::SelfSubjectAccessReviews => super::protobuf::decode_access_review(&body)?,
                    Resource::ConfigMaps
                    | Resource::Namespaces
                    | Resource::ServiceAccounts
                    | Resource::Roles
                    | Resource::ClusterRoles
                    | Resource::RoleBindings
                    | Resource::ClusterRoleBindings => super::protobuf::decode_object(&body)?,
                    _ => return Err(super::protobuf::unsupported(info.kind)),
                };
                return objects::create(state, user, &target, &query, object.to_string().as_bytes());
            }
            objects::create(state, user, &target, &query, &body)
        }
        ("update", _) => {
            let (_, body) = read_body(req).await?;
            objects::update(state, &target, &query, &body)
        }
        ("patch", _) => {
            let (headers, body) = read_body(req).await?;
            let content_type =
                headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            objects::patch(state, &target, &query, &content_type, &body)
        }
        ("delete", _) => {
            let (_, body) = read_body(req).await?;
            objects::delete(state, &target, &query, &body)
        }
        ("deletecollection", _) => {
            let (_, body) = read_body(req).await?;
            objects::delete_collection(state, &target, &query, &body)
        }
        _ => Err(ApiError::method_not_supported(info, verb)),
    }
}
