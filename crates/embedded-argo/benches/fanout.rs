//! Fan-out benchmark (filled in once pods can run).
fn main() {}
