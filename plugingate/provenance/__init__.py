"""The provenance step: was the bundle built by a trusted builder, from a trusted source?

SLSA provenance (v1, v0.2) in a Sigstore bundle or a key-signed DSSE envelope, checked as
slsa-verifier checks it; and in-toto layouts with their link metadata.
"""
