"""Rules of the manifests step (PG-MAN-0xx): the bundle's Kubernetes objects against plugin.yaml.

The declaration is the most a plugin may use; every object in ``spec.manifests`` is read, and anything
it uses that the declaration does not grant is a violation. Each finding points at the file and line
of the manifest field that uses too much.
"""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

_S = Step.MANIFESTS

UNKNOWN_KIND = Rule(
    "PG-MAN-001",
    _S,
    "Object plugingate cannot classify",
    "The manifests hold an object whose apiVersion/kind plugingate does not know (a custom resource, say) and "
    "in which it finds no pod template. It would be applied as is and nothing in it was checked against the "
    "declaration. Denied unless the policy sets kubernetes.unknownKinds: warn (then a warning: review it by hand).",
)
NO_OBJECTS = Rule(
    "PG-MAN-002",
    _S,
    "No Kubernetes objects",
    "spec.manifests is not set or holds no objects, so there was nothing to hold against the declaration.",
    severity=Severity.WARNING,
)
SYSTEM_NAMESPACE = Rule(
    "PG-MAN-003",
    _S,
    "Object in a system namespace",
    "An object is placed in, or is, kube-system, kube-public or kube-node-lease. Plugins live in their own "
    "namespace; anything in a system namespace runs with the platform's trust.",
)
CLUSTER_OBJECT = Rule(
    "PG-MAN-004",
    _S,
    "Cluster-level object",
    "The manifests hold an object that changes the whole cluster. APIServices, CertificateSigningRequests, "
    "Nodes, PodSecurityPolicies, FlowSchemas and the like are never accepted from a plugin; any other "
    "cluster-scoped object (a CustomResourceDefinition, a PriorityClass, a Namespace, a PersistentVolume, …) "
    "only when plugin.yaml declares kubernetes.clusterScope: true (and the policy lists its kind, PG-MAN-072).",
)
HOST_PATH = Rule(
    "PG-MAN-010",
    _S,
    "Undeclared hostPath volume",
    "A pod mounts a hostPath (a folder of the node), or a PersistentVolume of the bundle is a hostPath or local "
    "volume, whose path is not in, or below, a path of privileges.hostPath in plugin.yaml. Declare it (the "
    "policy decides) or use an emptyDir.",
)
HOST_NAMESPACE = Rule(
    "PG-MAN-011",
    _S,
    "Undeclared host namespace",
    "A pod sets hostNetwork, hostPID or hostIPC while plugin.yaml does not declare it under privileges.",
)
PRIVILEGED = Rule(
    "PG-MAN-012",
    _S,
    "Undeclared privileged container",
    "A container sets securityContext.privileged: true, or is a Windows HostProcess container "
    "(windowsOptions.hostProcess), while plugin.yaml does not declare privileges.privileged.",
)
CAPABILITY = Rule(
    "PG-MAN-013",
    _S,
    "Undeclared Linux capability",
    "A container adds a Linux capability (securityContext.capabilities.add) that privileges.capabilities in "
    "plugin.yaml does not list.",
)
ROOT = Rule(
    "PG-MAN-014",
    _S,
    "May run as root",
    "plugin.yaml declares runAsNonRoot (the default), but a container sets runAsUser: 0, or sets neither "
    "runAsNonRoot: true nor a non-zero runAsUser (then the image decides, and may run as root). The "
    "container's securityContext overrides the pod's.",
)
PRIVILEGE_ESCALATION = Rule(
    "PG-MAN-015",
    _S,
    "Privilege escalation not disabled",
    "A container does not set securityContext.allowPrivilegeEscalation: false (Kubernetes defaults to "
    "true) while plugin.yaml does not declare privileges.allowPrivilegeEscalation.",
)
WRITABLE_MOUNT = Rule(
    "PG-MAN-016",
    _S,
    "Writable mount at an undeclared path",
    "A container mounts a writable volume (emptyDir, hostPath, a claim, …; not readOnly) at a path that is "
    "not in, or below, a path of filesystem.write in plugin.yaml.",
)
LINUX_FIELD_ON_WINDOWS = Rule(
    "PG-MAN-019",
    _S,
    "Linux-only field on a Windows pod",
    "A pod with spec.os.name: windows sets a field the API server forbids on Windows pods (securityContext "
    "seccompProfile, seLinuxOptions, appArmorProfile, capabilities, privileged, allowPrivilegeEscalation, "
    "procMount, readOnlyRootFilesystem, runAsUser, runAsGroup; the pod's fsGroup, supplementalGroups, sysctls; "
    "hostUsers), so it would be rejected. Remove the field: Windows pods are exempt from the Linux-only controls.",
)
IMAGE = Rule(
    "PG-MAN-020",
    _S,
    "Image not in spec.images",
    "A container, init container or ephemeral container runs an image whose reference is not, exactly, "
    "one of spec.images[].ref in plugin.yaml. Every image must be declared (pinned by digest) so that it "
    "is scanned and attested.",
)
LIMITS_MISSING = Rule(
    "PG-MAN-030",
    _S,
    "Container without limits",
    "A container sets no resources.limits.cpu or resources.limits.memory, and the policy sets "
    "resources.requireLimits: true.",
)
LIMITS_OVER = Rule(
    "PG-MAN-031",
    _S,
    "Container limits over the declared resources",
    "A container's resources.limits (or requests) are above resources.cpu / resources.memory in "
    "plugin.yaml (or, when those are not declared, above the policy's ceilings).",
)
SECRET = Rule(
    "PG-MAN-040",
    _S,
    "Undeclared secret",
    "A pod mounts or references a Secret (secret or projected volume, env valueFrom.secretKeyRef, envFrom "
    "secretRef), or the manifests create one, that plugin.yaml does not declare under secrets. "
    "imagePullSecrets are not checked: the kubelet uses them and the plugin never sees their content.",
)
SECRET_BEYOND = Rule(
    "PG-MAN-041",
    _S,
    "Secret used beyond its declaration",
    "A declared Secret is used with keys outside its declared keys (a volume without items, or envFrom, "
    "imports every key), or as env when declared as volume (or the other way round).",
)
PORT = Rule(
    "PG-MAN-050",
    _S,
    "Port not declared as ingress",
    "A containerPort, a Service port or a NetworkPolicy ingress port is not a port (and protocol) of "
    "network.ingress in plugin.yaml.",
)
EXTERNAL = Rule(
    "PG-MAN-051",
    _S,
    "Exposed outside the cluster without declared external ingress",
    "A LoadBalancer or NodePort Service, a Service with externalIPs, or an Ingress exposes a port outside the "
    "cluster, and plugin.yaml does not declare that port as ingress with external: true. (A container's "
    "hostPort has its own rule, PG-MAN-053.)",
)
EGRESS = Rule(
    "PG-MAN-052",
    _S,
    "Egress beyond the declared",
    "A NetworkPolicy allows egress on a port that no network.egress entry of plugin.yaml declares (DNS on "
    "port 53 is always allowed), allows every port, or reaches a cloud metadata address; or an "
    "ExternalName Service points at a host that is not declared as egress.",
)
HOST_PORT = Rule(
    "PG-MAN-053",
    _S,
    "Undeclared hostPort",
    "A container sets ports[].hostPort, which opens that port on the address of every node the pod runs on "
    "(reachable from outside the cluster, bypassing Services and most NetworkPolicy implementations), and "
    "plugin.yaml does not declare that port as ingress with external: true. Use a Service instead.",
)
RBAC = Rule(
    "PG-MAN-060",
    _S,
    "RBAC rule beyond the declared",
    "A Role or ClusterRole grants a (group, resource, verb[, name]) or (URL, verb) that no rule of "
    "kubernetes.rules in plugin.yaml grants, or aggregates other roles (aggregationRule).",
)
CLUSTER_BINDING = Rule(
    "PG-MAN-061",
    _S,
    "ClusterRoleBinding without declared cluster scope",
    "The manifests bind a role cluster-wide (ClusterRoleBinding) while plugin.yaml does not declare "
    "kubernetes.clusterScope: true. Use a RoleBinding in the plugin's namespace.",
)
POWERFUL_ROLE = Rule(
    "PG-MAN-062",
    _S,
    "Binding to a built-in powerful role",
    "A binding grants cluster-admin, admin, edit or a system: role. Their rights are not in plugin.yaml and "
    "cannot be granted to a plugin; bind a Role of the bundle that lists what the plugin needs.",
)
FOREIGN_ROLE = Rule(
    "PG-MAN-063",
    _S,
    "Binding to a role outside the bundle",
    "A binding's roleRef names a Role or ClusterRole that the manifests do not define, so its rules cannot "
    "be held against plugin.yaml. Ship the role in the bundle.",
)
FOREIGN_SUBJECT = Rule(
    "PG-MAN-064",
    _S,
    "Binding grants rights to someone else",
    "A binding's subject is a User, a Group, or a ServiceAccount that the manifests do not define (such as "
    "`default`, shared by every pod of the namespace). Bind the plugin's own ServiceAccount only.",
)
FOREIGN_SERVICE_ACCOUNT = Rule(
    "PG-MAN-065",
    _S,
    "Pod runs as a service account outside the bundle",
    "A pod's serviceAccountName names a ServiceAccount the manifests do not define; it would run with "
    "whatever rights that account already has. Ship the ServiceAccount in the bundle.",
)

SECCOMP_UNCONFINED = Rule(
    "PG-MAN-066",
    _S,
    "Seccomp switched off",
    "A pod or container sets securityContext.seccompProfile.type: Unconfined, or the pod carries the legacy "
    "annotation seccomp.security.alpha.kubernetes.io/pod or container.seccomp.security.alpha.kubernetes.io/"
    "<name> set to unconfined, so every system call reaches the node's kernel unfiltered. No declaration "
    "grants it; use RuntimeDefault (or a Localhost profile).",
)
APPARMOR_UNCONFINED = Rule(
    "PG-MAN-067",
    _S,
    "AppArmor switched off",
    "A pod or container sets securityContext.appArmorProfile.type: Unconfined, or the pod carries the legacy "
    "annotation container.apparmor.security.beta.kubernetes.io/<name>: unconfined. No declaration grants it; "
    "use RuntimeDefault (or a Localhost profile).",
)
PROC_MOUNT_UNMASKED = Rule(
    "PG-MAN-068",
    _S,
    "Unmasked /proc",
    "A container sets securityContext.procMount: Unmasked, which bares the parts of /proc the container "
    "runtime hides (kernel and host details, writable sysctls). No declaration grants it; use Default.",
)
SELINUX_SPC = Rule(
    "PG-MAN-069",
    _S,
    "SELinux super-privileged container",
    "A pod or container sets securityContext.seLinuxOptions.type: spc_t, the SELinux type of a "
    "super-privileged container that SELinux does not confine. No declaration grants it; leave the type "
    "unset (the runtime's container type) or use container_t.",
)
UNNEEDED_TOKEN = Rule(
    "PG-MAN-070",
    _S,
    "API token mounted but no RBAC declared",
    "plugin.yaml declares no kubernetes.rules, yet a pod does not set automountServiceAccountToken: false "
    "(and its ServiceAccount in the bundle does not either), so its containers get a Kubernetes API token "
    "they do not need; a stolen token still reaches the API server. Set automountServiceAccountToken: false.",
    severity=Severity.WARNING,
)

OTHER_NAMESPACE = Rule(
    "PG-MAN-071",
    _S,
    "Object outside the plugin's namespace",
    "An object sets metadata.namespace to a namespace that is neither the plugin's own (spec.namespace in "
    "plugin.yaml; none when the platform forces it at install) nor one of kubernetes.namespaces. Another "
    "namespace is another tenant's, or the platform's: its Secrets, its service accounts, its policies.",
)
CLUSTER_KIND = Rule(
    "PG-MAN-072",
    _S,
    "Cluster-scoped kind the policy does not allow",
    "The manifests hold a cluster-scoped object whose kind is not in the policy's "
    "kubernetes.allowedClusterKinds (by default CustomResourceDefinition, PriorityClass, IngressClass, "
    "ClusterRole, ClusterRoleBinding). Namespaces, PersistentVolumes (a hostPath, local, nfs or csi volume any "
    "claim may bind), StorageClasses and RuntimeClasses need the platform's explicit consent.",
)
ADMISSION_OBJECT = Rule(
    "PG-MAN-073",
    _S,
    "Object of an admission or policy engine",
    "The manifests hold an object that configures admission control: a webhook configuration, a "
    "ValidatingAdmissionPolicy or MutatingAdmissionPolicy (or its binding), a Kyverno policy or "
    "PolicyException, a Gatekeeper template, constraint or mutation, a policy-controller ClusterImagePolicy, a "
    "Kubewarden policy. It can switch off the checks that guard the cluster (the gate's own attestation "
    "check among them). Denied unless plugin.yaml declares kubernetes.admissionPolicies: true and the policy "
    "sets kubernetes.allowAdmissionPolicies: true.",
)
UNCHECKED_WORKLOAD = Rule(
    "PG-MAN-074",
    _S,
    "Workload in a shape plugingate cannot check",
    "An object runs something plugingate cannot hold against the declaration: an image named outside any pod "
    "template (a step, a task, a function of some controller's own shape) or a virtual machine (KubeVirt). "
    "Denied whatever kubernetes.unknownKinds says; ship it as a pod template plugingate checks.",
)
VOLUME_TYPE = Rule(
    "PG-MAN-075",
    _S,
    "Volume type not declared",
    "A pod uses a volume type other than configMap, secret, projected, downwardAPI, emptyDir, "
    "persistentVolumeClaim, ephemeral (and hostPath, PG-MAN-010) that privileges.volumeTypes in plugin.yaml "
    "does not list: csi, nfs, iscsi, gitRepo, a cloud disk, an image volume, or a type plugingate does not know.",
)
TOKEN_SECRET = Rule(
    "PG-MAN-076",
    _S,
    "Service-account token Secret",
    "The manifests create a Secret of type kubernetes.io/service-account-token: the token controller fills it "
    "with a never-expiring token of the service account it names (any account of the namespace). No "
    "declaration grants it; let the kubelet mount short-lived tokens.",
)
DEFAULT_ACCOUNT = Rule(
    "PG-MAN-077",
    _S,
    "ServiceAccount named default",
    "The manifests define the ServiceAccount `default`, which every pod of the namespace runs as when it names "
    "no other; applying it changes the identity (and token mounting) of pods that are not the plugin's. "
    "Define a ServiceAccount of the plugin's own.",
)
SHADOW_ROLE = Rule(
    "PG-MAN-078",
    _S,
    "Role named like a built-in role",
    "A Role or ClusterRole of the bundle is named cluster-admin, admin, edit, view or system:…: applied, a "
    "ClusterRole of that name overwrites the built-in one every binding in the cluster relies on, and a "
    "binding to it reads as the built-in to every reviewer. Give the plugin's roles names of its own.",
)
CONTROL_PLANE = Rule(
    "PG-MAN-079",
    _S,
    "Pod aimed at control-plane nodes",
    "A pod sets nodeName (which bypasses the scheduler and every node restriction), or selects control-plane "
    "nodes by nodeSelector or node affinity (node-role.kubernetes.io/control-plane or master), or tolerates "
    "their taint (or every taint: a toleration with operator Exists and no key). Control-plane nodes hold the "
    "cluster's keys.",
)
RUNTIME_CLASS = Rule(
    "PG-MAN-080",
    _S,
    "Runtime class not allowed",
    "A pod sets runtimeClassName to a RuntimeClass that the policy's privileges.allowedRuntimeClasses does not "
    "list; the runtime handler decides how (and whether) the pod is isolated from the node.",
)
SYSTEM_PRIORITY = Rule(
    "PG-MAN-081",
    _S,
    "System priority class",
    "A pod sets priorityClassName system-cluster-critical, system-node-critical or another system- class, "
    "which lets it evict the platform's own pods.",
)
HOST_ALIASES = Rule(
    "PG-MAN-082",
    _S,
    "Pod rewrites its name resolution",
    "A pod sets hostAliases (written into its /etc/hosts), dnsConfig.nameservers, or dnsPolicy: None: a declared "
    "egress host name can then be pointed at any address (the metadata service, the API server), past the "
    "cluster's DNS.",
)
SHARED_PROCESSES = Rule(
    "PG-MAN-083",
    _S,
    "Shared process namespace",
    "A pod sets shareProcessNamespace: true: every container sees, signals and reads the memory and files "
    "(/proc/<pid>/root) of the others, sidecars included.",
)
UNSAFE_SYSCTL = Rule(
    "PG-MAN-084",
    _S,
    "Unsafe sysctl",
    "A pod sets a sysctl outside the Pod Security Standards' safe set (kernel.shm_rmid_forced, "
    "net.ipv4.ip_local_port_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_syncookies, "
    "net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_keepalive_time, "
    "net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes).",
)
TOKEN_AUDIENCE = Rule(
    "PG-MAN-085",
    _S,
    "Projected token for another audience",
    "A projected serviceAccountToken volume asks for a token whose audience is not the API server's (a cloud "
    "provider's, a secret store's): the pod gets an identity outside the cluster that plugin.yaml does not "
    "declare. Denied unless the policy's kubernetes.allowedTokenAudiences lists the audience.",
)
PROBE_HOST = Rule(
    "PG-MAN-086",
    _S,
    "Probe or lifecycle hook aimed at another host",
    "A container's livenessProbe, readinessProbe, startupProbe or lifecycle hook sets httpGet.host or "
    "tcpSocket.host. The kubelet makes that connection from the node, so it reaches what the node reaches "
    "(the metadata service, node-local ports), past every NetworkPolicy.",
)
SECCOMP_MISSING = Rule(
    "PG-MAN-087",
    _S,
    "No seccomp profile",
    "A Linux pod sets no seccompProfile (RuntimeDefault or Localhost) on the pod nor on every container, so "
    "its containers run without a seccomp filter (the kubelet's default is Unconfined). Set "
    "securityContext.seccompProfile.type: RuntimeDefault on the pod.",
)
CAPABILITIES_NOT_DROPPED = Rule(
    "PG-MAN-088",
    _S,
    "Capabilities not dropped",
    "A container of a Linux pod does not drop ALL Linux capabilities (securityContext.capabilities.drop: "
    "[ALL]), so it keeps the runtime's default set (CHOWN, DAC_OVERRIDE, NET_RAW, SETUID, …). Drop ALL and "
    "add back only the declared ones.",
)
FOREIGN_VOLUME = Rule(
    "PG-MAN-090",
    _S,
    "Claim of a volume outside the bundle",
    "A PersistentVolumeClaim (or a pod's ephemeral volume claim template) names a PersistentVolume by "
    "spec.volumeName that the bundle does not define, or copies its data from another namespace "
    "(dataSourceRef.namespace): it would bind a volume, and read data, that were never the plugin's.",
)
SELINUX_OPTIONS = Rule(
    "PG-MAN-089",
    _S,
    "SELinux options beyond the container types",
    "A pod or container sets seLinuxOptions.user or .role, or a type other than container_t, container_init_t, "
    "container_kvm_t or container_engine_t (spc_t is PG-MAN-069): the Pod Security Standards allow no other. "
    "Leave them unset (the runtime's) or use a container type.",
)

RULES: tuple[Rule, ...] = (
    UNKNOWN_KIND,
    NO_OBJECTS,
    SYSTEM_NAMESPACE,
    CLUSTER_OBJECT,
    HOST_PATH,
    HOST_NAMESPACE,
    PRIVILEGED,
    CAPABILITY,
    ROOT,
    PRIVILEGE_ESCALATION,
    WRITABLE_MOUNT,
    LINUX_FIELD_ON_WINDOWS,
    IMAGE,
    LIMITS_MISSING,
    LIMITS_OVER,
    SECRET,
    SECRET_BEYOND,
    PORT,
    EXTERNAL,
    EGRESS,
    HOST_PORT,
    RBAC,
    CLUSTER_BINDING,
    POWERFUL_ROLE,
    FOREIGN_ROLE,
    FOREIGN_SUBJECT,
    FOREIGN_SERVICE_ACCOUNT,
    SECCOMP_UNCONFINED,
    APPARMOR_UNCONFINED,
    PROC_MOUNT_UNMASKED,
    SELINUX_SPC,
    UNNEEDED_TOKEN,
    OTHER_NAMESPACE,
    CLUSTER_KIND,
    ADMISSION_OBJECT,
    UNCHECKED_WORKLOAD,
    VOLUME_TYPE,
    TOKEN_SECRET,
    DEFAULT_ACCOUNT,
    SHADOW_ROLE,
    CONTROL_PLANE,
    RUNTIME_CLASS,
    SYSTEM_PRIORITY,
    HOST_ALIASES,
    SHARED_PROCESSES,
    UNSAFE_SYSCTL,
    TOKEN_AUDIENCE,
    PROBE_HOST,
    SECCOMP_MISSING,
    CAPABILITIES_NOT_DROPPED,
    SELINUX_OPTIONS,
    FOREIGN_VOLUME,
)
