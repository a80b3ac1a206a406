"""The secrets bundle format, version 1: its bytes, its canonical JSON, its EIP-712 signatures.

A bundle is one UTF-8 JSON object, serialized canonically by :func:`bundle_json` (keys sorted,
no whitespace, ASCII only), so the same content always has the same bytes and CID::

    {
      "chainId": 31337,
      "createdAt": 1767225600,
      "expiresAt": 1774915200,
      "format": "peerhost-secrets",
      "nonce": "0x<32 bytes>",
      "owner": "0x<owner address, lowercase>",
      "ownerShare": {"box": "<base64 sealed box>", "key": "0x<owner vault X25519 public key>"},
      "project": "shop",
      "registry": "0x<FunctionRegistry address, lowercase>",
      "secrets": [{"name": "DB_URL", "setAt": 1767225600}, ...],      # sorted by name
      "shares": {"0x<worker address, lowercase>": {"box": "...", "key": "0x<worker X25519 key>"}, ...},
      "signature": "0x<65-byte EIP-712 signature by the owner>",
      "version": 1
    }

Each ``box`` is a libsodium sealed box (X25519 + XSalsa20-Poly1305) to ``key``
holding one *share* (:func:`encode_share`): the canonical JSON
``{"binding": {...}, "values": {...}}`` right-padded with spaces to a multiple of
:data:`PAD_TO` bytes, so a share's size tells little about the values. The binding
repeats the header fields (chainId, registry, owner, project, nonce, expiresAt) and
names the recipient, so a share copied into someone else's bundle is refused after
decryption.

``ownerShare`` (optional) is the same share sealed to a key only the owner can
derive (:func:`vault_key_message`); it lets the tooling re-seal without the
developer re-entering values.

The owner signs two typed messages, both in the domain ``{name: "PeerHost Secrets",
version: "1", chainId, verifyingContract: <FunctionRegistry>}`` (:func:`secrets_domain`) so a
signature never carries over to another chain or deployment:

``SecretsBundle(address owner,string project,uint64 createdAt,uint64 expiresAt,bytes32 nonce,bytes32 contentHash)``
    signs a bundle; ``contentHash`` is keccak256 of the canonical JSON of the
    whole bundle without its ``signature`` field. A wallet shows owner,
    project and expiry in clear.

``SecretsVaultKey(address owner,string purpose)``
    derives the owner's X25519 *vault key*: ``blake2b(r || s)`` of the
    (deterministic, RFC 6979) signature is the private key (``peerhost.secrets.signing``).

Both are :class:`eip712.messages.EIP712Message` models (the encoding ape, eth-account and
wallets share), so an ape keyfile account shows the domain and every field in clear
before it signs. A :data:`Signer` is any callable that signs such a message and returns the
65-byte ``r || s || v`` signature. Sealing, opening and key management live in
``peerhost.secrets``; this module is only the format.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from eip712.messages import EIP712Message
from eth_pydantic_types import abi
from eth_utils import keccak

from peerhost.wire.eip712 import domain, recover_signable
from peerhost.wire.errors import BundleMalformed, InvalidSecretName, InvalidSecretValue

FORMAT = "peerhost-secrets"
VERSION = 1
PAD_TO = 256
"""Shares are padded to a multiple of this many bytes before sealing."""

MAX_SECRETS = 64
MAX_VALUE_BYTES = 16 * 1024
MAX_TOTAL_BYTES = 64 * 1024
MAX_BUNDLE_BYTES = 8 * 2**20

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HEX32 = re.compile(r"^0x[0-9a-f]{64}$")
_SIGNATURE = re.compile(r"^0x[0-9a-f]{130}$")
PROJECT_NAME = re.compile(r"^[a-z0-9-]{1,32}$")
_HEADER_KEYS = {
    "chainId", "createdAt", "expiresAt", "format", "nonce", "owner", "ownerShare",
    "project", "registry", "secrets", "shares", "signature", "version",
}  # fmt: skip
OWNER_RECIPIENT = "owner"
"""The ``recipient`` of the owner's share binding (workers are named by address)."""


def bundle_json(value: Any) -> bytes:
    """The bundle's canonical JSON: sorted keys, no whitespace, ASCII-only (``\\u`` escapes).

    Not :func:`peerhost.wire.canonical.canonical_json` (UTF-8, no NaN): bundles and shares
    already signed and stored by CID are in this encoding, and it must not change.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def check_name(name: str) -> str:
    """Return ``name`` if it can be an environment variable name.

    Raises:
        InvalidSecretName: otherwise.
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidSecretName(str(name))
    return name


def check_values(values: dict[str, str]) -> dict[str, str]:
    """Validate names and values for sealing (errors name the secret, never show the value).

    Raises:
        InvalidSecretName: a name is not an environment variable name.
        InvalidSecretValue: a value is not a string, holds NUL, or is too big.
    """
    if len(values) > MAX_SECRETS:
        raise InvalidSecretValue("(all)", f"at most {MAX_SECRETS} secrets per project")
    total = 0
    for name, value in values.items():
        check_name(name)
        if not isinstance(value, str):
            raise InvalidSecretValue(name, "values are strings")
        if "\x00" in value:
            raise InvalidSecretValue(name, "environment values cannot contain NUL")
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_VALUE_BYTES:
            raise InvalidSecretValue(name, f"longer than {MAX_VALUE_BYTES} bytes")
        total += size
    if total > MAX_TOTAL_BYTES:
        raise InvalidSecretValue("(all)", f"more than {MAX_TOTAL_BYTES} bytes in total")
    return values


def normalize_address(address: str) -> str:
    """Lowercase ``0x`` form of an address (the bundle's canonical spelling).

    Raises:
        ValueError: not a 20-byte hex address.
    """
    text = str(address).lower()
    if not _ADDRESS.match(text):
        raise ValueError(f"not an address: {address!r}")
    return text


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise BundleMalformed(f"{what} is not base64") from exc


def pad(data: bytes) -> bytes:
    """Right-pad canonical JSON with spaces (still valid JSON) to a multiple of :data:`PAD_TO`."""
    return data + b" " * (-len(data) % PAD_TO)


@dataclass(frozen=True)
class Share:
    """One sealed share: the recipient's X25519 public key and the sealed box."""

    key: bytes
    box: bytes

    def to_json(self) -> dict[str, str]:
        return {"box": b64(self.box), "key": "0x" + self.key.hex()}


@dataclass(frozen=True)
class Bundle:
    """A parsed (not yet verified) secrets bundle.

    Attributes:
        chain_id: Chain the bundle is for.
        registry: FunctionRegistry address (lowercase).
        owner: The wallet that owns the project (lowercase).
        project: The project name.
        nonce: 32 random bytes, unique per bundle.
        created_at: Unix time of sealing.
        expires_at: Unix time after which workers refuse the bundle.
        secrets: ``(name, set_at)`` pairs, sorted by name.
        shares: Sealed shares by worker address (lowercase).
        owner_share: The owner's own sealed share, if any.
        signature: 65-byte EIP-712 signature by ``owner``.
    """

    chain_id: int
    registry: str
    owner: str
    project: str
    nonce: bytes
    created_at: int
    expires_at: int
    secrets: tuple[tuple[str, int], ...]
    shares: dict[str, Share]
    owner_share: Share | None
    signature: bytes

    def body(self) -> dict[str, Any]:
        """Everything but the signature, as JSON-ready values (what the signature covers)."""
        return {
            "chainId": self.chain_id,
            "createdAt": self.created_at,
            "expiresAt": self.expires_at,
            "format": FORMAT,
            "nonce": "0x" + self.nonce.hex(),
            "owner": self.owner,
            "ownerShare": self.owner_share.to_json() if self.owner_share else None,
            "project": self.project,
            "registry": self.registry,
            "secrets": [{"name": n, "setAt": t} for n, t in self.secrets],
            "shares": {w: s.to_json() for w, s in self.shares.items()},
            "version": VERSION,
        }

    def binding(self, recipient: str) -> dict[str, Any]:
        """The binding sealed inside the share for ``recipient`` (a worker address or ``"owner"``)."""
        return {
            "chainId": self.chain_id,
            "expiresAt": self.expires_at,
            "nonce": "0x" + self.nonce.hex(),
            "owner": self.owner,
            "project": self.project,
            "recipient": recipient,
            "registry": self.registry,
        }

    def to_bytes(self) -> bytes:
        return bundle_json({**self.body(), "signature": "0x" + self.signature.hex()})

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        """Parse a bundle strictly: canonical encoding, known version, well-formed fields.

        Raises:
            BundleMalformed: anything else.
        """
        if len(data) > MAX_BUNDLE_BYTES:
            raise BundleMalformed(f"larger than {MAX_BUNDLE_BYTES} bytes")
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BundleMalformed("not JSON") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BundleMalformed(f"not a '{FORMAT}' document")
        if raw.get("version") != VERSION:
            raise BundleMalformed(
                f"unsupported version {raw.get('version')!r} (this code reads {VERSION})"
            )
        if set(raw) != _HEADER_KEYS:
            raise BundleMalformed(f"fields are {sorted(raw)}, expected {sorted(_HEADER_KEYS)}")
        try:
            bundle = cls(
                chain_id=_int(raw["chainId"], "chainId"),
                registry=_match(raw["registry"], _ADDRESS, "registry"),
                owner=_match(raw["owner"], _ADDRESS, "owner"),
                project=_match(raw["project"], PROJECT_NAME, "project"),
                nonce=bytes.fromhex(_match(raw["nonce"], _HEX32, "nonce")[2:]),
                created_at=_int(raw["createdAt"], "createdAt"),
                expires_at=_int(raw["expiresAt"], "expiresAt"),
                secrets=_secrets(raw["secrets"]),
                shares=_shares(raw["shares"]),
                owner_share=None
                if raw["ownerShare"] is None
                else _share(raw["ownerShare"], "ownerShare"),
                signature=bytes.fromhex(_match(raw["signature"], _SIGNATURE, "signature")[2:]),
            )
        except (TypeError, KeyError, AttributeError) as exc:
            raise BundleMalformed("unexpected field types") from exc
        if bundle.to_bytes() != data:
            raise BundleMalformed("not in canonical form")
        return bundle


def _int(value: Any, what: str) -> int:
    if type(value) is not int or value < 0 or value >= 2**64:
        raise BundleMalformed(f"{what} is not a uint64")
    return value


def _match(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise BundleMalformed(f"{what} is malformed")
    return value


def _secrets(value: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, list) or len(value) > MAX_SECRETS:
        raise BundleMalformed(f"secrets is not a list of at most {MAX_SECRETS}")
    out: list[tuple[str, int]] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "setAt"}:
            raise BundleMalformed("a secrets entry is not {name, setAt}")
        if not isinstance(item["name"], str) or not NAME.match(item["name"]):
            raise BundleMalformed("a secret name is malformed")
        out.append((item["name"], _int(item["setAt"], "setAt")))
    names = [n for n, _ in out]
    if names != sorted(set(names)):
        raise BundleMalformed("secret names are not sorted and unique")
    return tuple(out)


def _share(value: Any, what: str) -> Share:
    if not isinstance(value, dict) or set(value) != {"box", "key"}:
        raise BundleMalformed(f"{what} is not {{box, key}}")
    key = bytes.fromhex(_match(value["key"], _HEX32, f"{what} key")[2:])
    box = unb64(value["box"], f"{what} box") if isinstance(value["box"], str) else b""
    if not box:
        raise BundleMalformed(f"{what} box is empty")
    return Share(key=key, box=box)


def _shares(value: Any) -> dict[str, Share]:
    if not isinstance(value, dict):
        raise BundleMalformed("shares is not an object")
    return {
        _match(w, _ADDRESS, "a share's worker"): _share(s, f"share of {w}")
        for w, s in value.items()
    }


# ---- shares ---------------------------------------------------------------------------------


def encode_share(binding: dict[str, Any], values: dict[str, str]) -> bytes:
    """The plaintext sealed to one recipient: its binding and the values, padded."""
    return pad(bundle_json({"binding": binding, "values": values}))


def decode_share(plaintext: bytes, recipient: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(binding, values)`` of a decrypted share (checked against the bundle by the opener).

    Raises:
        BundleMalformed: not ``{"binding": {...}, "values": {...}}``.
    """
    try:
        content = json.loads(plaintext)
        binding, values = content["binding"], content["values"]
    except (ValueError, UnicodeDecodeError, TypeError, KeyError) as exc:
        raise BundleMalformed(f"the share for {recipient} is not a share") from exc
    if not isinstance(binding, dict) or not isinstance(values, dict):
        raise BundleMalformed(f"the share for {recipient} is not a share")
    return binding, values


# ---- the owner's EIP-712 signatures ---------------------------------------------------------

DOMAIN_NAME = "PeerHost Secrets"
DOMAIN_VERSION = "1"
VAULT_PURPOSE = (
    "Unlock the PeerHost secrets you sealed on this chain so the tooling can re-seal them. "
    "Sign this only in PeerHost tooling: the signature reads your secrets."
)

Signer = Callable[[EIP712Message], bytes]
"""Signs an EIP-712 message; returns the 65-byte ``r || s || v`` signature."""


class SecretsBundle(EIP712Message):
    """The owner's signature over one bundle."""

    owner: abi.address
    project: abi.string
    createdAt: abi.uint64
    expiresAt: abi.uint64
    nonce: abi.bytes32
    contentHash: abi.bytes32


class SecretsVaultKey(EIP712Message):
    """The owner's signature that derives its vault key."""

    owner: abi.address
    purpose: abi.string


def secrets_domain(chain_id: int, registry: str) -> dict[str, Any]:
    """The secrets domain as :class:`EIP712Message` fields (``eip712_name``, ...)."""
    fields = domain(chain_id, registry, name=DOMAIN_NAME, version=DOMAIN_VERSION)
    return {f"eip712_{key}": value for key, value in fields.items()}


def bundle_message(bundle: Bundle) -> SecretsBundle:
    """The EIP-712 message the owner signs for ``bundle`` (its signature field aside)."""
    fields: dict[str, Any] = {
        "owner": bundle.owner,
        "project": bundle.project,
        "createdAt": bundle.created_at,
        "expiresAt": bundle.expires_at,
        "nonce": bundle.nonce,
        "contentHash": keccak(bundle_json(bundle.body())),
    }
    return SecretsBundle(**fields, **secrets_domain(bundle.chain_id, bundle.registry))


def vault_key_message(*, chain_id: int, registry: str, owner: str) -> SecretsVaultKey:
    """The EIP-712 message whose signature derives the owner's vault key."""
    fields: dict[str, Any] = {"owner": owner, "purpose": VAULT_PURPOSE}
    return SecretsVaultKey(**fields, **secrets_domain(chain_id, registry))


def recover(message: EIP712Message, signature: bytes) -> str | None:
    """The lowercase address that signed ``message``, or None if the signature does not recover."""
    try:
        return recover_signable(message.signable_message, signature).lower()
    except ValueError:
        return None


def bundle_signer(bundle: Bundle) -> str | None:
    """The lowercase address whose signature ``bundle`` carries (None: it does not recover)."""
    return recover(bundle_message(bundle), bundle.signature)


def signed_bundle(bundle: Bundle, signer: Signer) -> bytes:
    """``bundle`` signed by ``signer`` as its owner (its signature field is ignored), as bytes.

    Raises:
        PermissionError: the signature is not the bundle owner's.
    """
    message = bundle_message(bundle)
    signature = bytes(signer(message))
    if recover(message, signature) != bundle.owner:
        raise PermissionError(f"The signer is not the owner {bundle.owner}.")
    return replace(bundle, signature=signature).to_bytes()
