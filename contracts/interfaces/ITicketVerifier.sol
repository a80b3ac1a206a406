// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ITicketVerifier
/// @notice EIP-712 tickets and attestations (peerhost/wire/ticket.py) and batch Merkle proofs
///         (peerhost/wire/batch.py), stateless: every digest names the settlement coordinator as its
///         verifying contract, passed in by the caller.
/// @dev Domain: EIP712Domain(name "PeerHost", version "2", chainId, verifyingContract = coordinator).
interface ITicketVerifier {
    /// @notice A gateway's signed ticket.
    struct Ticket {
        address gateway;
        uint64 seq;
        bytes32 functionId;
        uint32 version;
        bytes32 inputHash;
        uint96 reward;
        uint40 issuedAt;
        uint40 deadline;
        uint8 mode; // 0 fast, 1 attested, 2 verified
        uint32 secretsVersion;
        bytes32 engineProfile;
        uint256 issuedTotal; // the gateway's running total issued, this ticket included
    }

    /// @notice Thrown when orphaned tickets are empty, differ in gateway, engine profile or reward, or lack signatures.
    error OrphansMismatch(uint256 index);
    /// @notice Thrown when an orphaned ticket's signature is not its gateway's (`signer` is who signed, or zero).
    error BadTicketSignature(uint256 index, address signer);
    /// @notice Thrown when a ticket is posted as an orphan before `postableAt` (its gateway may still post it).
    error OrphanTooEarly(uint256 index, uint256 postableAt);

    /// @notice The ticket's EIP-712 struct hash (what an attestation names).
    function ticketHash(Ticket calldata ticket) external pure returns (bytes32);

    /// @notice The digest a gateway signs for `ticket`.
    function ticketDigest(address coordinator, Ticket calldata ticket) external view returns (bytes32);

    /// @notice The digest a worker signs to attest `resultHash` for the ticket `ticketHash_`.
    function attestationDigest(address coordinator, bytes32 ticketHash_, bytes32 resultHash)
        external
        view
        returns (bytes32);

    /// @notice Who signed `ticket` (zero for a malformed or high-s signature).
    function ticketSigner(address coordinator, Ticket calldata ticket, bytes calldata signature)
        external
        view
        returns (address);

    /// @notice Checks that every ticket is signed by its gateway, was issued at or before `issuedBy` (it is
    ///         orphaned), and that all share gateway, engine profile and reward; returns their 103-byte leaves
    ///         concatenated.
    function orphanLeaves(
        address coordinator,
        Ticket[] calldata tickets,
        bytes[] calldata signatures,
        uint256 issuedBy
    ) external view returns (bytes memory leaves);

    /// @notice Whether `proof` places `leafHash` at `index` of a `count`-leaf batch tree with `root`
    ///         (SettlementCoordinator.getBatch gives a batch's root and leaf count).
    function verifyLeaf(bytes32 root, uint256 count, uint256 index, bytes32 leafHash, bytes32[] calldata proof)
        external
        pure
        returns (bool);
}
