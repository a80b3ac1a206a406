"""Fixtures for the protocol v2 settlement contracts: a deployment beside the v1 three, and a kit
that drives a batch's life (tickets, post, mine to the seed block, seat, commit, reveal, settle)
with every byte format computed by ``peerhost.wire``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from ape.api import AccountAPI
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.headers import header_of, prevrandao_of
from peerhost.deploy import ETHER, Deployment, Settlement, SettlementParams, deploy_settlement
from peerhost.wire.batch import (
    ABSTAIN,
    AttestedResult,
    Leaf,
    batch_root,
    batch_seed,
    cosigners,
    encode_posted,
    open_args,
    open_cosignatures,
    results_commitment,
    seat_commitment,
    sign_cosignature,
    vector_hash,
)
from peerhost.wire.ticket import MODE_VERIFIED, Ticket, sign_attestation, ticket_hash

from .holders import ape_rpc, seated, words
from .worker_harness import ThreadLoop, mined_before_revert

PROJECT = "shop"
KEY = bytes.fromhex("11" * 32)
PROFILE = keccak(b"engine-profile")
RESULT_SALT = keccak(b"results-salt")
GOOD = keccak(b'{"status":200,"body":"ok"}')
LIE = keccak(b'{"status":200,"body":"lie"}')
LIE2 = keccak(b'{"status":200,"body":"another lie"}')

# Phase / state enums of ISettlementCoordinator
PH_NONE, PH_AWAITING, PH_COMMIT, PH_REVEAL, PH_SETTLE, PH_FINALIZED, PH_CLOSED, PH_EXPIRED = range(
    8
)
L_NONE, L_PENDING, L_FINAL, L_UNAUDITED, L_REFUNDED, L_DISPUTED = range(6)
S_NONE, S_POSTED, S_SEATED, S_FINALIZED, S_CLOSED, S_EXPIRED = range(6)


def short_epoch_params() -> SettlementParams:
    """Defaults with short epochs so tests can advance them."""
    return SettlementParams(epoch_length=60)


@pytest.fixture(scope="session")
def settlement_params() -> SettlementParams:
    return short_epoch_params()


@pytest.fixture(scope="session")
def settlement(
    project: Any, owner: AccountAPI, deployment: Deployment, settlement_params: SettlementParams
) -> Settlement:
    """The v2 contracts, deployed beside this session's v1 deployment (sharing its FunctionRegistry)."""
    return deploy_settlement(project, owner, deployment.registry, settlement_params)


@dataclass
class Posted:
    batch_id: int
    tickets: list[Ticket]
    results: list[AttestedResult]


@dataclass
class Kit:
    """Drives batches through their life on the test chain."""

    s: Settlement
    params: SettlementParams
    chain: Any
    developer: AccountAPI
    gateway: AccountAPI
    function_id: bytes = b""
    signers: dict[str, Any] = field(default_factory=dict)  # attesters by lower-case address
    project_id: bytes = b""
    next_seq: int = 0
    salts: dict[str, bytes] = field(default_factory=dict)

    @property
    def coordinator(self) -> Any:
        return self.s.coordinator

    def request(self, method: str, params: list[Any]) -> Any:
        return self.chain.provider.make_request(method, params)

    def now(self) -> int:
        return int(self.chain.pending_timestamp)

    def clock_on_the_wall(self) -> None:
        """Mines a block at the wall clock's time when the chain's clock is behind it (a snapshot's
        revert sets it back): for tests whose gateway issues or judges by the wall clock."""
        wall = int(time.time()) + 1
        if self.now() < wall:
            self.chain.mine(timestamp=wall)

    # ---------------------------------------------------------------- setup

    def stake(self, workers: Sequence[AccountAPI], stake: int = 2 * ETHER) -> None:
        """Registers ``workers`` and starts a new epoch that counts them."""
        for w in workers:
            self.s.stakes.register(KEY, value=stake, sender=w)
        self.advance_epoch()

    def advance_epoch(self) -> None:
        self.chain.mine(deltatime=self.params.epoch_length)
        self.s.stakes.advanceEpoch(sender=self.gateway)

    def open_project(self, reserve: int = 10 * ETHER, bond: int = 2 * ETHER) -> None:
        """Publishes developer's function, funds its reserve, authorizes and bonds the gateway."""
        registry = self.s.registry
        registry.publish(
            PROJECT, "v2-fn", "wasi", b"\x01" * 36, 1000, 1 << 20, 0, sender=self.developer
        )
        self.function_id = bytes(registry.functionIdOf(self.developer, PROJECT, "v2-fn"))
        self.project_id = bytes(registry.projectIdOf(self.developer, PROJECT))
        self.s.gateways.fundReserve(self.project_id, value=reserve, sender=self.developer)
        self.s.gateways.setGatewayAuthorization(PROJECT, self.gateway, True, sender=self.developer)
        if bond:
            self.s.gateways.bond(value=bond, sender=self.gateway)
        self.chain.mine(deltatime=1)  # tickets are issued after the authorization

    # ---------------------------------------------------------------- tickets and batches

    def tickets(
        self, n: int, *, mode: int = MODE_VERIFIED, reward: int | None = None
    ) -> list[Ticket]:
        now = self.now() - 1
        out = []
        for _ in range(n):
            out.append(
                Ticket(
                    gateway=str(self.gateway.address),
                    seq=self.next_seq,
                    function_id=self.function_id,
                    version=1,
                    input_hash=keccak(self.next_seq.to_bytes(8, "big")),
                    reward=self.params.min_reward if reward is None else reward,
                    issued_at=now,
                    deadline=now + 600,
                    mode=mode,
                    engine_profile=PROFILE,
                )
            )
            self.next_seq += 1
        return out

    def attested(
        self, tickets: Sequence[Ticket], attesters: Sequence[Any], result: bytes = GOOD
    ) -> list[AttestedResult]:
        """Each ticket attested with ``result`` by ``attesters`` (who co-sign at :meth:`open`)."""
        for a in attesters:
            self.signers[str(a.address).lower()] = a
        return [AttestedResult(result, tuple(str(a.address) for a in attesters)) for t in tickets]

    def cosignature(
        self,
        signer: Any,
        batch_id: int,
        tickets: Sequence[Ticket],
        results: Sequence[AttestedResult],
    ) -> bytes:
        """``signer``'s co-signature of batch ``batch_id`` (its terms in ``results``)."""
        return sign_cosignature(
            bytes.fromhex(str(signer.private_key).removeprefix("0x")),
            self.chain.chain_id,
            str(self.coordinator.address),
            batch_id,
            str(self.gateway.address),
            batch_root([Leaf.of(t) for t in tickets]),
            results,
        )

    def cosignatures(
        self,
        batch_id: int,
        tickets: Sequence[Ticket],
        results: Sequence[AttestedResult],
        signers: Sequence[Any] | None = None,
    ) -> bytes:
        """``openResults``' co-signatures: each attester of ``results`` among ``signers`` (default:
        every account :meth:`attested` saw) co-signs; the others give 65 zero bytes."""
        pool = {str(a.address).lower(): a for a in signers} if signers is not None else self.signers
        signed = {
            a: self.cosignature(pool[a.lower()], batch_id, tickets, results)
            for a in cosigners(results)
            if a.lower() in pool
        }
        return open_cosignatures(results, signed)

    def attest(self, attester: Any, ticket: Ticket, result: bytes) -> bytes:
        """``attester``'s EIP-712 attestation of ``result`` for ``ticket``."""
        key = bytes.fromhex(str(attester.private_key).removeprefix("0x"))
        coordinator = str(self.coordinator.address)
        return sign_attestation(key, self.chain.chain_id, coordinator, ticket_hash(ticket), result)

    def post(
        self,
        n: int = 1,
        *,
        mode: int = MODE_VERIFIED,
        attesters: Sequence[Any] = (),
        tickets: list[Ticket] | None = None,
        sender: Any = None,
    ) -> Posted:
        tickets = tickets if tickets is not None else self.tickets(n, mode=mode)
        results = self.attested(tickets, attesters) if attesters else []
        commitment = results_commitment(results, RESULT_SALT) if results else bytes(32)
        head, leaves = encode_posted([Leaf.of(t) for t in tickets])
        tx = self.coordinator.postBatch(
            self.project_id,
            PROFILE,
            head.as_tuple(),
            commitment,
            leaves,
            sender=sender or self.gateway,
        )
        batch_id = int(tx.events.filter(self.coordinator.BatchPosted)[0].batchId)
        return Posted(batch_id, tickets, results)

    def seat(self, batch_id: int) -> list[str]:
        """Mines to the seed block, proves it and draws the committee; returns the distinct holders."""
        seed_block = int(self.coordinator.getBatch(batch_id).seedBlock)
        head = int(self.chain.blocks.head.number)
        if head <= seed_block:
            self.chain.mine(seed_block - head + 1)
        self.coordinator.seat(batch_id, header_of(self.request, seed_block), sender=self.gateway)
        holders, _ = self.holders_of(batch_id)
        return [str(h) for h in holders]

    def holders_of(self, batch_id: int) -> tuple[list[str], list[int]]:
        """The batch's holders and seat counts, from its BatchSeated log."""
        return seated(ape_rpc(self.chain), str(self.coordinator.address), batch_id)

    def vote_of(self, batch_id: int, worker: Any) -> bytes:
        """``worker``'s commitment or revealed vector hash (voteOf by its holder index; zero: no seat)."""
        holders = [h.lower() for h in self.holders_of(batch_id)[0]]
        if str(worker).lower() not in holders:
            return bytes(32)
        return bytes(self.coordinator.voteOf(batch_id, holders.index(str(worker).lower())))

    def draw_hl(self, batch_id: int) -> list[int]:
        """The holder list the seed block's draw names, before seating (as a worker computes it for
        seatAndCommit); the seated list once the batch is seated."""
        if int(self.coordinator.getBatch(batch_id).holderCount):
            return self.hl(batch_id)
        b = self.coordinator.getBatch(batch_id)
        seed = batch_seed(prevrandao_of(self.request, int(b.seedBlock)), batch_id)
        seats = [str(a) for a in self.s.stakes.drawSeats(b.epoch, seed, self.params.seats)]
        holders = list(dict.fromkeys(seats))
        return words(holders, [seats.count(h) for h in holders])

    def hl(self, batch_id: int) -> list[int]:
        """The batch's holder list as its calls take it (address | seats << 160 per holder)."""
        return words(*self.holders_of(batch_id))

    def salt(self, worker: Any) -> bytes:
        return keccak(b"salt" + bytes.fromhex(str(worker.address)[2:]))

    def commit(self, batch_id: int, worker: Any, vector: Sequence[bytes]) -> Any:
        c = seat_commitment(
            self.chain.chain_id,
            str(self.coordinator.address),
            batch_id,
            str(worker.address),
            vector_hash(vector),
            self.salt(worker),
        )
        return self.coordinator.commit(batch_id, c, self.hl(batch_id), sender=worker)

    def reveal(
        self, batch_id: int, worker: Any, vector: Sequence[bytes], *, full: bool = True
    ) -> Any:
        return self.coordinator.reveal(
            batch_id,
            vector_hash(vector),
            self.salt(worker),
            list(vector) if full else [],
            self.hl(batch_id),
            sender=worker,
        )

    def wait_challenge_window(self, batch_id: int) -> None:
        """Mines to the end of the batch's challenge window (when it has not passed yet)."""
        window = int(self.s.court.courtParams().challengeWindow)
        end = int(self.coordinator.getBatch(batch_id).finalizedAt) + window
        if self.now() < end:
            self.chain.mine(deltatime=end - self.now())

    def claim_seats(self, batch_id: int, by: Any) -> dict[str, int]:
        """After the challenge window, every holder with committee pay in the batch claims it
        (``by``: accounts by address, a mapping or a function); returns what each was sent
        (SeatPayClaimed, checked against its balance), every holder that had nothing left out."""
        self.wait_challenge_window(batch_id)
        paid: dict[str, int] = {}
        hl = self.hl(batch_id)
        for holder in self.holders_of(batch_id)[0]:
            owed = int(self.coordinator.seatPayOf(batch_id, holder, hl))
            if owed == 0:
                continue
            before = int(self.chain.provider.get_balance(holder))
            account = by(str(holder)) if callable(by) else by[str(holder)]
            tx = self.coordinator.claimSeatPay([batch_id], [hl], sender=account)
            [event] = tx.events.filter(self.coordinator.SeatPayClaimed)
            fee = int(tx.gas_used) * int(tx.gas_price)
            assert int(self.chain.provider.get_balance(holder)) - before + fee == owed
            assert (
                int(event.amount) == owed
                and int(self.coordinator.seatPayOf(batch_id, holder, hl)) == 0
            )
            paid[str(holder)] = owed
        return paid

    def open(self, posted: Posted, final_vector: Sequence[bytes], sender: Any = None) -> Any:
        """Opens the attested results once the batch's challenge window passed (attesters are paid after it)."""
        self.wait_challenge_window(posted.batch_id)
        return self.coordinator.openResults(
            posted.batch_id,
            RESULT_SALT,
            *open_args(posted.results, final_vector),
            self.cosignatures(posted.batch_id, posted.tickets, posted.results),
            sender=sender or self.gateway,
        )


def vector(n: int, value: bytes = GOOD) -> list[bytes]:
    return [value] * n


def abstain(n: int) -> list[bytes]:
    return [ABSTAIN] * n


@pytest.fixture
def kit(
    settlement: Settlement,
    settlement_params: SettlementParams,
    chain: Any,
    developer: Any,
    gateway: Any,
) -> Kit:
    return Kit(settlement, settlement_params, chain, developer, gateway)


@pytest.fixture
def accounts_by_address(accounts: Any) -> dict[str, Any]:
    return {str(accounts[i].address): accounts[i] for i in range(10)}


@pytest.fixture
def ready(kit: Kit, workers: list[AccountAPI]) -> Kit:
    """Three staked workers in the current epoch, an open project with a bonded gateway."""
    kit.stake(workers[:3])
    kit.open_project()
    return kit


def seat_until(
    kit: Kit, want: Any, *, n: int = 1, tries: int = 60, **post: Any
) -> tuple[Posted, list[str]]:
    """Posts and seats batches until ``want(holders, seats)`` holds (seats are random per block)."""
    for _ in range(tries):
        posted = kit.post(n, **post)
        holders = kit.seat(posted.batch_id)
        seats = [int(x) for x in kit.holders_of(posted.batch_id)[1]]
        if want(holders, seats):
            return posted, holders
    raise AssertionError(f"no draw satisfied the condition in {tries} tries")


def distinct(count: int) -> Any:
    return lambda holders, seats: len(holders) == count


def owed(kit: Kit, accounts: Sequence[Any]) -> int:
    """What the coordinator owes: credits of ``accounts``, burned stake, and every batch's escrow
    (open batches hold all their rewards, finalized ones their attester pot, settled ones the seat pay not claimed yet)."""
    c = kit.coordinator
    escrow = 0
    held = lambda batch_id: int(c.seatPayHeld(batch_id, kit.hl(batch_id)))  # noqa: E731
    for batch_id in range(1, int(c.batchCount()) + 1):
        b = c.getBatch(batch_id)
        if b.state in (S_POSTED, S_SEATED):
            escrow += int(b.reward) * int(b.leafCount)
        elif b.state == S_FINALIZED:
            escrow += int(b.attesterPot) + held(batch_id)
        else:
            escrow += held(batch_id)  # a settled batch's unclaimed seat pay
    return sum(int(c.pendingWithdrawal(a)) for a in accounts) + int(c.burned()) + escrow


@pytest.fixture
def v2_config(settlement: Settlement, deployment: Deployment, chain: Any) -> ChainConfig:
    """The off-chain services' view of this module's chain: ape's anvil, the request contracts and
    the v2 settlement contracts (what a gateway or worker is configured with)."""
    uri = str(chain.provider.uri)
    v2 = settlement.addresses
    return ChainConfig(
        uri,
        uri,
        chain.chain_id,
        **deployment.addresses,
        stakes=v2["stakes"],
        gateways=v2["gateways"],
        settlement=v2["settlement"],
    )


@pytest.fixture
def loop(chain: Any) -> Iterator[ThreadLoop]:
    """The worker's event loop on its own thread, while the test drives the chain."""
    running = ThreadLoop()
    yield running
    running.close()
    mined_before_revert(chain)


@pytest.fixture
def refusing_gateway() -> Iterator[str]:
    """A gateway whose input endpoint refuses every request at once (404): a withheld input."""
    from .worker_harness import refusing_gateway_at

    with refusing_gateway_at() as url:
        yield url


@pytest.fixture
def k(kit: Any, workers: list[Any]) -> Any:
    """The kit with six workers staked and the project open: the court and case-duty tests' chain
    (a test file that needs another set defines its own ``k``)."""
    kit.stake(workers[:6])
    kit.open_project()
    return kit
