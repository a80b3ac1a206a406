"""seal_bundle / open_bundle / list_secrets / recover_values: round trips and every refusal."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from eth_account import Account
from nacl.public import PrivateKey
from secrets_support import CHAIN_ID, EXPIRY, NOW, PROJECT, REGISTRY, VALUES

from peerhost.errors import PeerHostError
from peerhost.secrets import (
    Bundle,
    BundleBindingMismatch,
    BundleExpired,
    BundleMalformed,
    BundleSignatureInvalid,
    InvalidSecretName,
    InvalidSecretValue,
    OwnerShareUnreadable,
    ResealNeeded,
    SecretsError,
    derive_vault_key,
    list_secrets,
    recover_values,
    sign_bundle,
)
from peerhost.wire.secrets import PAD_TO

# ---- round trip ---------------------------------------------------------------------------


def test_open__each_sealed_worker__gets_all_values(bundle, open_as, sealed_workers):
    for worker in sealed_workers:
        assert open_as(bundle, worker) == VALUES


def test_open__checksummed_or_lowercase_addresses__same_result(bundle, open_as, wallet):
    assert (
        open_as(bundle, expected_owner=wallet.address.lower(), registry=REGISTRY.lower()) == VALUES
    )


def test_seal__unicode_and_empty_values__round_trip(seal, open_as):
    values = {"GREETING": "grüß dich ✓", "EMPTY": "", "MULTI_LINE": 'a\nb\r\n"c"\\'}
    assert open_as(seal(values)) == values


def test_seal__same_input_twice__different_nonce_and_bytes(seal):
    first, second = Bundle.from_bytes(seal()), Bundle.from_bytes(seal())
    assert first.nonce != second.nonce


def test_seal__output__canonical_json_with_no_value_in_clear(bundle):
    parsed = Bundle.from_bytes(bundle)
    assert parsed.to_bytes() == bundle
    assert json.dumps(json.loads(bundle), sort_keys=True, separators=(",", ":")).encode() == bundle
    for value in VALUES.values():
        assert value.encode() not in bundle


def test_seal__short_and_long_values__shares_padded_to_the_same_size(seal):
    short = Bundle.from_bytes(seal({"A": "x"}))
    longer = Bundle.from_bytes(seal({"A": "x" * 150}))
    sizes = {len(s.box) for b in (short, longer) for s in b.shares.values()}
    assert len(sizes) == 1
    assert (sizes.pop() - 48) % PAD_TO == 0  # sealed box overhead is 48 bytes


# ---- names without decrypting -----------------------------------------------------------------


def test_list_secrets__no_keys__names_and_set_times(seal):
    data = seal(set_at={"DB_URL": NOW - 100})
    assert list_secrets(data) == [("DB_URL", NOW - 100), ("STRIPE_KEY", NOW)]


def test_list_secrets__not_a_bundle__malformed():
    with pytest.raises(BundleMalformed):
        list_secrets(b"hello")


# ---- tampering ------------------------------------------------------------------------------


def _edit(data: bytes, edit) -> bytes:
    raw = json.loads(data)
    edit(raw)
    return json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()


def test_open__tampered_ciphertext__signature_invalid(bundle, open_as, sealed_workers):
    worker = sealed_workers[0].address.lower()

    def flip(raw):
        box = bytearray(base64.b64decode(raw["shares"][worker]["box"]))
        box[-1] ^= 1
        raw["shares"][worker]["box"] = base64.b64encode(bytes(box)).decode()

    with pytest.raises(BundleSignatureInvalid):
        open_as(_edit(bundle, flip))


def test_open__tampered_signature__signature_invalid(bundle, open_as):
    def flip(raw):
        sig = bytearray(bytes.fromhex(raw["signature"][2:]))
        sig[10] ^= 0xFF
        raw["signature"] = "0x" + sig.hex()

    with pytest.raises(BundleSignatureInvalid):
        open_as(_edit(bundle, flip))


def test_open__extended_expiry__signature_invalid(bundle, open_as):
    with pytest.raises(BundleSignatureInvalid):
        open_as(_edit(bundle, lambda raw: raw.update(expiresAt=EXPIRY + 10**6)))


def test_open__share_dropped_from_listing__signature_invalid(bundle, open_as, sealed_workers):
    victim = sealed_workers[1].address.lower()
    with pytest.raises(BundleSignatureInvalid):
        open_as(_edit(bundle, lambda raw: raw["shares"].pop(victim)))


def test_open__owner_field_rewritten_to_victim__signature_invalid(
    seal, open_as, wallet, other_wallet
):
    mallory = seal(owner_key=other_wallet.key, owner_address=other_wallet.address)
    forged = _edit(mallory, lambda raw: raw.update(owner=wallet.address.lower()))
    with pytest.raises(BundleSignatureInvalid) as info:
        open_as(forged)
    assert info.value.signer != wallet.address.lower()


def test_open__non_canonical_bytes__malformed(bundle, open_as):
    with pytest.raises(BundleMalformed):
        open_as(json.dumps(json.loads(bundle), indent=1).encode())


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"format":"other"}', b'{"format":"peerhost-secrets","version":2}'],
)
def test_open__not_a_bundle__malformed(open_as, data):
    with pytest.raises(BundleMalformed):
        open_as(data)


# ---- re-targeting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"project": "blog"}, "project"),
        ({"chain_id": 1}, "chain id"),
        ({"registry": "0x" + "22" * 20}, "registry"),
    ],
)
def test_open__other_project_chain_or_registry__binding_mismatch(bundle, open_as, override, field):
    with pytest.raises(BundleBindingMismatch) as info:
        open_as(bundle, **override)
    assert info.value.field == field


def test_open__other_wallets_pointer_to_this_bundle__binding_mismatch(
    bundle, open_as, other_wallet
):
    # Mallory points her project at Alice's bundle: workers expect Mallory as owner.
    with pytest.raises(BundleBindingMismatch) as info:
        open_as(bundle, expected_owner=other_wallet.address)
    assert info.value.field == "owner"


def test_open__share_copied_into_another_wallets_bundle__binding_mismatch(
    bundle, seal, open_as, other_wallet, sealed_workers
):
    # Mallory copies Alice's (public) share for a worker into her own, validly signed bundle,
    # hoping the worker decrypts Alice's values into Mallory's function.
    worker = sealed_workers[0].address.lower()
    alice = Bundle.from_bytes(bundle)
    mallory = Bundle.from_bytes(
        seal(owner_key=other_wallet.key, owner_address=other_wallet.address)
    )
    spliced = sign_bundle(
        replace(mallory, shares={**mallory.shares, worker: alice.shares[worker]}), other_wallet.key
    )
    with pytest.raises(BundleBindingMismatch) as info:
        open_as(spliced, expected_owner=other_wallet.address)
    assert info.value.field == "share owner"


def test_open__share_copied_from_an_older_bundle__binding_mismatch(
    seal, open_as, wallet, sealed_workers
):
    worker = sealed_workers[0].address.lower()
    old = Bundle.from_bytes(seal({"DB_URL": "old", "STRIPE_KEY": "old"}))
    new = Bundle.from_bytes(seal())
    spliced = sign_bundle(
        replace(new, shares={**new.shares, worker: old.shares[worker]}), wallet.key
    )
    with pytest.raises(BundleBindingMismatch) as info:
        open_as(spliced)
    assert info.value.field == "share nonce"


# ---- expiry and missing shares ------------------------------------------------------------------


def test_open__at_expiry__expired(bundle, open_as):
    with pytest.raises(BundleExpired):
        open_as(bundle, now=EXPIRY)


def test_open__just_before_expiry__opens(bundle, open_as):
    assert open_as(bundle, now=EXPIRY - 1) == VALUES


def test_open__worker_joined_after_sealing__reseal_needed(bundle, open_as, late_worker):
    with pytest.raises(ResealNeeded) as info:
        open_as(bundle, late_worker)
    assert "has no share" in str(info.value)
    assert "reseal shop" in str(info.value)


def test_open__worker_rotated_its_key__reseal_needed(bundle, open_as, sealed_workers):
    rotated = replace(sealed_workers[0], private_key=PrivateKey.generate())
    with pytest.raises(ResealNeeded) as info:
        open_as(bundle, rotated)
    assert "another encryption key" in str(info.value)


# ---- owner share ---------------------------------------------------------------------------


def _vault(wallet):
    from peerhost.secrets import as_signer

    return derive_vault_key(
        as_signer(wallet.key), chain_id=CHAIN_ID, registry=REGISTRY, owner=wallet.address.lower()
    )


def test_recover_values__owner_vault_key__values_and_set_times(bundle, wallet):
    values, set_at = recover_values(
        bundle,
        vault_key=_vault(wallet),
        expected_owner=wallet.address,
        project=PROJECT,
        chain_id=CHAIN_ID,
        registry=REGISTRY,
    )
    assert values == VALUES
    assert set_at == dict.fromkeys(VALUES, NOW)


def test_derive_vault_key__same_wallet_twice__same_key(wallet):
    assert bytes(_vault(wallet)) == bytes(_vault(wallet))


def test_recover_values__another_wallets_vault_key__unreadable(bundle, wallet, other_wallet):
    with pytest.raises(OwnerShareUnreadable):
        recover_values(
            bundle,
            vault_key=_vault(other_wallet),
            expected_owner=wallet.address,
            project=PROJECT,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
        )


def test_recover_values__sealed_without_owner_share__unreadable(seal, wallet):
    with pytest.raises(OwnerShareUnreadable):
        recover_values(
            seal(owner_share=False),
            vault_key=_vault(wallet),
            expected_owner=wallet.address,
            project=PROJECT,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
        )


# ---- sealing refusals ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "1ABC", "A-B", "A B", "A=B", "X" * 129])
def test_seal__invalid_name__refused(seal, name):
    with pytest.raises(InvalidSecretName):
        seal({name: "value"})


def test_seal__value_with_nul__refused_without_showing_it(seal):
    with pytest.raises(InvalidSecretValue) as info:
        seal({"TOKEN": "abc\x00hunter2-secret"})
    assert "hunter2" not in str(info.value)
    assert "TOKEN" in str(info.value)


def test_seal__value_too_big__refused(seal):
    with pytest.raises(InvalidSecretValue):
        seal({"BIG": "x" * (16 * 1024 + 1)})


def test_seal__expiry_not_after_now__refused(seal):
    with pytest.raises(ValueError, match="expiry"):
        seal(expiry=NOW)


def test_seal__key_of_another_wallet__refused(seal, other_wallet):
    with pytest.raises(PermissionError):
        seal(owner_key=other_wallet.key)


def test_seal__invalid_worker_key__refused(seal):
    with pytest.raises(ValueError, match="X25519"):
        seal(workers=[(Account.create().address, bytes(32))])


# ---- errors ---------------------------------------------------------------------------------


def _refusals(bundle, open_as, late_worker, other_wallet):
    attempts = [
        lambda: open_as(bundle, project="blog"),
        lambda: open_as(bundle, expected_owner=other_wallet.address),
        lambda: open_as(bundle, now=EXPIRY + 1),
        lambda: open_as(bundle, late_worker),
        lambda: open_as(_edit(bundle, lambda raw: raw.update(createdAt=1))),
        lambda: open_as(bundle[:-2]),
    ]
    for attempt in attempts:
        with pytest.raises(SecretsError) as info:
            attempt()
        yield info.value


def test_errors__every_refusal__peerhost_and_builtin_error_without_values(
    bundle, open_as, late_worker, other_wallet
):
    errors = list(_refusals(bundle, open_as, late_worker, other_wallet))
    assert {type(e) for e in errors} == {
        BundleBindingMismatch,
        BundleExpired,
        ResealNeeded,
        BundleSignatureInvalid,
        BundleMalformed,
    }
    for error in errors:
        assert isinstance(error, PeerHostError)
        assert isinstance(error, ValueError | LookupError)
        for value in VALUES.values():
            assert value not in str(error)
            assert value not in repr(error)


def test_bundle_message__encoding__the_documented_eip712_struct(bundle, wallet):
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak

    from peerhost.wire.secrets import bundle_message

    parsed = Bundle.from_bytes(bundle)
    documented = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "SecretsBundle": [
                    {"name": "owner", "type": "address"},
                    {"name": "project", "type": "string"},
                    {"name": "createdAt", "type": "uint64"},
                    {"name": "expiresAt", "type": "uint64"},
                    {"name": "nonce", "type": "bytes32"},
                    {"name": "contentHash", "type": "bytes32"},
                ],
            },
            "primaryType": "SecretsBundle",
            "domain": {
                "name": "PeerHost Secrets",
                "version": "1",
                "chainId": CHAIN_ID,
                "verifyingContract": REGISTRY,
            },
            "message": {
                "owner": wallet.address,
                "project": PROJECT,
                "createdAt": NOW,
                "expiresAt": EXPIRY,
                "nonce": parsed.nonce,
                "contentHash": keccak(
                    json.dumps(parsed.body(), sort_keys=True, separators=(",", ":")).encode()
                ),
            },
        }
    )
    assert bundle_message(parsed).signable_message == documented
    assert Account.recover_message(documented, signature=parsed.signature) == wallet.address
