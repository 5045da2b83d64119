"""Rules of the capabilities step (PG-CAP-0xx): the declaration in plugin.yaml against the policy.

Every finding points at the field of plugin.yaml that asks for too much. A policy that allows the
thing makes the rule silent; it never changes what a rule id means.
"""

from __future__ import annotations

from plugingate.findings import Rule, Step

_S = Step.CAPABILITIES

EGRESS_HOST = Rule(
    "PG-CAP-001",
    _S,
    "Egress host not allowed",
    "A declared egress host is matched by none of the policy's network.egressAllow patterns. In a pattern "
    "`*` matches exactly one DNS label and `**` one or more labels; an IP or CIDR pattern matches the "
    "addresses inside it. Declare a host the platform allows, or ask for the policy to list it.",
)
EGRESS_PORT = Rule(
    "PG-CAP-002",
    _S,
    "Egress port not allowed",
    "A declared egress port is not in the policy's network.egressPorts (an empty list allows any port). "
    "Use an allowed port (usually 443).",
)
EGRESS_PRIVATE = Rule(
    "PG-CAP-003",
    _S,
    "Egress to a private, loopback or link-local address",
    "A declared egress host is, or names, an address in a private (RFC 1918, RFC 6598, IPv6 ULA), "
    "loopback or link-local range (also `localhost`, `*.localhost`, in-cluster `*.svc` and "
    "`*.cluster.local` names). Plugins reach the outside world, not the platform's own networks, unless "
    "the policy sets network.allowPrivateAddresses or lists the range in network.allowedAddresses.",
)
EGRESS_METADATA = Rule(
    "PG-CAP-004",
    _S,
    "Egress to a cloud metadata service",
    "A declared egress host is a cloud instance metadata endpoint (169.254.169.254, fd00:ec2::254, "
    "100.100.100.200, metadata.google.internal, …), which hands out the node's cloud credentials. Denied "
    "unless the policy sets network.allowMetadataAddresses or lists the address in network.allowedAddresses.",
)
EGRESS_HOST_INVALID = Rule(
    "PG-CAP-005",
    _S,
    "Egress host is not a host name or address",
    "A declared egress host is neither a DNS name (labels of letters, digits and '-', optionally a leading "
    "`*` label), an IP address nor a CIDR. Write the bare host name: no scheme, port, path or user.",
)
INGRESS_NOT_ALLOWED = Rule(
    "PG-CAP-006",
    _S,
    "Ingress not allowed",
    "The plugin declares ingress ports but the policy sets network.allowIngress: false.",
)
EXTERNAL_INGRESS = Rule(
    "PG-CAP-007",
    _S,
    "External ingress not allowed",
    "The plugin declares ingress with `external: true` (a LoadBalancer or NodePort Service, externalIPs, an "
    "Ingress, or a container hostPort) but the policy "
    "sets network.allowExternalServices: false. Expose the port inside the cluster only.",
)
SERVICE_NOT_ALLOWED = Rule(
    "PG-CAP-008",
    _S,
    "In-cluster Service not allowed",
    "The plugin declares egress to an in-cluster Service (network.egress[].service, or a host written "
    "NAME.NAMESPACE.svc[.cluster.local]) that no entry of the policy's network.allowedServices allows, or on "
    "a port that entry does not list. The namespace must be listed exactly; the default policy lists none.",
)
WRITE_PATH = Rule(
    "PG-CAP-010",
    _S,
    "Writable path not allowed",
    "A declared filesystem.write path is matched by none of the policy's filesystem.writableAllow globs "
    "(`*` matches one path segment, `**` one or more). Write under an allowed path such as /tmp.",
)
READ_PATH = Rule(
    "PG-CAP-011",
    _S,
    "Readable path denied",
    "A declared filesystem.read path is, or contains, a path the policy's filesystem.readDeny forbids "
    "(reading /etc also reads /etc/kubernetes). Declare the narrower path the plugin needs.",
)
SECRET_NAME = Rule(
    "PG-CAP-020",
    _S,
    "Secret name not allowed",
    "A declared secret's name matches none of the policy's secrets.namePatterns, or matches one of its "
    "secrets.denyPatterns (platform secrets such as kube-* or Helm release secrets). Use a secret of the "
    "plugin's own.",
)
RBAC_WILDCARD = Rule(
    "PG-CAP-030",
    _S,
    "Wildcard in an RBAC rule",
    "A declared kubernetes rule has `*` in apiGroups, resources, verbs or nonResourceURLs, which grants "
    "everything present and future. The policy sets kubernetes.allowWildcards: false; list what is needed.",
)
RBAC_CLUSTER_SECRETS = Rule(
    "PG-CAP-031",
    _S,
    "Secrets readable cluster-wide",
    "A declared kubernetes rule reaches `secrets` (by name or by wildcard) with clusterScope: true and no "
    "resourceNames: every secret of every namespace. Drop clusterScope, or name the secrets.",
)
RBAC_FORBIDDEN_VERB = Rule(
    "PG-CAP-032",
    _S,
    "Forbidden RBAC verb",
    "A declared kubernetes rule grants a verb in the policy's kubernetes.forbiddenVerbs (by default "
    "escalate, bind, impersonate: each lets the holder gain more rights than it was given).",
)
RBAC_FORBIDDEN_RESOURCE = Rule(
    "PG-CAP-033",
    _S,
    "Forbidden RBAC resource",
    "A declared kubernetes rule reaches a resource in the policy's kubernetes.forbiddenResources (by "
    "default pods/exec, pods/attach, nodes/proxy, serviceaccounts/token: each runs code in, or takes the "
    "identity of, something else).",
)
RBAC_CLUSTER_SCOPE = Rule(
    "PG-CAP-034",
    _S,
    "Cluster scope not allowed",
    "The plugin declares kubernetes.clusterScope: true (a ClusterRole bound cluster-wide) but the policy "
    "sets kubernetes.allowClusterRoles: false. Ask for namespaced rights only.",
)
NAMESPACE_NOT_ALLOWED = Rule(
    "PG-CAP-035",
    _S,
    "Namespace not allowed",
    "plugin.yaml places the plugin (spec.namespace) in a system namespace, or declares in "
    "kubernetes.namespaces a namespace other than its own that the policy's kubernetes.allowedNamespaces "
    "(exact names or globs) does not allow. Another namespace is another tenant's or the platform's.",
)
ADMISSION_NOT_ALLOWED = Rule(
    "PG-CAP-036",
    _S,
    "Admission objects not allowed",
    "plugin.yaml declares kubernetes.admissionPolicies: true (the bundle ships webhooks, admission policies or a "
    "policy engine's objects) and the policy does not set kubernetes.allowAdmissionPolicies: true.",
)
PRIVILEGED = Rule(
    "PG-CAP-040",
    _S,
    "Privileged container",
    "The plugin declares privileges.privileged: true (full access to the node) and the policy does not "
    "allow it (privileges.allowPrivileged).",
)
HOST_NAMESPACE = Rule(
    "PG-CAP-041",
    _S,
    "Host namespace",
    "The plugin declares hostNetwork, hostPID or hostIPC, sharing a namespace of the node, and the policy "
    "does not allow it (privileges.allowHostNetwork, allowHostPID, allowHostIPC).",
)
HOST_PATH = Rule(
    "PG-CAP-042",
    _S,
    "hostPath volume",
    "The plugin declares privileges.hostPath (a folder of the node mounted into the pod) and the policy "
    "does not allow hostPath (privileges.allowHostPath), or the path is one filesystem.readDeny forbids.",
)
ADDED_CAPABILITY = Rule(
    "PG-CAP-043",
    _S,
    "Linux capability not allowed",
    "The plugin declares a Linux capability outside the policy's privileges.allowedCapabilities "
    "(by default NET_BIND_SERVICE only). Drop it.",
)
ROOT = Rule(
    "PG-CAP-044",
    _S,
    "Runs as root",
    "The plugin declares privileges.runAsNonRoot: false and the policy does not allow root "
    "(privileges.allowRoot). Build the image with a non-root USER.",
)
PRIVILEGE_ESCALATION = Rule(
    "PG-CAP-045",
    _S,
    "Privilege escalation",
    "The plugin declares privileges.allowPrivilegeEscalation: true (setuid binaries may gain rights) and "
    "the policy does not allow it.",
)
VOLUME_TYPE = Rule(
    "PG-CAP-046",
    _S,
    "Volume type not allowed",
    "plugin.yaml declares in privileges.volumeTypes a volume type (csi, nfs, iscsi, …) that the policy's "
    "privileges.allowedVolumeTypes does not list.",
)
RESOURCES_MISSING = Rule(
    "PG-CAP-050",
    _S,
    "Resource limits not declared",
    "The policy sets resources.requireLimits: true but plugin.yaml does not declare resources.cpu and "
    "resources.memory (the most one container may use).",
)
RESOURCES_OVER = Rule(
    "PG-CAP-051",
    _S,
    "Resources over the ceiling",
    "A declared resources.cpu or resources.memory is above the policy's resources.maxCpu / maxMemory.",
)
IMAGE_NOT_PINNED = Rule(
    "PG-CAP-060",
    _S,
    "Image not pinned by digest",
    "An image in spec.images is referenced by tag, not by `@sha256:<64 hex>`, and the policy sets "
    "images.requireDigest: true. A tag can be moved to other bytes after the gate has looked at it.",
)
IMAGE_REGISTRY = Rule(
    "PG-CAP-061",
    _S,
    "Image registry not allowed",
    "An image in spec.images comes from a registry or repository outside the policy's "
    "images.allowedRegistries (host[/path] prefixes; a bare name such as `nginx` is docker.io/library/nginx).",
)

RULES: tuple[Rule, ...] = (
    EGRESS_HOST,
    EGRESS_PORT,
    EGRESS_PRIVATE,
    EGRESS_METADATA,
    EGRESS_HOST_INVALID,
    INGRESS_NOT_ALLOWED,
    EXTERNAL_INGRESS,
    SERVICE_NOT_ALLOWED,
    WRITE_PATH,
    READ_PATH,
    SECRET_NAME,
    RBAC_WILDCARD,
    RBAC_CLUSTER_SECRETS,
    RBAC_FORBIDDEN_VERB,
    RBAC_FORBIDDEN_RESOURCE,
    RBAC_CLUSTER_SCOPE,
    NAMESPACE_NOT_ALLOWED,
    ADMISSION_NOT_ALLOWED,
    PRIVILEGED,
    HOST_NAMESPACE,
    HOST_PATH,
    ADDED_CAPABILITY,
    ROOT,
    PRIVILEGE_ESCALATION,
    VOLUME_TYPE,
    RESOURCES_MISSING,
    RESOURCES_OVER,
    IMAGE_NOT_PINNED,
    IMAGE_REGISTRY,
)
