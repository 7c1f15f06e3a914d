"""Fresh private keys for the tests, and their PEM encodings."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def new_private_key(algorithm: str = "RS256") -> Any:
    """Return a new private key for ``algorithm``: RS256, ES256 or EdDSA."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: Any) -> str:
    """Return the public half of the private ``key`` as PEM."""
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


def rsa_private_pem() -> str:
    """Return a new 2048-bit RSA private key as PEM."""
    return private_pem(new_private_key("RS256"))


def public_pem_of(private: str) -> str:
    """Return the public key of the private key in the PEM ``private``."""
    return public_pem(
        serialization.load_pem_private_key(private.encode(), password=None)
    )
