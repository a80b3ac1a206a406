"""Publishing refuses declared-but-missing secrets, naming them; publishes once they are set."""

from __future__ import annotations

import json

import pytest

from peerhost.publishing.manifest import load_project
from peerhost.publishing.publisher import Publisher
from peerhost.secrets import ApeSecretsChain, SecretsMissing, SecretsTool, ape_signer
from peerhost.storage import LocalStore

HELLO_WAT = '(module (memory (export "memory") 1) (func (export "_start")))'


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "shop"
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "hello.wat").write_text(HELLO_WAT)
    (root / "functions" / "orders.wat").write_text(HELLO_WAT)
    (root / "project.json").write_text(
        json.dumps({"secrets": ["DB_URL"], "functions": {"orders": {"secrets": ["STRIPE_KEY"]}}})
    )
    return root


def test_load_project__declared_secrets__per_function_plus_shared(folder):
    spec = load_project(folder)
    assert spec.function("hello").secrets == ("DB_URL",)
    assert spec.function("orders").secrets == ("DB_URL", "STRIPE_KEY")
    assert spec.secrets == ("DB_URL", "STRIPE_KEY")


def test_publish__declared_secret_missing__refused_then_published_once_set(
    folder, registry, worker_registry, developer, tmp_path, chain
):
    store = LocalStore(tmp_path / "store")
    publisher = Publisher(registry, developer, store)
    tool = SecretsTool(
        chain=ApeSecretsChain(registry, worker_registry, developer),
        store=store,
        signer=ape_signer(developer),
        owner=str(developer.address),
        chain_id=chain.chain_id,
        registry=str(registry.address),
    )
    tool.set("shop", "DB_URL", "postgres://x")
    with pytest.raises(SecretsMissing) as info:
        publisher.publish(load_project(folder))
    assert info.value.missing == ["STRIPE_KEY"]
    assert "postgres://x" not in str(info.value)
    tool.set("shop", "STRIPE_KEY", "sk_test_123")
    report = publisher.publish(load_project(folder))
    assert {p.name for p in report.functions} == {"hello", "orders"}
