"""The signature step: is the bundle signed, and by a signer the policy trusts?

Sigstore bundles (keyless, or a managed key named by a hint) and raw cosign signatures. The
cryptographic check and the trust decision are kept apart: a signature is first verified as a
signature (PG-SIG-001/002/005), then its signer is matched against the trusted signers (PG-SIG-003),
so that a denial says which of the two failed and names who signed.
"""
