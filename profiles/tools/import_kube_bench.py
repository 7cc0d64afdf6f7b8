#!/usr/bin/env python3
"""Convert a kube-bench CIS benchmark directory into a kubecis bundle.

    python3 profiles/tools/import_kube_bench.py REFERENCE_DIR OUTPUT_DIR
        [--benchmark NAME] [--kubernetes 1.26,1.27] [--title TEXT]

REFERENCE_DIR is a kube-bench version directory (e.g.
/work/shared/reference/kube-bench/cis-1.8) or a directory in the same format,
such as Rancher's /work/shared/reference/rancher-security-scan/rke-cis-1.4;
OUTPUT_DIR receives bundle.yaml and one YAML file per section, in the schema of
profiles/README.md.

Benchmarks before CIS 1.5 (cis-1.4 and its RKE variant) mark items "(Scored)" /
"(Not Scored)" instead of "(Automated)" / "(Manual)": there `scored` comes from
that suffix (else from kube-bench's `scored:`) and `automated` is false only for
kube-bench's `type: manual`. Bundles whose name starts with "rke-" describe
clusters built by Rancher's RKE, which runs every component as a docker
container configured by arguments from cluster.yml: their remediation says how
to change that, not how to edit a manifest.

A test that compares a value gets the `type` Kubernetes parses it as (FLAG_TYPES:
Go booleans, integers, durations), and a test of a feature gate becomes a `gate`
test of the gate's value; the self-check refuses booleans, numbers and gates
compared as text. Where Kubernetes' default is known (DEFAULTS), it judges an
absent flag.

Only facts are taken from kube-bench: ids, titles, (Automated)/(Manual),
scored, components, flags, config keys, environment names, files, modes,
owners and compare values. Remediation text and manual reasons are generated
from this script's own templates and tables.

After writing, the script re-reads what it wrote and checks it against the
reference (same sections, groups, group titles and item ids in the same order)
and checks that every ${variable} is one listed in profiles/README.md. Use
--verify-only to run just that check on an existing bundle.
"""

import argparse
import json
import os
import re
import sys
import textwrap

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rancher  # noqa: E402

SECTIONS = ["master", "etcd", "controlplane", "node", "policies", "managedservices"]

# kube-bench version directory -> Kubernetes minor versions it targets.
KUBERNETES = {
    "cis-1.4": ["1.13"],
    "cis-1.5": ["1.15"],
    "cis-1.6": ["1.16", "1.17", "1.18"],
    "cis-1.20": ["1.19", "1.20", "1.21"],
    "cis-1.23": ["1.22", "1.23"],
    "cis-1.24": ["1.24"],
    "cis-1.7": ["1.25"],
    "cis-1.8": ["1.26"],
    "cis-1.9": ["1.27"],
    "cis-1.10": ["1.28"],
    "cis-1.11": ["1.29", "1.30", "1.31"],
    "cis-1.12": ["1.32", "1.33", "1.34"],
    "rke-cis-1.4": ["1.13", "1.14", "1.15"],
    # Managed-cloud worker benchmarks: picked by auto only where the node shows
    # its provider; kube-bench maps them by platform, not by version.
    "eks-1.8.0": ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34"],
    "gke-1.9.0": ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34"],
    "aks-1.8": ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34"],
}

# Bundle titles that do not follow "CIS Kubernetes Benchmark vX.Y.0".
TITLES = {
    "rke-cis-1.4": "Rancher RKE CIS Kubernetes Benchmark v1.4",
    # CIS named these after the Kubernetes release they were written for.
    "cis-1.20": "CIS Kubernetes V1.20 Benchmark",
    "cis-1.23": "CIS Kubernetes V1.23 Benchmark",
    "cis-1.24": "CIS Kubernetes V1.24 Benchmark",
    "eks-1.8.0": "CIS Amazon Elastic Kubernetes Service (EKS) Benchmark v1.8.0",
    "gke-1.9.0": "CIS Google Kubernetes Engine (GKE) Benchmark v1.9.0",
    "aks-1.8": "CIS Azure Kubernetes Service (AKS) Benchmark v1.8.0",
}

# Managed-cloud benchmarks: the provider and its command-line tool.
PROVIDERS = {
    "eks": ("Amazon EKS", "aws eks"),
    "gke": ("Google GKE", "gcloud container clusters"),
    "aks": ("Azure AKS", "az aks"),
}

# Reference folder -> how the generated files name their source.
SOURCES = {
    "kube-bench": ("kube-bench", "kube-bench"),
    "rancher-security-scan": ("Rancher security-scan", "Rancher's security-scan"),
}

# kube-bench audit variables -> kubecis variables (profiles/README.md).
FILE_VARS = {
    "apiserverconf": "${apiserver.conf}",
    "controllermanagerconf": "${controllermanager.conf}",
    "controllermanagerkubeconfig": "${controllermanager.kubeconfig}",
    "schedulerconf": "${scheduler.conf}",
    "schedulerkubeconfig": "${scheduler.kubeconfig}",
    "etcdconf": "${etcd.conf}",
    "etcddatadir": "${etcd.datadir}",
    "kubeletconf": "${kubelet.conf}",
    "kubeletkubeconfig": "${kubelet.kubeconfig}",
    "kubeletsvc": "${kubelet.svc}",
    "kubeletcafile": "${kubelet.cafile}",
    "proxyconf": "${proxy.conf}",
    "proxykubeconfig": "${proxy.kubeconfig}",
    "proxysvc": "${proxy.svc}",
}

# kube-bench binary variables -> kubecis components.
BIN_VARS = {
    "apiserverbin": "apiserver",
    "controllermanagerbin": "controllermanager",
    "schedulerbin": "scheduler",
    "etcdbin": "etcd",
    "kubeletbin": "kubelet",
    "proxybin": "proxy",
}

# File a component's `key` tests are read from.
CONFIG_VAR = {"kubelet": "${kubelet.conf}", "proxy": "${proxy.conf}"}

# Where a component's flags are edited, and how it is called in prose.
COMPONENT = {
    "apiserver": ("kube-apiserver", "${apiserver.conf}"),
    "controllermanager": ("kube-controller-manager", "${controllermanager.conf}"),
    "scheduler": ("kube-scheduler", "${scheduler.conf}"),
    "etcd": ("etcd", "${etcd.conf}"),
    "kubelet": ("kubelet", "${kubelet.svc}"),
    "proxy": ("kube-proxy", "${proxy.svc}"),
}

NODE_WORDS = {
    "master": "the control plane node",
    "etcd": "the etcd node",
    "controlplane": "the control plane node",
    "node": "each worker node",
    "policies": "the cluster",
}

# Kubernetes' own value of a flag (or config key) nobody sets. Only values
# that are certain; added to tests that compare a value.
DEFAULTS = {
    ("apiserver", "--anonymous-auth"): "true",
    ("apiserver", "--profiling"): "true",
    ("apiserver", "--authorization-mode"): "AlwaysAllow",
    ("apiserver", "--service-account-lookup"): "true",
    ("apiserver", "--service-account-extend-token-expiration"): "true",
    ("controllermanager", "--profiling"): "true",
    ("controllermanager", "--use-service-account-credentials"): "false",
    ("controllermanager", "--bind-address"): "0.0.0.0",
    ("controllermanager", "--address"): "0.0.0.0",  # the insecure port of older releases
    ("scheduler", "--profiling"): "true",
    ("scheduler", "--bind-address"): "0.0.0.0",
    ("scheduler", "--address"): "0.0.0.0",  # the insecure port of older releases
    ("etcd", "--client-cert-auth"): "false",
    ("etcd", "--peer-client-cert-auth"): "false",
    ("etcd", "--auto-tls"): "false",
    ("etcd", "--peer-auto-tls"): "false",
    # Binary defaults; a kubeadm-written config file sets safer values, but a
    # kubelet without --config (or without these keys) runs with these.
    ("kubelet", "--anonymous-auth"): "true",
    ("kubelet", "--authorization-mode"): "AlwaysAllow",
    ("kubelet", "--make-iptables-util-chains"): "true",
    ("kubelet", "--seccomp-default"): "false",
    ("kubelet", "--streaming-connection-idle-timeout"): "4h",
    ("kubelet", "--pod-max-pids"): "-1",
    ("proxy", "--metrics-bind-address"): "127.0.0.1:10249",
}

# Flags of insecure serving, and the Kubernetes version from which the component
# serves nothing insecurely whatever they say (kube-apiserver 1.20, the
# controller manager 1.22, the scheduler 1.23): from there an absent flag
# passes. Before it, the DEFAULTS above judge an absent flag.
REMOVED_IN = {
    ("apiserver", "--insecure-port"): "1.20",
    ("apiserver", "--insecure-bind-address"): "1.20",
    ("controllermanager", "--address"): "1.22",
    ("controllermanager", "--port"): "1.22",
    ("scheduler", "--address"): "1.23",
    ("scheduler", "--port"): "1.23",
}

# How Kubernetes parses a flag's value (the `type` of a test that compares it):
# Go booleans (strconv.ParseBool: 0, F, False, ...), Go integers (strconv.ParseInt
# with base prefixes: 010 is 8) and Go durations (time.ParseDuration: 0s, 0m and
# 0h0m0s are all zero). Flags compared as text (addresses, paths, lists) are not
# listed. The same flag name means the same kind on every component.
FLAG_TYPES = {
    "--anonymous-auth": "bool",
    "--auto-tls": "bool",
    "--client-cert-auth": "bool",
    "--kubelet-https": "bool",
    "--make-iptables-util-chains": "bool",
    "--peer-auto-tls": "bool",
    "--peer-client-cert-auth": "bool",
    "--profiling": "bool",
    "--protect-kernel-defaults": "bool",
    "--repair-malformed-updates": "bool",
    "--rotate-certificates": "bool",
    "--seccomp-default": "bool",
    "--service-account-extend-token-expiration": "bool",
    "--service-account-lookup": "bool",
    "--use-service-account-credentials": "bool",
    "--audit-log-maxage": "int",
    "--audit-log-maxbackup": "int",
    "--audit-log-maxsize": "int",
    "--cadvisor-port": "int",
    "--event-qps": "int",
    "--insecure-port": "int",
    "--pod-max-pids": "int",
    "--read-only-port": "int",
    "--secure-port": "int",
    "--streaming-connection-idle-timeout": "duration",
}

# Config keys whose zero value the component's defaulting replaces by the
# default, because it cannot tell a serialized zero from an absent field
# (kubeadm writes streamingConnectionIdleTimeout: 0s; the kubelet runs with 4h).
# A zero on the command line is applied after defaulting and stays zero.
CONFIG_ZERO_IS_DEFAULT = {
    ("kubelet", "streamingConnectionIdleTimeout"),
}

# Feature gates judged by kubecis, with their default in the Kubernetes
# versions of the bundles that test them.
GATE_DEFAULTS = {
    "RotateKubeletServerCertificate": "true",  # on by default since 1.12
    "AdvancedAuditing": "true",                # on by default since 1.8
}

# A gate's stage in those versions, where it is alpha or beta: AllAlpha /
# AllBeta set every gate of that stage that is not named itself, so
# --feature-gates=AllBeta=false turns RotateKubeletServerCertificate off.
# AdvancedAuditing is GA in the only bundles that test it (cis-1.4, RKE).
GATE_STAGES = {
    "RotateKubeletServerCertificate": "beta",  # beta since 1.12, still in 1.34
}

# Config-file map a component's --feature-gates entries are also read from.
GATE_CONFIG_KEY = {"kubelet": "featureGates"}

# Order of a test's fields in the generated YAML.
TEST_FIELDS = ["flag", "key", "env", "gate", "stage", "type", "set", "compare", "default",
               "removed_in", "config_zero_is_default"]

# Example values used in remediation text for flags that only need to be set.
EXAMPLES = {
    ("apiserver", "--authorization-mode"): "Node,RBAC",
    ("kubelet", "--authorization-mode"): "Webhook",
    ("apiserver", "--secure-port"): "6443",
    ("apiserver", "--kubelet-client-certificate"): "<path/to/kubelet-client.crt>",
    ("apiserver", "--kubelet-client-key"): "<path/to/kubelet-client.key>",
    ("apiserver", "--kubelet-certificate-authority"): "<path/to/kubelet-ca.crt>",
    ("apiserver", "--service-account-key-file"): "<path/to/sa.pub>",
    ("apiserver", "--etcd-certfile"): "<path/to/etcd-client.crt>",
    ("apiserver", "--etcd-keyfile"): "<path/to/etcd-client.key>",
    ("apiserver", "--etcd-cafile"): "<path/to/etcd-ca.crt>",
    ("apiserver", "--tls-cert-file"): "<path/to/apiserver.crt>",
    ("apiserver", "--tls-private-key-file"): "<path/to/apiserver.key>",
    ("apiserver", "--client-ca-file"): "<path/to/ca.crt>",
    ("apiserver", "--encryption-provider-config"): "<path/to/encryption-config.yaml>",
    ("apiserver", "--audit-log-path"): "/var/log/kubernetes/audit.log",
    ("apiserver", "--audit-policy-file"): "<path/to/audit-policy.yaml>",
    ("controllermanager", "--terminated-pod-gc-threshold"): "10",
    ("controllermanager", "--service-account-private-key-file"): "<path/to/sa.key>",
    ("controllermanager", "--root-ca-file"): "<path/to/ca.crt>",
    ("etcd", "--cert-file"): "<path/to/etcd-server.crt>",
    ("etcd", "--key-file"): "<path/to/etcd-server.key>",
    ("etcd", "--peer-cert-file"): "<path/to/etcd-peer.crt>",
    ("etcd", "--peer-key-file"): "<path/to/etcd-peer.key>",
    ("etcd", "--trusted-ca-file"): "<path/to/etcd-ca.crt>",
    ("kubelet", "--client-ca-file"): "<path/to/ca.crt>",
    ("kubelet", "--tls-cert-file"): "<path/to/kubelet.crt>",
    ("kubelet", "--tls-private-key-file"): "<path/to/kubelet.key>",
    ("kubelet", "--pod-max-pids"): "4096",
    ("kubelet", "--streaming-connection-idle-timeout"): "5m",
    ("kubelet", "--event-qps"): "50",
}


SUFFIX = re.compile(r"\s*\((Automated|Manual|Scored|Not Scored)\)$")


def norm_title(text):
    """Title key used by the tables below: no suffix, lower case, no final dot."""
    t = re.sub(r"\s+", " ", text).strip()
    t = SUFFIX.sub("", t)
    return t.rstrip(".").strip().lower()


# Items that no node-side check can judge: reason (manual:) and remediation.
# Keyed by norm_title(); titles are stable across benchmark versions.
MANUAL = {
    "ensure that the --request-timeout argument is set as appropriate": (
        "Needs a person: a suitable --request-timeout depends on the cluster's"
        " workload, and the 60s default suits most clusters.",
        "Only if long-running API requests time out: edit ${apiserver.conf} and,"
        " in the kube-apiserver command, set --request-timeout to a suitable"
        " duration, for example --request-timeout=300s.",
    ),
    "ensure that encryption providers are appropriately configured": (
        "Needs a person: the encryption configuration is the file named by the"
        " live --encryption-provider-config flag, which no bundle variable"
        " points at.",
        "Open the EncryptionConfiguration file given to --encryption-provider-config"
        " in ${apiserver.conf} and make aescbc, kms or secretbox the first provider"
        " for secrets (identity must not come first). Restart the API server and"
        " rewrite existing secrets so they are stored encrypted, e.g.\n"
        "kubectl get secrets -A -o json | kubectl replace -f -",
    ),
    "client certificate authentication should not be used for users": (
        "Needs a person: whether people log in with client certificates depends"
        " on how credentials are issued, which no node setting shows.",
        "Authenticate people through an external identity provider (for example"
        " OIDC, configured with the --oidc-* flags of the API server) and keep"
        " client certificates for Kubernetes components.",
    ),
    "service account token authentication should not be used for users": (
        "Needs a person: only an operator knows whether people use service"
        " account tokens to log in.",
        "Give people accounts from an external identity provider and reserve"
        " service account tokens for workloads running in the cluster.",
    ),
    "bootstrap token authentication should not be used for users": (
        "Needs a person: only an operator knows whether bootstrap tokens are"
        " handed to people.",
        "Use bootstrap tokens only to join nodes, delete them after use"
        " (kubeadm token delete <id>), and authenticate people through an"
        " external identity provider.",
    ),
    "ensure that the audit policy covers key security concerns": (
        "Needs a person: the rules of the audit policy file have to be read and"
        " weighed against the cluster's needs.",
        "Review the file given to --audit-policy-file in ${apiserver.conf}. It should"
        " record at least: access to Secrets, ConfigMaps and TokenReviews, at the"
        " Metadata level only so that secret data is not written to the log;"
        " changes to Pods and Deployments; and use of pods/exec, pods/portforward,"
        " pods/proxy and services/proxy. Log other requests at least at the"
        " Metadata level.",
    ),
    "ensure that the cluster-admin role is only used where required": (
        "Needs the Kubernetes API: review which subjects are bound to the"
        " cluster-admin ClusterRole.",
        "List the ClusterRoleBindings that reference cluster-admin"
        " (kubectl get clusterrolebindings -o wide). Give each subject that does"
        " not need full control a narrower role, then delete its binding with"
        " kubectl delete clusterrolebinding <name>.",
    ),
    "minimize access to secrets": (
        "Needs the Kubernetes API: review which Roles and ClusterRoles allow"
        " get, list or watch on Secrets.",
        "Remove get, list and watch on secrets from every Role and ClusterRole"
        " whose subjects do not strictly need them; verify with"
        " kubectl auth can-i list secrets --as=<subject>.",
    ),
    "minimize wildcard use in roles and clusterroles": (
        "Needs the Kubernetes API: review Roles and ClusterRoles for \"*\" in"
        " their API groups, resources or verbs.",
        "Replace every \"*\" in the rules of Roles and ClusterRoles with the"
        " explicit API groups, resources and verbs that are needed.",
    ),
    "minimize access to create pods": (
        "Needs the Kubernetes API: review which subjects may create Pods.",
        "Remove the create verb on pods from Roles and ClusterRoles whose"
        " subjects do not need to start Pods themselves.",
    ),
    "ensure that default service accounts are not actively used": (
        "Needs the Kubernetes API: inspect the default ServiceAccount of every"
        " namespace and the workloads that use it.",
        "Create dedicated ServiceAccounts for workloads that call the API server,"
        " and set automountServiceAccountToken: false on the default"
        " ServiceAccount of each namespace.",
    ),
    "ensure that service account tokens are only mounted where necessary": (
        "Needs the Kubernetes API: inspect which Pods and ServiceAccounts mount"
        " an API token automatically.",
        "Set automountServiceAccountToken: false on Pods and ServiceAccounts whose"
        " containers never call the API server; a Pod's own setting overrides"
        " its ServiceAccount's.",
    ),
    "avoid use of system:masters group": (
        "Needs a person: membership of system:masters travels inside client"
        " certificates and cannot be listed from a node or the API.",
        "Stop issuing certificates with the system:masters organisation to people;"
        " grant administrative rights through RBAC bindings instead and keep any"
        " break-glass credential offline.",
    ),
    "limit use of the bind, impersonate and escalate permissions in the kubernetes cluster": (
        "Needs the Kubernetes API: review Roles and ClusterRoles that grant the"
        " bind, impersonate or escalate verbs.",
        "Remove the bind, impersonate and escalate verbs from roles whose subjects"
        " do not strictly need them.",
    ),
    "minimize access to create persistent volumes": (
        "Needs the Kubernetes API: review which subjects may create"
        " PersistentVolumes.",
        "Remove the create verb on persistentvolumes from roles of subjects that"
        " do not administer storage; let workloads use PersistentVolumeClaims.",
    ),
    "minimize access to the proxy sub-resource of nodes": (
        "Needs the Kubernetes API: review which roles grant access to the"
        " nodes/proxy subresource.",
        "Remove rules on nodes/proxy from roles whose subjects do not need direct"
        " access to the kubelet API.",
    ),
    "minimize access to the approval sub-resource of certificatesigningrequests objects": (
        "Needs the Kubernetes API: review which roles grant access to the"
        " certificatesigningrequests/approval subresource.",
        "Remove update access to certificatesigningrequests/approval from roles"
        " whose subjects should not approve certificates.",
    ),
    "minimize access to webhook configuration objects": (
        "Needs the Kubernetes API: review which roles may change"
        " validatingwebhookconfigurations or mutatingwebhookconfigurations.",
        "Keep create, update, patch and delete on validatingwebhookconfigurations"
        " and mutatingwebhookconfigurations for cluster administrators only.",
    ),
    "minimize access to the service account token creation": (
        "Needs the Kubernetes API: review which roles grant create on the"
        " serviceaccounts/token subresource.",
        "Remove create access to serviceaccounts/token from roles whose subjects"
        " do not need to mint tokens.",
    ),
    "ensure that the cluster has at least one active policy control mechanism in place": (
        "Needs the Kubernetes API: check that Pod Security Admission labels or an"
        " external policy engine cover every namespace.",
        "Enforce Pod Security Admission (the pod-security.kubernetes.io/enforce"
        " namespace label) or run a policy engine, covering every namespace that"
        " holds user workloads.",
    ),
    "minimize the admission of privileged containers": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " privileged containers.",
        "Apply a policy (for example the baseline Pod Security Standard) to every"
        " namespace with user workloads so that containers with"
        " securityContext.privileged: true are rejected.",
    ),
    "minimize the admission of containers wishing to share the host process id namespace": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " hostPID.",
        "Apply a policy (for example the baseline Pod Security Standard) to every"
        " namespace with user workloads so that Pods with hostPID: true are"
        " rejected.",
    ),
    "minimize the admission of containers wishing to share the host ipc namespace": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " hostIPC.",
        "Apply a policy (for example the baseline Pod Security Standard) to every"
        " namespace with user workloads so that Pods with hostIPC: true are"
        " rejected.",
    ),
    "minimize the admission of containers wishing to share the host network namespace": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " hostNetwork.",
        "Apply a policy (for example the baseline Pod Security Standard) to every"
        " namespace with user workloads so that Pods with hostNetwork: true are"
        " rejected.",
    ),
    "minimize the admission of containers with allowprivilegeescalation": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " allowPrivilegeEscalation.",
        "Apply a policy (for example the restricted Pod Security Standard) to every"
        " namespace with user workloads so that containers must set"
        " securityContext.allowPrivilegeEscalation: false.",
    ),
    "minimize the admission of root containers": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " containers that run as root.",
        "Apply a policy to every namespace with user workloads that requires"
        " runAsNonRoot: true or a runAsUser range that excludes UID 0.",
    ),
    "minimize the admission of containers with the net_raw capability": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " the NET_RAW capability.",
        "Apply a policy to every namespace with user workloads that rejects"
        " containers keeping NET_RAW (the restricted Pod Security Standard requires"
        " dropping ALL capabilities).",
    ),
    "minimize the admission of containers with added capabilities": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " added capabilities.",
        "Apply a policy to every namespace with user workloads that rejects"
        " capabilities.add beyond an explicitly approved, ideally empty, list.",
    ),
    "minimize the admission of containers with capabilities assigned": (
        "Needs the Kubernetes API and a person: which applications need Linux"
        " capabilities must be judged per workload.",
        "Where a namespace's applications need no Linux capabilities, require"
        " containers there to set capabilities.drop: [\"ALL\"].",
    ),
    "minimize the admission of windows hostprocess containers": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " Windows HostProcess containers.",
        "Apply a policy to every namespace with user workloads that rejects"
        " securityContext.windowsOptions.hostProcess: true.",
    ),
    "minimize the admission of hostpath volumes": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " hostPath volumes.",
        "Apply a policy to every namespace with user workloads that rejects Pods"
        " with hostPath volumes.",
    ),
    "minimize the admission of containers which use hostports": (
        "Needs the Kubernetes API: review admission policies and running Pods for"
        " hostPort.",
        "Apply a policy to every namespace with user workloads that rejects"
        " containers declaring a hostPort.",
    ),
    "ensure that the cni in use supports networkpolicies": (
        "Needs a person: whether the installed CNI plugin enforces NetworkPolicy"
        " is a property of the plugin and its configuration.",
        "Run a CNI plugin that enforces NetworkPolicy, or add another mechanism"
        " that restricts traffic between Pods.",
    ),
    "ensure that all namespaces have networkpolicies defined": (
        "Needs the Kubernetes API: list the NetworkPolicy objects of every"
        " namespace.",
        "Create NetworkPolicy objects in every namespace: start with a default-deny"
        " policy, then allow the traffic each workload needs.",
    ),
    "prefer using secrets as files over secrets as environment variables": (
        "Needs the Kubernetes API and a person: Pod specs must be reviewed for"
        " Secrets passed as environment variables.",
        "Where the application allows it, mount Secrets as volumes and read them"
        " from files instead of using env or envFrom with secretKeyRef or"
        " secretRef.",
    ),
    "consider external secret storage": (
        "Needs a person: choosing a secret store is an architectural decision.",
        "Evaluate a dedicated secret manager (a cloud provider's service or a"
        " self-hosted one) for sensitive values and connect it to the cluster,"
        " for example through the Secrets Store CSI driver.",
    ),
    "configure image provenance using imagepolicywebhook admission controller": (
        "Needs a person: image provenance depends on the admission setup and the"
        " registry policy of the cluster.",
        "Enforce image provenance, for example with the ImagePolicyWebhook"
        " admission plugin (--enable-admission-plugins and"
        " --admission-control-config-file of kube-apiserver) or a policy engine"
        " that verifies image signatures.",
    ),
    "create administrative boundaries between resources using namespaces": (
        "Needs a person: how workloads are split into namespaces is an"
        " organisational decision.",
        "Create namespaces for separate teams, applications or environments and"
        " put their objects in them.",
    ),
    "ensure that the seccomp profile is set to docker/default in your pod definitions": (
        "Needs the Kubernetes API: the seccompProfile of every Pod spec has to be"
        " reviewed.",
        "Set securityContext.seccompProfile.type: RuntimeDefault (or a Localhost"
        " profile) in Pod specs, or turn on seccompDefault in the kubelet"
        " configuration.",
    ),
    "apply securitycontext to your pods and containers": (
        "Needs the Kubernetes API and a person: a suitable security context"
        " depends on each workload.",
        "Give Pods and containers a securityContext: run as a non-root user, use a"
        " read-only root filesystem, forbid privilege escalation and drop unneeded"
        " capabilities.",
    ),
    "the default namespace should not be used": (
        "Needs the Kubernetes API: list the objects created in the default"
        " namespace.",
        "Create workloads in dedicated namespaces; the default namespace should"
        " hold nothing but the kubernetes Service.",
    ),
    # Not a kubelet flag at all: IPAddressDeny is a systemd unit directive.
    "ensure that the --ipaddressdeny is set to any": (
        "Needs a person: IPAddressDeny is a systemd directive of the kubelet unit,"
        " not a kubelet flag or config key, and which addresses to allow depends"
        " on the cluster's networks.",
        "In the [Service] section of the kubelet unit ${kubelet.svc}, set"
        " IPAddressDeny=any and list in IPAddressAllow the addresses that must"
        " reach the kubelet (localhost, link-local, the pod and node networks and"
        " the API server). Then run systemctl daemon-reload and restart the"
        " kubelet.",
    ),
}


def _psp(field, rule):
    """A cis-1.4 PodSecurityPolicy item (1.7.x): reason and remediation."""
    return (
        "Needs the Kubernetes API: the PodSecurityPolicy objects (kubectl get psp) and who may"
        f" use them decide whether {field}; nothing on a node shows it.",
        f"Give general workloads a PodSecurityPolicy that {rule}, let their service accounts use"
        " it (RBAC verb use on that podsecuritypolicy) and keep more permissive policies for the"
        " system components that need them. Then enable the PodSecurityPolicy admission plugin"
        " of kube-apiserver.",
    )


# Items of CIS 1.4 (cis-1.4, rke-cis-1.4) that no node-side check can judge.
MANUAL.update({
    "[deprecated] ensure that the admission control plugin denyescalatingexec is set": (
        "Deprecated by the benchmark (kube-bench only reports it): Kubernetes 1.13 deprecated"
        " DenyEscalatingExec in favour of pod security policies, so its absence is no finding.",
        "Nothing to change. Keep exec and attach away from privileged pods with"
        " PodSecurityPolicy (section 1.7) and with RBAC on pods/exec and pods/attach.",
    ),
    "[deprecated] ensure that the --cadvisor-port argument is set to 0": (
        "Deprecated by the benchmark (kube-bench only reports it): the kubelet lost its"
        " --cadvisor-port flag and the port behind it in Kubernetes 1.12.",
        "Nothing to change on kubelets of Kubernetes 1.12 or later; an older kubelet takes"
        " --cadvisor-port=0 in ${kubelet.svc}.",
    ),
    "ensure that the encryption provider is set to aescbc": (
        "Needs a person: the providers are listed in the file named by the live"
        " --encryption-provider-config flag, which no bundle variable points at.",
        "In the EncryptionConfiguration file given to --encryption-provider-config in"
        " ${apiserver.conf}, put aescbc, with a freshly generated 32-byte key, first in the"
        " providers of secrets (before identity). Restart the API server and rewrite the"
        " existing secrets so that they are stored encrypted:\n"
        "kubectl get secrets -A -o json | kubectl replace -f -",
    ),
    "create network segmentation using network policies": (
        "Needs the Kubernetes API and a person: which workloads must be kept apart, and whether"
        " NetworkPolicy objects do it, is read from the cluster, not from a node.",
        "Run a CNI plugin that enforces NetworkPolicy and create NetworkPolicy objects that"
        " separate the workloads that must not reach each other.",
    ),
    "apply security context to your pods and containers":
        MANUAL["apply securitycontext to your pods and containers"],
    "configure network policies as appropriate": (
        "Needs the Kubernetes API: list the NetworkPolicy objects of every namespace.",
        "Give every namespace a policy that denies all ingress by default (a NetworkPolicy with"
        " an empty podSelector and no ingress rules), then add policies for the traffic each"
        " workload needs.",
    ),
    "place compensating controls in the form of psp and rbac for privileged containers usage": (
        "Needs the Kubernetes API and a person: which workloads may run privileged, and whether"
        " PodSecurityPolicies and RBAC confine them to that, is a cluster-wide judgement.",
        "Enable the PodSecurityPolicy admission plugin, make a restrictive policy the one every"
        " service account may use, and grant a policy that allows privileged containers only to"
        " the service accounts of the components that need it (RBAC verb use).",
    ),
    "do not admit privileged containers":
        _psp("privileged containers are admitted", "leaves .spec.privileged unset or false"),
    "do not admit containers wishing to share the host process id namespace":
        _psp("pods may share the host's process ID namespace",
             "leaves .spec.hostPID unset or false"),
    "do not admit containers wishing to share the host ipc namespace":
        _psp("pods may share the host's IPC namespace", "leaves .spec.hostIPC unset or false"),
    "do not admit containers wishing to share the host network namespace":
        _psp("pods may share the host's network namespace",
             "leaves .spec.hostNetwork unset or false"),
    "do not admit containers with allowprivilegeescalation":
        _psp("containers may gain more privileges than their parent process",
             "leaves .spec.allowPrivilegeEscalation unset or false"),
    "do not admit root containers":
        _psp("containers may run as root",
             "sets .spec.runAsUser.rule to MustRunAsNonRoot, or to MustRunAs with UID ranges"
             " that leave out 0"),
    "do not admit containers with dangerous capabilities":
        _psp("containers keep dangerous capabilities",
             "lists NET_RAW (or ALL) in .spec.requiredDropCapabilities"),
})

# Items judged by the `encryption` component from the EncryptionConfiguration
# file the live --encryption-provider-config names (kube-bench greps its first
# provider and wants it among these): title -> providers that may come first.
# Their remediation is the MANUAL table's (MANUAL_RKE's on RKE).
ENCRYPTION = {
    "ensure that encryption providers are appropriately configured": ["aescbc", "kms", "secretbox"],
    "ensure that the encryption provider is set to aescbc": ["aescbc"],
}

# Rancher's rke-cis-1.4 judges 1.1.38 with a test that cannot fail (--request-timeout
# set, or not set). kubecis judges what the title asks: a timeout that is a positive
# duration; absent, the API server's default of 60s is one.
REQUEST_TIMEOUT = "ensure that the --request-timeout argument is set as appropriate"
REQUEST_TIMEOUT_TEST = {"flag": "--request-timeout", "type": "duration",
                        "compare": {"op": "gt", "value": "0s"}, "default": "60s"}

# The same items on RKE, where flags are changed through cluster.yml.
MANUAL_RKE = {
    "ensure that the encryption provider is set to aescbc": (
        "Needs a person: RKE writes an encryption configuration under /etc/kubernetes only when"
        " secrets encryption is turned on, and the providers it lists have to be read there.",
        "Turn on encryption of secrets at rest with"
        " services.kube-api.secrets_encryption_config.enabled: true in cluster.yml (RKE v0.3.1"
        " and later; its default provider is aescbc) and run rke up. Then rewrite the existing"
        " secrets so that they are stored encrypted:\n"
        "kubectl get secrets -A -o json | kubectl replace -f -",
    ),
    "ensure that the --request-timeout argument is set as appropriate": (
        MANUAL["ensure that the --request-timeout argument is set as appropriate"][0],
        "Only if long-running API requests time out: in cluster.yml set request-timeout (for"
        " example request-timeout: \"300s\") under services.kube-api.extra_args and run rke up.",
    ),
}
for _key in [k for k in MANUAL if k.startswith("do not admit ")]:
    MANUAL_RKE[_key] = (MANUAL[_key][0], MANUAL[_key][1].replace(
        "Then enable the PodSecurityPolicy admission plugin of kube-apiserver.",
        "Then set services.kube-api.pod_security_policy: true in cluster.yml and run rke up,"
        " which enables the PodSecurityPolicy admission plugin of kube-apiserver."))


# Remediation text written by hand where the templates read poorly.
REMEDIATION = {
    "ensure that the --token-auth-file parameter is not set":
        "Move users of static tokens to another authentication method first. Then"
        " edit ${apiserver.conf} on the control plane node and remove"
        " --token-auth-file from the kube-apiserver command.",
    "ensure that the admission control plugin eventratelimit is set":
        "Write an admission configuration with an EventRateLimit section holding"
        " the limits you want. Then edit ${apiserver.conf} on the control plane"
        " node and, in the kube-apiserver command, add EventRateLimit to"
        " --enable-admission-plugins and point --admission-control-config-file at"
        " that configuration.",
    "ensure that the admission control plugin securitycontextdeny is set if podsecuritypolicy is not used":
        "Unless PodSecurityPolicy is in use, edit ${apiserver.conf} on the control"
        " plane node and add SecurityContextDeny to --enable-admission-plugins in"
        " the kube-apiserver command.",
    "ensure that the admission control plugin serviceaccount is set":
        "Edit ${apiserver.conf} on the control plane node and make sure"
        " ServiceAccount is not listed in --disable-admission-plugins of the"
        " kube-apiserver command (the plugin is on by default).",
    "ensure that the admission control plugin namespacelifecycle is set":
        "Edit ${apiserver.conf} on the control plane node and make sure"
        " NamespaceLifecycle is not listed in --disable-admission-plugins of the"
        " kube-apiserver command (the plugin is on by default).",
    "ensure that the admission control plugin noderestriction is set":
        "Make sure every kubelet authenticates with a credential in the"
        " system:nodes group (system:node:<nodeName>). Then edit ${apiserver.conf}"
        " on the control plane node and add NodeRestriction to"
        " --enable-admission-plugins in the kube-apiserver command.",
    "ensure that the --encryption-provider-config argument is set as appropriate":
        "Write an EncryptionConfiguration file for secrets. Then edit"
        " ${apiserver.conf} on the control plane node and, in the kube-apiserver"
        " command, set --encryption-provider-config=<path/to/encryption-config.yaml>.",
    "ensure that the rotatekubeletservercertificate argument is set to true":
        "Edit ${controllermanager.conf} on the control plane node and make sure"
        " --feature-gates of the kube-controller-manager command does not turn"
        " RotateKubeletServerCertificate off: drop its entry or set"
        " RotateKubeletServerCertificate=true (=false, =False and =0 all turn it"
        " off, and so does AllBeta=false unless the gate is named; the gate is on"
        " by default).",
    "ensure that a unique certificate authority is used for etcd":
        "Create a certificate authority used only by etcd and issue the etcd"
        " certificates from it. Then edit ${etcd.conf} on the etcd node and, in the"
        " etcd command, set --trusted-ca-file=<path/to/etcd-ca.crt> (or"
        " ETCD_TRUSTED_CA_FILE when etcd is configured through its environment).",
    "ensure that a minimal audit policy is created":
        "Write an audit policy file for the cluster. Then edit ${apiserver.conf} on"
        " the control plane node and, in the kube-apiserver command, set"
        " --audit-policy-file=<path/to/audit-policy.yaml>.",
    "verify that the rotatekubeletservercertificate argument is set to true":
        "In the kubelet config file ${kubelet.conf}, remove"
        " featureGates.RotateKubeletServerCertificate or set it to true. If"
        " --feature-gates in ${kubelet.svc} names the gate, drop that entry or set"
        " RotateKubeletServerCertificate=true there too: a gate on the command line"
        " overrides the config file, and =false, =False and =0 all turn it off."
        " AllBeta=false, in either place, turns it off too unless the gate is named."
        " Then restart the kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "ensure that the admission control plugin alwaysadmit is not set":
        "Edit ${apiserver.conf} on the control plane node and remove AlwaysAdmit from"
        " --enable-admission-plugins in the kube-apiserver command (or drop the flag"
        " if nothing else is listed).",
    "verify that the --read-only-port argument is set to 0":
        "In the kubelet config file ${kubelet.conf}, set readOnlyPort: 0; if the"
        " kubelet takes flags, set --read-only-port=0 in ${kubelet.svc}. Set it"
        " explicitly: a kubelet started without a config file serves the"
        " unauthenticated read-only port 10255. Then restart the kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "verify that if defined, the --read-only-port argument is set to 0":
        "In the kubelet config file ${kubelet.conf}, set readOnlyPort: 0; if the"
        " kubelet takes flags, set --read-only-port=0 in ${kubelet.svc}. Set it"
        " explicitly: a kubelet started without a config file serves the"
        " unauthenticated read-only port 10255. Then restart the kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "ensure that the eventrecordqps argument is set to a level which ensures appropriate event capture":
        "In the kubelet config file ${kubelet.conf}, set eventRecordQPS to a rate"
        " that keeps the events you need (0 removes the limit, the default is 50);"
        " if the kubelet takes flags, set --event-qps in ${kubelet.svc} instead."
        " Then restart the kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "ensure that the --rotate-certificates argument is not set to false":
        "In the kubelet config file ${kubelet.conf}, set rotateCertificates: true;"
        " if the kubelet takes flags, remove --rotate-certificates=false from"
        " ${kubelet.svc} or set --rotate-certificates=true. Then restart the"
        " kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "ensure that the --streaming-connection-idle-timeout argument is not set to 0":
        "In the kubelet config file ${kubelet.conf}, set"
        " streamingConnectionIdleTimeout to a non-zero duration such as 5m, or"
        " leave it out (the default is 4h). If the kubelet takes flags, remove"
        " --streaming-connection-idle-timeout from ${kubelet.svc} or give it a"
        " non-zero duration: on the command line 0, 0s and 0m0s all turn the"
        " timeout off. Then restart the kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "ensure that a limit is set on pod pids":
        "In the kubelet config file ${kubelet.conf}, set podPidsLimit to the most"
        " processes a pod may run, for example podPidsLimit: 4096 (the default, -1,"
        " and 0 mean no limit). If the kubelet takes flags, set --pod-max-pids=4096"
        " in ${kubelet.svc} instead. Then restart the kubelet:\n"
        "systemctl daemon-reload && systemctl restart kubelet",
    "ensure that the kube-proxy metrics service is bound to localhost":
        "In the kube-proxy configuration ${proxy.conf}, remove metricsBindAddress"
        " or set it to a 127.0.0.1 address (the default is 127.0.0.1:10249); if"
        " kube-proxy takes flags, do the same with --metrics-bind-address. Then"
        " restart kube-proxy.",
}

# Remediation by component where one title names items of two components
# (cis-1.4 calls both the controller manager's and the kubelet's item
# "Ensure that the RotateKubeletServerCertificate argument is set to true").
REMEDIATION_BY_COMPONENT = {
    ("kubelet", "ensure that the rotatekubeletservercertificate argument is set to true"):
        REMEDIATION["verify that the rotatekubeletservercertificate argument is set to true"],
}

# RKE (rke-* bundles): cluster.yml names each component's service and its
# extra_args replace RKE's own value of a flag.
RKE_SERVICE = {
    "apiserver": "kube-api",
    "controllermanager": "kube-controller",
    "scheduler": "scheduler",
    "etcd": "etcd",
    "kubelet": "kubelet",
    "proxy": "kubeproxy",
}

RKE_APPLY = "Then run rke up, which recreates the {binary} container with the new arguments."

# RKE remediation written by hand, by title key.
REMEDIATION_RKE = {
    "ensure that the --kubelet-certificate-authority argument is set as appropriate":
        "The kubelets of a default RKE cluster serve a self-signed certificate, so the API server"
        " has no CA to verify them with. Have RKE issue kubelet serving certificates from the"
        " cluster CA: in cluster.yml set services.kubelet.generate_serving_certificate: true (on"
        " RKE releases that offer it) and run rke up; RKE then passes"
        " --kubelet-certificate-authority=/etc/kubernetes/ssl/kube-ca.pem to kube-apiserver and"
        " --tls-cert-file/--tls-private-key-file to every kubelet.",
    "ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate#kubelet":
        "A default RKE kubelet serves a self-signed certificate it makes at start-up. Have RKE"
        " issue serving certificates from the cluster CA: in cluster.yml set"
        " services.kubelet.generate_serving_certificate: true (on RKE releases that offer it),"
        " or pass your own files with tls-cert-file and tls-private-key-file in"
        " services.kubelet.extra_args (and services.kubelet.extra_binds if they live outside"
        " /etc/kubernetes). Then run rke up.",
    "ensure that the admission control plugin podsecuritypolicy is set":
        "Create PodSecurityPolicy objects and RBAC bindings that let every workload, system"
        " components included, use a policy: without them no new pod is admitted. Then set"
        " services.kube-api.pod_security_policy: true in cluster.yml and run rke up; RKE adds"
        " PodSecurityPolicy to --enable-admission-plugins of kube-apiserver.",
    "ensure that the --encryption-provider-config argument is set as appropriate":
        "Turn on encryption of secrets at rest: in cluster.yml set"
        " services.kube-api.secrets_encryption_config.enabled: true (RKE v0.3.1 and later) and"
        " run rke up. RKE writes an aescbc EncryptionConfiguration with a new key and passes it to"
        " kube-apiserver with --encryption-provider-config. Rewrite existing secrets afterwards so"
        " they are stored encrypted:\n"
        "kubectl get secrets -A -o json | kubectl replace -f -",
    "ensure that the admission control plugin eventratelimit is set":
        "Write an admission configuration whose EventRateLimit section holds the limits you want,"
        " in /etc/kubernetes on every control plane node (RKE binds that directory into the"
        " kube-apiserver container). In cluster.yml, under services.kube-api.extra_args, set"
        " admission-control-config-file to it and enable-admission-plugins to RKE's list plus"
        " EventRateLimit (extra_args replaces RKE's value, so repeat the whole list). Then run"
        " rke up. RKE releases that offer services.kube-api.event_rate_limit.enabled: true do all"
        " of this themselves.",
    "ensure that the --hostname-override argument is not set":
        "RKE always starts the kubelet with --hostname-override: the node's hostname_override"
        " from cluster.yml, or its address when none is given. It cannot be removed through"
        " cluster.yml. Where cloud providers or tooling do not need the override, set"
        " hostname_override of each node to the node's real hostname, so the flag changes"
        " nothing, and record this item as an accepted exception.",
    "ensure that the --rotate-certificates argument is not set to false":
        "RKE gives every kubelet a client certificate signed by the cluster CA and renews it with"
        " rke cert rotate, not through the kubelet. If the kubelet should rotate its client"
        " certificate itself, set rotate-certificates: \"true\" in services.kubelet.extra_args"
        " and run rke up; otherwise rotate with rke cert rotate before the certificates expire"
        " and record that practice for this item.",
    "ensure that the rotatekubeletservercertificate argument is set to true#kubelet":
        "The RotateKubeletServerCertificate feature gate is on by default: make sure"
        " feature-gates in services.kubelet.extra_args of cluster.yml does not turn it off"
        " (RotateKubeletServerCertificate=false, =False or =0, or AllBeta=false without the gate"
        " named), then run rke up.",
    "ensure that the rotatekubeletservercertificate argument is set to true#controllermanager":
        "The RotateKubeletServerCertificate feature gate is on by default: make sure"
        " feature-gates in services.kube-controller.extra_args of cluster.yml does not turn it"
        " off (RotateKubeletServerCertificate=false, =False or =0, or AllBeta=false without the"
        " gate named), then run rke up.",
    "ensure that the --protect-kernel-defaults argument is set to true":
        "First set on every node the kernel parameters the kubelet expects, for example"
        " vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10 and kernel.panic_on_oops=1"
        " in a file under /etc/sysctl.d (then sysctl --system): with this flag a kubelet refuses"
        " to start when they differ. Then set protect-kernel-defaults: \"true\" in"
        " services.kubelet.extra_args of cluster.yml and run rke up.",
    "ensure that the --audit-log-path argument is set as appropriate":
        "In cluster.yml, under services.kube-api.extra_args, set audit-log-path to a file in a"
        " host directory that services.kube-api.extra_binds makes visible to the container (for"
        " example audit-log-path: /var/log/kube-audit/audit-log.json with the bind"
        " /var/log/kube-audit:/var/log/kube-audit). Then run rke up. RKE releases that offer"
        " services.kube-api.audit_log.enabled: true set up the path, rotation and policy"
        " themselves.",
}

# RKE file remediation written by hand, by title key.
FILE_REMEDIATION_RKE = {
    "ensure that the etcd data directory ownership is set to etcd:etcd":
        "RKE keeps etcd's data in /var/lib/etcd on the host (mounted at /var/lib/rancher/etcd in"
        " the etcd container) and leaves it to root. On every etcd node create an etcd user and"
        " group, for example\n"
        "useradd --system --no-create-home --shell /sbin/nologin etcd\n"
        "and give it the data:\n"
        "chown -R etcd:etcd /var/lib/etcd\n"
        "RKE releases that offer services.etcd.uid and services.etcd.gid in cluster.yml also run"
        " etcd as that user and keep the ownership after rke up.",
}


def gate_test(component, gate, config=False):
    """A test of a feature gate's effective value: on unless turned off."""
    t = {"flag": "--feature-gates"}
    if config:
        t["key"] = GATE_CONFIG_KEY[component]
    t["gate"] = gate
    if gate in GATE_STAGES:
        t["stage"] = GATE_STAGES[gate]
    t["compare"] = {"op": "eq", "value": "true"}
    t["default"] = GATE_DEFAULTS[gate]
    return t


# Settings fixed by hand where kube-bench's test cannot be carried over as is.
# Each entry replaces the generated `tests`/`combine`.
SETTINGS = {
    # kube-bench only asks for the flag to be present, but -1 (the default) and
    # 0 mean no limit at all: only a positive limit passes.
    ("kubelet", "ensure that a limit is set on pod pids"): {
        "tests": [
            {"flag": "--pod-max-pids", "key": "podPidsLimit",
             "compare": {"op": "gt", "value": "0"},
             "default": DEFAULTS[("kubelet", "--pod-max-pids")]},
        ],
    },
    # kube-bench's `has` is a substring test; kubecis' matches list elements,
    # so a host:port address is judged by its host part instead.
    ("proxy", "ensure that the kube-proxy metrics service is bound to localhost"): {
        "combine": "or",
        "tests": [
            {"flag": "--metrics-bind-address", "key": "metricsBindAddress",
             "compare": {"op": "regex", "value": r"^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?$"},
             "default": "127.0.0.1:10249"},
            {"flag": "--metrics-bind-address", "key": "metricsBindAddress", "set": False},
        ],
    },
    # kube-bench only asks for the flag to be present; the item asks for true.
    ("kubelet", "ensure that the --seccomp-default parameter is set to true"): {
        "tests": [
            {"flag": "--seccomp-default", "key": "seccompDefault",
             "compare": {"op": "eq", "value": "true"}, "default": "false"},
        ],
    },
}


class Report:
    def __init__(self, flavor="generic", distribution=False):
        self.flavor = flavor  # "generic" (kubeadm-like layout), "rke", "k3s" or "rke2"
        # A Rancher distribution benchmark (rancher.py): skips belong to profiles.
        self.distribution = distribution
        # A managed-cloud benchmark: (provider's name, its CLI), else None.
        self.provider = None
        # Only the remediation of this conversion is used (remediation_for).
        self.alternative = False
        self.manual = []      # (id, title, reason)
        self.notes = []       # (id, text)

    def note(self, item_id, text):
        self.notes.append((item_id, text))


# ----------------------------------------------------------------- parsing


def strip_suffix(text):
    """Title without its suffix, (Automated)/(Manual) as a bool (None when the
    benchmark has no such suffix), (Scored)/(Not Scored) as a bool (or None)."""
    t = re.sub(r"\s+", " ", text).strip()
    m = SUFFIX.search(t)
    if not m:
        return t, None, None
    title, word = t[: m.start()].strip(), m.group(1)
    if word in ("Automated", "Manual"):
        return title, word == "Automated", None
    return title, None, word == "Scored"


def as_str(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def jsonpath_key(path, item_id, report):
    """'{.authentication.anonymous.enabled}' -> 'authentication.anonymous.enabled'."""
    m = re.fullmatch(r"\{\.([A-Za-z0-9_.]+)\}", path)
    if m:
        return m.group(1)
    m = re.fullmatch(r"\{range \.([A-Za-z0-9_.]+)\[:\]\}.*\{end\}", path)
    if m:
        report.note(item_id, f"JSONPath {path!r} (a list joined with commas) mapped to key"
                    f" {m.group(1)!r}: the check must join the list before comparing")
        return m.group(1)
    raise ValueError(f"{item_id}: cannot map JSONPath {path!r}")


# k3s logs each embedded component's arguments ("Running kube-apiserver --…");
# Rancher's k3s benchmarks read them with journalctl, kubecis from discovery.
JOURNAL_COMPONENTS = {
    "kube-apiserver": "apiserver",
    "kube-controller-manager": "controllermanager",
    "kube-scheduler": "scheduler",
    "kubelet": "kubelet",
    "kube-proxy": "proxy",
}
JOURNAL = re.compile(r"journalctl .*Running (kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy)\b")


def audit_component(audit):
    m = re.search(r"\$(\w+bin)\b", audit or "")
    if m:
        return BIN_VARS.get(m.group(1))
    m = re.match(r"(/bin/)?ps -ef \| grep (kube-apiserver|kube-controller-manager|kube-scheduler|kubelet)\b",
                 (audit or "").strip())
    if m:
        return JOURNAL_COMPONENTS[m.group(2)]
    m = JOURNAL.search(audit or "")
    return JOURNAL_COMPONENTS[m.group(1)] if m else None


def is_process_audit(audit):
    a = (audit or "").strip()
    if JOURNAL.search(a) or re.match(r"(/bin/)?ps -ef \| grep kube-apiserver \| grep -v grep", a):
        return True
    # Rancher's RKE2 audits filter the process list for one flag
    # (`ps -fC $apiserverbin | grep -o -- '--enable-admission-plugins=…'`);
    # kubecis reads every instance of the flag, so the filter adds nothing.
    if re.match(r"(/bin/)?ps -fC \$\w+bin\s*\|\s*grep ", a):
        return True
    return bool(re.fullmatch(r"(/bin/)?ps -(ef|fC) ?(\| ?(/bin/)?grep \$\w+bin ?\| ?(/bin/)?grep -v grep|\$\w+bin)",
                             a))


# ---------------------------------------------------------- conversions


def etcd_flag_of_key(path, item_id):
    """`{.client-transport-security.cert-file}` -> --cert-file, the peer section -> --peer-…"""
    m = re.fullmatch(r"\{\.(?:(client|peer)-transport-security\.)?([\w-]+)\}", str(path).strip())
    if not m:
        raise ValueError(f"{item_id}: cannot map etcd config key {path!r}")
    return "--" + ("peer-" if m.group(1) == "peer" else "") + m.group(2)


def convert_flag(check, node_type, report):
    item_id = str(check["id"])
    if not (check.get("audit") or "").strip() and "$etcdconf" in (check.get("audit_config") or ""):
        component = "etcd"
    else:
        component = audit_component(check["audit"])
    tests_in = (check.get("tests") or {}).get("test_items") or []
    bin_op = (check.get("tests") or {}).get("bin_op") or "and"
    title_key = norm_title(check["text"])
    if node_type == "node" and component not in ("kubelet", "proxy"):
        report.note(item_id, f"the reference's audit reads {component}'s arguments for a worker"
                    " node item; judged on the kubelet, whose setting the item is about")
        component = "kubelet"
    tests = []
    uses_config = False
    uses_env = False
    for t in tests_in:
        if component == "etcd" and "path" in t and "flag" not in t:
            # etcd's --config-file: discovery turns its keys into the flags they stand for.
            out = {"flag": etcd_flag_of_key(t["path"], item_id)}
        else:
            flag = str(t["flag"]).strip()
            out = {"flag": flag}
            cmp = t.get("compare") or {}
            if re.fullmatch(r"[a-z][a-z-]+", flag) and str(cmp.get("value")) == flag:
                # `grep -o audit-policy-file` then `eq audit-policy-file`: the flag is set.
                out["flag"] = "--" + flag
                t = {k: v for k, v in t.items() if k != "compare"}
                report.note(item_id, f"the reference greps for {flag!r}: judged as --{flag} set")
        flag = out["flag"]
        if "path" in t and not str(t["path"]).startswith("{"):
            # A file named where a JSONPath belongs (Rancher's k3s 4.2.9): the flag must be set.
            report.note(item_id, f"path {t['path']!r} is not a JSONPath; the flag is judged as set")
        elif "path" in t and component != "etcd":
            out["key"] = jsonpath_key(t["path"], item_id, report)
            uses_config = True
        if "env" in t:
            out["env"] = t["env"]
            uses_env = True
        if t.get("set") is False:
            out["set"] = False
        if "compare" in t:
            out["compare"] = {"op": str(t["compare"]["op"]),
                              "value": as_str(t["compare"]["value"])}
            default = DEFAULTS.get((component, flag))
            if default is not None and t.get("set") is not False:
                out["default"] = default
        tests.append(out)
    tests, bin_op = repair_tests(component, tests, bin_op, item_id, report)
    if component == "etcd" and report.flavor == "generic" and not any("env" in t for t in tests):
        # etcd reads ETCD_<FLAG> when the flag is absent; older kube-bench files forget it.
        for t in tests:
            t["env"] = "ETCD_" + t["flag"].lstrip("-").upper().replace("-", "_")
        uses_env = True
        report.note(item_id, "etcd's environment (ETCD_*) added: etcd reads it when the flag is absent")
    uses_config = any("key" in t for t in tests)
    settings = {"component": component}
    override = SETTINGS.get((component, title_key))
    if override:
        tests = override["tests"]
        bin_op = override.get("combine", "and")
        uses_config = any("key" in t for t in tests)
        uses_env = any("env" in t for t in tests)
        report.note(item_id, "tests written by hand (see SETTINGS in the script)")
    if not tests:
        raise ValueError(f"{item_id}: process audit without tests")
    tests = [finish_test(component, t, item_id) for t in tests]
    for t in tests:
        if not t["flag"].startswith("--"):
            raise ValueError(f"{item_id}: test on {t['flag']!r} is not a flag; add a SETTINGS entry")
    if uses_config:
        if component not in CONFIG_VAR:
            raise ValueError(f"{item_id}: config key on component {component}")
        settings["config"] = CONFIG_VAR[component]
        if component == "proxy" and "proxykubeconfig" in (check.get("audit_config") or ""):
            report.note(item_id, "kube-bench reads metricsBindAddress from the kube-proxy"
                        " kubeconfig; mapped to ${proxy.conf}, the kube-proxy config file")
    if len(tests) > 1:
        settings["combine"] = bin_op
    settings["tests"] = tests
    grants = {"processes": [component]}
    if uses_config:
        # Values of the config file: a content grant (the kubelet's drop-ins too).
        grants["content"] = [settings["config"]]
        if component == "kubelet":
            grants["content"].append("${kubelet.confdir}")
    if uses_env:
        # Only the variables the tests read.
        grants["environment"] = {component: sorted({t["env"] for t in tests if "env" in t})}
    return "flag", settings, grants, flag_remediation(settings, node_type, title_key, report.flavor)


def gate_of(test):
    """(gate, read from the config file too) when a reference test is about a
    feature gate, else None. kube-bench tests a gate as text in the
    --feature-gates list (nothave G=false, eq/has G=true) or names the gate as
    if it were a flag (cis-1.4 and RKE 2.1.13, with the featureGates map of the
    kubelet config as its path)."""
    cmp = test.get("compare") or {}
    if test["flag"] == "--feature-gates" and cmp:
        m = re.fullmatch(r"(\w+)=(true|false)", cmp["value"])
        if m and ((cmp["op"] == "nothave" and m.group(2) == "false")
                  or (cmp["op"] in ("eq", "has") and m.group(2) == "true")):
            return m.group(1), False
    if test["flag"] in GATE_DEFAULTS:
        return test["flag"], "key" in test
    return None


def gate_tests(component, tests, bin_op, item_id, report):
    """A feature-gate item as one test of the gate's effective value. Matching
    text is wrong both ways: =False or =0 turn a gate off as =false does, and a
    list without the gate says nothing about the config file's featureGates."""
    gates = [g for g in (gate_of(t) for t in tests) if g]
    if not gates:
        return None
    names = {g for g, _ in gates}
    if len(names) > 1:
        raise ValueError(f"{item_id}: tests of several feature gates")
    gate = gates[0][0]
    config = any(c for _, c in gates) and component in GATE_CONFIG_KEY
    for t in tests:
        if not gate_of(t) and not (t["flag"] == "--feature-gates" and t.get("set") is False):
            raise ValueError(f"{item_id}: a feature-gate item with another test: {t}")
    report.note(item_id, f"feature gate {gate} judged by its value (command line"
                + (", then featureGates of the config file" if config else "")
                + f", then its default {GATE_DEFAULTS[gate]}), not by matching text")
    return [gate_test(component, gate, config=config)], "and"


def finish_test(component, test, item_id):
    """A test with how Kubernetes reads its value, its fields in order."""
    t = dict(test)
    compared = "compare" in t and t.get("set") is not False
    kind = FLAG_TYPES.get(t["flag"])
    if kind and compared and "gate" not in t:
        t["type"] = kind
    if compared and "key" in t and (component, t["key"]) in CONFIG_ZERO_IS_DEFAULT:
        t["config_zero_is_default"] = True
    if compared and (component, t.get("flag")) in REMOVED_IN:
        t["removed_in"] = REMOVED_IN[(component, t["flag"])]
    unknown = set(t) - set(TEST_FIELDS)
    if unknown:
        raise ValueError(f"{item_id}: unknown test fields {sorted(unknown)}")
    return {k: t[k] for k in TEST_FIELDS if k in t}


def repair_tests(component, tests, bin_op, item_id, report):
    """Tests of older references that cannot be carried over as they are."""
    gated = gate_tests(component, tests, bin_op, item_id, report)
    if gated:
        return gated
    out = []
    for t in tests:
        cmp = t.get("compare")
        # kube-bench's `has` is a substring test, so cis-1.4 lists every strong
        # cipher in one `has` value; element-wise that can never match. What
        # the item asks is that only listed ciphers are used.
        if cmp and cmp["op"] == "has" and "," in cmp["value"]:
            t = dict(t, compare={"op": "valid_elements", "value": cmp["value"]})
            report.note(item_id, "`has` with a list of values read as valid_elements"
                        " (every configured value must be one of them)")
        out.append(t)
    # Rancher's etcd items pass when the flag is merely present OR has the
    # right value, so --client-cert-auth=false would pass. The bare presence
    # test adds nothing the compared test lacks (a bare flag reads as true).
    if bin_op == "or":
        compared = {t["flag"] for t in out if t.get("compare") and t.get("set") is not False}
        kept = [t for t in out
                if not (t.get("set") is not False and "compare" not in t and t["flag"] in compared)]
        if len(kept) < len(out):
            report.note(item_id, "dropped an `or` branch that only asks the flag to be present"
                        " next to one that asks for its value")
            out = kept
    # kube-bench lets an absent flag pass through an `or` branch `set: false`.
    # Where Kubernetes' default is known, the compared test judges absence by
    # that default: the branch is redundant when the default passes, and wrong
    # when it does not (an absent --bind-address listens on 0.0.0.0).
    if bin_op == "or":
        defaulted = {t["flag"] for t in out if "default" in t and t.get("set") is not False}
        kept = [t for t in out if not (t.get("set") is False and t["flag"] in defaulted)]
        if len(kept) < len(out):
            report.note(item_id, "dropped an `or` branch that passes an absent flag: Kubernetes'"
                        " default judges absence")
            out = kept
    return out, bin_op


def audit_paths(audit):
    paths = []
    for var in re.findall(r"\$(\w+)", audit):
        v = FILE_VARS.get(var)
        if v and v not in paths:
            paths.append(v)
    for lit in re.findall(r"/etc/kubernetes/[\w.-]+\.conf\b", audit):
        if lit not in paths:
            paths.append(lit)
    # Literal paths of the RKE reference (its /node prefix is stripped first).
    for lit in re.findall(r"(?:test -e|stat -c \S+)\s+(/etc/kubernetes/ssl/[\w.-]+|/var/lib/etcd"
                          r"|/var/lib/rancher/(?:k3s|rke2)/[\w/.-]+)(?=[\s;']|$)",
                          audit):
        if lit not in paths:
            paths.append(lit)
    return paths


def title_mode_owner(title):
    """Mode and owner an item's title asks for, for references that test neither."""
    m = re.search(r"(?:permissions|mode) (?:are |is )?set to (\d{3})\b", title)
    o = re.search(r"ownership is set to (\w+:\w+)", title)
    return (m.group(1) if m else None), (o.group(1) if o else None)


def convert_file(check, node_type, report):
    item_id = str(check["id"])
    # Rancher's scanner sees the host under /node; the node's own paths are meant.
    audit = re.sub(r"(?<![\w/])/node(?=/|\$)", "", check["audit"])
    tests_in = (check.get("tests") or {}).get("test_items") or []
    # `stat -c %a` (RKE, cis-1.4 globs) prints a bare mode that the tests compare with eq.
    bare_mode = bool(re.search(r"stat -c [^|;]*%a", audit)) and "permissions=%a" not in audit
    mode = owner = None
    eq_modes = []
    for t in tests_in:
        cmp = t.get("compare") or {}
        value = as_str(cmp.get("value", ""))
        if cmp.get("op") == "bitmask":
            mode = value
        elif ":" in str(t.get("flag", "")):
            owner = str(t["flag"])
        elif cmp.get("op") == "eq" and ":" in value:
            owner = value
        elif cmp.get("op") == "eq" and re.fullmatch(r"\w+ \w+", value) and "ls -l" in audit:
            owner = value.replace(" ", ":")            # `ls -laR` prints "root root"
        elif bare_mode and cmp.get("op") == "eq" and re.fullmatch(r"[0-7]{3}", value):
            eq_modes.append(value)
    if eq_modes:
        # RKE accepts a list of exact modes (644, 640, 600, ...): every bit they
        # allow, i.e. "644 or more restrictive" as the title says.
        union = 0
        for v in eq_modes:
            union |= int(v, 8)
        mode = f"{union:03o}"
        if len(eq_modes) > 1:
            report.note(item_id, f"exact modes {', '.join(eq_modes)} read as: no bit beyond {mode}")
    stat_like = ("permissions=%a" in audit or "%U:%G" in audit or bare_mode
                 or "ls -laR" in audit or "check_files_" in audit)
    if not stat_like:
        raise ValueError(f"{item_id}: not a stat audit")
    settings = {}
    grant_paths = []
    exclude = None
    script = re.search(r"check_files_(owner_in_dir|permissions)\.sh\s+'?([^\s']+)'?(?:\s+(\d{3}))?", audit)
    glob = re.search(r"%a\s+(/[\w/.-]+)/(\*[\w.-]+|!\(\*\w+\)\.\w+|\*\w+\.\w+)'?\s*$", audit)
    rancher_dir = re.fullmatch(r"stat -c %U:%G (/var/lib/rancher/(?:k3s|rke2)/server/tls)", audit.strip())
    if "cni-conf-dir" in audit or "cni/files" in audit or "/var/lib/cni/networks" in audit:
        dirs = [{"path": "/etc/cni/net.d", "recursive": True},
                {"path": "/var/lib/cni/networks", "recursive": True}]
        settings["dirs"] = dirs
        grant_paths = [d["path"] for d in dirs]
        report.note(item_id, "kube-bench takes the CNI directory from the kubelet's"
                    " --cni-conf-dir (removed with dockershim); fixed dirs /etc/cni/net.d"
                    " and /var/lib/cni/networks are used instead")
        if not tests_in:
            mode, owner = title_mode_owner(check["text"])
            report.note(item_id, "the reference tests nothing; mode/owner taken from the title")
    elif "DATA_DIR" in audit or "data-dir" in audit:
        settings["paths"] = ["${etcd.datadir}"]
        grant_paths = ["${etcd.datadir}"]
    elif "CAFILE" in audit:
        settings["paths"] = ["${kubelet.cafile}"]
        grant_paths = ["${kubelet.cafile}"]
    elif re.search(r"find (/etc/kubernetes/(pki|ssl)|/var/lib/rancher/(k3s|rke2)/server/tls)/?", audit):
        pki = re.search(r"find (/etc/kubernetes/(?:pki|ssl)|/var/lib/rancher/(?:k3s|rke2)/server/tls)",
                        audit).group(1)
        m = re.search(r"-name '\*([\w.]*\.\w+)'", audit)
        d = {"path": pki}
        if m:
            d["suffix"] = m.group(1)
        else:
            settings["paths"] = [pki]
        d["recursive"] = True
        settings["dirs"] = [d]
        grant_paths = [pki]
    elif rancher_dir:
        # k3s and RKE2: the directory and its certificates and keys (Rancher's
        # audit stats the directory alone; the title asks for its files too). Not
        # below: a CIS-profile RKE2 gives tls/etcd to the etcd user on purpose.
        path = rancher_dir.group(1)
        settings["paths"] = [path]
        settings["dirs"] = [{"path": path, "suffix": suffix, "recursive": False}
                            for suffix in (".crt", ".key")]
        grant_paths = [path]
        report.note(item_id, f"{path}, its .crt and .key files (not its subdirectories)")
    elif re.search(r"ls -laR (/[\w/.-]+)", audit) or (script and script.group(1) == "owner_in_dir"):
        # The directory and everything below it.
        m = re.search(r"ls -laR (/[\w/.-]+)", audit)
        path = (m.group(1) if m else script.group(2)).rstrip("/")
        settings["paths"] = [path]
        settings["dirs"] = [{"path": path, "recursive": True}]
        grant_paths = [path]
        if script:
            # Rancher's script reports whether every file there is root:root.
            owner = "root:root"
    elif script or glob:
        # A glob of files in one directory: `DIR/*.crt`, `DIR/*key.pem`, `DIR/!(*key).pem`.
        if script:
            path, pattern = script.group(2).rsplit("/", 1)
            mode = script.group(3) or "644"          # the script's default mode
        else:
            path, pattern = glob.group(1), glob.group(2)
        m = re.fullmatch(r"!\(\*\w+\)(\.\w+)|\*([\w.-]+)", pattern)
        if not m:
            raise ValueError(f"{item_id}: cannot read file pattern {pattern!r}")
        suffix = m.group(1) or m.group(2)
        if m.group(1):
            exclude = pattern[2:].split(")")[0] + suffix        # !(*key).pem -> *key.pem
            report.note(item_id, f"{pattern} (every {suffix} but {exclude}) judged as every"
                        f" {suffix} file: a key passes whenever it passes its own, stricter item")
        settings["dirs"] = [{"path": path, "suffix": suffix, "recursive": False}]
        grant_paths = [path]
    else:
        paths = audit_paths(audit)
        if not paths:
            raise ValueError(f"{item_id}: no file in audit {audit!r}")
        settings["paths"] = paths
        grant_paths = list(paths)
    if mode is None and owner is None and re.search(r"permissions=%a|%U:%G", audit):
        # Rancher compares some modes for equality (`eq 644`), which a stricter
        # 600 would fail; the title's "or more restrictive" is what is judged.
        mode, owner = title_mode_owner(check["text"])
        if mode or owner:
            report.note(item_id, "the reference compares the exact mode or owner text; judged as"
                        " the title says (" + (f"mode {mode} or stricter" if mode else owner) + ")")
    if mode is None and owner is None:
        raise ValueError(f"{item_id}: stat audit without mode or owner test")
    if mode is not None:
        settings["mode"] = mode
    if owner is not None:
        settings["owner"] = owner
    # Owners and modes only: a metadata grant.
    grants = {"metadata": grant_paths}
    if report.flavor == "rke" and norm_title(check["text"]) in FILE_REMEDIATION_RKE:
        return "file", settings, grants, FILE_REMEDIATION_RKE[norm_title(check["text"])] + "\n"
    return "file", settings, grants, file_remediation(settings, node_type, report.flavor, exclude)


# ---------------------------------------------------------- remediation


def file_remediation(settings, node_type, flavor="generic", exclude=None):
    where = NODE_WORDS[node_type]
    lines = []
    paths = settings.get("paths", [])
    dirs = settings.get("dirs", [])
    many = len(paths) + len(dirs) > 1
    no_file = rancher.NO_FILE.get(flavor, {})
    absent = [no_file[p] for p in paths if p in no_file]
    if absent:
        what = absent[0]
        if flavor != "rke":
            lines.append(f"{rancher.HOW_IT_RUNS[flavor]} and writes no {what.split(' ', 1)[1]},"
                         f" so there is normally nothing to do. Only if such a file exists at"
                         f" {' '.join(paths)}:")
        elif paths == ["/etc/kubernetes/admin.conf"]:
            lines.append("RKE keeps no admin kubeconfig on the nodes: it writes"
                         " kube_config_cluster.yml next to cluster.yml where rke runs, and that"
                         " copy is the one to protect. Only if someone has put"
                         f" {paths[0]} on this node:")
        else:
            lines.append(f"RKE runs the component as a docker container configured by arguments"
                         f" and writes no {what.split(' ', 1)[1]}, so there is normally nothing"
                         f" to do. Only if such a file exists at {' '.join(paths)}:")
    if "mode" in settings:
        mode = settings["mode"]
        cmds = []
        if paths:
            cmds.append(f"chmod {mode} " + " ".join(paths))
        for d in dirs:
            name = f" -name '*{d['suffix']}'" if d.get("suffix") else ""
            if exclude:
                name += f" ! -name '{exclude}'"
            depth = "" if d.get("recursive", True) else " -maxdepth 1"
            cmds.append(f"find {d['path']}{depth} -type f{name} -exec chmod {mode} {{}} +")
        lines.append(f"On {where}, remove every permission beyond {mode}"
                     + (" from these files" if many or dirs else "") + ":")
        lines.extend(cmds)
    if "owner" in settings:
        owner = settings["owner"]
        cmds = []
        if paths:
            cmds.append(f"chown {owner} " + " ".join(p for p in paths))
        for d in dirs:
            if d.get("suffix"):
                depth = "" if d.get("recursive", True) else " -maxdepth 1"
                cmds.append(f"find {d['path']}{depth} -type f -name '*{d['suffix']}'"
                            f" -exec chown {owner} {{}} +")
            elif d['path'] not in paths:
                cmds.append(f"chown -R {owner} {d['path']}")
            else:
                cmds[-1] = f"chown -R {owner} {d['path']}"
        lines.append(f"On {where}, give these files to {owner}:" if many or dirs
                     else f"On {where}, make {owner} the owner:")
        lines.extend(cmds)
    if len(paths) > 1:
        lines.append("Files that do not exist can be skipped.")
    return "\n".join(lines) + "\n"


def default_passes(test):
    """Whether the default value alone satisfies the test's compare."""
    d, cmp = test.get("default"), test.get("compare")
    if d is None or cmp is None:
        return None
    op, v = cmp["op"], cmp["value"]
    if op == "eq":
        return d.lower() == v.lower()
    if op == "noteq":
        return d.lower() != v.lower()
    if op == "has":
        return v in d
    if op == "nothave":
        return v not in d
    return None


def flag_phrase(test, component):
    flag = test["flag"]
    ex = EXAMPLES.get((component, flag))
    if test.get("set") is False:
        return f"remove {flag}"
    cmp = test.get("compare")
    if not cmp:
        return f"set {flag}={ex or '<value>'}"
    op, v = cmp["op"], cmp["value"]
    gate = test.get("gate")
    if gate and op == "eq" and v == "true":
        return (f"leave {gate} out of {flag} or set {gate}=true there, since =false, =False and"
                " =0 all turn the gate off")
    if gate:
        raise ValueError(f"no phrase for gate test {test}")
    if test.get("type") == "duration" and op == "noteq" and v == "0":
        return (f"set {flag} to a non-zero duration" + (f" such as {flag}={ex}" if ex else "")
                + ", since 0, 0s and 0m0s all turn it off")
    if op == "eq":
        return f"set {flag}={v}"
    if op == "noteq":
        if v == "false":
            return f"set {flag}=true"
        if v == "0":
            return f"set {flag} to a non-zero value" + (f", e.g. {flag}={ex}" if ex else "")
        return f"set {flag} to a value other than {v}"
    if op == "gte":
        return f"set {flag} to {v} or more, e.g. {flag}={ex or v}"
    if op == "lte":
        return f"set {flag} to {v} or less, e.g. {flag}={ex or v}"
    if op in ("gt", "lt"):
        side = "above" if op == "gt" else "below"
        return f"set {flag} to a value {side} {v}" + (f", e.g. {flag}={ex}" if ex else "")
    if op == "has":
        return f"add {v} to {flag} (e.g. {flag}=...,{v},...)"
    if op == "nothave":
        if ex:
            return f"set {flag}={ex} (any value without {v} will do)"
        return f"make sure {flag} does not contain {v}"
    if op == "valid_elements":
        return f"set {flag} to a comma-separated selection of: {v.replace(',', ', ')}"
    if op == "regex":
        return f"set {flag} to a value matching {v}"
    raise ValueError(f"no phrase for op {op}")


def key_phrase(test, component):
    key = test["key"]
    ex = EXAMPLES.get((component, test["flag"]))
    if test.get("set") is False:
        return f"remove {key}"
    cmp = test.get("compare")
    if not cmp:
        return f"set {key}: {ex or '<value>'}"
    op, v = cmp["op"], cmp["value"]
    gate = test.get("gate")
    if gate and op == "eq" and v == "true":
        return f"remove {key}.{gate} or set it to true"
    if gate:
        raise ValueError(f"no phrase for gate test {test}")
    if op == "eq":
        return f"set {key}: {v}"
    if op == "noteq":
        if v == "false":
            return f"set {key}: true"
        if v == "0":
            return f"set {key} to a non-zero value" + (f", e.g. {key}: {ex}" if ex else "")
        return f"set {key} to a value other than {v}"
    if op == "gte":
        return f"set {key} to {v} or more"
    if op == "lte":
        return f"set {key} to {v} or less"
    if op in ("gt", "lt"):
        side = "above" if op == "gt" else "below"
        return f"set {key} to a value {side} {v}" + (f", e.g. {key}: {ex}" if ex else "")
    if op == "has":
        return f"make {key} include {v}"
    if op == "nothave":
        if key == "authorization.mode":
            return f"set {key}: Webhook"
        return f"make sure {key} does not contain {v}"
    if op == "valid_elements":
        return f"list in {key} only entries from: {v.replace(',', ', ')}"
    if op == "regex":
        return f"set {key} to a value matching {v}"
    raise ValueError(f"no phrase for op {op}")


def join_phrases(tests, combine, phrase, use_key=False):
    """One sentence fragment for a list of tests."""
    unset = [t for t in tests if t.get("set") is False]
    rest = [t for t in tests if t.get("set") is not False]
    if combine == "or" and unset and rest:
        # "absent is fine, or it must be X": recommend X when the default fails X.
        if any(default_passes(t) is False for t in rest):
            return " and ".join(phrase(t) for t in rest)
        what = unset[0]["key"] if use_key else unset[0]["flag"]
        return f"either leave {what} out or " + " or ".join(phrase(t) for t in rest)
    if len(rest) == 1 and not unset and "gate" not in rest[0] and default_passes(rest[0]) is True:
        # Absence is judged by a default that passes.
        what = rest[0]["key"] if use_key else rest[0]["flag"]
        return f"either leave {what} out or {phrase(rest[0])}"
    sep = " or " if combine == "or" else " and "
    return sep.join(phrase(t) for t in tests)


def example_value(test, component):
    """A value that satisfies the test, for an example (None when no value
    would mean anything without knowing the cluster)."""
    cmp = test.get("compare")
    ex = EXAMPLES.get((component, test["flag"]))
    if test.get("gate") and cmp:
        value = f"{test['gate']}={cmp['value']}"
    elif not cmp:
        value = ex
    elif cmp["op"] == "eq":
        value = cmp["value"]
    elif cmp["op"] == "noteq":
        value = "true" if cmp["value"] == "false" else ex
    elif cmp["op"] in ("gte", "lte"):
        value = ex or cmp["value"]
    elif cmp["op"] in ("gt", "lt", "nothave"):
        value = ex
    elif cmp["op"] == "has":
        value = ex if ex and cmp["value"] in ex.split(",") else None
    else:
        value = None
    return value


def rke_example(test, component):
    """One extra_args line for a test, as cluster.yml writes it."""
    value = example_value(test, component)
    return f'{test["flag"].lstrip("-")}: "{value}"' if value else None


def shown_test(tests):
    """The test an example shows: one whose value matters, else the first set one."""
    return next((t for t in tests if t.get("set") is not False and t.get("compare")
                 and default_passes(t) is not True), None) \
        or next((t for t in tests if t.get("set") is not False), tests[0])


def config_arg_remediation(settings, flavor):
    """k3s and RKE2: the component's `-arg` list of config.yaml."""
    component = settings["component"]
    tests = settings["tests"]
    combine = settings.get("combine", "and")
    if all(t.get("set") is False for t in tests):
        names = " and ".join(sorted({t["flag"] for t in tests}))
        return rancher.arg_removal(flavor, component, names)
    fphrase = lambda t: flag_phrase(t, component)  # noqa: E731
    shown = shown_test(tests)
    value = example_value(shown, component)
    example = f'{shown["flag"].lstrip("-")}={value}' if value else None
    replaces = any((t.get("compare") or {}).get("op") == "has" for t in tests)
    return rancher.arg_remediation(flavor, component, join_phrases(tests, combine, fphrase),
                                   example, replaces)


def rke_flag_remediation(settings, title_key):
    component = settings["component"]
    tests = settings["tests"]
    combine = settings.get("combine", "and")
    binary = COMPONENT[component][0]
    svc = RKE_SERVICE[component]
    for key in (f"{title_key}#{component}", title_key):
        if key in REMEDIATION_RKE:
            return REMEDIATION_RKE[key].rstrip("\n") + "\n"
    apply = RKE_APPLY.format(binary=binary)
    if all(t.get("set") is False for t in tests):
        names = " and ".join(sorted({t["flag"].lstrip("-") for t in tests}))
        return (f"RKE does not pass {names} to {binary} itself: remove it from"
                f" services.{svc}.extra_args in cluster.yml. {apply}\n")
    fphrase = lambda t: flag_phrase(t, component)  # noqa: E731
    example = rke_example(shown_test(tests), component)
    text = (f"In cluster.yml, under services.{svc}.extra_args, {join_phrases(tests, combine, fphrase)}"
            f" (extra_args names a flag without its dashes"
            + (f", e.g. {example})." if example else ")."))
    has = [t for t in tests if (t.get("compare") or {}).get("op") == "has"]
    if has and has[0]["flag"] == "--enable-admission-plugins":
        text += (" A value given in extra_args replaces RKE's own, so list the plugins RKE"
                 " enables as well as the new one.")
    elif has:
        text += " A value given in extra_args replaces RKE's own, so keep the values RKE sets."
    return text + " " + apply + "\n"


def flag_remediation(settings, node_type, title_key, flavor="generic"):
    component = settings["component"]
    if flavor == "rke":
        return rke_flag_remediation(settings, title_key)
    if flavor in ("k3s", "rke2"):
        return config_arg_remediation(settings, flavor)
    if (component, title_key) in REMEDIATION_BY_COMPONENT:
        return REMEDIATION_BY_COMPONENT[(component, title_key)].rstrip("\n") + "\n"
    if title_key in REMEDIATION:
        return REMEDIATION[title_key].rstrip("\n") + "\n"
    tests = settings["tests"]
    combine = settings.get("combine", "and")
    binary, where_file = COMPONENT[component]
    node = NODE_WORDS[node_type]
    fphrase = lambda t: flag_phrase(t, component)  # noqa: E731
    kphrase = lambda t: key_phrase(t, component)  # noqa: E731
    if component in ("kubelet", "proxy"):
        restart = ("systemctl daemon-reload && systemctl restart kubelet" if component == "kubelet"
                   else "restart kube-proxy")
        key_tests = [t for t in tests if "key" in t]
        if key_tests and len(key_tests) == len(tests):
            text = (f"In the {binary} config file {settings['config']}, "
                    f"{join_phrases(tests, combine, kphrase, use_key=True)}. "
                    f"If the {binary} is configured with flags instead, "
                    f"{join_phrases(tests, combine, fphrase)} in {where_file}. ")
        else:
            text = (f"Edit {where_file} on {node} and, in the {binary} arguments, "
                    f"{join_phrases(tests, combine, fphrase)}. ")
        if component == "kubelet":
            text += f"Then restart the kubelet:\n{restart}"
        else:
            text += "Then restart kube-proxy."
        return text + "\n"
    text = (f"Edit {where_file} on {node} and, in the {binary} command, "
            f"{join_phrases(tests, combine, fphrase)}.")
    envs = [t for t in tests if "env" in t and t.get("set") is not False]
    if envs:
        names = ", ".join(t["env"] for t in envs)
        text += f" When {binary} is configured through its environment, set {names} instead."
    if component in ("apiserver", "controllermanager", "scheduler"):
        text += f" The kubelet restarts {binary} once the manifest is saved."
    return text + "\n"



# ---------------------------------------------------------- conversion


def convert_check(check, node_type, report):
    item = _convert_check(check, node_type, report)
    if report.flavor == "generic" and not report.provider and not report.alternative:
        # The same advice for nodes whose distribution keeps the setting elsewhere.
        other = {}
        for flavor in ("k3s", "rke2", "rke"):
            alt = Report(flavor=flavor)
            alt.alternative = True
            text = _convert_check(check, node_type, alt)["remediation"]
            if text != item["remediation"]:
                other[flavor] = text
        if other:
            item["remediation_for"] = other
    return item


def _convert_check(check, node_type, report):
    item_id = str(check["id"])
    title, automated, title_scored = strip_suffix(check["text"])
    kind = check.get("type")
    if automated is None:
        # Benchmarks before v1.5 have no (Automated)/(Manual) suffix: only
        # kube-bench's `type: manual` marks an item that needs a person.
        automated = kind != "manual"
    if title_scored is None:
        scored = bool(check.get("scored"))
    else:
        # The (Scored)/(Not Scored) of the title is the benchmark's own word;
        # kube-bench's `scored:` disagrees with it on a few items.
        scored = title_scored
        if bool(check.get("scored")) != scored:
            report.note(item_id, f"title says {'(Scored)' if scored else '(Not Scored)'} but"
                        f" kube-bench has scored: {str(bool(check.get('scored'))).lower()};"
                        " the title wins")
    item = {
        "id": item_id,
        "title": title,
        "automated": automated,
        "scored": scored,
    }
    key = norm_title(check["text"])
    audit = check.get("audit") or ""
    manual_reason = None
    if key in ENCRYPTION:
        remediation = MANUAL[key][1]
        if report.flavor == "rke" and key in MANUAL_RKE:
            remediation = MANUAL_RKE[key][1]
        if report.distribution or report.alternative:
            remediation = rancher.manual_remediation(key, report.flavor, remediation)
        item["check"] = "encryption"
        item["settings"] = {"providers": ENCRYPTION[key]}
        item["grants"] = {"processes": ["apiserver"], "content": ["${apiserver.encryptionconfig}"]}
        item["remediation"] = wrap(remediation)
        report.note(item_id, "judged from the file the live --encryption-provider-config names:"
                    " the first provider for secrets must be " + ", ".join(ENCRYPTION[key]))
        return item
    if report.flavor == "rke" and key == REQUEST_TIMEOUT:
        item["check"] = "flag"
        item["settings"] = {"component": "apiserver", "tests": [dict(REQUEST_TIMEOUT_TEST)]}
        item["grants"] = {"processes": ["apiserver"]}
        item["remediation"] = wrap(MANUAL_RKE[key][1])
        report.note(item_id, "Rancher's test passes set and unset alike; judged as a positive"
                    " duration instead (absent: the 60s default)")
        return item
    etcd_config = not audit.strip() and "$etcdconf" in (check.get("audit_config") or "")
    # A distribution benchmark's skips are its profiles' (see rancher.py): judge the item.
    skipped = kind == "skip" and not report.distribution
    if node_type == "policies" or skipped or (not audit.strip() and not etcd_config) \
            or "kubectl" in audit:
        manual_reason = "manual"
    elif key in MANUAL:
        manual_reason = "table"
    elif kind == "manual" and not (check.get("tests") or {}).get("test_items") \
            and "cni/files" not in audit:
        # `type: manual` with nothing to test: only a person can judge it.
        manual_reason = "manual"
    if manual_reason is None:
        try:
            if is_process_audit(audit) or etcd_config:
                conv = convert_flag(check, node_type, report)
            else:
                conv = convert_file(check, node_type, report)
        except ValueError as e:
            report.note(item_id, f"not convertible ({e}); made manual")
            manual_reason = "fallback"
        else:
            kind_, settings, grants, remediation = conv
            item["check"] = kind_
            item["settings"] = settings
            item["grants"] = grants
            item["remediation"] = wrap(remediation)
            return item
    reason, remediation = MANUAL.get(key, (None, None))
    if report.flavor == "rke" and key in MANUAL_RKE:
        reason, remediation = MANUAL_RKE[key]
    if reason is None and report.provider:
        name, cli = report.provider
        reason = (f"Needs {name}'s API or a person: a setting of the managed cluster or its"
                  " cloud account, which nothing on the node shows.")
        remediation = (f"Review it in the {name} console or with {cli}, as the benchmark's"
                       " recommendation for this item describes, and change the cluster's"
                       " configuration there.")
    elif reason is None:
        reason = ("Needs the Kubernetes API or a person; nothing on the node shows"
                  " whether this holds.")
        remediation = "Follow the benchmark's guidance for this item."
        report.note(item_id, "no manual reason in the MANUAL table; generic text used")
    if report.distribution or report.alternative:
        remediation = rancher.manual_remediation(key, report.flavor, remediation)
    item["manual"] = reason
    item["remediation"] = wrap(remediation)
    report.manual.append((item_id, title, reason))
    return item


def check_fingerprint(check):
    """What makes two reference checks the same item: title, audit and tests."""
    return (norm_title(check["text"]), re.sub(r"\s+", " ", str(check.get("audit") or "")).strip(),
            json.dumps(check.get("tests"), sort_keys=True, default=str))


def reference_items(ref):
    """The reference's sections with item ids that repeat an earlier section's
    dropped: a bundle holds every id once (the loader refuses duplicates).
    Rancher's rke-cis-1.4 lists 1.4.19-1.4.21 (PKI files) in master and again,
    unchanged, in etcd; they are kept where they first appear. A repeated id
    whose check differs is an error. Returns ([(name, data, [(group, [checks])])],
    [(id, dropped from section, kept in section)])."""
    first = {}
    out, dropped = [], []
    for name, data in ref:
        groups = []
        for g in data["groups"]:
            checks = []
            for c in g.get("checks") or []:
                cid = str(c["id"])
                if cid in first:
                    kept_in, fp = first[cid]
                    # Same title, another audit of the same files (Rancher's rke-cis-1.24
                    # 1.1.21 in master and etcd): still one item.
                    if fp[0] != check_fingerprint(c)[0]:
                        sys.exit(f"{name}: item {cid} repeats an item of {kept_in} with a"
                                 " different check; a bundle cannot hold both")
                    dropped.append((cid, name, kept_in))
                    continue
                first[cid] = (name, check_fingerprint(c))
                checks.append(c)
            groups.append((g, checks))
        out.append((name, data, groups))
    return out, dropped


def load_reference(ref_dir):
    out = []
    for name in SECTIONS:
        path = os.path.join(ref_dir, name + ".yaml")
        if os.path.exists(path):
            with open(path) as f:
                data = rancher.fix_ids(ref_dir, yaml.safe_load(f))
            # Managed-cloud benchmarks keep an empty master section: the provider runs it.
            if data.get("groups"):
                out.append((name, data))
    if not out:
        sys.exit(f"no section files in {ref_dir}")
    return out


def node_type_of(name, data):
    """kubecis node type of a reference section: the managed-cloud benchmarks'
    "managedservices" (the provider's settings, judged through its API) is
    cluster-wide, like policies."""
    node_type = data.get("type") or name
    return "policies" if node_type == "managedservices" else node_type


def convert_section(name, data, groups, report):
    node_type = node_type_of(name, data)
    section = {
        "id": str(data["id"]),
        "title": re.sub(r"\s+", " ", data["text"]).strip(),
        "node_type": node_type,
        "groups": [],
    }
    for g, checks in groups:
        group = {"id": str(g["id"]), "title": re.sub(r"\s+", " ", g["text"]).strip(), "items": []}
        for c in checks:
            group["items"].append(convert_check(c, node_type, report))
        section["groups"].append(group)
    return section


# ---------------------------------------------------------- YAML output

FORCE_QUOTE = {"id", "value", "default", "mode", "owner", "suffix", "config"}


def _plain_ok(s, flow):
    if not s or s != s.strip() or "\n" in s or "\t" in s:
        return False
    if flow and not re.fullmatch(r"[A-Za-z0-9_./-]+", s):
        return False
    if s[0] in "?:,[]{}#&*!|>'\"%@`" or s.startswith("- "):
        return False
    if ": " in s or " #" in s or s.endswith(":"):
        return False
    try:
        doc = f"[{s}]" if flow else f"k: {s}"
        loaded = yaml.safe_load(doc)
        return loaded == ([s] if flow else {"k": s})
    except yaml.YAMLError:
        return False


def scalar(v, key=None, flow=False):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    if key not in FORCE_QUOTE and _plain_ok(s, flow):
        return s
    return json.dumps(s, ensure_ascii=False)


def is_scalar(v):
    return isinstance(v, (str, int, bool))


def flow(v, key=None):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {flow(x, k)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x, key) for x in v) + "]"
    return scalar(v, key, flow=True)


def flowable(v, key=None):
    """Written on one line: scalar lists, scalar maps, and `dirs` entries."""
    if isinstance(v, dict):
        return all(is_scalar(x) for x in v.values())
    if isinstance(v, list):
        return all(is_scalar(x) or (key == "dirs" and isinstance(x, dict) and flowable(x))
                   for x in v)
    return False


def wrap(text, width=100):
    """Wrap long prose lines of a literal block; short lines (commands) stay as they are."""
    out = []
    for line in text.rstrip("\n").split("\n"):
        if len(line) <= width:
            out.append(line)
        else:
            # Keep "key: value" together (textwrap does not split at U+00A0).
            glued = line.replace(": ", ":\u00a0")
            out.extend(w.replace("\u00a0", " ") for w in textwrap.wrap(
                glued, width, break_long_words=False, break_on_hyphens=False))
    return "\n".join(out) + "\n"


def emit_map(d, indent, lines, first_prefix=None):
    pad = " " * indent
    for i, (k, v) in enumerate(d.items()):
        p = first_prefix if (i == 0 and first_prefix is not None) else pad
        if re.fullmatch(r"[\d.]+", k):
            k = f'"{k}"'  # an item id as a key (profiles) stays a string
        if isinstance(v, str) and "\n" in v:
            lines.append(f"{p}{k}: |")
            for ln in v.rstrip("\n").split("\n"):
                lines.append(f"{pad}  {ln}".rstrip())
        elif is_scalar(v):
            lines.append(f"{p}{k}: {scalar(v, k)}")
        elif (isinstance(v, list) and flowable(v, k)) or (isinstance(v, dict) and flowable(v) and k == "compare"):
            text = f"{p}{k}: {flow(v, k)}"
            lines.append(text)
        elif isinstance(v, dict):
            lines.append(f"{p}{k}:")
            emit_map(v, indent + 2, lines)
        elif isinstance(v, list):
            lines.append(f"{p}{k}:")
            for x in v:
                if isinstance(x, dict):
                    emit_map(x, indent + 4, lines, first_prefix=f"{pad}  - ")
                else:
                    lines.append(f"{pad}  - {scalar(x)}")
        else:
            raise TypeError(f"cannot emit {k}: {v!r}")


def dump(doc, header=None):
    lines = []
    if header:
        lines.extend("# " + h if h else "#" for h in header)
    emit_map(doc, 0, lines)
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != doc:
        raise AssertionError("emitted YAML does not read back as written")
    return text


# ---------------------------------------------------------- self-check


def readme_variables(bundle_root):
    readme = os.path.join(bundle_root, "README.md")
    with open(readme) as f:
        text = f.read()
    # Only the variables table: rows start with "| `${".
    found = set()
    for line in text.splitlines():
        if line.startswith("| `${"):
            found.update(re.findall(r"\$\{[a-z]+\.[a-z]+\}", line))
    if not found:
        sys.exit(f"no variables found in {readme}")
    return found


def walk_strings(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from walk_strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk_strings(x)
    elif isinstance(v, str):
        yield v


def covered(path, grants):
    return any(path == g or path.startswith(g.rstrip("/") + "/") for g in grants)


def verify(ref_dir, out_dir, bundle_root):
    """Assert that out_dir holds every reference item, in order, and only known variables."""
    allowed = readme_variables(bundle_root)
    errors = []
    with open(os.path.join(out_dir, "bundle.yaml")) as f:
        bundle = yaml.safe_load(f)
    ref, dropped = reference_items(load_reference(ref_dir))
    expected_files = [name + ".yaml" for name, _, _ in ref]
    if bundle.get("sections") != expected_files:
        errors.append(f"bundle.yaml sections {bundle.get('sections')} != {expected_files}")
    counts = []
    seen = set()
    flavor = bundle["benchmark"].split("-cis-")[0] if "default_profile" in bundle else None
    for name, data, groups in ref:
        with open(os.path.join(out_dir, name + ".yaml")) as f:
            out = yaml.safe_load(f)
        if out["id"] != str(data["id"]) or out["node_type"] != node_type_of(name, data):
            errors.append(f"{name}: section id/node_type differ")
        # Every reference group and item, in order; an item id that repeats an
        # earlier section's (see reference_items) is held once, where it first appears.
        ref_groups = [(str(g["id"]), re.sub(r"\s+", " ", g["text"]).strip(),
                       [str(c["id"]) for c in checks]) for g, checks in groups]
        for g in data["groups"]:
            for c in g.get("checks") or []:
                if str(c["id"]) not in {i for _, _, ids in ref_groups for i in ids} \
                        and str(c["id"]) not in seen:
                    errors.append(f"{name}: item {c['id']} of the reference is missing")
        for _, _, ids in ref_groups:
            for i in ids:
                if i in seen:
                    errors.append(f"{name}: item {i} appears twice in the bundle")
                seen.add(i)
        out_groups = [(g["id"], g["title"], [i["id"] for i in g["items"]]) for g in out["groups"]]
        if ref_groups != out_groups:
            errors.append(f"{name}: groups/items differ from the reference")
        n_ref = sum(len(g.get("checks") or []) for g in data["groups"])
        n_out = sum(len(g[2]) for g in out_groups)
        n_dup = sum(1 for _, sec, _ in dropped if sec == name)
        if n_ref != n_out + n_dup:
            errors.append(f"{name}: {n_out} items (+{n_dup} held in an earlier section),"
                          f" reference has {n_ref}")
        n_check = n_manual = 0
        for g in out["groups"]:
            for it in g["items"]:
                for k in ("id", "title", "automated", "scored", "remediation"):
                    if k not in it:
                        errors.append(f"{it.get('id')}: missing {k}")
                if not isinstance(it["id"], str):
                    errors.append(f"{it['id']}: id is not a string")
                for s in walk_strings(it):
                    for var in re.findall(r"\$\{[^}]*\}", s):
                        if var not in allowed:
                            errors.append(f"{it['id']}: unknown variable {var}")
                    if re.search(r"\$[a-z]+(conf|bin|svc|kubeconfig|cafile|datadir)\b", s):
                        errors.append(f"{it['id']}: kube-bench variable left in {s!r}")
                errors.extend(verify_distribution_words(it, flavor))
                for other, text in (it.get("remediation_for") or {}).items():
                    errors.extend(verify_distribution_words(dict(it, remediation=text), other))
                if "check" in it:
                    n_check += 1
                    if "manual" in it:
                        errors.append(f"{it['id']}: both check and manual")
                    errors.extend(verify_grants(it))
                else:
                    n_manual += 1
                    if not it.get("manual"):
                        errors.append(f"{it['id']}: no check and no manual reason")
        counts.append((name, n_ref, n_out, n_check, n_manual))
    return counts, errors, dropped


# What a remediation of a distribution bundle must not tell its users: to edit
# files their distribution does not use (kubeadm's manifests, a kubelet unit).
KUBEADM_WORDS = ["${apiserver.conf}", "${controllermanager.conf}", "${scheduler.conf}",
                 "${etcd.conf}", "${kubelet.svc}", "${proxy.svc}", "/etc/kubernetes/manifests",
                 "daemon-reload", "kubeadm"]


def verify_distribution_words(it, flavor):
    if flavor is None:
        return []
    text = it["remediation"]
    if it.get("check") == "file" and text.startswith(rancher.HOW_IT_RUNS.get(flavor, "\0")):
        return []  # "the distribution writes no such file; only if one exists: chmod …"
    if flavor == "rke2" and it.get("check") == "file":
        return []  # RKE2 does write the control plane's pod manifests
    return [f"{it['id']}: remediation for {flavor} mentions {w}" for w in KUBEADM_WORDS if w in text]


def verify_grants(it):
    errs = []
    s, g = it["settings"], it["grants"]
    iid = it["id"]
    if it["check"] == "flag":
        comp = s.get("component")
        if comp not in BIN_VARS.values():
            errs.append(f"{iid}: unknown component {comp}")
        if comp not in g.get("processes", []):
            errs.append(f"{iid}: processes grant lacks {comp}")
        if "config" in s and not covered(s["config"], g.get("content", [])):
            errs.append(f"{iid}: config {s['config']} not granted")
        for t in s["tests"]:
            if "env" in t and t["env"] not in g.get("environment", {}).get(comp, []):
                errs.append(f"{iid}: {t['env']} read without an environment grant")
        if any("key" in t for t in s["tests"]) and "config" not in s:
            errs.append(f"{iid}: key tests without config")
        if len(s["tests"]) > 1 and s.get("combine") not in ("and", "or"):
            errs.append(f"{iid}: combine missing")
        ops = {"eq", "noteq", "gt", "gte", "lt", "lte", "has", "nothave", "regex",
               "valid_elements", "bitmask"}
        for t in s["tests"]:
            c = t.get("compare")
            if c and (c.get("op") not in ops or not isinstance(c.get("value"), str)):
                errs.append(f"{iid}: bad compare {c}")
            if "default" in t and not isinstance(t["default"], str):
                errs.append(f"{iid}: default is not a string")
            if set(t) - set(TEST_FIELDS):
                errs.append(f"{iid}: unknown test fields {sorted(set(t) - set(TEST_FIELDS))}")
            kind = t.get("type", "text")
            if kind not in ("text", "bool", "int", "duration"):
                errs.append(f"{iid}: unknown type {kind}")
            # What Kubernetes parses must not be compared as text.
            if c and "gate" not in t and kind == "text":
                if c["op"] in ("gt", "gte", "lt", "lte") or re.fullmatch(r"-?[0-9]+", c["value"]):
                    errs.append(f"{iid}: {t['flag']} compared as a number without a type")
                if c["value"].lower() in ("true", "false"):
                    errs.append(f"{iid}: {t['flag']} compared as a boolean without a type")
                if re.search(r"\w=(true|false)\b", c["value"], re.I):
                    errs.append(f"{iid}: feature gate matched as text: {c['value']}")
            if "gate" in t:
                if "env" in t or "type" in t or not c:
                    errs.append(f"{iid}: gate test with env or type, or without compare")
                if not (t.get("flag") == "--feature-gates" or "key" in t):
                    errs.append(f"{iid}: gate test reads neither --feature-gates nor a key")
            if "stage" in t and ("gate" not in t or t["stage"] not in ("alpha", "beta", "ga")):
                errs.append(f"{iid}: bad stage {t['stage']}")
            if t.get("config_zero_is_default") and "key" not in t:
                errs.append(f"{iid}: config_zero_is_default without key")
    elif it["check"] == "file":
        targets = list(s.get("paths", [])) + [d["path"] for d in s.get("dirs", [])]
        if not targets:
            errs.append(f"{iid}: file check without paths or dirs")
        for p in targets:
            if not covered(p, g.get("metadata", [])):
                errs.append(f"{iid}: {p} not granted")
        if "mode" not in s and "owner" not in s:
            errs.append(f"{iid}: file check without mode or owner")
        if "mode" in s and not re.fullmatch(r"[0-7]{3,4}", s["mode"]):
            errs.append(f"{iid}: bad mode {s['mode']}")
    elif it["check"] == "encryption":
        if not s.get("providers") or set(s) != {"providers"}:
            errs.append(f"{iid}: encryption check without providers")
    else:
        errs.append(f"{iid}: unknown check {it['check']}")
    return errs


# ---------------------------------------------------------- main


def write_profiles(name, flavor, variants, out_dir, header):
    """One profile file per Rancher variant: the items it skips, with reasons."""
    files = []
    for variant, ref_dir in variants.items():
        ref, _ = reference_items(load_reference(ref_dir))
        skipped, titles = [], {}
        for _, _, groups in ref:
            for _, checks in groups:
                for c in checks:
                    titles[str(c["id"])] = norm_title(c["text"])
                    if c.get("type") == "skip":
                        skipped.append(str(c["id"]))
        doc = rancher.profile(name, flavor, variant, skipped, titles)
        fname = f"profile-{variant}.yaml"
        with open(os.path.join(out_dir, fname), "w") as f:
            f.write(dump(doc, header))
        files.append(fname)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reference", help="kube-bench version directory, e.g. .../kube-bench/cis-1.8")
    ap.add_argument("output", help="bundle directory to write, e.g. profiles/cis-1.8")
    ap.add_argument("--benchmark", help="bundle name (default: the reference directory's name)")
    ap.add_argument("--kubernetes", help="comma-separated Kubernetes minor versions")
    ap.add_argument("--title", help="bundle title")
    ap.add_argument("--verify-only", action="store_true", help="only check an existing bundle")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the counts")
    args = ap.parse_args()

    ref_dir = os.path.abspath(args.reference)
    out_dir = os.path.abspath(args.output)
    # profiles/ (holds README.md with the variable table) is this script's parent's parent.
    bundle_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    name = args.benchmark or os.path.basename(ref_dir.rstrip("/"))
    # A Rancher distribution benchmark: one bundle, judged from the hardened
    # (or only) variant, with one generated profile per variant.
    dist = rancher.family(ref_dir)
    variants = {}
    if dist:
        name, flavor, variants, default_variant = dist
        name = args.benchmark or name
        ref_dir = variants.get("hardened") or variants["profile"]

    if not args.verify_only:
        if args.kubernetes:
            kube = [v.strip() for v in args.kubernetes.split(",") if v.strip()]
        elif name in KUBERNETES:
            kube = KUBERNETES[name]
        elif dist:
            kube = rancher.kubernetes(name, flavor)
        else:
            sys.exit(f"unknown benchmark {name}: pass --kubernetes")
        m = re.fullmatch(r"cis-(\d+)\.(\d+)", name)
        title = args.title or TITLES.get(name) or (rancher.title(name, flavor) if dist else None) or (
            f"CIS Kubernetes Benchmark v{m.group(1)}.{m.group(2)}.0" if m else name)
        if dist:
            report = Report(flavor=flavor, distribution=True)
        else:
            report = Report(flavor="rke" if name.startswith("rke-") else "generic")
            report.provider = PROVIDERS.get(name.split("-")[0])
        ref, dropped = reference_items(load_reference(ref_dir))
        for iid, sec, kept in dropped:
            report.note(iid, f"repeated unchanged in the reference's {sec} section; held once,"
                        f" in {kept} (a bundle holds each id once)")
        source, owner = SOURCES.get(os.path.basename(os.path.dirname(ref_dir)),
                                    ("kube-bench", "kube-bench"))
        os.makedirs(out_dir, exist_ok=True)
        header = [f"Generated by profiles/tools/import_kube_bench.py from {source} {name}.",
                  f"Facts (ids, titles, flags, files, modes) come from {owner} (Apache-2.0);",
                  "remediation and reasons are kubecis' own. Regenerate instead of editing."]
        files = []
        for sec_name, data, groups in ref:
            section = convert_section(sec_name, data, groups, report)
            with open(os.path.join(out_dir, sec_name + ".yaml"), "w") as f:
                f.write(dump(section, header))
            files.append(sec_name + ".yaml")
        bundle = {"benchmark": name, "title": title, "kubernetes": kube, "sections": files}
        if dist:
            bundle["profiles"] = write_profiles(name, flavor, variants, out_dir, header)
            bundle["default_profile"] = f"{name}-{default_variant}"
        else:
            # Profiles are written by hand beside the generated files; list the ones present.
            profiles = sorted(f for f in os.listdir(out_dir)
                              if f.startswith("profile-") and f.endswith(".yaml"))
            if profiles:
                bundle["profiles"] = profiles
        with open(os.path.join(out_dir, "bundle.yaml"), "w") as f:
            f.write(dump(bundle, header[:1]))
        if not args.quiet:
            print(f"# {name}: items made manual without a check")
            for iid, t, reason in report.manual:
                print(f"  {iid}  {t}")
            print(f"# {name}: notes")
            for iid, text in report.notes:
                print(f"  {iid}  {text}")

    counts, errors, dropped = verify(ref_dir, out_dir, bundle_root)
    print(f"# {name}: section  reference  bundle  with-check  manual")
    for sec, n_ref, n_out, n_check, n_manual in counts:
        print(f"  {sec:<13} {n_ref:>9} {n_out:>7} {n_check:>11} {n_manual:>7}")
    tot = [sum(c[i] for c in counts) for i in range(1, 5)]
    print(f"  {'total':<13} {tot[0]:>9} {tot[1]:>7} {tot[2]:>11} {tot[3]:>7}")
    for iid, sec, kept in dropped:
        print(f"  ({iid} of {sec} is held once, in {kept})")
    if errors:
        for e in errors:
            print("ERROR:", e, file=sys.stderr)
        sys.exit(1)
    print(f"# {name}: self-check passed")


if __name__ == "__main__":
    main()
