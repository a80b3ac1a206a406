"""FunctionRegistry: namespaces, immutable versions, rollback, disable, secrets pointers."""

from __future__ import annotations

import ape
import pytest

from peerhost.wire import function_id_of, project_id_of

CID = bytes.fromhex("01551220") + bytes(range(32))
CID2 = bytes.fromhex("01551220") + bytes(range(1, 33))
FUEL = 1_000_000
MEMORY = 16 * 1024 * 1024
FAST, VERIFIED = 0, 1


def function_id(owner: object, project: str, name: str) -> bytes:
    return function_id_of(str(owner), project, name)


def version_fields(version: tuple) -> tuple:
    """(runtime, codeCid, fuelLimit, memoryLimit, mode, publishedAt) of a Version in a multi-return."""
    return tuple(version)


def project_id(owner: object, project: str) -> bytes:
    return project_id_of(str(owner), project)


# ---------------------------------------------------------------------------- publish


def test_publish__first_version__is_active_and_announced(registry, developer):
    tx = registry.publish(
        "shop", "orders-create", "wasi", CID, FUEL, MEMORY, VERIFIED, sender=developer
    )

    fid = function_id(developer, "shop", "orders-create")
    event = tx.events.filter(registry.FunctionPublished)[0]
    assert event.functionId == fid
    assert event.owner == developer
    assert (event.project, event.name, event.version, event.runtime) == (
        "shop",
        "orders-create",
        1,
        "wasi",
    )
    assert (event.codeCid, event.fuelLimit, event.memoryLimit, event.mode) == (
        CID,
        FUEL,
        MEMORY,
        VERIFIED,
    )
    info = registry.getFunction(fid)
    assert (info.owner, info.project, info.name) == (developer, "shop", "orders-create")
    assert (info.versionCount, info.activeVersion, info.disabled) == (1, 1, False)


def test_publish__second_version__becomes_active_and_first_is_kept(registry, developer, chain):
    registry.publish("shop", "fn", "wasi", CID, FUEL, MEMORY, FAST, sender=developer)
    tx = registry.publish("shop", "fn", "js", CID2, 2 * FUEL, MEMORY, VERIFIED, sender=developer)

    fid = function_id(developer, "shop", "fn")
    assert tx.events.filter(registry.FunctionPublished)[0].version == 2
    info = registry.getFunction(fid)
    assert (info.versionCount, info.activeVersion) == (2, 2)
    first = registry.getVersion(fid, 1)
    assert (first.runtime, first.codeCid, first.fuelLimit, first.mode) == ("wasi", CID, FUEL, FAST)
    second = registry.getVersion(fid, 2)
    assert (second.runtime, second.codeCid, second.fuelLimit, second.mode) == (
        "js",
        CID2,
        2 * FUEL,
        VERIFIED,
    )
    assert second.publishedAt == chain.blocks.head.timestamp


def test_publish__same_names_other_wallet__is_another_function(registry, developer, stranger):
    registry.publish("shop", "fn", "wasi", CID, FUEL, MEMORY, FAST, sender=developer)
    registry.publish("shop", "fn", "wasi", CID2, FUEL, MEMORY, FAST, sender=stranger)

    mine = registry.getFunction(function_id(developer, "shop", "fn"))
    theirs = registry.getFunction(function_id(stranger, "shop", "fn"))
    assert (mine.owner, mine.versionCount) == (developer, 1)
    assert (theirs.owner, theirs.versionCount) == (stranger, 1)


@pytest.mark.parametrize("project_name", ["a", "my-shop-2", "a" * 32])
def test_publish__valid_project_name__accepted(registry, developer, project_name):
    registry.publish(project_name, "fn", "wasi", CID, FUEL, MEMORY, FAST, sender=developer)
    assert registry.getFunction(function_id(developer, project_name, "fn")).project == project_name


@pytest.mark.parametrize(
    "project_name", ["", "Shop", "a" * 33, "my_shop", "a/b", "caf\u00e9", "a b"]
)
def test_publish__invalid_project_name__reverts(registry, developer, project_name):
    with ape.reverts(registry.InvalidProjectName):
        registry.publish(project_name, "fn", "wasi", CID, FUEL, MEMORY, FAST, sender=developer)


@pytest.mark.parametrize("name", ["a", "orders_create-2", "z" * 64])
def test_publish__valid_function_name__accepted(registry, developer, name):
    registry.publish("shop", name, "wasi", CID, FUEL, MEMORY, FAST, sender=developer)
    assert registry.getFunction(function_id(developer, "shop", name)).name == name


@pytest.mark.parametrize("name", ["", "Orders", "a" * 65, "orders.create", "a/b"])
def test_publish__invalid_function_name__reverts(registry, developer, name):
    with ape.reverts(registry.InvalidFunctionName):
        registry.publish("shop", name, "wasi", CID, FUEL, MEMORY, FAST, sender=developer)


@pytest.mark.parametrize("runtime", ["", "WASI", "wasi-p1", "a" * 17, "js_x"])
def test_publish__invalid_runtime__reverts(registry, developer, runtime):
    with ape.reverts(registry.InvalidRuntime):
        registry.publish("shop", "fn", runtime, CID, FUEL, MEMORY, FAST, sender=developer)


@pytest.mark.parametrize("cid", [b"", b"\x01" * 129])
def test_publish__invalid_code_cid__reverts(registry, developer, cid):
    with ape.reverts(registry.InvalidCodeCid):
        registry.publish("shop", "fn", "wasi", cid, FUEL, MEMORY, FAST, sender=developer)


def test_publish__longest_code_cid__accepted(registry, developer):
    assert registry.MAX_CID_LENGTH() == 128
    registry.publish("shop", "fn", "wasi", b"\x01" * 128, FUEL, MEMORY, FAST, sender=developer)


@pytest.mark.parametrize(
    "which", ["zero-fuel", "zero-memory", "fuel-above-max", "memory-above-max"]
)
def test_publish__invalid_limits__reverts(registry, developer, which):
    fuel, memory = FUEL, MEMORY
    if which == "zero-fuel":
        fuel = 0
    elif which == "zero-memory":
        memory = 0
    elif which == "fuel-above-max":
        fuel = registry.maxFuelLimit() + 1
    else:
        memory = registry.maxMemoryLimit() + 1
    with ape.reverts(registry.InvalidLimits):
        registry.publish("shop", "fn", "wasi", CID, fuel, memory, FAST, sender=developer)


def test_publish__limits_at_maxima__accepted(registry, developer, deploy_params):
    assert registry.maxFuelLimit() == deploy_params.max_fuel_limit
    assert registry.maxMemoryLimit() == deploy_params.max_memory_limit
    registry.publish(
        "shop",
        "fn",
        "wasi",
        CID,
        deploy_params.max_fuel_limit,
        deploy_params.max_memory_limit,
        FAST,
        sender=developer,
    )


def test_constructor__zero_maxima__reverts(project, owner, reverts_with):
    with reverts_with(project.FunctionRegistry.InvalidLimits):
        project.FunctionRegistry.deploy(0, MEMORY, sender=owner)


# ---------------------------------------------------------------------------- ids


def test_function_id_of__matches_wire_function_id(registry, developer):
    assert registry.functionIdOf(developer, "shop", "fn") == function_id(developer, "shop", "fn")
    # abi.encode keeps ("a-b", "c") and ("a", "b-c") apart
    assert registry.functionIdOf(developer, "a-b", "c") != registry.functionIdOf(
        developer, "a", "b-c"
    )


def test_project_id_of__matches_wire_project_id(registry, developer):
    assert registry.projectIdOf(developer, "shop") == project_id(developer, "shop")


# ---------------------------------------------------------------------------- setActiveVersion


def test_set_active_version__rollback__changes_active_version(registry, developer, publish):
    fid = publish()
    publish(code_cid=CID2)
    tx = registry.setActiveVersion(fid, 1, sender=developer)

    assert tx.events == [registry.ActiveVersionChanged(functionId=fid, version=1)]
    assert registry.getFunction(fid).activeVersion == 1
    assert version_fields(registry.activeVersionOf(fid)[2])[1] == CID


def test_set_active_version__not_owner__reverts(registry, published_function, stranger):
    with ape.reverts(registry.NotFunctionOwner):
        registry.setActiveVersion(published_function, 1, sender=stranger)


def test_set_active_version__unknown_function__reverts(registry, developer):
    with ape.reverts(registry.UnknownFunction):
        registry.setActiveVersion(b"\x01" * 32, 1, sender=developer)


@pytest.mark.parametrize("version", [0, 2])
def test_set_active_version__unknown_version__reverts(
    registry, developer, published_function, version
):
    with ape.reverts(registry.UnknownVersion):
        registry.setActiveVersion(published_function, version, sender=developer)


# ---------------------------------------------------------------------------- setDisabled


def test_set_disabled__disable_then_enable__toggles_and_announces(
    registry, developer, published_function, reverts_with
):
    tx = registry.setDisabled(published_function, True, sender=developer)
    assert tx.events == [registry.FunctionDisabledSet(functionId=published_function, disabled=True)]
    assert registry.getFunction(published_function).disabled
    with reverts_with(registry.FunctionIsDisabled):
        registry.activeVersionOf(published_function)

    registry.setDisabled(published_function, False, sender=developer)
    assert not registry.getFunction(published_function).disabled
    assert registry.activeVersionOf(published_function)[0] == developer


def test_set_disabled__publish_while_disabled__stays_disabled(registry, developer, publish):
    fid = publish()
    registry.setDisabled(fid, True, sender=developer)
    publish(code_cid=CID2)
    assert registry.getFunction(fid).disabled


def test_set_disabled__not_owner__reverts(registry, published_function, stranger):
    with ape.reverts(registry.NotFunctionOwner):
        registry.setDisabled(published_function, True, sender=stranger)


def test_set_disabled__unknown_function__reverts(registry, developer):
    with ape.reverts(registry.UnknownFunction):
        registry.setDisabled(b"\x01" * 32, True, sender=developer)


# ---------------------------------------------------------------------------- secrets


def test_set_secrets_bundle__set_and_clear__readable_and_announced(registry, developer, stranger):
    tx = registry.setSecretsBundle("shop", CID, sender=developer)
    assert tx.events == [
        registry.SecretsBundleSet(
            projectId=project_id(developer, "shop"), owner=developer, project="shop", bundleCid=CID
        )
    ]
    assert registry.secretsBundle(developer, "shop") == CID
    assert registry.secretsBundle(stranger, "shop") == b""

    registry.setSecretsBundle("shop", b"", sender=developer)
    assert registry.secretsBundle(developer, "shop") == b""


def test_set_secrets_bundle__invalid_project__reverts(registry, developer):
    with ape.reverts(registry.InvalidProjectName):
        registry.setSecretsBundle("Shop", CID, sender=developer)


def test_set_secrets_bundle__cid_too_long__reverts(registry, developer):
    with ape.reverts(registry.InvalidCodeCid):
        registry.setSecretsBundle("shop", b"\x01" * 129, sender=developer)


# ---------------------------------------------------------------------------- views


def test_get_function__unknown__reverts(registry, reverts_with):
    with reverts_with(registry.UnknownFunction):
        registry.getFunction(b"\x01" * 32)


def test_get_version__unknown_function__reverts(registry, reverts_with):
    with reverts_with(registry.UnknownFunction):
        registry.getVersion(b"\x01" * 32, 1)


@pytest.mark.parametrize("version", [0, 2])
def test_get_version__unknown_version__reverts(registry, published_function, reverts_with, version):
    with reverts_with(registry.UnknownVersion):
        registry.getVersion(published_function, version)


def test_resolve__published__returns_id_info_and_active_version(registry, developer, publish):
    fid = publish()
    publish(code_cid=CID2)
    registry.setActiveVersion(fid, 1, sender=developer)

    resolved_id, info, active = registry.resolve(developer, "shop", "orders-create")
    assert resolved_id == fid
    owner, _, _, version_count, active_version, _ = info
    assert (owner, active_version, version_count) == (developer, 1, 2)
    assert version_fields(active)[1] == CID


def test_resolve__unknown__reverts(registry, developer, reverts_with):
    with reverts_with(registry.UnknownFunction):
        registry.resolve(developer, "shop", "nope")


def test_active_version_of__enabled__returns_owner_project_and_version(
    registry, developer, published_function
):
    owner, pid, version = registry.activeVersionOf(published_function)
    assert owner == developer
    assert pid == project_id(developer, "shop")
    assert version_fields(version)[:4] == (
        "wasi",
        CID,
        FUEL,
        MEMORY,
    )


def test_active_version_of__unknown__reverts(registry, reverts_with):
    with reverts_with(registry.UnknownFunction):
        registry.activeVersionOf(b"\x01" * 32)


def test_active_snapshot_of__returns_version_number(registry, developer, publish, reverts_with):
    fid = publish()
    publish(code_cid=CID2)
    owner, pid, number, version = registry.activeSnapshotOf(fid)
    assert (owner, pid, number) == (developer, project_id(developer, "shop"), 2)
    assert version_fields(version)[1] == CID2

    registry.setDisabled(fid, True, sender=developer)
    with reverts_with(registry.FunctionIsDisabled):
        registry.activeSnapshotOf(fid)
    with reverts_with(registry.UnknownFunction):
        registry.activeSnapshotOf(b"\x02" * 32)
