"""TxSigner: the EIP-1559 transactions both senders sign, against a real anvil."""

from __future__ import annotations

import asyncio

from ape.api import AccountAPI
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes

from peerhost.chain import ChainConfig, RpcClient
from peerhost.chain.signer import TIP_WEI, SignedTx, TxSigner, transaction_hash


def test_sign__consecutive__local_nonces_from_pending_count_and_signed_fields(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> tuple[int, list[SignedTx], tuple[int, int]]:
        rpc = RpcClient(chain_config.rpc_url)
        signer = TxSigner(rpc, stranger.private_key, chain_config.chain_id)
        pending = int(await rpc.call("eth_getTransactionCount", [signer.address, "pending"]), 16)
        fees = await signer.fees()
        await signer.load_nonce()
        signed = [signer.sign(chain_config.coordinator, b"\x01", gas=50_000) for _ in range(2)]
        await rpc.aclose()
        return pending, signed, fees

    pending, signed, fees = asyncio.run(run())
    first, second = signed
    assert (first.nonce, second.nonce) == (pending, pending + 1)
    tx = TypedTransaction.from_bytes(HexBytes(first.raw)).as_dict()
    assert (tx["type"], tx["chainId"], tx["nonce"], tx["gas"]) == (
        2,
        chain_config.chain_id,
        pending,
        50_000,
    )
    assert (tx["maxFeePerGas"], tx["maxPriorityFeePerGas"]) == fees
    assert fees[1] in (0, TIP_WEI) and fees[0] >= fees[1]
    assert Account.recover_transaction(first.raw) == stranger.address
    assert [transaction_hash(s.raw) for s in signed] == [s.hash for s in signed]


def test_forget_nonce__after_unsent_signatures__next_sign_reuses_node_count(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> tuple[int, int]:
        rpc = RpcClient(chain_config.rpc_url)
        signer = TxSigner(rpc, stranger.private_key, chain_config.chain_id)
        await signer.fees()
        await signer.load_nonce()
        first = signer.sign(chain_config.coordinator, b"", gas=50_000).nonce
        signer.sign(chain_config.coordinator, b"", gas=50_000)  # never sent
        signer.forget_nonce()
        await signer.load_nonce()
        again = signer.sign(chain_config.coordinator, b"", gas=50_000).nonce
        await rpc.aclose()
        return first, again

    first, again = asyncio.run(run())
    assert again == first


def test_repr__any_signer__shows_address_never_key() -> None:
    key = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    text = repr(TxSigner(RpcClient("http://127.0.0.1:1"), key, 1))
    assert Account.from_key(key).address in text and key.hex()[:16] not in text
