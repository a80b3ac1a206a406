"""The devnet's ``stripe-webhook`` example answers out of the box: a development secret, and a
signer for the printed curl.

At start the devnet sets the examples project's ``STRIPE_WEBHOOK_SECRET`` (the same
:meth:`~peerhost.secrets.manage.SecretsTool.set` as ``ape run secrets set``) to a random value
labelled ``whsec_devnet_only_…``, kept in the devnet's state folder (mode 0600) and never printed.
The banner's curl signs its event at the moment it runs::

    python -m peerhost.devnet.webhook --secret-file .devnet/stripe-webhook.secret '{"id": …}'

prints ``t=<now>,v1=<HMAC-SHA256 of "t.body">``, the ``Stripe-Signature`` value the example checks.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import secrets
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

#: The example that reads the secret, and the secret's name.
FUNCTION = "stripe-webhook"
SECRET_NAME = "STRIPE_WEBHOOK_SECRET"
#: Where in the devnet's state folder the development secret is kept.
SECRET_FILE = "stripe-webhook.secret"
#: Every development secret starts so: it is not a real Stripe endpoint secret.
DEV_PREFIX = "whsec_devnet_only_"
#: The event the banner's curl sends.
SAMPLE_EVENT = '{"id": "evt_devnet_1", "type": "invoice.paid", "data": {"amount": 1200}}'


def dev_secret(state_dir: Path) -> str:
    """The devnet's development webhook secret: read from ``state_dir``, else made and kept
    there (readable by its owner only)."""
    path = state_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    value = DEV_PREFIX + secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value


def signature(secret: str, body: str | bytes, timestamp: int | None = None) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    payload = body.encode() if isinstance(body, str) else body
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed_curl(url: str, secret_file: Path, body: str = SAMPLE_EVENT) -> str:
    """A curl (for bash or zsh) that posts ``body`` to ``url`` signed when it runs; the secret
    stays in ``secret_file``."""
    sign = shlex.join(
        [
            "python",
            "-m",
            "peerhost.devnet.webhook",
            "--secret-file",
            str(secret_file),
            body,
        ]
    )
    rest = shlex.join(["-H", "content-type: application/json", "-d", body, url])
    return f'curl -i -H "stripe-signature: $({sign})" {rest}'


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m peerhost.devnet.webhook",
        description="Prints the Stripe-Signature header value of BODY, signed now with the "
        "devnet's development webhook secret.",
    )
    parser.add_argument("--secret-file", type=Path, required=True, help="the devnet's secret file")
    parser.add_argument("body", help="the exact request body to sign")
    args = parser.parse_args(argv)
    try:
        secret = args.secret_file.read_text().strip()
    except OSError as exc:
        print(
            f"Cannot read the webhook secret from {args.secret_file}: {exc.strerror}. "
            "Is the devnet running (bin/devnet)?",
            file=sys.stderr,
        )
        return 2
    print(signature(secret, args.body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
