//! TLS for the central database with rustls, verifying what libpq's `sslmode` says:
//! nothing (`require`, `prefer`), the chain (`verify-ca`), or the chain and the host name
//! (`verify-full`).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::CentralError;
use super::url::{ClientCertificate, Roots, TlsMode};

/// The rustls connector for `mode`, presenting `client` if given (None: plain TCP).
pub fn connector(
    mode: &TlsMode,
    client: Option<&ClientCertificate>,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, CentralError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| CentralError::Tls(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        TlsMode::Disable => return Ok(None),
        TlsMode::Prefer | TlsMode::Require => Arc::new(Relaxed {
            provider,
            chain: None,
        }),
        TlsMode::VerifyCa { roots } => Arc::new(Relaxed {
            chain: Some(webpki(roots, &provider)?),
            provider,
        }),
        TlsMode::VerifyFull { roots } => webpki(roots, &provider)?,
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(client) => {
            let bad_key = |reason: String| CentralError::Certificate {
                option: "sslkey",
                path: client.key.clone(),
                reason,
            };
            let chain = certificates(&client.cert, "sslcert")?;
            let key =
                PrivateKeyDer::from_pem_file(&client.key).map_err(|e| bad_key(e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad_key(e.to_string()))?
        }
    };
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

fn webpki(
    roots: &Roots,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, CentralError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::System => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Roots::File(path) => {
            for cert in certificates(path, "sslrootcert")? {
                store.add(cert).map_err(|e| CentralError::Certificate {
                    option: "sslrootcert",
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| CentralError::Tls(e.to_string()))
}

/// The certificates of a PEM file (at least one).
fn certificates(
    path: &std::path::Path,
    option: &'static str,
) -> Result<Vec<CertificateDer<'static>>, CentralError> {
    let bad = |reason: String| CentralError::Certificate {
        option,
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("it holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// What `require`/`prefer` and `verify-ca` check of the server's certificate: with
/// `chain`, that it leads to a trusted root whatever name it bears (`verify-ca`);
/// without, nothing (encrypted, unverified: libpq's `require`; say `verify-full` to be
/// protected from an active attacker). Handshake signatures are always verified.
#[derive(Debug)]
struct Relaxed {
    provider: Arc<rustls::crypto::CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
