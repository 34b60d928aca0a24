"""Pod Security Standards, ``restricted`` profile (Kubernetes 1.31), as checks over a pod
spec: each returns the rules a pod template breaks, in the words of the standard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                   "persistentVolumeClaim", "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
SECCOMP_OK = {"RuntimeDefault", "Localhost"}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    return list(_pod_rules(pod)) + [
        f"container {c.get('name')}: {rule}" for c in _containers(pod)
        for rule in _container_rules(pod, c)
    ]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod.get("containers", []),
            *pod.get("ephemeralContainers", [])]


def _pod_rules(pod: dict[str, Any]) -> Iterator[str]:
    sc = pod.get("securityContext", {})
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            yield f"{host} must not be true"
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            yield f"volume {volume['name']}: type {sorted(kinds)} is not allowed"
    for sysctl in sc.get("sysctls", []):
        if sysctl["name"] not in SAFE_SYSCTLS:
            yield f"sysctl {sysctl['name']} is not allowed"
    if sc.get("runAsUser") == 0:
        yield "runAsUser must not be 0"
    if "seccompProfile" in sc and sc["seccompProfile"].get("type") not in SECCOMP_OK:
        yield "pod seccompProfile must be RuntimeDefault or Localhost"


def _container_rules(pod: dict[str, Any], container: dict[str, Any]) -> Iterator[str]:
    pod_sc = pod.get("securityContext", {})
    sc = container.get("securityContext", {})
    if sc.get("privileged"):
        yield "privileged must not be true"
    if sc.get("allowPrivilegeEscalation") is not False:
        yield "allowPrivilegeEscalation must be false"
    caps = sc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        yield "capabilities must drop ALL"
    if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
        yield "capabilities may add only NET_BIND_SERVICE"
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
        yield "runAsNonRoot must be true"
    if sc.get("runAsUser") == 0:
        yield "runAsUser must not be 0"
    seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
    if seccomp not in SECCOMP_OK:
        yield "seccompProfile must be RuntimeDefault or Localhost"
    if any(port.get("hostPort") for port in container.get("ports", [])):
        yield "hostPort must not be set"
    if sc.get("procMount", "Default") != "Default":
        yield "procMount must be Default"
