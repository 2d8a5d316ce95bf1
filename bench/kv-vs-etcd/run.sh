#!/usr/bin/env bash
# Side-by-side KV benchmark: synod's Raft KV vs etcd 3.4, 3 nodes on loopback, fsync on.
#
#   bench/kv-vs-etcd/run.sh [--target etcd|synod|both] [--clients "1 8 32"] [--duration-s 10]
#       [--warmup-s 2] [--conns 1] [--kills 7] [--heartbeat-ms 100] [--election-ms 1000]
#       [--failover-timeout-ms 100] [--load-endpoints leader|all] [--base-port 23790]
#       [--out-dir DIR] [--check-perf] [--skip-install]
#
# For each target: start a 3-node cluster, run the load generator at each client count (each
# for --duration-s after --warmup-s), then --kills times: kill -9 the leader and time until a
# put through a client that knows all 3 endpoints succeeds; restart the member, wait for health.
# Prints a table and writes $OUT_DIR/results-<target>.json. See README.md.
# Environment: SYNOD_BIN (the synod binary; default target/release/synod), KV_LOADGEN (a
# prebuilt kv-loadgen: skip building it), CARGO_TARGET_DIR, BENCH_TMPDIR (data; /var/tmp).
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME with a '.' decimal point

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

TARGETS=etcd
CLIENTS="1 8 32"
DURATION=10
WARMUP=2
CONNS=1
KILLS=7
HEARTBEAT=100
ELECTION=1000
FO_TIMEOUT=100
LOAD_EPS=leader
BASE_PORT=23790
OUT_DIR="$HERE"
CHECK_PERF=0
INSTALL=1

die() { echo "run.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
        --target) TARGETS="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --duration-s) DURATION="$2"; shift 2 ;;
        --warmup-s) WARMUP="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --kills) KILLS="$2"; shift 2 ;;
        --heartbeat-ms) HEARTBEAT="$2"; shift 2 ;;
        --election-ms) ELECTION="$2"; shift 2 ;;
        --failover-timeout-ms) FO_TIMEOUT="$2"; shift 2 ;;
        --load-endpoints) LOAD_EPS="$2"; shift 2 ;;
        --base-port) BASE_PORT="$2"; shift 2 ;;
        --out-dir) OUT_DIR="$2"; shift 2 ;;
        --check-perf) CHECK_PERF=1; shift ;;
        --skip-install) INSTALL=0; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[ "$TARGETS" = both ] && TARGETS="etcd synod"
case "$LOAD_EPS" in all|leader) ;; *) die "--load-endpoints must be all or leader" ;; esac
[ "${BASH_VERSINFO[0]}" -ge 5 ] || die "needs bash >= 5 (for \$EPOCHREALTIME)"

# ---------------------------------------------------------------------------------------------
# Setup: packages and the load generator
# ---------------------------------------------------------------------------------------------
if [ "$INSTALL" = 1 ]; then
    need=()
    command -v etcd >/dev/null || need+=(etcd-server)
    command -v etcdctl >/dev/null || need+=(etcd-client)
    command -v protoc >/dev/null || need+=(protobuf-compiler) # etcd-client crate's build.rs
    command -v jq >/dev/null || need+=(jq)
    if [ ${#need[@]} -gt 0 ]; then
        echo "installing ${need[*]} ..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # policy-rc.d / no systemd: the package's own etcd service does not start here.
        apt-get install -y -qq "${need[@]}" >/dev/null
    fi
fi
for c in etcd etcdctl protoc jq; do command -v $c >/dev/null || die "missing $c"; done

if [ -n "${KV_LOADGEN:-}" ]; then
    # A prebuilt load generator (e.g. while the workspace crates it depends on are mid-edit).
    LOADGEN="$KV_LOADGEN"
    [ -x "$LOADGEN" ] || die "KV_LOADGEN=$LOADGEN is not an executable"
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HERE/loadgen/target}"
    echo "building the load generator (CARGO_TARGET_DIR=$CARGO_TARGET_DIR) ..." >&2
    cargo build --release --quiet --manifest-path "$HERE/loadgen/Cargo.toml"
    LOADGEN="$CARGO_TARGET_DIR/release/kv-loadgen"
fi

WORK="$(mktemp -d -p "${BENCH_TMPDIR:-/var/tmp}" kv-vs-etcd.XXXXXX)"
fstype="$(stat -f -c %T "$WORK")"
case "$fstype" in
    tmpfs|ramfs) echo "WARNING: $WORK is on $fstype: fsync is free there, numbers are not comparable" >&2 ;;
esac
mkdir -p "$OUT_DIR"

# Busy CPU ticks of the whole machine (all cores, everything but idle and iowait).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

# Sum of user+system CPU ticks (1/100 s) of the given pids.
cpu_ticks() {
    local t=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") ))
    done
    echo "$t"
}

# ---------------------------------------------------------------------------------------------
# Target hooks. Each target defines:
#   <t>_up                 start a 3-node cluster, wait until healthy
#   <t>_endpoints          comma-separated client endpoints (all 3)
#   <t>_endpoint I         endpoint of member I
#   <t>_leader             index (0..2) of the current leader
#   <t>_kill I             kill -9 member I (must be immediate: the kill instant is taken before)
#   <t>_restart I          restart member I on its old data, wait until the cluster is healthy
#   <t>_pids               pids of the running members (for CPU accounting)
#   <t>_down               stop everything, remove data
#   <t>_describe           one line: version, addresses, settings
#   <t>_load_endpoints M   the endpoints the load goes to for --load-endpoints M (leader|all)
#   <t>_lgargs             extra load generator flags (words)
#   <t>_conns_desc         how the load generator's clients connect, for the table header
# ---------------------------------------------------------------------------------------------

# ---- etcd -------------------------------------------------------------------------------------
ETCD_PIDS=()
etcd_cport() { echo $(( BASE_PORT + 2 * $1 )); }
etcd_pport() { echo $(( BASE_PORT + 2 * $1 + 1 )); }
etcd_endpoint() { echo "127.0.0.1:$(etcd_cport "$1")"; }
etcd_endpoints() { echo "$(etcd_endpoint 0),$(etcd_endpoint 1),$(etcd_endpoint 2)"; }
etcd_pids() { echo "${ETCD_PIDS[@]}"; }
etcd_lgargs() { :; }
etcd_conns_desc() { echo "$CONNS shared gRPC client connection(s)"; }
etcd_load_endpoints() {
    if [ "$1" = leader ]; then etcd_endpoint "$(etcd_leader)"; else etcd_endpoints; fi
}

etcd_start_member() {
    local i=$1 cluster="" j
    for j in 0 1 2; do cluster+="${cluster:+,}m$j=http://127.0.0.1:$(etcd_pport "$j")"; done
    # fsync stays on: etcd fsyncs its WAL on every commit unless --unsafe-no-fsync (not used).
    etcd --name "m$i" --data-dir "$WORK/etcd/m$i" \
        --listen-client-urls "http://127.0.0.1:$(etcd_cport "$i")" \
        --advertise-client-urls "http://127.0.0.1:$(etcd_cport "$i")" \
        --listen-peer-urls "http://127.0.0.1:$(etcd_pport "$i")" \
        --initial-advertise-peer-urls "http://127.0.0.1:$(etcd_pport "$i")" \
        --initial-cluster "$cluster" --initial-cluster-token "kv-bench-$$" \
        --initial-cluster-state new \
        --heartbeat-interval "$HEARTBEAT" --election-timeout "$ELECTION" \
        --logger zap --log-outputs stderr \
        >>"$WORK/etcd/m$i.log" 2>&1 &
    ETCD_PIDS[$i]=$!
    disown "$!" # no "Killed" job reports from bash on kill -9
}

# true while pid $1 runs (a zombie counts as gone)
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
wait_gone() {
    local n=0
    while alive "$1"; do
        n=$(( n + 1 )); [ $n -lt 100 ] || { kill -9 "$1" 2>/dev/null || true; }
        sleep 0.1
    done
}

etcd_wait_healthy() {
    local deadline=$(( SECONDS + 60 ))
    until etcdctl --endpoints="$(etcd_endpoints)" --dial-timeout=1s --command-timeout=2s \
            endpoint health >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "etcd not healthy after 60 s (logs in $WORK/etcd)"
        sleep 0.2
    done
}

etcd_up() {
    local p
    for p in $(seq "$BASE_PORT" $(( BASE_PORT + 5 ))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use (try --base-port)"; fi
    done
    mkdir -p "$WORK/etcd"
    etcd_start_member 0; etcd_start_member 1; etcd_start_member 2
    etcd_wait_healthy
}

etcd_leader() {
    # -w simple: endpoint, ID, version, db size, IS LEADER, is learner, term, index, ...
    local ep
    ep=$(etcdctl --endpoints="$(etcd_endpoints)" --command-timeout=2s endpoint status -w simple \
        | awk -F', ' '$5 == "true" {print $1}')
    local i
    for i in 0 1 2; do [ "$ep" = "$(etcd_endpoint "$i")" ] && { echo "$i"; return; }; done
    return 1
}

etcd_kill() { kill -9 "${ETCD_PIDS[$1]}"; }

etcd_restart() {
    wait_gone "${ETCD_PIDS[$1]}"
    etcd_start_member "$1" # --initial-cluster-state is ignored: the data dir exists
    etcd_wait_healthy
}

etcd_down() {
    local p
    for p in "${ETCD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${ETCD_PIDS[@]}"; do wait_gone "$p"; done
    ETCD_PIDS=()
}

etcd_describe() {
    echo "etcd $(etcd --version | awk '/etcd Version/ {print $3}'), 3 members on 127.0.0.1:$(etcd_cport 0)-$(etcd_pport 2), data on $fstype ($WORK), heartbeat ${HEARTBEAT} ms, election ${ELECTION} ms, fsync on"
}

# ---- synod ------------------------------------------------------------------------------------
# `synod cluster up --nodes 3` starts 3 replica processes (fsync on by default) on ports the OS
# hands out and writes $WORK/synod/cluster.toml; a killed replica is restarted with
# `synod node --config cluster.toml --id nI`, which recovers from its write-ahead log. The
# binary is copied first, so a rebuild of target/release/synod mid-run does not change it.
# Leader and health checks go through the load generator (`kv-loadgen leader|healthy`), which
# speaks synod's client protocol.
SYNOD_BIN="${SYNOD_BIN:-$HERE/../../target/release/synod}"
SYNOD_DIR=""
SYNOD_CLUSTER=""
SYNOD_ADDRS=()
SYNOD_PIDS=()
synod_endpoint() { echo "${SYNOD_ADDRS[$1]}"; }
synod_endpoints() { echo "${SYNOD_ADDRS[0]},${SYNOD_ADDRS[1]},${SYNOD_ADDRS[2]}"; }
synod_pids() { echo "${SYNOD_PIDS[@]}"; }
synod_lgargs() { echo --cluster-id "$SYNOD_CLUSTER"; }
synod_conns_desc() { echo "one client (own connection per server) per client task, as synod's client protocol has one outstanding request per connection"; }
# All 3, in id order, for either mode: synod's client sends every put to the leader (after one
# redirect; followers redirect, they do not forward), so 'all' is 'leader' here, and the
# client can follow a leader change.
synod_load_endpoints() { synod_endpoints; }
# kv-loadgen COMMAND for the synod cluster
synod_lg() { "$LOADGEN" "$1" --target synod --cluster-id "$SYNOD_CLUSTER" --endpoints "$(synod_endpoints)" "${@:2}"; }

synod_up() {
    [ -x "$SYNOD_BIN" ] || die "no synod binary at $SYNOD_BIN (cargo build --release -p synod, or set SYNOD_BIN)"
    SYNOD_DIR="$WORK/synod"
    mkdir -p "$SYNOD_DIR"
    cp "$SYNOD_BIN" "$WORK/synod-bin"
    "$WORK/synod-bin" cluster up --nodes 3 --dir "$SYNOD_DIR" \
        --heartbeat-ms "$HEARTBEAT" --election-ms "$ELECTION" >"$SYNOD_DIR/up.out" 2>&1 \
        || { cat "$SYNOD_DIR/up.out" >&2; die "synod cluster up failed"; }
    local f="$SYNOD_DIR/cluster.toml"
    # cluster = N; [[node]] tables with id, addr = "IP:PORT", data, pid
    SYNOD_CLUSTER=$(awk -F' *= *' '$1 == "cluster" {print $2}' "$f")
    mapfile -t SYNOD_ADDRS < <(awk -F' *= *' '$1 == "addr" {gsub(/"/, "", $2); print $2}' "$f")
    mapfile -t SYNOD_PIDS < <(awk -F' *= *' '$1 == "pid" {print $2}' "$f")
    [ -n "$SYNOD_CLUSTER" ] && [ ${#SYNOD_ADDRS[@]} = 3 ] && [ ${#SYNOD_PIDS[@]} = 3 ] \
        || die "cannot read $f"
    grep -q '^fsync = true' "$f" || die "synod cluster runs without fsync ($f)"
    synod_lg healthy --within-s 60 2>/dev/null || die "synod not healthy after 60 s (logs in $SYNOD_DIR)"
}

synod_leader() { synod_lg leader --within-s 10; }

synod_kill() { kill -9 "${SYNOD_PIDS[$1]}"; }

synod_restart() {
    wait_gone "${SYNOD_PIDS[$1]}"
    "$WORK/synod-bin" node --config "$SYNOD_DIR/cluster.toml" --id "n$1" \
        </dev/null >>"$SYNOD_DIR/n$1.log" 2>&1 &
    SYNOD_PIDS[$1]=$!
    disown "$!"
    # healthy: all 3 answer, a leader answers a read, all have applied what it had
    synod_lg healthy --within-s 60 2>/dev/null || die "synod not healthy 60 s after restarting n$1 (logs in $SYNOD_DIR)"
}

synod_down() {
    # Not `synod cluster down`: cluster.toml still holds the pids of killed-and-restarted
    # members' first incarnations.
    local p
    for p in "${SYNOD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${SYNOD_PIDS[@]}"; do wait_gone "$p"; done
    SYNOD_PIDS=()
}

synod_describe() {
    echo "synod $("$WORK/synod-bin" --version | awk '{print $2}') Raft KV, 3 replicas on $(synod_endpoints), data on $fstype ($WORK), heartbeat ${HEARTBEAT} ms, election ${ELECTION} ms, fsync on"
}

# ---------------------------------------------------------------------------------------------
# The benchmark, identical for every target
# ---------------------------------------------------------------------------------------------
CURRENT=""
cleanup() {
    [ -n "$CURRENT" ] && "${CURRENT}_down" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# nearest-rank percentile P (0-100) of the numbers on stdin
percentile() { sort -g | awk -v p="$1" '{a[NR]=$1} END {r=int((p/100)*NR); if (r<(p/100)*NR) r++; if (r<1) r=1; if (NR) print a[r]}'; }

bench_target() {
    local T=$1 log="$OUT_DIR/run-$1.log" eps c
    : >"$log"
    CURRENT=$T
    echo "== $T: starting the cluster" >&2
    "${T}_up"
    local desc; desc="$(${T}_describe)"
    echo "== $desc" >&2

    local loads=() line pids t0 t1 m0 m1 cpu mcpu
    for c in $CLIENTS; do
        eps="$(${T}_load_endpoints "$LOAD_EPS")"
        pids=$(${T}_pids)
        t0=$(cpu_ticks $pids); m0=$(machine_ticks)
        # shellcheck disable=SC2086,SC2046
        line=$("$LOADGEN" load --target "$T" $(${T}_lgargs) --endpoints "$eps" --clients "$c" --conns "$CONNS" \
            --duration-s "$DURATION" --warmup-s "$WARMUP" 2> >(tee -a "$log" >&2))
        t1=$(cpu_ticks $pids); m1=$(machine_ticks)
        # server and whole-machine CPU over warm-up + measured window, in % of one core
        cpu=$(awk -v d=$(( t1 - t0 )) -v s="$(( DURATION + WARMUP ))" 'BEGIN {printf "%.0f", d / s}')
        mcpu=$(awk -v d=$(( m1 - m0 )) -v s="$(( DURATION + WARMUP ))" 'BEGIN {printf "%.0f", d / s}')
        loads+=("$(jq -c --argjson cpu "$cpu" --argjson m "$mcpu" \
            '. + {server_cpu_pct_of_one_core: $cpu, machine_cpu_pct_of_one_core: $m}' <<<"$line")")
    done

    local fos=() ms=() k leader tkill res
    for k in $(seq 1 "$KILLS"); do
        # shellcheck disable=SC2046
        coproc LG { "$LOADGEN" failover --target "$T" $(${T}_lgargs) --endpoints "$(${T}_endpoints)" \
            --timeout-ms "$FO_TIMEOUT" 2>>"$log"; }
        local lg_pid=$LG_PID lg_out=${LG[0]} lg_in=${LG[1]}
        read -r -t 60 line <&"$lg_out" || die "failover client did not get ready"
        [ "$line" = READY ] || die "failover client said '$line'"
        sleep 0.5 # steady puts flowing before the kill
        leader=$(${T}_leader) || die "$T: no leader found"
        tkill=$EPOCHREALTIME
        "${T}_kill" "$leader"
        echo "$tkill" >&"$lg_in"
        read -r -t 60 res <&"$lg_out" || die "failover client gave no result (see $log)"
        wait "$lg_pid" || true
        res=$(jq -c --argjson l "$leader" '. + {killed_member: $l}' <<<"$res")
        fos+=("$res")
        ms+=("$(jq .failover_ms <<<"$res")")
        printf '%s failover %d/%d: killed member %d, put ok after %.0f ms\n' \
            "$T" "$k" "$KILLS" "$leader" "${ms[-1]}" | tee -a "$log" >&2
        "${T}_restart" "$leader"
        sleep 1 # let the restarted member catch up before the next round
    done
    local med p90
    med=$(printf '%s\n' "${ms[@]}" | percentile 50)
    p90=$(printf '%s\n' "${ms[@]}" | percentile 90)
    [ -n "$med" ] || med=null
    [ -n "$p90" ] || p90=null

    if [ "$CHECK_PERF" = 1 ] && [ "$T" = etcd ]; then
        echo "== etcdctl check perf (load s)" >&2
        etcdctl --endpoints="$(etcd_endpoints)" check perf --load=s 2>&1 | tee -a "$log" >&2 || true
    fi
    "${T}_down"
    CURRENT=""

    local json="$OUT_DIR/results-$T.json"
    {
        printf '{"target":"%s","setup":%s,"settings":{"clients":"%s","conns":%s,"duration_s":%s,"warmup_s":%s,"heartbeat_ms":%s,"election_ms":%s,"failover_request_timeout_ms":%s,"load_endpoints":"%s","kills":%s},' \
            "$T" "$(jq -Rn --arg d "$desc" '$d')" "$CLIENTS" "$CONNS" "$DURATION" "$WARMUP" "$HEARTBEAT" "$ELECTION" "$FO_TIMEOUT" "$LOAD_EPS" "$KILLS"
        printf '"machine":{"cores":%s,"kernel":"%s"},' "$(nproc)" "$(uname -r)"
        printf '"load":[%s],' "$(IFS=,; echo "${loads[*]}")"
        printf '"failover":[%s],' "$(IFS=,; echo "${fos[*]}")"
        printf '"failover_summary":{"kills":%s,"median_ms":%s,"p90_ms":%s}}\n' "$KILLS" "$med" "$p90"
    } | jq . >"$json"

    {
        echo
        echo "## $desc"
        echo "load generator: $(${T}_conns_desc), puts of 64-256 B values over 1000 keys, ${WARMUP} s warm-up + ${DURATION} s measured, endpoints: $LOAD_EPS"
        echo "cpu columns: % of one core (the machine has $(nproc) cores: $(( 100 * $(nproc) ))% = all busy); 'all cpu%' includes other processes on the machine"
        printf '%-8s %8s %10s %9s %9s %9s %7s %9s %8s %9s\n' target clients "puts/s" "p50 ms" "p99 ms" "max ms" errors "srv cpu%" "lg cpu%" "all cpu%"
        local l
        for l in "${loads[@]}"; do
            jq -r --arg t "$T" '[$t, .clients, (.throughput_ops_s|floor), (.p50_ms*100|round/100), (.p99_ms*100|round/100), (.max_ms*100|round/100), .errors, .server_cpu_pct_of_one_core, (.loadgen_cpu_pct_of_one_core|floor), .machine_cpu_pct_of_one_core] | @tsv' <<<"$l" \
                | awk -F'\t' '{printf "%-8s %8s %10s %9s %9s %9s %7s %9s %8s %9s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10}'
        done
        [ "$KILLS" -gt 0 ] && printf 'failover (kill -9 leader -> first put ok, %s kills, %s ms request timeout): median %.0f ms, p90 %.0f ms; all: %s\n' \
            "$KILLS" "$FO_TIMEOUT" "$med" "$p90" "$(printf '%.0f ' "${ms[@]}")"
        echo "raw JSON: $json"
    } | tee -a "$log"
}

for T in $TARGETS; do
    case "$T" in etcd|synod) ;; *) die "unknown target '$T'" ;; esac
    bench_target "$T"
done
