#!/usr/bin/env bash
# The one test command: installs what a fresh machine lacks for the tests
# (they start real programs), then runs them. Arguments go to `cargo test`.
#   bash tests/run.sh            # every test
#   bash tests/run.sh --test cli # one test binary
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests start for real: etcd (live node), gcc (the live
# node's stand-in components), unshare (private namespaces), journalctl and
# systemd-journal-remote (a k3s log in a real journal file).
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v gcc >/dev/null || missing+=(gcc)
command -v unshare >/dev/null || missing+=(util-linux)
# ip (loopback of the deployment test's pod network).
command -v ip >/dev/null || missing+=(iproute2)
command -v journalctl >/dev/null || missing+=(systemd)
[[ -x /lib/systemd/systemd-journal-remote ]] || missing+=(systemd-journal-remote)
command -v python3 >/dev/null || missing+=(python3 python3-pip)
# The dashboard's browser test: Debian's Chromium, driven from Node.js.
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "tests/run.sh: the tests need ${missing[*]} and run as root (they chown fixtures and use unshare); run as root" >&2
    exit 2
  fi
  echo "tests/run.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Prometheus' own Python parser reads /metrics back (PyPI: prometheus-client).
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
  echo "tests/run.sh: installing prometheus-client (PyPI)" >&2
  python3 -m pip install --quiet prometheus-client 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages prometheus-client
fi

# The manifests of deploy/ are checked against Kubernetes' own schemas (PyPI).
if [[ $(kubernetes-validate --version 2>/dev/null) != 1.37.0 ]]; then
  echo "tests/run.sh: installing kubernetes-validate (PyPI)" >&2
  python3 -m pip install --quiet kubernetes-validate==1.37.0 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages kubernetes-validate==1.37.0
fi

# The example checks of checks/README.md in Python and JavaScript are built
# by their own toolchains: componentize-py (PyPI), componentize-js (npm).
if [[ $(componentize-py --version 2>/dev/null) != "componentize-py 0.25.1" ]]; then
  echo "tests/run.sh: installing componentize-py (PyPI)" >&2
  python3 -m pip install --quiet componentize-py==0.25.1 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages componentize-py==0.25.1
fi
if [[ ! -x checks/examples/kubelet-ciphers/node_modules/.bin/componentize-js ]]; then
  echo "tests/run.sh: installing componentize-js (npm)" >&2
  npm ci --prefix checks/examples/kubelet-ciphers --no-audit --no-fund --silent
fi

# playwright-core (npm) drives that Chromium; versions pinned by its lock file.
if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
  echo "tests/run.sh: installing playwright-core (npm)" >&2
  npm ci --prefix tests/browser --no-audit --no-fund --silent
fi

# The toolchain rust-toolchain.toml names (its wasm32-wasip2 target is added
# by host/builtin/build.rs when missing).
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install

# The container image the deployment test unpacks and runs (it installs
# musl-tools and buildah when missing); built before the tests, so that its
# build does not compete with them for the machine.
bash deploy/image/build.sh

exec cargo test --release "$@"
