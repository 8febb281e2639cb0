#!/usr/bin/env bash
# End-to-end suite against a real Kubernetes 1.20 control plane on 127.0.0.1:
# builds (or reuses) kube-apiserver, kube-scheduler and kubectl with scripts/k8s/,
# starts etcd + apiserver + scheduler in a state directory of its own, seeds fake
# Ready nodes, runs test/e2e with mocha, then the unit-suite files that need a real
# API server (test/e2e/.mocharc.json lists them; LOCUS_REAL_KUBECONFIG names this
# control plane), and always stops what it started (also on failure or Ctrl-C).
#
# Environment (all optional):
#   LOCUS_K8S_SCRIPTS   the control-plane scripts            (default scripts/k8s)
#   LOCUS_E2E_BIN       binaries from build.sh               (default .k8s-bin)
#   LOCUS_E2E_STATE     certs, etcd data, logs, pid files    (default .k8s-state/e2e)
#   LOCUS_E2E_PORT_BASE ports BASE+0..7 on 127.0.0.1         (default 26400)
#   LOCUS_E2E_TIMEOUT   seconds the mocha run may take       (default 600)
#   LOCUS_E2E_KEEP=1    leave etcd data and logs after a successful run
# K8S_* variables from the caller's shell are deliberately ignored, so that a
# developer's own cluster is never the one this script stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T0=$(date +%s)
log() { echo "e2e.sh [$(($(date +%s) - T0))s]: $*" >&2; }

export LOCUS_K8S_SCRIPTS=$(realpath -m "${LOCUS_K8S_SCRIPTS:-$ROOT/scripts/k8s}")
export K8S_BIN=$(realpath -m "${LOCUS_E2E_BIN:-$ROOT/.k8s-bin}")
export K8S_STATE=$(realpath -m "${LOCUS_E2E_STATE:-$ROOT/.k8s-state/e2e}")
BASE=${LOCUS_E2E_PORT_BASE:-26400}
# one port per listener, all on 127.0.0.1; the test suite reads these too
export K8S_API_PORT=$((BASE + 0)) K8S_ETCD_PORT=$((BASE + 1)) # etcd peer: BASE+2
export K8S_SCHED_PORT=$((BASE + 3))
export LOCUS_E2E_LOCUS_SCHED_PORT=$((BASE + 4)) LOCUS_E2E_EXTENDER_PORT=$((BASE + 5))
export LOCUS_E2E_WEBHOOK_PORT=$((BASE + 6)) LOCUS_E2E_METRICS_PORT=$((BASE + 7))
export K8S_NODES="node-a node-b node-c"
# namespaces whose pods need the default ServiceAccount (scenarios without pods make their own)
export K8S_SEED_NAMESPACES="default ml e2e-placement e2e-webhook e2e-plain e2e-datashim datashim-demo production"
unset K8S_SCHEDULER_CONFIG KUBECONFIG
# test/kube/fidelity.test.ts and test/operator/cluster.test.ts run against this control plane
export LOCUS_REAL_KUBECONFIG=$K8S_STATE/admin.kubeconfig

[ -x "$LOCUS_K8S_SCRIPTS/up.sh" ] || { echo "e2e.sh: no control-plane scripts at $LOCUS_K8S_SCRIPTS (set LOCUS_K8S_SCRIPTS)" >&2; exit 2; }

# ---------------------------------------------------------------- build
# build.sh exits at once when its cached binaries are current; the lock keeps
# two e2e runs from building into the same directory at the same time
mkdir -p "$K8S_BIN"
log "control plane binaries in $K8S_BIN"
flock "$K8S_BIN/.e2e-build.lock" "$LOCUS_K8S_SCRIPTS/build.sh"

# ---------------------------------------------------------------- up
# one run per state dir (and so per set of ports) at a time; long-lived children
# are started with fd 9 closed so that none of them can outlive the run holding it
mkdir -p "$(dirname "$K8S_STATE")"
exec 9>"$K8S_STATE.lock"
flock -n 9 || { echo "e2e.sh: another run holds $K8S_STATE.lock" >&2; exit 2; }
# leftovers of an aborted run in this state dir: down.sh stops only processes
# recorded in its pid files, then the etcd data goes so every run starts empty
"$LOCUS_K8S_SCRIPTS/down.sh" --wipe 2>/dev/null || true
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  log "tearing down (exit $rc)"
  if [ "$rc" = 0 ] && [ "${LOCUS_E2E_KEEP:-0}" != 1 ]; then
    "$LOCUS_K8S_SCRIPTS/down.sh" --wipe || true
  else
    "$LOCUS_K8S_SCRIPTS/down.sh" || true
    log "logs kept in $K8S_STATE/logs"
  fi
  log "total $(($(date +%s) - T0))s"
  exit "$rc"
}
# the suite runs under timeout(1) in a process group of its own (mocha, its worker and every process a
# test starts), which a terminal's Ctrl-C does not reach: forward INT/TERM to it, then tear down
SUITE_PID=
interrupted() {
  if [ -n "$SUITE_PID" ]; then kill -TERM "$SUITE_PID" 2>/dev/null; wait "$SUITE_PID" || true; fi
  exit "$1"
}
trap teardown EXIT
trap 'interrupted 130' INT
trap 'interrupted 143' TERM

log "starting etcd, kube-apiserver and kube-scheduler (state in $K8S_STATE)"
"$LOCUS_K8S_SCRIPTS/up.sh" >/dev/null 9>&-
"$LOCUS_K8S_SCRIPTS/seed.sh" 2>&1 | sed 's/^/  /' >&2
log "control plane ready"

# ---------------------------------------------------------------- suite
T1=$(date +%s)
rc=0
timeout -k 15 "${LOCUS_E2E_TIMEOUT:-600}" "$ROOT/node_modules/.bin/mocha" --config test/e2e/.mocharc.json "$@" 9>&- &
SUITE_PID=$!
wait "$SUITE_PID" || rc=$?
SUITE_PID=
log "suite finished in $(($(date +%s) - T1))s (exit $rc)"
exit "$rc"
