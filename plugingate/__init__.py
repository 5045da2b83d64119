"""plugingate: the supply-chain gate for third-party Kubernetes platform plugins.

The package reads like the steps of a gate: ``bundle`` (load, digest, unpack), ``signature`` and
``provenance`` (who built and signed it), ``declaration`` and ``capabilities`` (what it asks for
and what its manifests really use), ``sbom`` and ``vulnerabilities`` (what it carries),
``decision``, ``attestation`` and ``report`` (what the cluster and the people are told).
"""

__version__ = "0.1.0"
