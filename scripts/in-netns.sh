#!/usr/bin/env bash
# Run a command inside a private network namespace where only loopback exists (with
# multicast on, for mDNS), so nothing a test starts can reach a real network. Needs root;
# without it the command runs as it is, still bound to loopback by every fixture.
set -euo pipefail
if [ "$(id -u)" -ne 0 ] || [ "${ROOMCTL_NETNS:-}" = "1" ]; then
  exec "$@"
fi
export ROOMCTL_NETNS=1
exec unshare --net -- bash -c '
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo 2>/dev/null || true
  ip -6 route add ff00::/8 dev lo table local 2>/dev/null || true
  exec "$@"' bash "$@"
