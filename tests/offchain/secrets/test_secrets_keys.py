"""Worker X25519 keys: generated once, kept 0600, refused when exposed."""

from __future__ import annotations

import stat

import pytest

from peerhost.secrets import generate_worker_keypair, load_or_create_worker_key


def test_generate_worker_keypair__public_key__32_bytes_of_the_private_key():
    private_key, public_key = generate_worker_keypair()
    assert len(public_key) == 32
    assert bytes(private_key.public_key) == public_key


def test_load_or_create__no_file__creates_0600_and_reloads_the_same_key(tmp_path):
    path = tmp_path / "data" / "x25519.key"
    created = load_or_create_worker_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == bytes(created)
    assert bytes(load_or_create_worker_key(path)) == bytes(created)
    assert [p.name for p in path.parent.iterdir()] == ["x25519.key"]


def test_load_or_create__readable_by_others__refused(tmp_path):
    path = tmp_path / "x25519.key"
    load_or_create_worker_key(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_or_create_worker_key(path)


def test_load_or_create__wrong_size__refused(tmp_path):
    path = tmp_path / "x25519.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="32-byte"):
        load_or_create_worker_key(path)
