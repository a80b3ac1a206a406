"""Announces this gateway's public URL on-chain, so workers that discover gateways find its feed.

Run once at start when ``announce`` is set: nothing is sent when the chain already holds this URL,
and nothing when the gateway's bond is below the minimum (the registry would refuse it; the log
says to bond first) or the URL is not one workers would dial.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from peerhost.chain.settlement import GAS, SettlementView
from peerhost.wire.endpoint import endpoint_problem

log = logging.getLogger(__name__)

Transact = Callable[[str, bytes, int], Awaitable[dict[str, object]]]


async def announce_endpoint(
    view: SettlementView, transact: Transact, gateway: str, url: str
) -> str:
    """Sends ``setEndpoint(url)`` as ``gateway`` unless it is not needed or would fail.

    Returns:
        ``"announced"``, ``"unchanged"`` or ``"skipped"`` (the reason is logged).
    """
    url = url.rstrip("/")
    problem = endpoint_problem(url)
    if problem is not None:
        log.warning(
            "endpoint %r not announced: %s; set public_url to a URL workers can reach", url, problem
        )
        return "skipped"
    if await view.endpoint_of(gateway) == url:
        log.info("endpoint %s already announced on-chain", url)
        return "unchanged"
    bond = await view.bond_of(gateway)
    minimum = int((await view.params())["minGatewayBond"])
    if bond == 0 or bond < minimum:
        log.warning(
            "endpoint %s not announced: bond %d wei is below the minimum %d wei; bond first "
            "(GatewayRegistry.bond)",
            url,
            bond,
            minimum,
        )
        return "skipped"
    receipt = await transact(
        view.config.gateways, view.gateways.encode_call("setEndpoint", url), GAS["setEndpoint"]
    )
    if int(str(receipt["status"]), 16) != 1:
        log.warning("endpoint %s not announced: setEndpoint reverted", url)
        return "skipped"
    log.info("endpoint %s announced on-chain", url)
    return "announced"
