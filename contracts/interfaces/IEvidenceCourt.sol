// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICourtParams} from "./ICourtParams.sol";
import {ITicketVerifier} from "./ITicketVerifier.sol";

/// @title IEvidenceCourt
/// @notice Protocol v2 accountability from signed evidence: slashable attestations, gateway equivocation and
///         data-availability challenges (docs/protocol.md).
/// @dev Attestations: once a leaf's result is settled (IDisputeCourt.settledValue: its case closed, or it
///      finalized at tier 1 and its challenge window passed unchallenged), anyone may present a worker's
///      attestation of that leaf's ticket whose result hash is neither ABSTAIN nor the final value. The worker
///      loses attestationSlashBps of its stake (bonded and unbonding) and is jailed for the next epoch, once per
///      batch (records are keyed by ticket hash and by batch). Of the slash, the presenter gets presenterBps
///      (<= 10 %), the project gets the ticket's reward back, the rest is burned: an owner presenting its own
///      attester's lie loses. Equivocation: two tickets of one gateway and seq, both signed by it, take its whole
///      bond (presenter's share, the rest burned); attestations of either ticket are never slashed after that.
///      Data availability: a seat of the batch's committee (while it is Seated) or of the leaf's tier-2 panel
///      (while it votes) that cannot get a ticket's input pays dataBond to open a challenge; the gateway
///      publishes the input (keccak = the leaf's inputHash) within dataWindow and earns the bond, or anyone
///      voids the ticket: the gateway's bond pays the ticket's reward back to the project and dataSlash is
///      burned, the challenger gets its bond back, and the ticket's attestations are never slashed.
interface IEvidenceCourt is ICourtParams {
    /// @notice A data-availability challenge.
    struct DataChallenge {
        address challenger;
        uint40 deadline;
        uint8 state; // 0 none, 1 open, 2 published, 3 voided
        bytes32 inputHash;
    }

    /// @notice A presented attestation and where its ticket was settled.
    struct AttestationEvidence {
        ITicketVerifier.Ticket ticket;
        bytes32 resultHash; // what the worker attested
        bytes signature; // its EIP-712 attestation (65 bytes)
        uint256 batchId;
        uint256 index;
        bytes32[] proof; // Merkle proof of the ticket's leaf at `index`
        bytes32[] finalVector; // the batch's final vector when the leaf finalized at tier 1; empty after a case
    }

    /// @notice Thrown when a ticket (or leaf) is not leaf `index` of the batch by the proof, or is another gateway's.
    error NotInBatch(uint256 batchId, uint256 index);
    /// @notice Thrown when the final vector does not hash to the batch's.
    error FinalVectorMismatch(uint256 batchId);
    /// @notice Thrown when a leaf's result is not settled yet (a case is open, or the challenge window runs).
    error NotSettled(uint256 batchId, uint256 index);
    /// @notice Thrown when a leaf has no final result (refunded, unaudited, or no value was decided).
    error NoFinalResult(uint256 batchId, uint256 index);
    /// @notice Thrown when an attestation agrees with the final result or abstains.
    error NotContradicting(bytes32 resultHash, bytes32 finalValue);
    /// @notice Thrown when a signature does not recover (malformed or high s).
    error BadSignature();
    /// @notice Thrown when a worker was already slashed for an attestation in this batch.
    error AlreadySlashed(uint256 batchId, address worker);
    /// @notice Thrown when the worker has no stake left to slash.
    error NothingToSlash(address worker);
    /// @notice Thrown when the ticket's gateway equivocated on its seq.
    error TicketEquivocated(address gateway, uint256 seq);
    /// @notice Thrown when the ticket was voided by a data-availability challenge.
    error TicketVoided(uint256 batchId, uint256 index);
    /// @notice Thrown when two tickets are not an equivocation (other gateway or seq, same ticket, or unsigned).
    error NotEquivocation();
    /// @notice Thrown when an equivocation on (gateway, seq) was already proven.
    error AlreadyProven(address gateway, uint256 seq);
    /// @notice Thrown when a data-availability challenge is opened by someone without a seat, or out of time.
    error CannotChallengeData(uint256 batchId, uint256 index, address account);
    /// @notice Thrown when a bond is not exactly dataBond.
    error WrongBond(uint256 value, uint256 bond);
    /// @notice Thrown when a call does not fit the data challenge's state (`state` as in DataChallenge).
    error WrongDataState(uint256 batchId, uint256 index, uint8 state);
    /// @notice Thrown when a published input does not hash to the leaf's inputHash.
    error InputMismatch(bytes32 inputHash, bytes32 got);
    /// @notice Thrown when ETH arrives from anyone but the registries.
    error UnexpectedPayment(address from);
    /// @notice Thrown when there is nothing to withdraw.
    error NothingToWithdraw(address account);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);

    /// @notice Emitted when an attestation is slashed.
    event AttestationSlashed(
        uint256 indexed batchId,
        uint256 index,
        address indexed worker,
        bytes32 indexed ticketHash,
        uint256 amount,
        address presenter
    );
    /// @notice Emitted when a slash is split: to the presenter, to the project, burned.
    event EvidenceSplit(uint256 toPresenter, uint256 toProject, uint256 burned);
    /// @notice Emitted when a gateway's equivocation on `seq` is proven.
    event EquivocationProven(address indexed gateway, uint256 seq, bytes32 ticketA, bytes32 ticketB, uint256 charged);
    /// @notice Emitted when a data-availability challenge opens.
    event DataChallenged(uint256 indexed batchId, uint256 indexed index, address indexed challenger, bytes32 inputHash, uint256 deadline);
    /// @notice Emitted when the gateway publishes an input (the bytes are in the calldata and here).
    event InputPublished(uint256 indexed batchId, uint256 indexed index, bytes input);
    /// @notice Emitted when a ticket is voided for want of its input.
    event TicketVoidedForData(uint256 indexed batchId, uint256 indexed index, uint256 charged, uint256 refunded);
    /// @notice Emitted when `account` is credited (reason 0 presenter, 1 data bond to the gateway, 2 data bond back, 3 refund).
    event Credited(address indexed account, uint256 amount, uint8 reason);
    /// @notice Emitted when `account` withdraws.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Slashes an attestation (anyone presents).
    function slashAttestation(AttestationEvidence calldata evidence) external;

    /// @notice Proves that a gateway signed two tickets with one seq and takes its bond (anyone presents).
    function proveEquivocation(
        ITicketVerifier.Ticket calldata a,
        bytes calldata signatureA,
        ITicketVerifier.Ticket calldata b,
        bytes calldata signatureB
    ) external;

    /// @notice Opens a data-availability challenge on leaf `index` (its 103 bytes and Merkle proof), msg.value = dataBond.
    ///         `holders`: the batch's holder list (ISettlementCoordinator.commit) while it is seated, to show the caller
    ///         holds a seat (ignored after: a tier-2 panel's member is read from the DisputeCourt).
    function openDataChallenge(
        uint256 batchId,
        uint256 index,
        bytes calldata leaf,
        bytes32[] calldata proof,
        uint256[] calldata holders
    ) external payable;

    /// @notice Publishes a challenged input (anyone; the gateway earns the bond).
    function publishInput(uint256 batchId, uint256 index, bytes calldata input) external;

    /// @notice Voids a ticket whose input was not published by the deadline (anyone).
    function voidTicket(uint256 batchId, uint256 index) external;

    /// @notice Pays out the caller's credits.
    function withdraw() external;

    /// @notice A leaf's data-availability challenge.
    function dataChallengeOf(uint256 batchId, uint256 index) external view returns (DataChallenge memory);

    /// @notice Whether `worker` was slashed for an attestation in batch `batchId`.
    function isSlashedIn(uint256 batchId, address worker) external view returns (bool);

    /// @notice Whether `worker` was slashed for an attestation of the ticket `ticketHash`.
    function isSlashedFor(bytes32 ticketHash, address worker) external view returns (bool);

    /// @notice Whether `gateway`'s equivocation on `seq` was proven.
    function isEquivocated(address gateway, uint256 seq) external view returns (bool);

    /// @notice Credits waiting for `account`.
    function pendingWithdrawal(address account) external view returns (uint256);

    /// @notice Slashed stake and bond burned here (no function moves it).
    function burned() external view returns (uint256);
}
