"""Per-project secrets that only workers can read: sealed, signed, bound bundles.

A developer's values for (wallet, project) are sealed to every active worker's
X25519 key (registered on-chain), bound to chain, registry, wallet, project and
an expiry, signed by the wallet (EIP-712), stored by CID, and the
FunctionRegistry points the project at that CID. Workers verify and open their
share and pass the values to the function as environment variables. See
docs/secrets.md for the threat model and format.

Worker::

    env = open_bundle(data, worker_address=me, worker_private_key=sk, expected_owner=owner,
                      project=project, chain_id=chain_id, registry=registry, now=block_time)
    # or SecretsResolver(...).env_for(owner, project, now=block_time)

Publishing::

    require_secrets(declared_names, bundle_bytes_or_None, project=project)   # SecretsMissing

Developer tooling: :class:`SecretsTool` (``ape run secrets set|unset|list|reseal``).
"""

from __future__ import annotations

from peerhost.secrets.bundle import (
    WorkerKey,
    list_secrets,
    open_bundle,
    recover_values,
    seal_bundle,
    sign_bundle,
)
from peerhost.secrets.declared import missing_secrets, require_secrets
from peerhost.secrets.errors import (
    BundleBindingMismatch,
    BundleExpired,
    BundleMalformed,
    BundleSignatureInvalid,
    InvalidSecretName,
    InvalidSecretValue,
    NoSecretsBundle,
    OwnerShareUnreadable,
    ResealNeeded,
    SecretNotSet,
    SecretsError,
    SecretsMissing,
)
from peerhost.secrets.keys import KEY_FILE_NAME, generate_worker_keypair, load_or_create_worker_key
from peerhost.secrets.manage import (
    DEFAULT_TTL,
    ApeSecretsChain,
    BundleStatus,
    SealResult,
    SecretsChain,
    SecretsTool,
)
from peerhost.secrets.redact import MASK, Redactor
from peerhost.secrets.resolver import SecretsResolver
from peerhost.secrets.signing import Signer, ape_signer, as_signer, derive_vault_key
from peerhost.wire.secrets import Bundle

__all__ = [
    "DEFAULT_TTL",
    "KEY_FILE_NAME",
    "MASK",
    "ApeSecretsChain",
    "Bundle",
    "BundleStatus",
    "BundleBindingMismatch",
    "BundleExpired",
    "BundleMalformed",
    "BundleSignatureInvalid",
    "InvalidSecretName",
    "InvalidSecretValue",
    "NoSecretsBundle",
    "OwnerShareUnreadable",
    "Redactor",
    "ResealNeeded",
    "SealResult",
    "SecretNotSet",
    "SecretsChain",
    "SecretsError",
    "SecretsMissing",
    "SecretsResolver",
    "SecretsTool",
    "Signer",
    "WorkerKey",
    "ape_signer",
    "as_signer",
    "derive_vault_key",
    "generate_worker_keypair",
    "list_secrets",
    "load_or_create_worker_key",
    "missing_secrets",
    "open_bundle",
    "recover_values",
    "require_secrets",
    "seal_bundle",
    "sign_bundle",
]
