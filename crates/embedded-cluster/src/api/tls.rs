//! TLS for the embedded API server. Clients such as kubectl refuse to send a bearer token over plain
//! HTTP, and kube-rs in production talks TLS, so the embedded cluster does too: a CA and a server
//! certificate for `127.0.0.1`/`localhost` are generated once per process, in memory, and the CA
//! goes into the kubeconfig as `certificate-authority-data`. The same CA signs client
//! certificates (`client_certificate`), which the server accepts as kube-apiserver does with
//! `--client-ca-file`: the certificate's CN is the user name, its O entries are its groups.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The process's TLS material.
pub struct Tls {
    /// The CA certificate in PEM, for kubeconfigs.
    pub ca_pem: String,
    /// The acceptor every embedded cluster's listener uses.
    pub acceptor: TlsAcceptor,
    /// The CA, to sign client certificates.
    issuer: Issuer<'static, KeyPair>,
    /// Who each client certificate this CA signed names (user, groups), by its DER: only this
    /// process holds the CA's key, so every certificate the server can verify is here, and its
    /// subject is read back without an X.509 parser.
    subjects: Mutex<HashMap<Vec<u8>, ClientSubject>>,
}

/// Who a client certificate says its holder is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSubject {
    /// The certificate's CN: the user name.
    pub user: String,
    /// Its O entries: the user's groups.
    pub groups: Vec<String>,
}

/// A client certificate and its key, both PEM (`client-certificate-data`, `client-key-data`).
#[derive(Clone, Debug)]
pub struct ClientCertificate {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

impl Tls {
    /// Signs a client certificate for `user` in `groups` (CN and O, as kube-apiserver reads them).
    pub fn client_certificate(&self, user: &str, groups: &[&str]) -> Result<ClientCertificate, String> {
        let fail = |e: rcgen::Error| format!("signing a client certificate for {user}: {e}");
        let key = KeyPair::generate().map_err(fail)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        params.distinguished_name.push(DnType::CommonName, user);
        for g in groups {
            params.distinguished_name.push(DnType::OrganizationName, *g);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.issuer).map_err(fail)?;
        let subject = ClientSubject { user: user.to_string(), groups: groups.iter().map(|g| g.to_string()).collect() };
        self.subjects.lock().unwrap_or_else(PoisonError::into_inner).insert(cert.der().to_vec(), subject);
        Ok(ClientCertificate { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Who a verified client certificate (DER) names.
    pub fn subject_of(&self, der: &[u8]) -> Option<ClientSubject> {
        self.subjects.lock().unwrap_or_else(PoisonError::into_inner).get(der).cloned()
    }
}

static TLS: OnceLock<Result<Tls, String>> = OnceLock::new();

/// The process-wide TLS material, generated on first use.
pub fn tls() -> Result<&'static Tls, String> {
    TLS.get_or_init(generate).as_ref().map_err(Clone::clone)
}

fn generate() -> Result<Tls, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("generating the embedded cluster's {what}: {e}");
    let ca_key = KeyPair::generate().map_err(|e| fail("CA key", &e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", &e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "tlc embedded cluster CA");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| fail("CA certificate", &e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(|e| fail("server key", &e))?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| fail("server certificate", &e))?;
    params.subject_alt_names.push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    params.distinguished_name.push(DnType::CommonName, "tlc embedded cluster");
    let cert = params.signed_by(&key, &issuer).map_err(|e| fail("server certificate", &e))?;

    let chain = vec![CertificateDer::from(cert.der().to_vec()), CertificateDer::from(ca_cert.der().to_vec())];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Client certificates are asked for, not required (bearer tokens remain the usual way), and
    // verified against the CA, as kube-apiserver's `--client-ca-file`.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_cert.der().to_vec())).map_err(|e| fail("client CA", &e))?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| fail("client certificate verifier", &e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS configuration", &e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, private)
        .map_err(|e| fail("TLS configuration", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
        issuer,
        subjects: Mutex::new(HashMap::new()),
    })
}
