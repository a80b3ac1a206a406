"""Publishing while the content store goes down: a clear error, and nothing half-published (no
function of the project registered while another's code could not be stored); the store back,
the same publish goes through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from peerhost.publishing.manifest import load_project
from peerhost.publishing.publisher import Publisher, active_version
from peerhost.storage import LocalStore, StoreUnavailable

HELLO_WAT = '(module (memory (export "memory") 1) (func (export "_start")))'
OTHER_WAT = '(module (memory (export "memory") 2) (func (export "_start")))'


class FailingAfterOnePut(LocalStore):
    """The embedded store whose directory is replaced by a file right after its first write
    (the store going down between two functions of one publish)."""

    went_down = False

    def put(self, data: bytes) -> str:
        cid = super().put(data)
        if not self.went_down:
            self.went_down = True
            self.root.rename(self.root.with_name("down"))
            self.root.write_text("the store is down\n")
        return cid

    def bring_up(self) -> None:
        self.root.unlink()
        self.root.with_name("down").rename(self.root)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "alpha.wat").write_text(HELLO_WAT)
    (root / "functions" / "beta.wat").write_text(OTHER_WAT)
    return root


def test_publish__store_down_after_the_first_function__clear_error_nothing_published(
    folder: Path, registry: Any, developer: Any, tmp_path: Path
) -> None:
    store = FailingAfterOnePut(tmp_path / "store")
    owner = str(developer.address)

    with pytest.raises(StoreUnavailable) as info:
        Publisher(registry, developer, store).publish(load_project(folder))

    assert "cannot write the embedded store" in str(info.value)
    assert "then retry" in str(info.value)
    for name in ("alpha", "beta"):
        assert active_version(registry, owner, "shop", name) is None, name

    store.bring_up()
    report = Publisher(registry, developer, store).publish(load_project(folder))

    assert {(f.name, f.action) for f in report.functions} == {
        ("alpha", "published"),
        ("beta", "published"),
    }
    for name in ("alpha", "beta"):
        assert active_version(registry, owner, "shop", name) is not None, name
