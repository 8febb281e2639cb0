#!/usr/bin/env bash
# npm run bench:scheduler — pods bound per second by kube-scheduler 1.20 with Locus's extender
# (locus-scheduler + locus extender) against the same kube-scheduler and configuration without the
# extender, on a real control plane of fake nodes (bench/scheduler.ts). Run it under the heavy lock:
#   flock /tmp/locus-heavy.lock npm run bench:scheduler
# Follows scripts/e2e.sh: the project's scripts/k8s/{up,seed,down}.sh, a state directory and ports of
# its own (127.0.0.1 only), everything it started stopped and wiped at the end, bounded in time.
#
# Environment (all optional):
#   LOCUS_BENCH_NODES      fake nodes                              (default 1000)
#   LOCUS_BENCH_PODS       pods per run                            (default 500)
#   LOCUS_BENCH_PIN        0: no taskset pinning (see bench/scheduler.ts)  (default 1)
#   LOCUS_BENCH_PORT_BASE  ports BASE+0..7 on 127.0.0.1            (default 26600)
#   LOCUS_BENCH_TIMEOUT    seconds the whole measurement may take  (default 900)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export LOCUS_K8S_SCRIPTS=$ROOT/scripts/k8s
export K8S_BIN=$ROOT/.k8s-bin
export K8S_STATE=$ROOT/.k8s-state/bench-scheduler
BASE=${LOCUS_BENCH_PORT_BASE:-26600}
export K8S_API_PORT=$((BASE + 0)) K8S_ETCD_PORT=$((BASE + 1)) K8S_SCHED_PORT=$((BASE + 3))
export LOCUS_E2E_LOCUS_SCHED_PORT=$((BASE + 4)) LOCUS_E2E_EXTENDER_PORT=$((BASE + 5))
export LOCUS_E2E_WEBHOOK_PORT=$((BASE + 6)) LOCUS_E2E_METRICS_PORT=$((BASE + 7))
# bench/scheduler.ts creates the nodes itself (thousands of kubectl calls would take minutes); seed.sh
# prepares the namespaces (ServiceAccount, token) and PriorityClasses. A blank list seeds no node.
export K8S_NODES=" " K8S_SEED_NAMESPACES="locus-bench-0 locus-bench-1"
unset K8S_SCHEDULER_CONFIG KUBECONFIG

for b in kube-apiserver kube-scheduler kubectl; do
  [ -x "$K8S_BIN/$b" ] || { echo "bench/scheduler.sh: missing $K8S_BIN/$b; run npm run test:e2e once (it builds them)" >&2; exit 2; }
done
mkdir -p "$(dirname "$K8S_STATE")"
exec 9>"$K8S_STATE.lock"
flock -n 9 || { echo "bench/scheduler.sh: another run holds $K8S_STATE.lock" >&2; exit 2; }
"$LOCUS_K8S_SCRIPTS/down.sh" --wipe 2>/dev/null || true
trap '"$LOCUS_K8S_SCRIPTS/down.sh" --wipe >/dev/null 2>&1 || true' EXIT
# etcd and kube-apiserver only: each run starts its own kube-scheduler
"$LOCUS_K8S_SCRIPTS/up.sh" noscheduler >/dev/null 9>&-
"$LOCUS_K8S_SCRIPTS/seed.sh" >/dev/null 2>&1
timeout -k 15 "${LOCUS_BENCH_TIMEOUT:-900}" node --import tsx bench/scheduler.ts 9>&-
