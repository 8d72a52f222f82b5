//! The embedded Argo controller's integration tests (filled in once pods can run).
