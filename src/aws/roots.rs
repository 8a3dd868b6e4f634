//! Which certificate authorities the AWS clients trust.
//!
//! By default only Amazon Trust Services' roots (`amazon-trust-services.pem`, compiled in): every
//! AWS service endpoint's certificate chains to one of them. Two reasons:
//! - an alert path that trusts five roots cannot be intercepted with a certificate from any of
//!   the other hundred-odd public CAs;
//! - the platform store is read and parsed at every cold start: without it the init in
//!   `make bench` (the emulator's INIT REPORT) went from 13 to about 4 ms on this machine; five
//!   compiled-in roots cost nothing.
//!
//! Everything else is the SDK's default client, proxy variables included.
//!
//! `TRUSTED_ROOTS=system` trusts the platform's store instead (it honours SSL_CERT_FILE and
//! SSL_CERT_DIR): for egress through a TLS-inspecting proxy, or a partition whose endpoints
//! chain elsewhere.

use aws_sdk_cloudtrail::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

use crate::config::TrustedRoots;

/// The five roots of Amazon Trust Services, PEM.
pub const AMAZON_TRUST_SERVICES_PEM: &[u8] = include_bytes!("amazon-trust-services.pem");

/// The HTTPS client every AWS client shares, trusting `roots`.
pub fn https_client(roots: TrustedRoots) -> SharedHttpClient {
    let store = match roots {
        TrustedRoots::AmazonTrustServices => {
            TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_PEM)
        }
        TrustedRoots::System => TrustStore::default(),
    };
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .unwrap_or_else(|e| {
            // Cannot happen with this SDK version (building only stores the settings); were it
            // to, alerts keep flowing on the SDK's own default rather than stopping.
            tracing::error!(error = %e, "trusted roots not applied: using the platform's store");
            TlsContext::default()
        });
    // Built the way the SDK builds its own default client, trusted roots aside: the connection
    // settings and sleep of each client, and a proxy from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and
    // NO_PROXY (egress through an explicit proxy must keep working).
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    /// The SDK parses these lazily and panics on a bad one (a dead runtime in a release build):
    /// prove here that all five are there and parse.
    #[test]
    fn the_compiled_in_roots_are_five_parsable_certificates() {
        let certificates: Vec<CertificateDer<'_>> =
            CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_PEM)
                .collect::<Result<_, _>>()
                .expect("valid PEM");
        assert_eq!(certificates.len(), 5);
        let mut roots = rustls::RootCertStore::empty();
        let (valid, invalid) = roots.add_parsable_certificates(certificates);
        assert_eq!((valid, invalid), (5, 0));
    }
}
