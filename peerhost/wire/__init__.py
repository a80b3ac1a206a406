"""Every byte format the off-chain side and the contracts must agree on.

``ticket``: the gateway's EIP-712 ticket, request ids and attestations. ``batch``: the packed leaf
of a posted ticket, the batch Merkle tree and proofs, the attested-results commitment and a
committee seat's commitment to its result vector.
"""
