"""A private certificate authority for tests that serve https on loopback."""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _ca_extensions(builder: x509.CertificateBuilder, key) -> x509.CertificateBuilder:
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )


def private_ca(folder: Path, *, names: list[str]) -> Path:
    """Write ca.pem, and leaf.pem with key.pem for `names` (host names or IP addresses), into
    `folder`; valid for an hour either side of now."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tessera test CA")])
    validity = {
        "not_valid_before": now - datetime.timedelta(hours=1),
        "not_valid_after": now + datetime.timedelta(hours=1),
    }
    ca = _ca_extensions(
        x509.CertificateBuilder(issuer_name=ca_name, subject_name=ca_name, **validity)
        .public_key(ca_key.public_key())
        .serial_number(1),
        ca_key,
    ).sign(ca_key, hashes.SHA256())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    # Python 3.13 verifies strictly (VERIFY_X509_STRICT): the leaf names its issuer's key.
    issuer_key = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    leaf = (
        x509.CertificateBuilder(issuer_name=ca_name, subject_name=x509.Name([]), **validity)
        .public_key(key.public_key())
        .serial_number(2)
        .add_extension(x509.SubjectAlternativeName(alternatives), True)
        .add_extension(issuer_key, False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder
