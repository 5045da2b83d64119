"""Attestations: the gate's decision, the SBOM and the scan as signed in-toto statements.

- ``predicate``: the gate predicate (typed inputs → the signed JSON) and ``validUntil``.
- ``statement``: in-toto Statement v1 documents and their subjects (bundle + images).
- ``signing``: DSSE with a key into ``attestations.intoto.jsonl``, or keyless Sigstore bundles.
- ``verify``: what the cluster side checks (``plugingate verify-attestation``).
- ``rules``: PG-ATT-0xx.

Import the submodules directly; this package imports nothing heavy.
"""
