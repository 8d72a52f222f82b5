//! Kubeconfigs as kubectl reads them, each form against an embedded cluster through the real
//! binary (`tlc tenants`): an exec credential plugin (as EKS, GKE, AKS and kubelogin use), the OIDC
//! auth provider's id-token, an HTTP CONNECT proxy and a SOCKS5 proxy (small ones here, which
//! record what they were asked), `insecure-skip-tls-verify`, `tls-server-name`, and client
//! certificates (the embedded cluster verifies them against its CA, as `--client-ca-file`).

use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use embedded_cluster::auth::User;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{DEADLINE, cluster_with};

struct Region {
    cluster: EmbeddedCluster,
    dir: tempfile::TempDir,
}

async fn region() -> Region {
    let cluster = cluster_with(ClusterConfig::new("eu-west")).await;
    tlc::demo::examples::seed(cluster.store(), "eu-west").expect("estate");
    Region { cluster, dir: tempfile::tempdir().expect("dir") }
}

impl Region {
    fn ca_data(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.cluster.ca_pem().as_bytes())
    }

    /// A kubeconfig with one context `eu-west`: `cluster` and `user` are the entries' bodies.
    fn kubeconfig(&self, name: &str, cluster: Value, user: Value) -> PathBuf {
        let doc = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "eu-west", "cluster": cluster}],
            "users": [{"name": "someone", "user": user}],
            "contexts": [{"name": "eu-west", "context": {"cluster": "eu-west", "user": "someone", "namespace": "tenants"}}],
            "current-context": "eu-west",
        });
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write kubeconfig");
        path
    }

    /// The cluster entry with the server's URL and CA.
    fn cluster_entry(&self) -> Value {
        json!({"server": self.cluster.url(), "certificate-authority-data": self.ca_data()})
    }

    fn admin_token(&self) -> String {
        self.cluster.kubeconfig_entries().into_iter().find(|e| e.context == "eu-west").expect("admin").token
    }

    async fn tenants(&self, kubeconfig: &PathBuf) -> Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"));
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--context", "eu-west", "tenants", "-o", "json"])
            .env_remove("TLC_CONFIG")
            .env("TLC_DATA_DIR", self.dir.path().join("data"))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        tokio::time::timeout(DEADLINE, cmd.output()).await.expect("tlc finishes").expect("tlc runs")
    }
}

fn listed(out: &Output) -> usize {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let tenants: Value = serde_json::from_slice(&out.stdout).expect("json");
    tenants.as_array().map_or(0, Vec::len)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn an_exec_credential_plugin_gives_the_token_and_its_failure_is_said() {
    let r = region().await;
    let plugin = r.dir.path().join("credential-plugin");
    let credential = json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"token": r.admin_token()}});
    std::fs::write(&plugin, format!("#!/bin/sh\necho '{credential}'\n")).expect("plugin");
    let failing = r.dir.path().join("failing-plugin");
    std::fs::write(&failing, "#!/bin/sh\necho 'error: you must log in (aws sso login)' >&2\nexit 1\n").expect("plugin");
    for p in [&plugin, &failing] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("executable");
    }
    let exec = |command: &PathBuf| {
        json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command.display().to_string(),
            "args": ["token", "--cluster", "eu-west"], "interactiveMode": "Never"}})
    };
    let ok = r.kubeconfig("exec", r.cluster_entry(), exec(&plugin));
    assert_eq!(listed(&r.tenants(&ok).await), 6);
    let bad = r.kubeconfig("exec-failing", r.cluster_entry(), exec(&failing));
    let out = r.tenants(&bad).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "tlc: kube context \"eu-west\": the kubeconfig's credential plugin {} failed (exit code 1): error: you must log in (aws sso login)",
            failing.display()
        ),
        "the plugin's own words reach the operator"
    );
}

#[tokio::test]
async fn the_oidc_auth_provider_sends_its_id_token() {
    let r = region().await;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = jiff::Timestamp::now().as_second() + 3600;
    let id_token = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "typ": "JWT"})),
        b64(&json!({"iss": "https://idp.example", "sub": "alice", "aud": "tlc", "exp": exp})),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"signature")
    );
    r.cluster.add_user(User::read_only("alice", &id_token));
    let user = json!({"auth-provider": {"name": "oidc", "config": {
        "client-id": "tlc", "idp-issuer-url": "https://idp.example", "id-token": id_token, "refresh-token": "unused"}}});
    let path = r.kubeconfig("oidc", r.cluster_entry(), user);
    assert_eq!(listed(&r.tenants(&path).await), 6);
}

#[tokio::test]
async fn a_client_certificate_authenticates_its_cn_and_rbac_answers_for_that_user() {
    let r = region().await;
    r.cluster.add_user(User::read_only("carol", "carol-token-unused-here"));
    let pem64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
    let cert = r.cluster.client_certificate("carol", &["platform"]).expect("a certificate for carol");
    let user = json!({"client-certificate-data": pem64(&cert.cert_pem), "client-key-data": pem64(&cert.key_pem)});
    let path = r.kubeconfig("carol", r.cluster_entry(), user);
    assert_eq!(listed(&r.tenants(&path).await), 6, "carol may read the tenants");

    // The same files on disk (`client-certificate`, `client-key`), as kubeadm writes them.
    let (cert_file, key_file) = (r.dir.path().join("carol.crt"), r.dir.path().join("carol.key"));
    std::fs::write(&cert_file, &cert.cert_pem).expect("write the certificate");
    std::fs::write(&key_file, &cert.key_pem).expect("write the key");
    let user = json!({"client-certificate": cert_file, "client-key": key_file});
    let path = r.kubeconfig("carol-files", r.cluster_entry(), user);
    assert_eq!(listed(&r.tenants(&path).await), 6);

    // A name no rule or binding knows is authenticated, then refused by RBAC, by its name.
    let cert = r.cluster.client_certificate("mallory", &[]).expect("a certificate for mallory");
    let user = json!({"client-certificate-data": pem64(&cert.cert_pem), "client-key-data": pem64(&cert.key_pem)});
    let out = r.tenants(&r.kubeconfig("mallory", r.cluster_entry(), user)).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        r#"tlc: eu-west: forbidden: cannot list configmaps in namespace tenants (configmaps is forbidden: User "mallory" cannot list resource "configmaps" in API group "" in the namespace "tenants")"#
    );
}

/// A small proxy on loopback: HTTP CONNECT or SOCKS5 (no authentication), recording each target.
async fn proxy(socks: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let record = record.clone();
            tokio::spawn(async move {
                let target = if socks { socks5_target(&mut client).await } else { connect_target(&mut client).await };
                let Some(target) = target else { return };
                record.lock().unwrap().push(target.clone());
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else { return };
                let reply: &[u8] = if socks {
                    &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]
                } else {
                    b"HTTP/1.1 200 Connection established\r\n\r\n"
                };
                if client.write_all(reply).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (port, seen)
}

async fn connect_target(client: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        client.read_exact(&mut byte).await.ok()?;
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_string();
    let mut words = line.split_whitespace();
    (words.next()? == "CONNECT").then(|| words.next().map(str::to_string))?
}

async fn socks5_target(client: &mut tokio::net::TcpStream) -> Option<String> {
    let mut hello = [0u8; 2];
    client.read_exact(&mut hello).await.ok()?;
    let mut methods = vec![0u8; hello[1] as usize];
    client.read_exact(&mut methods).await.ok()?;
    client.write_all(&[5, 0]).await.ok()?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await.ok()?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await.ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await.ok()?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name).await.ok()?;
            String::from_utf8(name).ok()?
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await.ok()?;
    Some(format!("{host}:{}", u16::from_be_bytes(port)))
}

#[tokio::test]
async fn proxy_url_goes_through_an_http_connect_or_a_socks5_proxy() {
    let r = region().await;
    let server = r.cluster.url();
    let authority = server.trim_start_matches("https://").trim_end_matches('/').to_string();
    for (scheme, socks) in [("http", false), ("socks5", true)] {
        let (port, seen) = proxy(socks).await;
        let mut cluster = r.cluster_entry();
        cluster["proxy-url"] = json!(format!("{scheme}://127.0.0.1:{port}"));
        let path = r.kubeconfig(&format!("proxy-{scheme}"), cluster, json!({"token": r.admin_token()}));
        assert_eq!(listed(&r.tenants(&path).await), 6, "{scheme}");
        let targets = seen.lock().unwrap().clone();
        assert!(!targets.is_empty() && targets.iter().all(|t| *t == authority), "{scheme} proxy saw {targets:?}");
    }
}

#[tokio::test]
async fn insecure_skip_tls_verify_and_tls_server_name_are_honoured_and_verification_is_the_default() {
    let r = region().await;
    let token = json!({"token": r.admin_token()});
    let server = r.cluster.url();
    let unverified = r.kubeconfig("no-ca", json!({"server": server}), token.clone());
    let out = r.tenants(&unverified).await;
    assert_eq!(out.status.code(), Some(1), "an unknown CA is refused by default");
    assert!(stderr(&out).to_lowercase().contains("certificate"), "{}", stderr(&out));
    let skip = r.kubeconfig("skip", json!({"server": server, "insecure-skip-tls-verify": true}), token.clone());
    assert_eq!(listed(&r.tenants(&skip).await), 6);
    let mut named = r.cluster_entry();
    named["tls-server-name"] = json!("localhost");
    let named = r.kubeconfig("server-name", named, token.clone());
    assert_eq!(listed(&r.tenants(&named).await), 6, "the certificate names localhost");
    let mut wrong = r.cluster_entry();
    wrong["tls-server-name"] = json!("api.elsewhere.example");
    let wrong = r.kubeconfig("wrong-name", wrong, token);
    let out = r.tenants(&wrong).await;
    assert_eq!(out.status.code(), Some(1), "a name the certificate does not carry is refused");
    assert!(stderr(&out).to_lowercase().contains("certificate"), "{}", stderr(&out));
}
