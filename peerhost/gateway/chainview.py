"""The gateway's view of the contracts: :class:`Protocol` plus the reads only the gateway needs."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from peerhost.chain.protocol import Protocol

#: requestExecution gas: about 226k fixed plus 27.5 per input byte measured on anvil (the input is
#: calldata, hashed, stored in the event); the limit leaves a margin (unused gas is not charged).
REQUEST_GAS_BASE = 300_000
REQUEST_GAS_PER_BYTE = 40


def request_gas(input_: bytes, reply_to: bytes) -> int:
    """The gas limit of a requestExecution carrying ``input_`` and ``reply_to``."""
    return REQUEST_GAS_BASE + REQUEST_GAS_PER_BYTE * (len(input_) + len(reply_to))


class GatewayProtocol(Protocol):
    """Adds project payment reads, revert reasons of receipts and the node's chain id.

    The gateway sends through :class:`~peerhost.gateway.batcher.BatchSender`, not ``Protocol``'s
    writes; this class is only used for reads.
    """

    async def is_gateway_authorized(self, project_id: bytes, gateway: str) -> bool:
        return bool(
            await self._call(
                self.coordinator,
                self.config.coordinator,
                "isGatewayAuthorized",
                project_id,
                to_checksum_address(gateway),
            )
        )

    async def project_account(self, project_id: bytes) -> dict[str, Any]:
        account: dict[str, Any] = await self._call(
            self.coordinator, self.config.coordinator, "projectAccount", project_id
        )
        return account

    async def revert_reason(self, receipt: dict[str, Any]) -> str:
        """The decoded custom error a mined, failed transaction reverted with."""
        return await self._revert_reason(receipt)

    async def node_chain_id(self) -> int:
        return int(await self.rpc.call("eth_chainId"), 16)

    async def block_number(self) -> int:
        return int(await self.rpc.call("eth_blockNumber"), 16)
