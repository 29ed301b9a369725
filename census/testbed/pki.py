"""The testbed's own certificate authority and per-host certificates chosen by SNI.

One EC key serves every leaf certificate (generating a key per host would dominate start-up for
20k hosts); certificates are signed lazily in the SNI callback and cached.  TLS kinds:
``valid`` (CA-signed for the name), ``expired``, ``wrong_host`` (CA-signed for another name),
``self_signed`` (outside the CA bundle) and ``handshake_fail`` (the callback answers with a
handshake-failure alert).
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TestbedCA"]

_CONTEXT_CACHE = 4096


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "census testbed"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


class TestbedCA:
    """A CA written to ``directory`` (``ca.pem``) and a server SSLContext selecting certs by SNI."""

    def __init__(self, directory: Path, tls_kind: Callable[[str], str | None]) -> None:
        self._dir = directory / ".certs"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._kind = tls_kind
        now = dt.datetime.now(dt.UTC)
        self._now = now
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_name = _name("census testbed CA")
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(self._ca_name)
            .issuer_name(self._ca_name)
            .public_key(self._ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._ca_key.public_key()),
                critical=False,
            )
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca_pem = self.ca_cert.public_bytes(serialization.Encoding.PEM)
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._key_path = self._dir / "leaf.key"
        self._key_path.write_bytes(
            self._leaf_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._self_key = ec.generate_private_key(ec.SECP256R1())
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self._counter = 0
        self.server_context = self._context_for("testbed.invalid", "valid")
        self.server_context.sni_callback = self._sni

    def write_bundle(self, path: Path) -> None:
        path.write_bytes(self.ca_pem)

    def _leaf(self, host: str, kind: str) -> bytes:
        now = self._now
        not_before, not_after = now - dt.timedelta(days=30), now + dt.timedelta(days=90)
        names = [host]
        issuer, sign_key = self._ca_name, self._ca_key
        if kind == "expired":
            not_before, not_after = now - dt.timedelta(days=400), now - dt.timedelta(days=10)
        elif kind == "wrong_host":
            names = [f"wrong-host.{host}.invalid"]
        elif kind == "self_signed":
            issuer, sign_key = _name(host), self._self_key
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(issuer)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if kind != "self_signed":
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                critical=False,
            )
        cert = builder.sign(sign_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM)

    def _context_for(self, host: str, kind: str) -> ssl.SSLContext:
        key = f"{kind}:{host}"
        ctx = self._contexts.get(key)
        if ctx is not None:
            self._contexts.move_to_end(key)
            return ctx
        self._counter += 1
        cert_path = self._dir / f"c{self._counter % _CONTEXT_CACHE}.pem"
        cert_path.write_bytes(self._leaf(host, kind))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        ctx.load_cert_chain(cert_path, self._key_path)
        self._contexts[key] = ctx
        if len(self._contexts) > _CONTEXT_CACHE:
            self._contexts.popitem(last=False)
        return ctx

    def _sni(
        self, sslobj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext
    ) -> int | None:
        if not server_name:
            return None  # IP literal: the default certificate
        kind = self._kind(server_name.lower())
        if kind is None or kind == "plain":
            return None
        if kind == "handshake_fail":
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        sslobj.context = self._context_for(server_name.lower(), kind)
        return None
