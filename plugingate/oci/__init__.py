"""A small OCI distribution client for publishing attestations (``plugingate attach``).

- ``reference``: ``IMAGE@sha256:…`` references.
- ``auth``: credentials from the standard Docker config file.
- ``client``: manifests and blobs over the distribution API, token auth, bounded responses.
- ``attach``: cosign's ``sha256-<hex>.att`` layout (appending), and the optional referrers form.
"""
