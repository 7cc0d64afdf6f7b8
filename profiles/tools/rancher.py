"""Rancher's distribution benchmarks (rancher-security-scan `k3s-cis-*`,
`rke2-cis-*`, `rke-cis-1.{7,8,23,24}-*`) as kubecis bundles with profiles.

Rancher ships one benchmark directory per variant: `X-hardened` and
`X-permissive` (older versions), or a single `X` (newer ones). Their checks
are the same items; what differs is which items each variant skips (`type:
skip`). kubecis turns a family into one bundle `X`, judged from the hardened
(or only) directory, and one profile per variant, whose `skip` and
`not_applicable` lists are exactly the items that variant skips, each with a
reason written here (REASONS), so Rancher's choices are data a user can read.

Where the distribution keeps its settings also differs: k3s and RKE2 take
component arguments from `/etc/rancher/<d>/config.yaml` (`kube-apiserver-arg`,
…), RKE from `cluster.yml`. The remediation of these bundles says so (see
`arg_remediation`), never "edit the pod manifest".
"""

import os
import re

FLAVORS = ("k3s", "rke2", "rke")

# Kubernetes minor versions each distribution benchmark is picked for by
# `--benchmark auto`. Rancher's ClusterScanBenchmarks give 1.8 → 1.26 and
# 1.9 → 1.27 and later; the newer ones follow CIS's own mapping.
KUBERNETES = {
    "1.23": ["1.22", "1.23"],
    "1.24": ["1.24"],
    "1.7": ["1.25"],
    "1.8": ["1.26"],
    "1.9": ["1.27"],
    "1.10": ["1.28"],
    "1.11": ["1.29", "1.30", "1.31"],
    "1.12": ["1.32", "1.33", "1.34"],
}
# RKE (v1) has no benchmark after rke-cis-1.8; Rancher uses it from 1.26 on.
RKE_KUBERNETES = dict(KUBERNETES, **{"1.8": ["1.26", "1.27", "1.28", "1.29", "1.30", "1.31", "1.32"]})

TITLES = {
    "k3s": "Rancher K3s CIS Kubernetes Benchmark v{v}",
    "rke2": "Rancher RKE2 CIS Kubernetes Benchmark v{v}",
    "rke": "Rancher RKE CIS Kubernetes Benchmark v{v}",
}

PROFILE_TITLES = {
    "hardened": "{d} cluster set up with Rancher's hardening guide",
    "permissive": "{d} cluster as installed by default",
    "profile": "{d} cluster (Rancher's one profile for this version)",
}

NAMES = {"k3s": "k3s", "rke2": "RKE2", "rke": "RKE"}


def family(ref_dir):
    """(benchmark, flavor, {variant: directory}, default variant) for a Rancher
    distribution directory, or None for any other reference directory."""
    base = os.path.basename(ref_dir.rstrip("/"))
    m = re.fullmatch(r"(k3s|rke2|rke)-cis-(\d+\.\d+)(?:-(hardened|permissive))?", base)
    if not m or base == "rke-cis-1.4":
        return None
    flavor, version, variant = m.group(1), m.group(2), m.group(3)
    name = f"{flavor}-cis-{version}"
    parent = os.path.dirname(ref_dir.rstrip("/"))
    if variant:
        dirs = {v: os.path.join(parent, f"{name}-{v}") for v in ("hardened", "permissive")}
        missing = [d for d in dirs.values() if not os.path.isdir(d)]
        if missing:
            raise SystemExit(f"{name}: needs both variants; missing {', '.join(missing)}")
        # Rancher's default scan profile for these distributions is the permissive one.
        return name, flavor, dirs, "permissive"
    return name, flavor, {"profile": ref_dir}, "profile"


def kubernetes(name, flavor):
    version = name.split("-cis-")[1]
    table = RKE_KUBERNETES if flavor == "rke" else KUBERNETES
    if version not in table:
        raise SystemExit(f"{name}: no Kubernetes versions known; pass --kubernetes")
    return table[version]


def title(name, flavor):
    return TITLES[flavor].format(v=name.split("-cis-")[1])


# Why a variant skips an item, by (distribution, pattern over the item's title).
# "na": the item asks about something the distribution does not have;
# "skip": it could apply, and Rancher's profile leaves it out, for this reason.
# First match wins; every skipped item must match one (the importer stops otherwise).
REASONS = [
    # --- what the distribution does not have
    (("k3s",), r"^ensure that the (api server|controller manager|scheduler|etcd) pod specification file",
     "na", "k3s runs kube-apiserver, the controller manager, the scheduler and etcd inside its own"
     " process: there is no pod manifest for them."),
    (("rke",), r"^ensure that the (api server|controller manager|scheduler|etcd) pod specification file",
     "na", "RKE runs each control-plane component as a docker container configured by arguments:"
     " there is no pod manifest for it."),
    (("k3s",), r"kubelet service file",
     "na", "k3s runs the kubelet inside its own process: there is no kubelet service file."),
    (("rke2",), r"kubelet service file",
     "na", "RKE2 starts the kubelet itself, with arguments it computes: there is no kubelet service"
     " file."),
    (("rke",), r"kubelet service file",
     "na", "RKE runs the kubelet as a docker container configured by arguments: there is no kubelet"
     " service file."),
    (("k3s", "rke2", "rke"), r"kubelet (--config|config\.yaml) configuration file",
     "na", "{d} gives the kubelet its settings as arguments: Rancher's benchmark has no kubelet"
     " configuration file to judge."),
    (("k3s",), r"etcd data directory ownership",
     "na", "k3s runs etcd inside its own process as root and creates no etcd user; its data"
     " directory belongs to root and is kept 0700 (item 1.1.11)."),
    (("rke2",), r"etcd data directory ownership",
     "skip", "A default RKE2 install runs etcd as root; the etcd user and group exist only when RKE2"
     " is started with profile: cis."),
    (("rke",), r"etcd data directory ownership",
     "skip", "RKE's etcd container runs as the uid and gid cluster.yml gives services.etcd (root when"
     " unset): the owner to expect is the cluster's own choice."),
    (("rke",), r"admin\.conf file",
     "na", "RKE keeps no admin kubeconfig on the nodes: it writes kube_config_cluster.yml beside"
     " cluster.yml on the machine that runs rke."),
    (("k3s",), r"admin\.conf file",
     "skip", "k3s keeps its admin kubeconfig at server/cred/admin.kubeconfig (0600) and writes"
     " /etc/rancher/k3s/k3s.yaml with the mode write-kubeconfig-mode sets; Rancher's profile leaves"
     " this item to a person."),
    (("rke",), r"(scheduler|controller-manager)\.conf file",
     "na", "RKE passes each component its kubeconfig under /etc/kubernetes/ssl, which the PKI items"
     " (1.1.19 to 1.1.21) judge: there is no scheduler.conf or controller-manager.conf."),
    (("k3s",), r"container network interface file",
     "na", "k3s's default CNI, flannel, runs inside k3s and keeps its configuration under k3s's"
     " agent directory; Rancher's benchmark finds no CNI files of its own to judge."),
    (("k3s", "rke2", "rke"), r"rotatekubeletservercertificate",
     "na", "{d} issues the kubelet's serving certificate itself and renews it; the kubelet does not"
     " request or rotate it."),
    (("k3s",), r"--kubelet-https argument",
     "na", "kube-apiserver always reaches the kubelet over HTTPS; --kubelet-https was removed in"
     " Kubernetes 1.22."),
    (("k3s", "rke2"), r"admission control plugin securitycontextdeny",
     "na", "PodSecurityPolicy is gone from Kubernetes 1.25 on, and {d} enforces Pod Security"
     " admission instead; SecurityContextDeny is deprecated with it."),
    (("rke",), r"admission control plugin securitycontextdeny",
     "skip", "SecurityContextDeny rejects every pod that sets certain securityContext fields,"
     " which stops many workloads; a default RKE cluster does not enable it."),
    # --- left out by Rancher's profiles
    (("k3s", "rke2", "rke"), r"--hostname-override argument",
     "skip", "{d} sets --hostname-override to the node name it registers, which clouds whose host"
     " names differ from node names need."),
    (("rke2",), r"^ensure that the --(cert-file|client-cert-auth|peer-cert-file|peer-client-cert-auth)",
     "skip", "RKE2 writes etcd's TLS settings into etcd's own configuration file, which Rancher's"
     " benchmark for this version does not read."),
    (("rke",), r"--kubelet-certificate-authority argument",
     "skip", "RKE's kubelets serve self-signed certificates unless cluster.yml sets"
     " generate_serving_certificate; verifying them would break kubectl logs and exec."),
    (("k3s", "rke"), r"--tls-cert-file and --tls-private-key-file",
     "skip", "A default install lets the kubelet serve a certificate {d} issues for it; naming the"
     " files by hand is for the hardened setup."),
    (("k3s", "rke"), r"--protect-kernel-defaults argument",
     "skip", "The kubelet refuses to start with --protect-kernel-defaults unless the host's kernel"
     " parameters were set first (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1);"
     " a default install does not set them."),
    (("k3s",), r"--make-iptables-util-chains argument",
     "skip", "A default k3s install leaves the kubelet's iptables chains at the kubelet's default"
     " and Rancher's permissive profile does not ask for the flag."),
    (("k3s",), r"--rotate-certificates argument",
     "skip", "k3s renews the kubelet's client certificate itself when it restarts; the permissive"
     " profile does not ask for kubelet rotation."),
    (("k3s",), r"--(request-timeout|service-account-key-file) argument",
     "skip", "A default k3s install keeps Kubernetes' or k3s's own value here; Rancher's permissive"
     " profile does not ask for it."),
    (("k3s",), r"--audit-log-(path|maxage|maxbackup|maxsize)",
     "skip", "A default k3s install writes no audit log; the hardened setup turns it on with"
     " kube-apiserver-arg entries for audit-log-path and its rotation."),
    (("rke2",), r"minimal audit policy",
     "skip", "A default RKE2 install writes an audit policy that records nothing; a policy that"
     " records requests is part of the hardened setup."),
    (("k3s", "rke2", "rke"), r"(encryption providers|--encryption-provider-config)",
     "skip", "Encrypting secrets at rest changes how etcd snapshots are restored; a default {d}"
     " cluster may leave it off."),
    (("k3s", "rke"), r"host (process id|ipc|network) namespace",
     "skip", "A default cluster admits system workloads that share the host's namespaces (CNI,"
     " ingress); only the hardened setup restricts them."),
    (("k3s", "rke"), r"default service accounts are not actively used",
     "skip", "Kubernetes creates a default service account in every namespace and a default"
     " cluster uses it; tightening it is part of the hardened setup."),
    (("k3s", "rke"), r"all namespaces have networkpolicies",
     "skip", "Network policies can cut workloads off from each other; a default cluster has none."),
    (("k3s", "rke"), r"default namespace should not be used",
     "skip", "Kubernetes provides the default namespace and a default cluster has objects in it."),
]


def reason(flavor, title_key, item_id):
    for flavors, pattern, kind, text in REASONS:
        if flavor in flavors and re.search(pattern, title_key):
            return kind, text.format(d=NAMES[flavor])
    raise SystemExit(f"{flavor}: item {item_id} ({title_key}) is skipped by Rancher and has no"
                     " reason in rancher.REASONS; write one")


def profile(name, flavor, variant, skipped, titles):
    """The profile document of one variant: `skipped` are its skipped item ids
    (in bundle order), `titles` maps an id to its title key."""
    doc = {
        "name": f"{name}-{variant}",
        "title": PROFILE_TITLES[variant].format(d=NAMES[flavor]),
    }
    skip, na = {}, {}
    for iid in skipped:
        kind, text = reason(flavor, titles[iid], iid)
        (na if kind == "na" else skip)[iid] = text
    if skip:
        doc["skip"] = skip
    if na:
        doc["not_applicable"] = na
    return doc


# Where a component's arguments are set on each distribution.
ARG_KEY = {
    "apiserver": "kube-apiserver-arg",
    "controllermanager": "kube-controller-manager-arg",
    "scheduler": "kube-scheduler-arg",
    "kubelet": "kubelet-arg",
    "proxy": "kube-proxy-arg",
    "etcd": "etcd-arg",
}
CONFIG = {"k3s": "/etc/rancher/k3s/config.yaml", "rke2": "/etc/rancher/rke2/config.yaml"}
RESTART = {
    "k3s": ("systemctl restart k3s", "systemctl restart k3s-agent"),
    "rke2": ("systemctl restart rke2-server", "systemctl restart rke2-agent"),
}
SERVER_ONLY = {"apiserver", "controllermanager", "scheduler", "etcd"}


def arg_remediation(flavor, component, sentence, example, replaces_list):
    """k3s or RKE2: set `sentence` through config.yaml and restart."""
    d = NAMES[flavor]
    key = ARG_KEY[component]
    text = (f"In {CONFIG[flavor]}, under {key}, {sentence} (each entry is one flag without its"
            f" dashes" + (f', e.g. {key}: ["{example}"]).' if example else ")."))
    if replaces_list:
        text += f" An entry replaces the value {d} passes itself, so keep {d}'s values in it."
    server, agent = RESTART[flavor]
    if component in SERVER_ONLY:
        text += f" Then restart {d} on each server: {server}"
    else:
        text += f" Then restart {d}: {server} on servers, {agent} on agents."
    return text + "\n"


def arg_removal(flavor, component, names):
    d = NAMES[flavor]
    server, agent = RESTART[flavor]
    restart = (f"{server} on each server" if component in SERVER_ONLY
               else f"{server} on servers, {agent} on agents")
    return (f"{d} does not pass {names} itself: remove the entry that sets it from {ARG_KEY[component]}"
            f" in {CONFIG[flavor]} (and from any file in {CONFIG[flavor]}.d/), then restart {d}:"
            f" {restart}.\n")


# Files a distribution does not write (what the file would be, in prose).
NO_FILE = {
    "rke": {
        "${apiserver.conf}": "a pod manifest for kube-apiserver",
        "${controllermanager.conf}": "a pod manifest for kube-controller-manager",
        "${scheduler.conf}": "a pod manifest for kube-scheduler",
        "${etcd.conf}": "a pod manifest for etcd",
        "${kubelet.svc}": "a systemd unit for the kubelet",
        "${kubelet.conf}": "a kubelet config file",
        "/etc/kubernetes/admin.conf": "an admin kubeconfig",
    },
    "k3s": {
        "${apiserver.conf}": "a pod manifest for kube-apiserver",
        "${controllermanager.conf}": "a pod manifest for kube-controller-manager",
        "${scheduler.conf}": "a pod manifest for kube-scheduler",
        "${etcd.conf}": "a pod manifest for etcd",
        "${kubelet.svc}": "a systemd unit for the kubelet",
        "${kubelet.conf}": "a kubelet config file",
    },
    "rke2": {
        "${kubelet.svc}": "a systemd unit for the kubelet",
        "${kubelet.conf}": "a kubelet config file",
    },
}

HOW_IT_RUNS = {
    "rke": "RKE runs the component as a docker container configured by arguments",
    "k3s": "k3s runs the component inside its own process, configured by arguments",
    "rke2": "RKE2 starts the kubelet itself with arguments it computes",
}


_AUDIT_RULES = (" It should record at least: access to Secrets, ConfigMaps and TokenReviews, at the"
                " Metadata level only so that secret data is not written to the log; changes to Pods"
                " and Deployments; and use of pods/exec, pods/portforward, pods/proxy and"
                " services/proxy. Log other requests at least at the Metadata level.")
_REWRITE = "kubectl get secrets -A -o json | kubectl replace -f -"

# Remediation of the items a person judges (or that kubecis judges from a file
# the distribution writes), where the generic text would name kubeadm's files.
MANUAL_REMEDIATION = {
    "ensure that the --request-timeout argument is set as appropriate": {
        "k3s": "Only if long-running API requests time out: in /etc/rancher/k3s/config.yaml, add"
               ' kube-apiserver-arg: ["request-timeout=300s"] (a duration that suits the cluster) and'
               " restart k3s on each server: systemctl restart k3s",
        "rke2": "Only if long-running API requests time out: in /etc/rancher/rke2/config.yaml, add"
                ' kube-apiserver-arg: ["request-timeout=300s"] (a duration that suits the cluster)'
                " and restart RKE2 on each server: systemctl restart rke2-server",
        "rke": "Only if long-running API requests time out: in cluster.yml set request-timeout (for"
               ' example request-timeout: "300s") under services.kube-api.extra_args and run rke up.',
    },
    "ensure that encryption providers are appropriately configured": {
        "k3s": "Turn on encryption of secrets at rest: on a new cluster, put secrets-encryption: true in"
               " /etc/rancher/k3s/config.yaml of every server; on a running one, run k3s secrets-encrypt"
               " enable, restart k3s on every server (systemctl restart k3s) and then k3s secrets-encrypt"
               " reencrypt. k3s writes server/cred/encryption-config.json with aescbc first.",
        "rke2": "RKE2 encrypts secrets at rest with aescbc unless told otherwise"
                " (server/cred/encryption-config.json). If it was turned off, run rke2 secrets-encrypt"
                " enable, restart RKE2 on every server (systemctl restart rke2-server) and then rke2"
                " secrets-encrypt reencrypt.",
        "rke": "Turn on encryption of secrets at rest with"
               " services.kube-api.secrets_encryption_config.enabled: true in cluster.yml (its default"
               " provider is aescbc) and run rke up. Then rewrite the existing secrets so that they"
               f" are stored encrypted:\n{_REWRITE}",
    },
    "bootstrap token authentication should not be used for users": {
        "k3s": "Give tokens only to nodes: the server token and bootstrap tokens made with k3s token"
               " create are for joining nodes. Delete the ones no longer needed (k3s token delete"
               " <id>) and authenticate people through an external identity provider.",
        "rke2": "Give tokens only to nodes: the server token and bootstrap tokens made with rke2 token"
                " create are for joining nodes. Delete the ones no longer needed (rke2 token delete"
                " <id>) and authenticate people through an external identity provider.",
        "rke": "RKE joins nodes with certificates, not bootstrap tokens: delete any bootstrap token"
               " secret found in kube-system (type bootstrap.kubernetes.io/token) and authenticate"
               " people through an external identity provider.",
    },
    "ensure that the audit policy covers key security concerns": {
        "k3s": "Review the file given to audit-policy-file under kube-apiserver-arg in"
               " /etc/rancher/k3s/config.yaml." + _AUDIT_RULES,
        "rke2": "Review the audit policy RKE2 gives kube-apiserver: /etc/rancher/rke2/audit-policy.yaml,"
                " or the file named by audit-policy-file in /etc/rancher/rke2/config.yaml." + _AUDIT_RULES,
        "rke": "Review the policy under services.kube-api.audit_log.configuration.policy in"
               " cluster.yml." + _AUDIT_RULES,
    },
}


def manual_remediation(title_key, flavor, generic):
    return MANUAL_REMEDIATION.get(title_key, {}).get(flavor, generic)


# Item ids Rancher's files get wrong, by reference directory: CIS numbers the
# encryption-providers item of v1.23 and v1.24 1.2.31 (the permissive files
# agree); the hardened files call it 1.2.33 and skip 1.2.31.
ID_FIXES = {
    "rke2-cis-1.23-hardened": {"1.2.33": "1.2.31"},
    "rke2-cis-1.24-hardened": {"1.2.33": "1.2.31"},
}


def fix_ids(ref_dir, data):
    fixes = ID_FIXES.get(os.path.basename(ref_dir.rstrip("/")), {})
    for g in data.get("groups") or []:
        for c in g.get("checks") or []:
            if str(c["id"]) in fixes:
                c["id"] = fixes[str(c["id"])]
    return data
