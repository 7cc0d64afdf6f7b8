#!/usr/bin/env bash
# Runs inside `unshare --mount --pid --fork --mount-proc`: builds a control-plane
# node over private bind mounts (the machine's real /etc and /var/lib stay
# untouched), starts components named as on a kubeadm node plus a real etcd,
# then scans the live node. Arguments: KUBECIS IDLE_BIN WORK_DIR [COMMAND...];
# a COMMAND runs on the live node instead of the scan (benches/versus_kube_bench.rs).
set -euo pipefail
kubecis=$1 idle=$2 work=$3
shift 3

# Private copies of /etc and /var/lib, bound over the real ones in this namespace only.
mount --make-rprivate /
cp -a /etc "$work/etc"
mkdir -p "$work/varlib"
mount --bind "$work/etc" /etc
mount --bind "$work/varlib" /var/lib

mkdir -p /etc/kubernetes/manifests /etc/kubernetes/pki /etc/kubernetes/kubelet /var/lib/kubelet
cat > /etc/kubernetes/manifests/kube-apiserver.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.26.9
YAML
chmod 644 /etc/kubernetes/manifests/kube-apiserver.yaml
printf 'apiVersion: v1\nkind: Config\n' > /etc/kubernetes/kubelet.conf
chmod 600 /etc/kubernetes/kubelet.conf
cat > /etc/kubernetes/kubelet/custom-config.yaml <<'YAML'
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
YAML
chmod 600 /etc/kubernetes/kubelet/custom-config.yaml

bin=$work/bin
mkdir -p "$bin"
for name in kube-apiserver kubelet; do cp "$idle" "$bin/$name"; done

"$bin/kube-apiserver" --advertise-address=10.0.0.10 --anonymous-auth=false \
  --authorization-mode Node,RBAC --profiling=false --client-ca-file=/etc/kubernetes/pki/ca.crt \
  --enable-admission-plugins=NodeRestriction --profiling=true &
"$bin/kubelet" --kubeconfig=/etc/kubernetes/kubelet.conf \
  --config=/etc/kubernetes/kubelet/custom-config.yaml \
  --container-runtime-endpoint=unix:///var/run/containerd/containerd.sock &

# A real etcd, serving plain HTTP on loopback: the insecure setup the etcd items must catch.
etcd --name live --data-dir /var/lib/etcd \
  --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
  --initial-cluster live=http://127.0.0.1:23800 >"$work/etcd.log" 2>&1 &
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/23790) 2>/dev/null && break
  sleep 0.1
done
(exec 3<>/dev/tcp/127.0.0.1/23790) 2>/dev/null || { echo "etcd did not start:" >&2; cat "$work/etcd.log" >&2; exit 1; }

if (($#)); then
  exec "$@"
fi
"$kubecis" scan --format json --node-name live-node --cache-dir "$work/cache"
