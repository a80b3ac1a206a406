"""The protocol hashes computed in Python equal the coordinator's."""

from __future__ import annotations

from typing import Any

from ape.api import AccountAPI
from ape.contracts import ContractInstance

from peerhost.chain import ChainConfig
from peerhost.wire import commitment, request_id_of, result_hash


def test_request_id__matches_next_request_id(
    coordinator: ContractInstance, requester: AccountAPI, chain_config: ChainConfig
) -> None:
    sequence = coordinator.requestSequence(requester)
    expected = coordinator.nextRequestId(requester)
    assert (
        request_id_of(chain_config.chain_id, coordinator.address, requester.address, sequence)
        == expected
    )


def test_request_id__depends_on_every_field(chain_config: ChainConfig) -> None:
    base = request_id_of(1, "0x" + "11" * 20, "0x" + "22" * 20, 0)
    assert base != request_id_of(2, "0x" + "11" * 20, "0x" + "22" * 20, 0)
    assert base != request_id_of(1, "0x" + "12" * 20, "0x" + "22" * 20, 0)
    assert base != request_id_of(1, "0x" + "11" * 20, "0x" + "23" * 20, 0)
    assert base != request_id_of(1, "0x" + "11" * 20, "0x" + "22" * 20, 1)


def test_commitment__matches_commitment_for(
    coordinator: ContractInstance, workers: list[AccountAPI], chain_config: ChainConfig
) -> None:
    rid = bytes(range(32))
    result = result_hash(b'{"ok":true}')
    salt = bytes(31) + b"\x07"
    ours = commitment(
        chain_config.chain_id, coordinator.address, rid, workers[0].address, result, salt
    )
    theirs: Any = coordinator.commitmentFor(rid, workers[0], result, salt)
    assert ours == theirs


def test_commitment__bound_to_worker(
    coordinator: ContractInstance, workers: list[AccountAPI]
) -> None:
    rid, result, salt = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    a = commitment(31337, coordinator.address, rid, workers[0].address, result, salt)
    b = commitment(31337, coordinator.address, rid, workers[1].address, result, salt)
    assert a != b
