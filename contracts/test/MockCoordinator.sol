// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IWorkerRegistry} from "../interfaces/IWorkerRegistry.sol";

/// @title MockCoordinator
/// @notice Test double: lets unit tests drive a WorkerRegistry's coordinator-only functions directly.
contract MockCoordinator {
    IWorkerRegistry public immutable workers;
    uint64 public immutable maxRequestLifetime;
    uint256 public received;

    constructor(IWorkerRegistry workers_, uint64 maxRequestLifetime_) {
        workers = workers_;
        maxRequestLifetime = maxRequestLifetime_;
    }

    receive() external payable {
        received += msg.value;
    }

    function lock(address worker, uint256 amount) external {
        workers.lock(worker, amount);
    }

    function unlock(address worker, uint256 amount) external {
        workers.unlock(worker, amount);
    }

    function slash(address worker, uint256 amount) external returns (uint256) {
        return workers.slash(worker, amount);
    }

    function recordOutcome(address worker, uint8 outcome) external {
        workers.recordOutcome(worker, outcome);
    }
}
