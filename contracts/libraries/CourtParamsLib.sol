// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICourtParams} from "../interfaces/ICourtParams.sol";

/// @title CourtParamsLib
/// @notice Validation of ICourtParams.CourtParams (one rule per line, each with its reason).
library CourtParamsLib {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_PRESENTER_BPS = 1000;

    /// @notice Reverts InvalidCourtParams(reason) unless `p` is consistent.
    function validate(ICourtParams.CourtParams memory p) internal pure {
        if (p.challengeWindow == 0 || p.commitWindow == 0 || p.revealWindow == 0 || p.dataWindow == 0) revert ICourtParams.InvalidCourtParams("windows: > 0");
        if (p.attestationSlashBps == 0 || p.attestationSlashBps > BPS) revert ICourtParams.InvalidCourtParams("attestationSlashBps: 1..10000");
        if (p.presenterBps > MAX_PRESENTER_BPS) revert ICourtParams.InvalidCourtParams("presenterBps: <= 1000");
        if (p.challengeBond == 0) revert ICourtParams.InvalidCourtParams("challengeBond: > 0");
        if (p.dataBond == 0) revert ICourtParams.InvalidCourtParams("dataBond: > 0");
    }
}
