#!/usr/bin/env bash
# A cluster in a box for `kubecis serve` and `kubecis agent` on one machine:
# two example nodes (a kubeadm control plane and a worker), an admin and an
# agent token, and a serve.yaml with a scan that runs every minute.
#   bash deploy/local/setup.sh DIR
set -euo pipefail
dir=${1:?usage: deploy/local/setup.sh DIR}
cd "$(dirname "$0")/../.."
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cargo build -q --release --example materialise
for pair in cp-1:kubeadm-control-plane worker-1:kubeadm-worker; do
  rm -rf "${dir:?}/${pair%%:*}"
  target/release/examples/materialise "${pair#*:}" "$dir/${pair%%:*}" >/dev/null
done
umask 077
for role in admin agent; do
  [[ -s $dir/$role.token ]] || head -c 32 /dev/urandom | base64 | tr -d '/+=' > "$dir/$role.token"
done
cat > "$dir/serve.yaml" <<YAML
listen: 127.0.0.1:8080
dataDir: data
tokens:
  - {name: admin, role: admin, tokenFile: admin.token}
  - {name: agents, role: agent, tokenFile: agent.token}
scans:
  - name: cis-every-minute
    benchmark: cis-1.8
    schedule: "* * * * *"
    retention: 3
    deadline: 2m
YAML
echo "ready in $dir: serve.yaml, admin.token, agent.token, nodes cp-1 and worker-1"
