#!/bin/sh
# Regenerate every built-in bundle from the reference data beside the repository
# (../shared/reference by default): kube-bench's generic and managed-cloud
# benchmarks, Rancher's rke-cis-1.4 (its hand-written profiles are kept) and
# Rancher's distribution benchmarks (one bundle per family, generated profiles).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
profiles=$(dirname "$here")
ref=${1:-$(dirname "$(dirname "$profiles")")/shared/reference}
import() { python3 "$here/import_kube_bench.py" "$@" -q | grep -E 'self-check|ERROR'; }
for b in cis-1.4 cis-1.5 cis-1.6 cis-1.20 cis-1.23 cis-1.24 cis-1.7 cis-1.8 cis-1.9 cis-1.10 \
         cis-1.11 cis-1.12 eks-1.8.0 gke-1.9.0 aks-1.8; do
    import "$ref/kube-bench/$b" "$profiles/$b"
done
rancher=$ref/rancher-security-scan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
import "$rancher/rke-cis-1.4" "$tmp/rke-cis-1.4"
cp "$tmp"/rke-cis-1.4/master.yaml "$tmp"/rke-cis-1.4/etcd.yaml "$tmp"/rke-cis-1.4/node.yaml "$profiles/rke-cis-1.4/"
for d in "$rancher"/k3s-cis-* "$rancher"/rke2-cis-* "$rancher"/rke-cis-*; do
    name=$(basename "$d")
    case $name in
        rke-cis-1.4|*-permissive) continue ;;   # rke-cis-1.4 above; a permissive variant goes with its hardened one
    esac
    import "$d" "$profiles/${name%-hardened}"
done
