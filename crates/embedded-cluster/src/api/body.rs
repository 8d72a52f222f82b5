//! Response bodies: whole JSON documents, and streams (watches, followed logs) fed from a channel so
//! that a producer task can end them cleanly or abort them mid-stream (a dropped connection).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode, header};
use serde_json::Value;
use tokio::sync::mpsc;

use super::status::ApiError;

/// Why a streamed body stopped early; hyper then closes the connection without the final chunk.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body the server produces.
pub type Body = BoxBody<Bytes, BodyError>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never: Infallible| match never {}).boxed()
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    r
}

/// A JSON response from a value.
pub fn json_value(status: StatusCode, value: &Value) -> Response<Body> {
    json_response(status, serde_json::to_vec(value).unwrap_or_default())
}

/// The `Status` response for an error.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json_value(status, &err.to_status());
    if let Some(secs) = err.retry_after_seconds
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The sending half of a streamed body: `Ok` chunks are written, an `Err` aborts the connection.
pub type StreamSender = mpsc::Sender<Result<Bytes, BodyError>>;

/// A streamed 200 response with the given content type, and the sender that feeds it.
pub fn streaming_response(content_type: &'static str) -> (Response<Body>, StreamSender) {
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, BodyError>>(16);
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|item| item.map(|r| r.map(Frame::data))));
    let mut r = Response::new(StreamBody::new(stream).boxed());
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    (r, tx)
}

/// An error a stream producer sends to cut the connection.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StreamCut(pub &'static str);

/// Cuts a streamed response like a dropped connection, after what was already sent has reached the
/// wire: hyper aborts the connection on a body error and would drop bytes still in its buffer, so
/// wait until the channel is drained and give the connection a moment to flush first.
pub async fn cut(tx: &StreamSender, why: &'static str) {
    let drained = async {
        while tx.capacity() < tx.max_capacity() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drained).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let _ = tx.send(Err(Box::new(StreamCut(why)))).await;
}
