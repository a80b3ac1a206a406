// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IProtocolParams
/// @notice The one parameter set of protocol v2 settlement, shared by StakeRegistry, GatewayRegistry
///         and SettlementCoordinator and validated by each constructor (docs/protocol.md gives every
///         default and why).
interface IProtocolParams {
    /// @notice Protocol v2 parameters (times in seconds unless said otherwise, amounts in wei).
    struct Params {
        uint8 seats; // K: committee seats drawn per batch (<= 16)
        uint8 quorum; // Q: agreeing seats that finalize a leaf (> K / 2)
        uint8 beaconDelay; // D: blocks between a batch's post and its seed block (>= 1; >= 4 on an L1)
        uint16 maxLeaves; // leaves per batch (<= 256: one bit per leaf in every batch mask)
        uint16 maxActive; // active-set cap per epoch (<= 256)
        uint16 auditBps; // q: share of `fast` leaves the committee re-executes, in basis points
        uint16 committeeBps; // share of a final leaf's reward to its committee: a K-th per agreeing seat
        uint16 speedBps; // share of an attested leaf's reward to its first attester
        uint16 finalizerBps; // share of a settled leaf's reward to whoever finalizes
        uint16 honestSlashBps; // share of slashed stake to the honest seats (no-shows) or a case's winners
        uint16 projectSlashBps; // share of slashed stake to the batch's payer (the rest is burned)
        uint16 jailEpochs; // epochs a slashed worker sits out
        uint32 epochLength; // shortest epoch
        uint32 seatWindow; // from post: the committee must be drawn by then, else the batch expires
        uint32 commitWindow; // from seating
        uint32 revealWindow; // from the commit deadline
        uint32 openWindow; // from finalization: the attested results may be opened until then
        uint32 maxTicketLife; // longest deadline - issuedAt of a ticket
        uint32 reserveLock; // delay of reserve and bond withdrawals (> maxTicketLife + a batch's life)
        uint32 unbondingDelay; // delay of stake withdrawals (> a batch's life)
        uint96 minStake; // smallest stake an active-set member counts with
        uint96 seatSlash; // slashed per seat for a wrong reveal or a no-show (<= minStake)
        uint96 minReward; // smallest reward per ticket
        uint96 minGatewayBond; // bond a gateway needs to post its own batches
        uint96 orphanRefund; // paid from the gateway's bond per orphaned ticket someone else posts
        uint32 orphanDelay; // a ticket counts as orphaned (postable by anyone) this long after its issuedAt
    }

    /// @notice Thrown by a constructor when `params` are inconsistent; `reason` says which rule failed.
    error InvalidParams(string reason);

    /// @notice The parameters this contract was deployed with.
    function params() external view returns (Params memory);
}
