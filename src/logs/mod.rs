//! Pod logs on the console's side: following a container's log with exact resume across cuts,
//! merging many branches into one stream under a budget of concurrent streams, keeping bounded
//! per-branch buffers, and neutralising terminal control sequences (log text is untrusted).

pub mod buffer;
pub mod follow;
pub mod mux;
pub mod resume;
pub mod sanitize;
pub mod scrollback;
