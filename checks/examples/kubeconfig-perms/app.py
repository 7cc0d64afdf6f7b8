"""kubeconfig-perms: no kubeconfig on the node is readable or writable by
every user. A kubeconfig carries a client key or token: a world-readable
copy hands the cluster identity it names to any local account.

Settings (JSON):
  roots:  directories to search, each granted as `metadata` in the bundle
  names:  file name patterns of kubeconfigs (fnmatch), e.g. "*.kubeconfig"
  depth:  how many directory levels below a root to search (default 3)
"""

import fnmatch
import json

from componentize_py_types import Err
import wit_world
from wit_world import Outcome, Status
from wit_world.imports import node
from wit_world.imports.node import (
    Error_Denied,
    Error_Invalid,
    Error_NotFound,
    Error_TooLarge,
    FileKind,
)

# Directories visited at most, however deep or wide the node's trees are.
MAX_VISITED = 2000


def why(err: Err) -> str:
    """A host error in words."""
    value = err.value
    kind = {
        Error_NotFound: "not found",
        Error_Denied: "denied",
        Error_Invalid: "invalid",
        Error_TooLarge: "too large",
    }.get(type(value), "error")
    return f"{kind}: {value.value}"


def outcome(status: Status, expected: str, actual: str, reason: str = "") -> Outcome:
    return Outcome(status=status, expected=expected, actual=actual, reason=reason)


def join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


class WitWorld(wit_world.WitWorld):
    def run(self, settings: str) -> Outcome:
        try:
            config = json.loads(settings)
            roots = [str(r) for r in config["roots"]]
            names = [str(n) for n in config["names"]]
            depth = int(config.get("depth", 3))
        except (ValueError, KeyError, TypeError) as e:
            return outcome(Status.ERROR, "", "", f"invalid settings: {e!r}")
        expected = "no kubeconfig readable or writable by other users (mode o-rw)"

        found = []  # (path, mode)
        problems = []  # host errors other than a missing root
        visited = 0
        pending = [(root, 0) for root in roots]
        while pending:
            directory, level = pending.pop(0)
            visited += 1
            if visited > MAX_VISITED:
                problems.append(f"stopped after {MAX_VISITED} directories")
                break
            try:
                entries = node.list_dir(directory)
            except Err as e:
                if not isinstance(e.value, Error_NotFound):
                    problems.append(f"{directory}: {why(e)}")
                continue
            for name in entries:
                path = join(directory, name)
                try:
                    st = node.stat(path)
                except Err as e:
                    problems.append(f"{path}: {why(e)}")
                    continue
                if st.kind == FileKind.DIRECTORY:
                    if level + 1 < depth:
                        pending.append((path, level + 1))
                elif st.kind == FileKind.FILE and any(
                    fnmatch.fnmatchcase(name, pattern) for pattern in names
                ):
                    found.append((path, st.mode))

        if problems:
            return outcome(
                Status.ERROR, expected, "", "could not search: " + "; ".join(problems)
            )
        if not found:
            return outcome(
                Status.NOT_APPLICABLE,
                expected,
                "no kubeconfig found",
                "no file matching " + ", ".join(names) + " under " + ", ".join(roots),
            )
        open_files = [(p, m) for p, m in found if m & 0o006]
        if open_files:
            listed = ", ".join(f"{p} ({m & 0o7777:04o})" for p, m in open_files)
            reason = f"{len(open_files)} of {len(found)} kubeconfigs are open to every user"
            # k3s and RKE2 write their admin kubeconfig again at every start.
            distribution = node.info().distribution
            admin = f"/etc/rancher/{distribution}/{distribution}.yaml"
            if any(p == admin for p, _ in open_files):
                reason += (
                    f"; {distribution} rewrites {admin} at start: set"
                    f' write-kubeconfig-mode: "0600" in /etc/rancher/{distribution}/config.yaml'
                )
            return outcome(Status.FAIL, expected, listed, reason)
        listed = ", ".join(f"{p} ({m & 0o7777:04o})" for p, m in found)
        return outcome(Status.PASS, expected, listed)
