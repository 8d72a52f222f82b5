//! The one watch layer: every collection tlc follows (tenant ConfigMaps, lifecycle Jobs, branch
//! pods, Workflows, batch records) goes through [`watch`] or [`watch_each`], on kube-runtime's
//! `watcher(..).default_backoff()`. [`watch`] keeps the objects it has seen (trimmed of what nobody reads), so that a relist after a watch
//! gap reports the objects that vanished meanwhile — which a reflector store silently drops, and
//! which the run model needs to mark a branch whose pod was deleted while nobody watched — and it
//! reports the connection as it changes (up, or down with the reason an operator can act on).
//! The console, the headless commands and the tenant source all consume it, so the watch-gap tests
//! exercise the code the console runs.

pub mod trim;

use std::collections::BTreeMap;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};

/// The state of a watched collection's connection, reported on every transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Listed or watching.
    Up,
    /// The last request failed; the watcher retries with back-off.
    Down(Failure),
}

/// Why a watch is down, in the terms an operator acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The API server refused the request (RBAC): its message.
    Forbidden(String),
    /// The API server answered with another error: code and message.
    Api(u16, String),
    /// No answer: where it was going and what the socket said ("Connection refused", a TLS error).
    Unreachable {
        /// The API server's URL.
        url: String,
        /// The deepest cause in the error's source chain.
        cause: String,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Forbidden(message) => write!(f, "access denied: {message}"),
            Failure::Api(code, message) => write!(f, "the API server answered {code}: {message}"),
            Failure::Unreachable { url, cause } => write!(f, "cannot reach {url}: {cause}"),
        }
    }
}

impl Failure {
    /// Reads a watcher error by its structure (the status code the server sent, or the socket
    /// error kube-rs keeps at the bottom of the source chain), never by searching its text.
    pub fn of(e: &watcher::Error, url: &str) -> Failure {
        let api = match e {
            watcher::Error::InitialListFailed(k)
            | watcher::Error::WatchStartFailed(k)
            | watcher::Error::WatchFailed(k) => match k {
                kube::Error::Api(s) => Some((s.code, s.message.clone())),
                _ => None,
            },
            watcher::Error::WatchError(s) => Some((s.code, s.message.clone())),
            watcher::Error::NoResourceVersion => None,
        };
        match api {
            Some((403, message)) => Failure::Forbidden(message),
            Some((code, message)) => Failure::Api(code, message),
            None => Failure::Unreachable { url: url.to_string(), cause: crate::lifecycle::error::deepest_cause(e) },
        }
    }
}

/// What a consumer of the layer reports onwards: its data, rebuilt or changed, or the connection.
#[derive(Clone, Debug, PartialEq)]
pub enum Report<T> {
    /// The consumer's data (a whole list, or one event).
    Data(T),
    /// The connection changed.
    Connection(Connection),
}

/// What a watched collection tells its consumer. `all` is every object known now, by
/// `namespace/name`.
#[derive(Debug)]
pub enum Change<'a, K> {
    /// A (re)list finished: everything known now, and what vanished since the previous list.
    Listed {
        /// Every object.
        all: &'a BTreeMap<String, K>,
        /// Objects known before the list and absent from it (deleted during a watch gap).
        vanished: Vec<K>,
    },
    /// One object was added or changed.
    Applied {
        /// Every object.
        all: &'a BTreeMap<String, K>,
        /// The object.
        object: &'a K,
    },
    /// One object was deleted.
    Deleted {
        /// Every object (without it).
        all: &'a BTreeMap<String, K>,
        /// The object, as last seen.
        object: K,
    },
    /// The connection changed (reported on transitions only).
    Connection(Connection),
}

impl<K> Change<'_, K> {
    /// Every object known now, for consumers that rebuild a whole view on any change; `None` for a
    /// connection change.
    pub fn all(&self) -> Option<&BTreeMap<String, K>> {
        match self {
            Change::Listed { all, .. } | Change::Applied { all, .. } | Change::Deleted { all, .. } => Some(all),
            Change::Connection(_) => None,
        }
    }
}

/// The key [`watch`] keeps objects by: `namespace/name`.
pub fn key_of<K: kube::Resource>(o: &K) -> String {
    format!("{}/{}", o.meta().namespace.as_deref().unwrap_or(""), o.meta().name.as_deref().unwrap_or(""))
}

/// What a watched collection tells a consumer that keeps its own state ([`watch_each`]): each
/// object as it comes, by value, and nothing kept in the layer.
#[derive(Debug)]
pub enum Seen<K> {
    /// A (re)list begins: the objects that follow, up to [`Seen::Listed`], are everything there is.
    Relisting,
    /// An object listed, added or changed (trimmed).
    Object(K),
    /// The (re)list is complete.
    Listed,
    /// An object was deleted (as last seen, trimmed).
    Deleted(K),
    /// The connection changed (reported on transitions only).
    Connection(Connection),
}

/// Watches `api` (with `config`'s selectors) until `on` returns `false`, handing over every object
/// as it comes, trimmed, and keeping none: for a consumer that turns objects into something smaller
/// at once (an estate's batch records: tens of thousands, never all in memory as ConfigMaps). A
/// list arrives page by page (kube-runtime's pages of 500). Errors are retried with kube-runtime's
/// default back-off and reported as [`Seen::Connection`] (with `url` in the reason).
pub async fn watch_each<K, F>(api: Api<K>, config: watcher::Config, url: &str, trim: fn(&mut K), mut on: F)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    F: FnMut(Seen<K>) -> bool,
{
    let stream = kube::runtime::WatchStreamExt::default_backoff(watcher::watcher(api, config));
    futures::pin_mut!(stream);
    let mut up: Option<bool> = None;
    let kind = std::any::type_name::<K>().rsplit("::").next().unwrap_or("object");
    let mut connection = |state: Connection, on: &mut F| {
        let is_up = state == Connection::Up;
        if up == Some(is_up) {
            return true;
        }
        up = Some(is_up);
        match &state {
            Connection::Up => tracing::info!(url, kind, "watch up"),
            Connection::Down(why) => tracing::warn!(url, kind, %why, "watch down; kube-runtime retries with back-off"),
        }
        on(Seen::Connection(state))
    };
    while let Some(event) = stream.next().await {
        let alive = match event {
            Err(e) => connection(Connection::Down(Failure::of(&e, url)), &mut on),
            Ok(Event::Init) => on(Seen::Relisting),
            Ok(Event::InitApply(mut o)) => {
                trim(&mut o);
                on(Seen::Object(o))
            }
            Ok(Event::InitDone) => connection(Connection::Up, &mut on) && on(Seen::Listed),
            Ok(Event::Apply(mut o)) => {
                trim(&mut o);
                connection(Connection::Up, &mut on) && on(Seen::Object(o))
            }
            Ok(Event::Delete(mut o)) => {
                trim(&mut o);
                connection(Connection::Up, &mut on) && on(Seen::Deleted(o))
            }
        };
        if !alive {
            return;
        }
    }
}

/// Watches `api` (with `config`'s selectors) until `on` returns `false`, calling `on` for every
/// change; every object passes through `trim` before it is kept or reported (what the console
/// never reads need not stay in memory for its lifetime). Built on [`watch_each`]: it keeps every
/// object, so each change comes with the whole collection, and a relist says what vanished.
pub async fn watch<K, F>(api: Api<K>, config: watcher::Config, url: &str, trim: fn(&mut K), mut on: F)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    F: FnMut(Change<'_, K>) -> bool,
{
    let mut known: BTreeMap<String, K> = BTreeMap::new();
    let mut relist: Option<BTreeMap<String, K>> = None;
    let kind = std::any::type_name::<K>().rsplit("::").next().unwrap_or("object");
    watch_each(api, config, url, trim, |seen| match seen {
        Seen::Connection(c) => on(Change::Connection(c)),
        Seen::Relisting => {
            relist = Some(BTreeMap::new());
            true
        }
        Seen::Object(o) => {
            let k = key_of(&o);
            match relist.as_mut() {
                Some(listing) => {
                    listing.insert(k, o);
                    true
                }
                None => {
                    known.insert(k.clone(), o);
                    known.get(&k).is_none_or(|object| on(Change::Applied { all: &known, object }))
                }
            }
        }
        Seen::Listed => {
            let listed = relist.take().unwrap_or_default();
            let vanished: Vec<K> =
                known.iter().filter(|(k, _)| !listed.contains_key(*k)).map(|(_, v)| v.clone()).collect();
            tracing::debug!(url, kind, listed = listed.len(), vanished = vanished.len(), "watch listed");
            known = listed;
            on(Change::Listed { all: &known, vanished })
        }
        Seen::Deleted(o) => {
            known.remove(&key_of(&o));
            on(Change::Deleted { all: &known, object: o })
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_read_by_their_structure() {
        let status = |code: u16, message: &str| {
            kube::Error::Api(kube::core::Status::failure(message, "Forbidden").with_code(code).boxed())
        };
        let forbidden = watcher::Error::InitialListFailed(status(403, "pods is forbidden: User \"v\" cannot list"));
        assert_eq!(
            Failure::of(&forbidden, "https://x").to_string(),
            "access denied: pods is forbidden: User \"v\" cannot list"
        );
        // A message that merely mentions 403 is not a refusal.
        let gone = watcher::Error::WatchFailed(status(500, "upstream said 403 forbidden"));
        assert_eq!(Failure::of(&gone, "https://x"), Failure::Api(500, "upstream said 403 forbidden".into()));
        let none = watcher::Error::NoResourceVersion;
        assert!(matches!(Failure::of(&none, "https://x"), Failure::Unreachable { .. }));
    }
}
