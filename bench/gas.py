"""Gas of one request's life with K=3, step by step, on a private local anvil.

    . bin/env && python bench/gas.py            # table
    . bin/env && python bench/gas.py --json     # JSON (one object: setup, request, totals)

Deploys the three contracts with the default :class:`peerhost.deploy.DeployParams` (K=3,
quorum 2) on an anvil of its own (random port, never one already running), then measures:

setup   : deploy (x4 transactions), publish, setProjectPrice, setGatewayAuthorization,
          fundProject, register x3
request : requestExecution (reward sent with the call), commit x3, reveal x3, finalize,
          withdraw x3 (each worker pulls its share)

A second request paid from the project balance by an authorized gateway is measured as well
(its request row only; its life otherwise costs the same). The costs are ``gasUsed`` from the
receipts: what the sender pays for, with the 21,000 intrinsic gas included.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.chdir(ROOT)  # ape resolves the project (and ape-config.yaml) from the working directory
sys.path.insert(0, str(ROOT))

from ape import accounts, chain, networks, project  # noqa: E402
from ape.logging import logger  # noqa: E402
from eth_abi import encode  # noqa: E402
from eth_utils import keccak  # noqa: E402

from peerhost.deploy import ETHER, DeployParams, deploy  # noqa: E402

PROJECT = "shop"
FUNCTION = "orders-create"
CODE_CID = bytes.fromhex("01551220") + keccak(b"bench")
INPUT = b'{"body":"{\\"sku\\":42}","headers":{},"method":"POST","path":"/","query":""}'
REPLY_TO = b"http://127.0.0.1:8080/inbox"
ENCRYPTION_KEY = bytes.fromhex("22" * 32)


@dataclass
class GasTable:
    """Gas per labelled step, grouped into sections, in the order measured."""

    sections: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, section: str, step: str, receipt: Any) -> None:
        self.sections.setdefault(section, []).append((step, int(receipt.gas_used)))

    def total(self, section: str) -> int:
        return sum(gas for _, gas in self.sections.get(section, []))

    def as_json(self) -> dict[str, Any]:
        return {
            "sections": {
                s: [{"step": k, "gas": g} for k, g in rows] for s, rows in self.sections.items()
            },
            "totals": {s: self.total(s) for s in self.sections},
        }

    def render(self) -> str:
        lines = [f"{'section':<10} {'step':<38} {'gas':>10}", "-" * 60]
        for section, rows in self.sections.items():
            for step, gas in rows:
                lines.append(f"{section:<10} {step:<38} {gas:>10,}")
            lines.append(f"{section:<10} {'TOTAL ' + section:<38} {self.total(section):>10,}")
            lines.append("-" * 60)
        return "\n".join(lines)


def commitment(
    chain_id: int, coordinator: str, request_id: bytes, worker: str, result: bytes, salt: bytes
) -> bytes:
    """IExecutionCoordinator's commitment, computed off-chain."""
    types = ["uint256", "address", "bytes32", "address", "bytes32", "bytes32"]
    return keccak(encode(types, [chain_id, coordinator, request_id, worker, result, salt]))


def measure(params: DeployParams) -> GasTable:
    """Runs one request's life on the connected chain and returns the gas of every step."""
    table = GasTable()
    owner, developer, gateway, requester = (accounts.test_accounts[i] for i in range(4))
    workers = [accounts.test_accounts[i] for i in range(4, 4 + params.max_commits)]

    d = deploy(project, owner, params)
    for name, contract in (
        ("registry", d.registry),
        ("workers", d.workers),
        ("coordinator", d.coordinator),
    ):
        table.add("setup", f"deploy {name}", chain.provider.get_receipt(contract.txn_hash))
    # deploy() returns no receipt for the wiring; its block holds exactly that transaction.
    wiring = chain.provider.web3.eth.get_block(d.block_number)["transactions"][0]
    table.add("setup", "workers.setCoordinator", chain.provider.get_receipt(wiring))

    table.add(
        "setup",
        "registry.publish",
        d.registry.publish(
            PROJECT, FUNCTION, "wasi", CODE_CID, 1_000_000, 16 << 20, 0, sender=developer
        ),
    )
    function_id = d.registry.functionIdOf(developer, PROJECT, FUNCTION)
    price = params.min_reward * 10
    table.add(
        "setup",
        "coordinator.setProjectPrice",
        d.coordinator.setProjectPrice(PROJECT, price, sender=developer),
    )
    table.add(
        "setup",
        "coordinator.setGatewayAuthorization",
        d.coordinator.setGatewayAuthorization(PROJECT, gateway, True, sender=developer),
    )
    table.add(
        "setup",
        "coordinator.fundProject",
        d.coordinator.fundProject(developer, PROJECT, value=ETHER, sender=developer),
    )
    for i, w in enumerate(workers):
        table.add(
            "setup",
            f"workers.register #{i + 1}",
            d.workers.register(ENCRYPTION_KEY, value=2 * ETHER, sender=w),
        )

    reward = params.min_reward * 10
    request_id = d.coordinator.nextRequestId(requester)
    table.add(
        "request",
        "requestExecution (value)",
        d.coordinator.requestExecution(
            function_id, INPUT, REPLY_TO, value=reward, sender=requester
        ),
    )
    result = keccak(b'{"body":"ok","headers":{},"status":200}')
    chain_id = networks.provider.chain_id
    salts = [keccak(f"salt-{i}".encode()) for i in range(len(workers))]
    for i, w in enumerate(workers):
        c = commitment(chain_id, d.coordinator.address, request_id, w.address, result, salts[i])
        table.add("request", f"commit #{i + 1}", d.coordinator.commit(request_id, c, sender=w))
    for i, w in enumerate(workers):
        table.add(
            "request",
            f"reveal #{i + 1}",
            d.coordinator.reveal(request_id, result, salts[i], sender=w),
        )
    table.add("request", "finalize", d.coordinator.finalize(request_id, sender=requester))
    for i, w in enumerate(workers):
        table.add("request", f"withdraw #{i + 1}", d.coordinator.withdraw(sender=w))

    table.add(
        "variants",
        "requestExecution (project balance)",
        d.coordinator.requestExecution(function_id, INPUT, REPLY_TO, sender=gateway),
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    logger.set_level("ERROR")
    params = DeployParams(max_commits=3, quorum=2)
    # host "auto": a fresh anvil on a random port, so a chain another process uses is never touched.
    with networks.ethereum.local.use_provider(
        "foundry", provider_settings={"host": "auto"}, disconnect_after=True
    ):
        table = measure(params)
    print(json.dumps(table.as_json(), indent=2) if args.json else table.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
