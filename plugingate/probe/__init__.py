"""The probe: a shadow run of a plugin's images in gVisor, observed and compared with its declaration.

``plugingate probe BUNDLE`` (and ``gate --probe``) runs each declared image in ``runsc`` with no host
network: its DNS goes to a recording resolver (dnsmasq), its connections to a recording sink, its
Kubernetes API calls to a recording stub, its declared secrets are canaries, and runsc's own strace
gives its file writes, executions and connections. ``compare`` turns what was seen beyond the
declaration into ``PG-PRB-*`` findings.
"""
