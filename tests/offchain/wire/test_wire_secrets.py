"""The secrets bundle format: pinned bytes and signatures, strict shares, the shared EIP-712 code.

The pinned values were computed before the format moved into ``peerhost.wire``: bundles already
stored by CID and signed by owners must keep their bytes, so any change here is a break.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account
from eth_utils import keccak

from peerhost.secrets import SecretsError, as_signer, derive_vault_key
from peerhost.wire.eip712 import domain, sign_signable
from peerhost.wire.errors import BundleMalformed
from peerhost.wire.secrets import (
    PAD_TO,
    Bundle,
    Share,
    bundle_json,
    bundle_message,
    bundle_signer,
    decode_share,
    encode_share,
    recover,
    secrets_domain,
    signed_bundle,
    vault_key_message,
)

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OWNER = Account.from_key(KEY).address.lower()
REGISTRY = "0x" + "5f" * 20
UNSIGNED = Bundle(
    chain_id=31337,
    registry=REGISTRY,
    owner=OWNER,
    project="shop",
    nonce=bytes(range(32)),
    created_at=1767225600,
    expires_at=1774915200,
    secrets=(("API_KEY", 1767225600), ("DB_URL", 1767225601)),
    shares={"0x" + "ab" * 20: Share(key=b"\x07" * 32, box=b"sealed-box-bytes")},
    owner_share=Share(key=b"\x09" * 32, box=b"owner-box"),
    signature=b"",
)
VALUES = {"API_KEY": "s\u00e9cret \u2603", "DB_URL": "postgres://x"}

PINNED_SIGNATURE = (
    "fc517162c5852cf144cd20acf7fb75dbd39d8d79c5f9fa37b66eaad5925116136a"
    "59cad018ce385043e8eb850910e565c1ae0cd65fbb05279f110e4182bd9a531c"
)
PINNED_BUNDLE_KECCAK = "05b19caca1812d079f5c368a58c7babfcfacb0dcb9800b275ea4a5fcb4ab1519"
PINNED_DIGEST = "f459536f7ab3fdf65e5be7c0b902358eeb21c24396c631b6996aab6dbdc5318e"
PINNED_SHARE_KECCAK = "1dbaa5e0b8aa49a85b00f189f22b6f36e4e602c94f2a7264c58aa4cbca74c18d"
PINNED_VAULT_SIGNATURE = (
    "d097e3cd6278af0aa69c1e472a39e9be0ecf66f1c73945ea5341e57dbb195bde35"
    "325363cb4cf330c5be9bff60d42e70882f0fd3c6530c241c7c5c5f7890dee11b"
)
PINNED_VAULT_PUBLIC = "89166bf88dc440c4d8755a8e4b5a7a052e3df8b79027c41c75969d3f420a4f1c"


def _digest(message: object) -> bytes:
    signable = message.signable_message  # type: ignore[attr-defined]
    return keccak(b"\x19\x01" + signable.header + signable.body)


def test_signed_bundle__pinned_owner_key__pinned_bytes_and_signature() -> None:
    data = signed_bundle(UNSIGNED, as_signer(KEY))
    assert keccak(data).hex() == PINNED_BUNDLE_KECCAK
    assert Bundle.from_bytes(data).signature.hex() == PINNED_SIGNATURE
    assert _digest(bundle_message(UNSIGNED)).hex() == PINNED_DIGEST


def test_signed_bundle__parsed_back__same_bytes_and_signer_is_owner() -> None:
    data = signed_bundle(UNSIGNED, as_signer(KEY))
    parsed = Bundle.from_bytes(data)
    assert parsed.to_bytes() == data
    assert bundle_signer(parsed) == OWNER


def test_signed_bundle__signer_not_owner__permission_error() -> None:
    other = Account.create().key
    with pytest.raises(PermissionError, match=OWNER):
        signed_bundle(UNSIGNED, as_signer(other))


@pytest.mark.parametrize(
    "change",
    [
        {"project": "other"},
        {"expires_at": 1774915201},
        {"chain_id": 1},
        {"registry": "0x" + "6f" * 20},
        {"secrets": (("API_KEY", 1767225600),)},
    ],
    ids=["project", "expiry", "chain", "registry", "listing"],
)
def test_bundle_signer__field_changed_after_signing__not_the_owner(change: dict) -> None:
    signed = Bundle.from_bytes(signed_bundle(UNSIGNED, as_signer(KEY)))
    assert bundle_signer(replace(signed, **change)) != OWNER


def test_bundle_signer__junk_signature__none() -> None:
    assert bundle_signer(replace(UNSIGNED, signature=bytes(65))) is None
    assert recover(bundle_message(UNSIGNED), b"short") is None


def test_encode_share__pinned_values__pinned_padded_ascii_bytes() -> None:
    plaintext = encode_share(UNSIGNED.binding("owner"), VALUES)
    assert len(plaintext) % PAD_TO == 0
    assert plaintext.isascii() and b"\\u00e9" in plaintext and b"\\u2603" in plaintext
    assert keccak(plaintext).hex() == PINNED_SHARE_KECCAK


def test_decode_share__encoded__round_trips() -> None:
    binding = UNSIGNED.binding("0x" + "ab" * 20)
    assert decode_share(encode_share(binding, VALUES), "w") == (binding, VALUES)


@pytest.mark.parametrize(
    "plaintext",
    [b"\xff\xfe", b"[]", b'{"binding":{}}', b'{"binding":[],"values":{}}', b"not json"],
    ids=["not-utf8", "list", "no-values", "binding-not-object", "not-json"],
)
def test_decode_share__not_a_share__bundle_malformed_naming_recipient(plaintext: bytes) -> None:
    with pytest.raises(BundleMalformed, match="share for 0xabc is not a share") as info:
        decode_share(plaintext, "0xabc")
    assert isinstance(info.value, SecretsError)


def test_bundle_json__the_bundle_variant__ascii_escaped_nan_allowed() -> None:
    # unlike peerhost.wire.canonical_json (UTF-8, no NaN): the bytes of stored bundles
    assert bundle_json({"y": "\u00e9", "x": float("nan")}) == b'{"x":NaN,"y":"\\u00e9"}'


def test_secrets_domain__shared_domain_helper__peerhost_secrets_v1() -> None:
    assert secrets_domain(31337, REGISTRY) == {
        f"eip712_{k}": v
        for k, v in domain(31337, REGISTRY, name="PeerHost Secrets", version="1").items()
    }
    assert secrets_domain(31337, REGISTRY)["eip712_name"] == "PeerHost Secrets"
    assert domain(31337, REGISTRY)["name"] == "PeerHost"  # the protocol's domain is unchanged


def test_vault_key_message__pinned_owner_key__pinned_signature_and_vault_key() -> None:
    message = vault_key_message(chain_id=31337, registry=REGISTRY, owner=OWNER)
    assert sign_signable(KEY, message.signable_message).hex() == PINNED_VAULT_SIGNATURE
    vault = derive_vault_key(as_signer(KEY), chain_id=31337, registry=REGISTRY, owner=OWNER)
    assert bytes(vault.public_key).hex() == PINNED_VAULT_PUBLIC
