//! The files a pod's containers see. Nothing touches the host: one in-memory filesystem per pod,
//! shared by all of its containers (as if every container mounted one `emptyDir` at `/`), with each
//! container's ConfigMap volumes laid over it read-only, as a real kubelet mounts them. Shell scripts
//! read through the same view (`cat`, `test -f`); registered binaries also write, append and wait
//! for files (Argo's `wait` container waits for the `main` container's exit-code file this way).
//!
//! There are no directories: a path names a file or nothing, writing creates it, and paths are
//! normalised (`//`, `.`, `..`; relative paths are relative to `/`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// A file operation that failed, with the path and the error a Linux process would get.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {}", kind.strerror())]
pub struct FsError {
    /// The path asked for (normalised).
    pub path: String,
    /// What went wrong.
    pub kind: FsErrorKind,
}

/// Why a file operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsErrorKind {
    /// The file does not exist (`ENOENT`).
    NotFound,
    /// The path is inside a read-only mount such as a ConfigMap volume (`EROFS`).
    ReadOnly,
}

impl FsErrorKind {
    /// The C library's text for the error, as tools such as `cat` print it.
    pub fn strerror(self) -> &'static str {
        match self {
            FsErrorKind::NotFound => "No such file or directory",
            FsErrorKind::ReadOnly => "Read-only file system",
        }
    }
}

/// Normalises a path: absolute, single slashes, no `.` or `..` segments.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// One container's read-only mounts: the files they hold and the mount points that make a path
/// read-only (a directory mount covers everything below it; a `subPath` mount is one file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mounts {
    files: BTreeMap<String, Arc<[u8]>>,
    points: Vec<String>,
}

impl Mounts {
    /// No mounts.
    pub fn new() -> Self {
        Mounts::default()
    }

    /// Adds a read-only mount point (a directory, or one file for `subPath`).
    pub fn add_point(&mut self, path: &str) {
        let p = normalize(path);
        if !self.points.contains(&p) {
            self.points.push(p);
        }
    }

    /// Adds a file of a mounted volume.
    pub fn add_file(&mut self, path: &str, content: &[u8]) {
        self.files.insert(normalize(path), Arc::from(content));
    }

    /// The file at `path`, if a mount provides one.
    pub fn get(&self, path: &str) -> Option<&Arc<[u8]>> {
        self.files.get(&normalize(path))
    }

    /// Whether `path` (normalised) lies inside a read-only mount.
    fn covers(&self, path: &str) -> bool {
        self.points
            .iter()
            .any(|p| p == path || p == "/" || path.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('/')))
    }

    /// Every mounted file, by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(k, v)| (k.as_str(), &**v))
    }
}

#[derive(Debug, Default)]
struct Shared {
    files: Mutex<BTreeMap<String, Arc<[u8]>>>,
    version: watch::Sender<u64>,
}

/// A container's view of its pod's files: the pod-wide writable files with the container's
/// read-only mounts over them. Cloning shares the files.
#[derive(Clone, Debug)]
pub struct PodFs {
    shared: Arc<Shared>,
    mounts: Arc<Mounts>,
}

impl Default for PodFs {
    fn default() -> Self {
        PodFs::new()
    }
}

impl PodFs {
    /// An empty filesystem for a new pod (no mounts).
    pub fn new() -> Self {
        PodFs { shared: Arc::new(Shared::default()), mounts: Arc::new(Mounts::new()) }
    }

    /// The same pod's files as a container with `mounts` sees them.
    pub fn with_mounts(&self, mounts: Mounts) -> Self {
        PodFs { shared: self.shared.clone(), mounts: Arc::new(mounts) }
    }

    /// This container's read-only mounts.
    pub fn mounts(&self) -> &Mounts {
        &self.mounts
    }

    fn files(&self) -> MutexGuard<'_, BTreeMap<String, Arc<[u8]>>> {
        self.shared.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lookup(&self, path: &str) -> Option<Arc<[u8]>> {
        if let Some(f) = self.mounts.files.get(path) {
            return Some(f.clone());
        }
        if self.mounts.covers(path) {
            // A mount hides whatever lies beneath it.
            return None;
        }
        self.files().get(path).cloned()
    }

    /// The content of a file.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let p = normalize(path);
        self.lookup(&p).map(|f| f.to_vec()).ok_or(FsError { path: p, kind: FsErrorKind::NotFound })
    }

    /// The content of a file as text (invalid UTF-8 becomes U+FFFD, as the shell reads it).
    pub fn read_to_string(&self, path: &str) -> Result<String, FsError> {
        self.read(path).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Whether a file exists.
    pub fn exists(&self, path: &str) -> bool {
        self.lookup(&normalize(path)).is_some()
    }

    fn writable(&self, path: &str) -> Result<String, FsError> {
        let p = normalize(path);
        if self.mounts.covers(&p) || self.mounts.files.contains_key(&p) {
            return Err(FsError { path: p, kind: FsErrorKind::ReadOnly });
        }
        Ok(p)
    }

    fn changed(&self) {
        self.shared.version.send_modify(|v| *v += 1);
    }

    /// Creates or replaces a file.
    pub fn write(&self, path: &str, content: &[u8]) -> Result<(), FsError> {
        let p = self.writable(path)?;
        self.files().insert(p, Arc::from(content));
        self.changed();
        Ok(())
    }

    /// Appends to a file, creating it if needed.
    pub fn append(&self, path: &str, content: &[u8]) -> Result<(), FsError> {
        let p = self.writable(path)?;
        {
            let mut files = self.files();
            let mut data = files.get(&p).map(|f| f.to_vec()).unwrap_or_default();
            data.extend_from_slice(content);
            files.insert(p, Arc::from(data));
        }
        self.changed();
        Ok(())
    }

    /// Removes a file.
    pub fn remove(&self, path: &str) -> Result<(), FsError> {
        let p = self.writable(path)?;
        let removed = self.files().remove(&p);
        match removed {
            Some(_) => {
                self.changed();
                Ok(())
            }
            None => Err(FsError { path: p, kind: FsErrorKind::NotFound }),
        }
    }

    /// Resolves with the file's content once it exists (at once if it already does). Wrap it in a
    /// timeout or `select!` it against the container's `terminate` token to stop waiting.
    pub async fn wait_for(&self, path: &str) -> Vec<u8> {
        let p = normalize(path);
        let mut changes = self.shared.version.subscribe();
        loop {
            changes.borrow_and_update();
            if let Some(f) = self.lookup(&p) {
                return f.to_vec();
            }
            if changes.changed().await.is_err() {
                // The sender lives as long as `self`: this cannot happen, but never spin.
                return std::future::pending().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm_mounts() -> Mounts {
        let mut m = Mounts::new();
        m.add_point("/etc/config");
        m.add_file("/etc/config/app.yaml", b"a: 1\n");
        m
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize("tmp//x/./y/../z"), "/tmp/x/z");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("/../a"), "/a");
    }

    #[test]
    fn containers_share_files_and_mounts_are_read_only() {
        let pod = PodFs::new();
        let a = pod.with_mounts(cm_mounts());
        let b = pod.with_mounts(Mounts::new());
        a.write("/tmp/out", b"hello").expect("write");
        assert_eq!(b.read("/tmp//out").expect("shared"), b"hello");
        b.append("/tmp/out", b" world").expect("append");
        assert_eq!(a.read_to_string("/tmp/out").expect("read"), "hello world");
        assert_eq!(a.read_to_string("/etc/config/app.yaml").expect("mounted"), "a: 1\n");
        assert!(!b.exists("/etc/config/app.yaml"), "another container does not mount it");
        let err = a.write("/etc/config/app.yaml", b"x").expect_err("read-only");
        assert_eq!(err.to_string(), "/etc/config/app.yaml: Read-only file system");
        let err = a.write("/etc/config/new", b"x").expect_err("read-only directory");
        assert_eq!(err.kind, FsErrorKind::ReadOnly);
        a.write("/etc/configuration", b"x").expect("a sibling of the mount is writable");
        assert_eq!(a.read("/nope").expect_err("missing").to_string(), "/nope: No such file or directory");
        a.remove("/tmp/out").expect("remove");
        assert!(!b.exists("/tmp/out"));
    }

    #[tokio::test]
    async fn wait_for_resolves_when_the_file_appears() {
        let pod = PodFs::new();
        let waiter = pod.clone();
        let waiting = tokio::spawn(async move { waiter.wait_for("/var/run/argo/ctr/main/exitcode").await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        pod.write("/var/run/argo/ctr/main/other", b"1").expect("write");
        pod.write("/var/run/argo/ctr/main/exitcode", b"3").expect("write");
        let got =
            tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await.expect("in time").expect("task");
        assert_eq!(got, b"3");
        assert_eq!(pod.wait_for("/var/run/argo/ctr/main/exitcode").await, b"3", "an existing file resolves at once");
    }
}
