//! The HTTP face of the embedded cluster: the Kubernetes REST API over HTTPS (HTTP/1.1) on loopback.

pub mod body;
pub mod discovery;
pub mod handler;
pub mod logs;
pub mod objects;
pub mod openapi;
pub mod protobuf;
pub mod query;
pub mod route;
pub mod server;
pub mod status;
pub mod table;
pub mod tls;
pub mod watch;
