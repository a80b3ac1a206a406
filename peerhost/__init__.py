"""PeerHost: a decentralized serverless-function network.

Subpackages:
    sandbox   deterministic wasmtime host for functions
    storage   content-addressed code store (embedded or IPFS)
    chain     typed web3 wrappers over the deployed contracts
    worker    the worker node
    gateway   the HTTP gateway
"""

__version__ = "0.1.0"
