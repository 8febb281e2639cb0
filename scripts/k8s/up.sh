#!/usr/bin/env bash
# Start etcd + kube-apiserver + kube-scheduler (Kubernetes v1.20, built by
# build.sh) on 127.0.0.1 only. Prints the admin kubeconfig path on the last line.
#
#   up.sh              start whatever is not running yet (etcd, apiserver, scheduler)
#   up.sh scheduler    (re)start only kube-scheduler, e.g. after changing its config
#   up.sh noscheduler  start etcd + apiserver only
#
# Environment:
#   K8S_BIN               binaries from build.sh            (default <repo>/.k8s-bin)
#   K8S_STATE             certs, tokens, etcd data, logs, pids (default <repo>/.k8s-state)
#   K8S_API_PORT          kube-apiserver secure port        (default 16443)
#   K8S_ETCD_PORT         etcd client port                  (default 12379; peer port +1)
#   K8S_SCHED_PORT        kube-scheduler healthz/metrics    (default 10251)
#   K8S_SCHEDULER_CONFIG  a KubeSchedulerConfiguration (v1beta1) to run with. Its
#                         clientConnection.kubeconfig should be "scheduler.kubeconfig"
#                         (the scheduler runs inside K8S_STATE) and healthzBindAddress /
#                         metricsBindAddress must be 127.0.0.1:<port>. Default: a plain
#                         config with no extender.
#   ETCD                  etcd binary (default: etcd on PATH, from Debian's etcd-server)
set -euo pipefail

K8S_BIN=$(realpath -m "${K8S_BIN:-$(dirname "$0")/../../.k8s-bin}")
K8S_STATE=$(realpath -m "${K8S_STATE:-$(dirname "$0")/../../.k8s-state}")
export K8S_BIN K8S_STATE
API_PORT=${K8S_API_PORT:-16443}
ETCD_PORT=${K8S_ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))
SCHED_PORT=${K8S_SCHED_PORT:-10251}
ETCD=${ETCD:-$(command -v etcd || true)}
WHAT=${1:-all}

PKI=$K8S_STATE/pki
LOGS=$K8S_STATE/logs
PIDS=$K8S_STATE/pids
mkdir -p "$PKI" "$LOGS" "$PIDS"

log() { echo "up.sh: $*" >&2; }
die() { echo "up.sh: $*" >&2; exit 1; }

for b in kube-apiserver kube-scheduler kubectl; do
  [ -x "$K8S_BIN/$b" ] || die "missing $K8S_BIN/$b (run build.sh, or set K8S_BIN)"
done
[ -n "$ETCD" ] && [ -x "$ETCD" ] || die "etcd not found (apt-get install etcd-server, or set ETCD)"

running() { # name -> 0 if its pid file names a live process of ours
  local f=$PIDS/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa -- "$1" "/proc/$pid/cmdline" 2>/dev/null
}

spawn() { # name logfile command... : start detached, record the real pid
  local name=$1 logf=$2 i; shift 2
  rm -f "$PIDS/$name.pid"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDS/$name.pid" "$@" >>"$logf" 2>&1 </dev/null &
  for ((i = 0; i < 50; i++)); do [ -s "$PIDS/$name.pid" ] && return 0; sleep 0.1; done
  die "could not start $name"
}

wait_for() { # description seconds command...
  local what=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  die "$what not ready after ${secs}s (see $LOGS)"
}

# ---------------------------------------------------------------- PKI, tokens
if [ ! -f "$PKI/ca.crt" ]; then
  log "generating CA, serving certs and service-account keys in $PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=local-k8s-ca" \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  # apiserver serving cert + a generic loopback serving cert for local test servers
  # (e.g. an admission webhook on https://127.0.0.1:PORT)
  for name in apiserver loopback; do
    cat >"$PKI/$name.ext" <<EOF
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
keyUsage=digitalSignature,keyEncipherment
EOF
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
      -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
      -CAcreateserial -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  done
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
fi
if [ ! -f "$K8S_STATE/tokens.csv" ]; then
  ADMIN_TOKEN=$(openssl rand -hex 24)
  SCHED_TOKEN=$(openssl rand -hex 24)
  printf '%s\n' "$ADMIN_TOKEN" >"$K8S_STATE/admin.token"
  printf '%s\n' "$SCHED_TOKEN" >"$K8S_STATE/scheduler.token"
  {
    echo "$ADMIN_TOKEN,admin,admin-uid,\"system:masters\""
    echo "$SCHED_TOKEN,system:kube-scheduler,kube-scheduler-uid"
  } >"$K8S_STATE/tokens.csv"
  chmod 600 "$K8S_STATE"/*.token "$K8S_STATE/tokens.csv"
fi
CA_DATA=$(base64 -w0 <"$PKI/ca.crt")
for who in admin scheduler; do
  cat >"$K8S_STATE/$who.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $CA_DATA
users:
- name: $who
  user:
    token: $(cat "$K8S_STATE/$who.token")
contexts:
- name: $who@local
  context: {cluster: local, user: $who}
current-context: $who@local
EOF
  chmod 600 "$K8S_STATE/$who.kubeconfig"
done
cat >"$K8S_STATE/env.sh" <<EOF
# source me: variables for talking to the local API server with curl or kubectl
export K8S_BIN=$K8S_BIN
export K8S_STATE=$K8S_STATE
export KUBECONFIG=$K8S_STATE/admin.kubeconfig
export K8S_API=https://127.0.0.1:$API_PORT
export K8S_CA=$PKI/ca.crt
export K8S_TOKEN_FILE=$K8S_STATE/admin.token
export PATH=$K8S_BIN:\$PATH
EOF

api_ready() {
  curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$K8S_STATE/admin.token")" \
    "https://127.0.0.1:$API_PORT/readyz" | grep -q ok
}

# ---------------------------------------------------------------- etcd
start_etcd() {
  if running etcd; then log "etcd already running (pid $(cat "$PIDS/etcd.pid"))"; return; fi
  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  spawn etcd "$LOGS/etcd.log" "$ETCD" --name local --data-dir "$K8S_STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

# ---------------------------------------------------------------- apiserver
start_apiserver() {
  if running kube-apiserver; then log "kube-apiserver already running (pid $(cat "$PIDS/kube-apiserver.pid"))"; return; fi
  log "starting kube-apiserver on https://127.0.0.1:$API_PORT"
  spawn kube-apiserver "$LOGS/kube-apiserver.log" "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --secure-port="$API_PORT" --insecure-port=0 \
    --endpoint-reconciler-type=none \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --token-auth-file="$K8S_STATE/tokens.csv" \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=Node,RBAC \
    --allow-privileged=true \
    --profiling=false \
    --cert-dir="$PKI/generated" \
    --v=1
  wait_for kube-apiserver 90 api_ready
}

# ---------------------------------------------------------------- scheduler
start_scheduler() {
  local cfg=$K8S_STATE/scheduler-config.yaml
  if [ -n "${K8S_SCHEDULER_CONFIG:-}" ]; then
    [ -f "$K8S_SCHEDULER_CONFIG" ] || die "K8S_SCHEDULER_CONFIG=$K8S_SCHEDULER_CONFIG not found"
    grep -Eq '^healthzBindAddress: *"?127\.0\.0\.1:[0-9]+' "$K8S_SCHEDULER_CONFIG" &&
      grep -Eq '^metricsBindAddress: *"?127\.0\.0\.1:[0-9]+' "$K8S_SCHEDULER_CONFIG" ||
      die "$K8S_SCHEDULER_CONFIG must set healthzBindAddress and metricsBindAddress to 127.0.0.1:<port>"
    [ "$(realpath "$K8S_SCHEDULER_CONFIG")" = "$cfg" ] || cp "$K8S_SCHEDULER_CONFIG" "$cfg"
    SCHED_PORT=$(sed -nE 's/^healthzBindAddress: *"?127\.0\.0\.1:([0-9]+).*/\1/p' "$cfg")
  else
    cat >"$cfg" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1beta1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: scheduler.kubeconfig
leaderElection:
  leaderElect: false
healthzBindAddress: 127.0.0.1:$SCHED_PORT
metricsBindAddress: 127.0.0.1:$SCHED_PORT
EOF
  fi
  if running kube-scheduler; then
    log "stopping the running kube-scheduler (pid $(cat "$PIDS/kube-scheduler.pid"))"
    "$(dirname "$0")/down.sh" kube-scheduler
  fi
  log "starting kube-scheduler (healthz on 127.0.0.1:$SCHED_PORT)"
  (cd "$K8S_STATE" && spawn kube-scheduler "$LOGS/kube-scheduler.log" "$K8S_BIN/kube-scheduler" \
    --config=scheduler-config.yaml --secure-port=0 --v="${K8S_SCHED_V:-2}")
  wait_for kube-scheduler 60 curl -fsS "http://127.0.0.1:$SCHED_PORT/healthz"
}

case "$WHAT" in
  all) start_etcd; start_apiserver; start_scheduler ;;
  noscheduler) start_etcd; start_apiserver ;;
  scheduler) api_ready || die "kube-apiserver is not running: run up.sh first"; start_scheduler ;;
  *) die "usage: up.sh [all|scheduler|noscheduler]" ;;
esac
log "logs in $LOGS; 'source $K8S_STATE/env.sh' for kubectl/curl variables"
echo "$K8S_STATE/admin.kubeconfig"
