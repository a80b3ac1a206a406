// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title ProtocolParamsLib
/// @notice Validation of IProtocolParams.Params (one rule per line, each with its reason).
library ProtocolParamsLib {
    uint256 internal constant MAX_SEATS = 16;
    uint256 internal constant MAX_LEAVES = 256;
    uint256 internal constant MAX_ACTIVE = 256;
    uint256 internal constant BPS = 10_000;

    /// @notice The longest a batch can stay open: seat, commit, reveal and open windows.
    function batchLife(IProtocolParams.Params memory p) internal pure returns (uint256) {
        return uint256(p.seatWindow) + p.commitWindow + p.revealWindow + p.openWindow;
    }

    /// @notice Reverts InvalidParams(reason) unless `p` is consistent.
    function validate(IProtocolParams.Params memory p) internal pure {
        if (p.seats == 0 || p.seats > MAX_SEATS) revert IProtocolParams.InvalidParams("seats: 1..16");
        if (p.quorum > p.seats || 2 * uint256(p.quorum) <= p.seats) revert IProtocolParams.InvalidParams("quorum: > seats/2, <= seats");
        if (p.beaconDelay == 0) revert IProtocolParams.InvalidParams("beaconDelay: >= 1");
        if (p.maxLeaves == 0 || p.maxLeaves > MAX_LEAVES) revert IProtocolParams.InvalidParams("maxLeaves: 1..256");
        if (p.maxActive == 0 || p.maxActive > MAX_ACTIVE) revert IProtocolParams.InvalidParams("maxActive: 1..256");
        if (p.auditBps > BPS) revert IProtocolParams.InvalidParams("auditBps: <= 10000");
        if (uint256(p.committeeBps) + p.speedBps + p.finalizerBps > BPS) revert IProtocolParams.InvalidParams("committee+speed+finalizer bps: <= 10000");
        if (uint256(p.honestSlashBps) + p.projectSlashBps > BPS) revert IProtocolParams.InvalidParams("honest+project slash bps: <= 10000");
        if (p.epochLength == 0) revert IProtocolParams.InvalidParams("epochLength: > 0");
        if (p.seatWindow == 0 || p.commitWindow == 0 || p.revealWindow == 0 || p.openWindow == 0) revert IProtocolParams.InvalidParams("windows: > 0");
        if (p.maxTicketLife == 0) revert IProtocolParams.InvalidParams("maxTicketLife: > 0");
        if (p.reserveLock <= uint256(p.maxTicketLife) + batchLife(p)) revert IProtocolParams.InvalidParams("reserveLock: > maxTicketLife + batch life");
        if (p.unbondingDelay <= batchLife(p)) revert IProtocolParams.InvalidParams("unbondingDelay: > batch life");
        if (p.minStake == 0) revert IProtocolParams.InvalidParams("minStake: > 0");
        if (p.seatSlash > p.minStake) revert IProtocolParams.InvalidParams("seatSlash: <= minStake");
        if (p.minReward == 0) revert IProtocolParams.InvalidParams("minReward: > 0");
        if (p.orphanRefund > p.minGatewayBond) revert IProtocolParams.InvalidParams("orphanRefund: <= minGatewayBond");
        if (p.orphanDelay >= p.maxTicketLife) revert IProtocolParams.InvalidParams("orphanDelay: < maxTicketLife");
    }
}
