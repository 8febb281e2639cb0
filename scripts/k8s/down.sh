#!/usr/bin/env bash
# Stop what up.sh started, one process at a time, by the PID
# files under K8S_STATE/pids. Nothing else is touched.
#
#   down.sh                  stop everything that has a pid file (scheduler first, etcd last)
#   down.sh NAME...          stop only these (e.g. kube-scheduler)
#   down.sh --wipe           stop everything, then delete etcd data, logs and pid files
#                            (certs and tokens are kept)
set -uo pipefail

K8S_STATE=$(realpath -m "${K8S_STATE:-$(dirname "$0")/../../.k8s-state}")
PIDS=$K8S_STATE/pids
WIPE=0
NAMES=()
for a in "$@"; do
  case "$a" in
    --wipe) WIPE=1 ;;
    *) NAMES+=("$a") ;;
  esac
done

if [ ${#NAMES[@]} -eq 0 ]; then
  # a fixed order first, then anything else that left a pid file
  for n in kube-scheduler kube-apiserver etcd; do
    [ -f "$PIDS/$n.pid" ] && NAMES+=("$n")
  done
  for f in "$PIDS"/*.pid; do
    [ -f "$f" ] || continue
    n=$(basename "$f" .pid)
    case " ${NAMES[*]} " in *" $n "*) ;; *) NAMES=("$n" "${NAMES[@]}") ;; esac
  done
fi

stop() {
  local name=$1 f=$PIDS/$1.pid pid i
  [ -f "$f" ] || { echo "down.sh: $name: no pid file" >&2; return 0; }
  pid=$(cat "$f")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "down.sh: $name: not running" >&2
    rm -f "$f"
    return 0
  fi
  # the pid must still be the process we started (pids get reused)
  if ! grep -qa -- "$name" "/proc/$pid/cmdline" 2>/dev/null; then
    echo "down.sh: $name: pid $pid is not ours any more; leaving it alone" >&2
    rm -f "$f"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "down.sh: $name: still alive after 10s, sending KILL to pid $pid" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
  echo "down.sh: stopped $name (pid $pid)" >&2
}

for n in "${NAMES[@]}"; do stop "$n"; done

if [ "$WIPE" = 1 ]; then
  rm -rf "$K8S_STATE/etcd" "$K8S_STATE/logs" "$PIDS"
  echo "down.sh: wiped etcd data, logs and pid files under $K8S_STATE" >&2
fi
