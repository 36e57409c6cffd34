"""The tamper-evident ledger: an RFC 9162 Merkle tree, C2SP signed checkpoints and a standalone verifier.

The modules `merkle`, `note`, `canonical` and `verify` use only the standard library and `cryptography`
(no Django), so that anyone can check the platform's log with them, without the platform.
"""
