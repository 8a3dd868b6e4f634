"""How the function reaches AWS: which certificate authorities it trusts, on the real runtime
over real TLS, and egress through an explicit proxy.

The function reaches moto through our proxy (faults.py) serving HTTPS with a certificate from a
certificate authority made for the test, the way a TLS-inspecting egress proxy re-signs AWS's
endpoints with a company CA:

- by default (TRUSTED_ROOTS unset: Amazon Trust Services' roots only) the function refuses that
  certificate even with the CA in SSL_CERT_FILE (the platform store is not read): no request gets
  through, and the publish fails as an error result naming the
  certificate, so Lambda retries and then parks the event; nothing is published unverified;
- with TRUSTED_ROOTS=system and that CA in SSL_CERT_FILE, the platform store is used: the
  lookups and the publish go through the TLS proxy and the alert arrives, enriched;
- HTTP_PROXY is honoured as by the SDK's own client (choosing the trusted roots builds the HTTPS
  client ourselves, which must not lose it): every call goes through the proxy, and NO_PROXY
  still bypasses it.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import faults
import harness

SAMPLE = "stop-logging"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trailwatch tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def company_ca(tmp_path_factory) -> tuple[Path, ssl.SSLContext]:
    """A CA of our own and a certificate it signed for 127.0.0.1: (the CA's PEM file, a server
    context presenting the certificate)."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("trailwatch test CA")).issuer_name(_name("trailwatch test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "company-ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key = folder / "server.key"
    key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    return ca_file, context


@pytest.fixture
def tls_proxy(moto, company_ca):
    with faults.FaultProxy(moto.endpoint, tls=company_ca[1]) as proxy:
        yield proxy


def test_by_default_a_certificate_from_another_ca_is_refused_and_nothing_is_published(moto, world, tls_proxy, company_ca):
    queue = world()
    # The CA is even named where the platform store would find it: by default that store is not
    # read at all, so this still fails.
    env = {"SSL_CERT_FILE": str(company_ca[0]), "SSL_CERT_DIR": str(company_ca[0].parent)}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, tls_proxy.endpoint, env) as function:
        result = function.invoke(harness.load_event(harness.EVENTS / f"{SAMPLE}.json"))
        # The log may arrive after the answer.
        function.wait_for_output("UnknownIssuer")
        output = function.output()
    body = result.json()
    assert body.get("errorType") == "PublishFailed", body
    assert "invalid peer certificate: UnknownIssuer" in body.get("errorMessage", ""), body
    assert "UnknownIssuer" in output, output[-2000:]
    assert tls_proxy.counts() == {}, "no request may get past a refused handshake"
    assert harness.delivered(moto, queue) == []


def test_trusted_roots_system_honours_ssl_cert_file_and_the_alert_arrives(moto, world, tls_proxy, company_ca):
    queue = world()
    event = harness.load_event(harness.EVENTS / f"{SAMPLE}.json")
    assert harness.replay(moto, event), "the trail is stopped, as after the call"
    env = {"TRUSTED_ROOTS": "system", "SSL_CERT_FILE": str(company_ca[0])}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, tls_proxy.endpoint, env) as function:
        result = function.invoke(event)
    assert result.status == 200 and not result.function_error, result.body
    assert result.json()["status"] == "published", result.body
    counts = tls_proxy.counts()
    assert counts.get(("sns", "Publish")) == 1, counts
    assert counts.get(("cloudtrail", "GetTrailStatus"), 0) >= 1, counts
    [alert] = harness.delivered(moto, queue)
    document = alert.alert
    # Looked up through the TLS proxy: moto's answer, the trail stopped.
    assert document["resourceState"]["status"]["isLogging"] is False, document["resourceState"]


@pytest.mark.parametrize("bypassed", [False, True], ids=["through-the-proxy", "no-proxy-bypasses-it"])
def test_an_explicit_proxy_is_honoured(moto, world, proxy_for_egress, bypassed):
    queue = world()
    env = {"HTTP_PROXY": proxy_for_egress.endpoint, "HTTPS_PROXY": proxy_for_egress.endpoint}
    if bypassed:
        env["NO_PROXY"] = "127.0.0.1"
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        result = function.invoke(harness.load_event(harness.EVENTS / f"{SAMPLE}.json"))
    assert result.json().get("status") == "published", result.body
    assert len(harness.delivered(moto, queue)) == 1
    counts = proxy_for_egress.counts()
    if bypassed:
        assert counts == {}, counts
    else:
        assert counts.get(("sns", "Publish")) == 1, counts
        assert counts.get(("cloudtrail", "GetTrailStatus"), 0) >= 1, counts


@pytest.fixture
def proxy_for_egress(moto):
    with faults.FaultProxy(moto.endpoint) as proxy:
        yield proxy
