// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICourtParams
/// @notice The parameters of protocol v2 accountability (escalation tiers, challenges, evidence), shared by
///         DisputeCourt and EvidenceCourt and validated by both constructors (docs/protocol.md: defaults).
interface ICourtParams {
    /// @notice Accountability parameters (times in seconds, amounts in wei, shares in basis points).
    struct CourtParams {
        uint32 challengeWindow; // after a leaf finalizes (or a tier decides): a challenge may open the next tier
        uint32 commitWindow; // a tier-2 panel's or the tier-3 vote's commit phase
        uint32 revealWindow; // its reveal phase, from the commit deadline
        uint32 dataWindow; // a gateway's time to publish an input once a data-availability challenge opened
        uint16 attestationSlashBps; // share of a worker's stake slashed for a contradicted attestation
        uint16 presenterBps; // share of a slash (attestation or equivocation) to whoever presented it (<= 1000)
        uint96 challengeBond; // bond of a challenge to tier 2; tier 3 costs twice as much
        uint96 dataBond; // bond of a data-availability challenge (to the gateway when it publishes)
        uint96 dataSlash; // taken from a gateway's bond, besides the ticket's reward, when it does not publish
    }

    /// @notice Thrown by a constructor when `params` are inconsistent; `reason` says which rule failed.
    error InvalidCourtParams(string reason);

    /// @notice The accountability parameters this contract was deployed with.
    function courtParams() external view returns (CourtParams memory);
}
