//! TLS for the embedded API server. Clients such as kubectl refuse to send a bearer token over plain
//! HTTP, and kube-rs in production talks TLS, so the embedded cluster does too: a CA and a server
//! certificate for `127.0.0.1`/`localhost` are generated once per process, in memory, and the CA
//! goes into the kubeconfig as `certificate-authority-data`.

use std::sync::{Arc, OnceLock};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The process's TLS material.
pub struct Tls {
    /// The CA certificate in PEM, for kubeconfigs.
    pub ca_pem: String,
    /// The acceptor every embedded cluster's listener uses.
    pub acceptor: TlsAcceptor,
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
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS configuration", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| fail("TLS configuration", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { ca_pem: ca_cert.pem(), acceptor: TlsAcceptor::from(Arc::new(config)) })
}
