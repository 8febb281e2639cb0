#!/usr/bin/env bash
# Seed the local control plane started by up.sh with what a kubelet and
# kube-controller-manager would normally provide:
#   - fake Ready nodes (no kubelet): Node objects + a status patch with
#     capacity/allocatable, conditions, nodeInfo and addresses (127.0.0.1),
#     and the not-ready taint that admission adds to new nodes removed
#   - in each namespace of K8S_SEED_NAMESPACES: the "default" ServiceAccount and
#     a service-account-token Secret, so that pods pass the ServiceAccount
#     admission plugin and carry the usual token volume
#   - PriorityClasses low-priority (100) and high-priority (1000), for preemption
#
# Environment:
#   K8S_STATE            as for up.sh (default .k8s-state at the repository root)
#   K8S_NODES            node names          (default "node-a node-b node-c")
#   K8S_NODE_CPU         cpu per node        (default 4)
#   K8S_NODE_MEMORY      memory per node     (default 8Gi)
#   K8S_SEED_NAMESPACES  namespaces to prepare (default "default"; created if missing)
set -euo pipefail

K8S_STATE=$(realpath -m "${K8S_STATE:-$(dirname "$0")/../../.k8s-state}")
[ -f "$K8S_STATE/env.sh" ] || { echo "seed.sh: run up.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
. "$K8S_STATE/env.sh"
NODES=${K8S_NODES:-node-a node-b node-c}
CPU=${K8S_NODE_CPU:-4}
MEM=${K8S_NODE_MEMORY:-8Gi}
NAMESPACES=${K8S_SEED_NAMESPACES:-default}
KUBECTL="$K8S_BIN/kubectl"

api() { # METHOD PATH CONTENT-TYPE [BODY]
  curl -fsS --cacert "$K8S_CA" -H "Authorization: Bearer $(cat "$K8S_TOKEN_FILE")" \
    -X "$1" -H "Content-Type: $3" ${4:+--data-binary "$4"} "$K8S_API$2"
}

zones=(zone-1 zone-1 zone-2 zone-2 zone-3 zone-3)
i=0
for n in $NODES; do
  zone=${zones[$((i % ${#zones[@]}))]}
  i=$((i + 1))
  "$KUBECTL" get node "$n" >/dev/null 2>&1 || "$KUBECTL" create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    volumes.kubernetes.io/controller-managed-attach-detach: "true"
  labels:
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    topology.kubernetes.io/region: region-1
    topology.kubernetes.io/zone: $zone
spec: {}
EOF
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  api PATCH "/api/v1/nodes/$n/status" application/merge-patch+json "$(cat <<EOF
{"status":{
  "capacity":{"cpu":"$CPU","memory":"$MEM","pods":"110","ephemeral-storage":"100Gi","hugepages-2Mi":"0"},
  "allocatable":{"cpu":"$CPU","memory":"$MEM","pods":"110","ephemeral-storage":"100Gi","hugepages-2Mi":"0"},
  "conditions":[
    {"type":"MemoryPressure","status":"False","reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available","lastHeartbeatTime":"$now","lastTransitionTime":"$now"},
    {"type":"DiskPressure","status":"False","reason":"KubeletHasNoDiskPressure","message":"kubelet has no disk pressure","lastHeartbeatTime":"$now","lastTransitionTime":"$now"},
    {"type":"PIDPressure","status":"False","reason":"KubeletHasSufficientPID","message":"kubelet has sufficient PID available","lastHeartbeatTime":"$now","lastTransitionTime":"$now"},
    {"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"$now","lastTransitionTime":"$now"}],
  "addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":"$n"}],
  "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
  "nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 12 (bookworm)","containerRuntimeVersion":"containerd://1.6.20","kubeletVersion":"v1.20.2","kubeProxyVersion":"v1.20.2","operatingSystem":"linux","architecture":"amd64"}
}}
EOF
)" >/dev/null
  # the TaintNodesByCondition admission plugin gives every new Node the
  # node.kubernetes.io/not-ready:NoSchedule taint; the node lifecycle controller
  # (not running here) would lift it once the node is Ready
  api PATCH "/api/v1/nodes/$n" application/merge-patch+json '{"spec":{"taints":null}}' >/dev/null
  echo "seed.sh: node $n ready ($zone, cpu=$CPU, memory=$MEM)" >&2
done

for ns in $NAMESPACES; do
  "$KUBECTL" get namespace "$ns" >/dev/null 2>&1 || "$KUBECTL" create namespace "$ns" >/dev/null
  "$KUBECTL" -n "$ns" get serviceaccount default >/dev/null 2>&1 ||
    "$KUBECTL" -n "$ns" create serviceaccount default >/dev/null
  if [ -z "$("$KUBECTL" -n "$ns" get serviceaccount default -o jsonpath='{.secrets[*].name}')" ]; then
    uid=$("$KUBECTL" -n "$ns" get serviceaccount default -o jsonpath='{.metadata.uid}')
    secret=default-token-$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'bcdfghjklmnpqrstvwxz2456789' | cut -c1-5)
    "$KUBECTL" -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: $secret
  annotations:
    kubernetes.io/service-account.name: default
    kubernetes.io/service-account.uid: $uid
EOF
    "$KUBECTL" -n "$ns" patch serviceaccount default --type merge \
      -p "{\"secrets\":[{\"name\":\"$secret\"}]}" >/dev/null
  fi
  echo "seed.sh: namespace $ns has ServiceAccount default with a token secret" >&2
done

for pc in low-priority:100 high-priority:1000; do
  "$KUBECTL" apply -f - >/dev/null <<EOF
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: ${pc%%:*}
value: ${pc##*:}
preemptionPolicy: PreemptLowerPriority
globalDefault: false
description: seeded for local scheduler tests
EOF
done
echo "seed.sh: PriorityClasses low-priority (100) and high-priority (1000)" >&2
"$KUBECTL" get nodes -o wide >&2
