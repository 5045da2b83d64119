"""The probe's rules (``PG-PRB-*``): what a shadow run saw the plugin do beyond its declaration."""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

UNDECLARED_HOST = Rule(
    "PG-PRB-001",
    Step.PROBE,
    "The plugin reached for a host it did not declare",
    "In the shadow run the plugin resolved or connected to a host (a name, or an address dialled directly "
    "such as a hard-coded resolver) that no `spec.capabilities.network.egress` entry covers. Declare the "
    "host, or remove the call.",
)
UNDECLARED_PORT = Rule(
    "PG-PRB-002",
    Step.PROBE,
    "The plugin connected to a port it did not declare",
    "In the shadow run the plugin connected to a declared host on a port that host's egress entry does not "
    "list. Declare the port, or remove the call.",
)
CANARY_LEAKED = Rule(
    "PG-PRB-003",
    Step.PROBE,
    "A secret left the sandbox",
    "The probe mounts every declared secret as a random canary value; the canary (raw, hex, base64 or "
    "base32) was seen in a DNS query or in traffic to a host the plugin did not declare. A plugin sends its "
    "secrets only to the hosts it declares.",
)
UNDECLARED_WRITE = Rule(
    "PG-PRB-004",
    Step.PROBE,
    "The plugin wrote outside its declared writable paths",
    "runsc's trace shows a file created, opened for writing, renamed, linked or removed outside "
    "`spec.capabilities.filesystem.write` (the attempt counts, whether or not it succeeded). Declare the "
    "path as writable, or write under a declared one.",
)
API_BEYOND_RBAC = Rule(
    "PG-PRB-005",
    Step.PROBE,
    "The plugin called the Kubernetes API beyond its declared RBAC",
    "The recording API stub saw a request whose verb and resource no `spec.capabilities.kubernetes.rules` "
    "entry grants. Declare the rule, or remove the call.",
)
OVER_MEMORY = Rule(
    "PG-PRB-006",
    Step.PROBE,
    "The plugin exceeded its declared memory",
    "The sandbox is limited to the declared memory (plus the sandbox kernel's allowance, "
    "`spec.probe.memoryOverhead`); the plugin hit the limit and was killed. Declare what it needs.",
)
EXECUTED = Rule(
    "PG-PRB-007",
    Step.PROBE,
    "The plugin started more processes than the policy allows",
    "runsc's trace shows more program executions (execve) than `spec.probe.maxExecs` allows; a plugin "
    "image runs its entrypoint, not a stream of other programs. The process count is also bounded by "
    "`spec.probe.maxPids`.",
)
DID_NOT_RUN = Rule(
    "PG-PRB-008",
    Step.PROBE,
    "An image could not be run in the sandbox",
    "The image named by `spec.images[].archive` has no entrypoint, or its entrypoint is not in the image: "
    "nothing could be observed, so nothing can be passed. Ship a runnable image archive.",
)

PRIVILEGED_CALL = Rule(
    "PG-PRB-009",
    Step.PROBE,
    "The plugin tried a privileged system call",
    "runsc's trace shows a call that only a privileged container or an escape attempt makes (mount, "
    "unshare, setns, ptrace, bpf, loading a kernel module, chroot, keyctl, …) from a plugin that does not "
    "declare `privileges.privileged`. The attempt counts, whether or not the sandbox refused it.",
)

RULES = (
    UNDECLARED_HOST,
    UNDECLARED_PORT,
    CANARY_LEAKED,
    UNDECLARED_WRITE,
    API_BEYOND_RBAC,
    OVER_MEMORY,
    EXECUTED,
    DID_NOT_RUN,
    PRIVILEGED_CALL,
)

__all__ = ["RULES", "Severity"]
