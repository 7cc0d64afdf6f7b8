#!/usr/bin/env bash
# Installs (or upgrades) kubecis on the cluster kubectl points at: makes the
# three tokens once (deploy/tokens/, private, kept out of git), then applies
# deploy/ with kustomize. Run it again after changing the image or serve.yaml.
#   bash deploy/install.sh
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p tokens
for role in admin viewer agent; do
  if [[ ! -s tokens/$role ]]; then
    head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "tokens/$role"
    echo "deploy/install.sh: made the $role token: deploy/tokens/$role" >&2
  fi
done
kubectl apply -k .
kubectl -n kubecis rollout status deployment/kubecis-serve --timeout=5m
kubectl -n kubecis rollout status daemonset/kubecis-agent --timeout=5m
