"""HeaderBeacon: the prevrandao of a recent block, proven from its RLP header against blockhash."""

from __future__ import annotations

import rlp
from eth_utils import keccak

from peerhost.chain.headers import encode_header, header_of, prevrandao_of


def _request(chain):
    return chain.provider.make_request


def test_value_of__true_header__returns_mix_hash(settlement, chain):
    chain.mine(3)
    number = int(chain.blocks.head.number) - 1
    header = header_of(_request(chain), number)
    value = bytes(settlement.beacon.valueOf(number, header))
    assert value == prevrandao_of(_request(chain), number)
    assert value != bytes(32)


def test_value_of__tampered_mix_hash__reverts_header_mismatch(settlement, chain, reverts_with):
    chain.mine(2)
    number = int(chain.blocks.head.number) - 1
    fields = rlp.decode(header_of(_request(chain), number))
    fields[13] = keccak(b"chosen by the poster")
    forged = rlp.encode(fields)
    with reverts_with(settlement.beacon.HeaderMismatch):
        settlement.beacon.valueOf(number, forged)


def test_value_of__header_of_another_block__reverts_header_mismatch(
    settlement, chain, reverts_with
):
    chain.mine(3)
    number = int(chain.blocks.head.number) - 1
    other = header_of(_request(chain), number - 1)
    with reverts_with(settlement.beacon.HeaderMismatch):
        settlement.beacon.valueOf(number, other)


def test_value_of__future_block__reverts_block_hash_unavailable(settlement, chain, reverts_with):
    head = int(chain.blocks.head.number)
    header = header_of(_request(chain), head)
    with reverts_with(settlement.beacon.BlockHashUnavailable):
        settlement.beacon.valueOf(head + 5, header)


def test_value_of__block_older_than_256__reverts_block_hash_unavailable(
    settlement, chain, reverts_with
):
    chain.mine(2)
    number = int(chain.blocks.head.number) - 1
    header = header_of(_request(chain), number)
    chain.mine(257)
    with reverts_with(settlement.beacon.BlockHashUnavailable):
        settlement.beacon.valueOf(number, header)


def test_encode_header__anvil_block__hashes_to_block_hash(chain):
    chain.mine(1)
    block = _request(chain)("eth_getBlockByNumber", ["latest", False])
    assert "0x" + keccak(encode_header(block)).hex() == block["hash"]
