#!/usr/bin/env bash
# The monitoring stack for the local network, in one command: Prometheus (Debian's package) on
# 127.0.0.1, scraping the three validators of scripts/local-testnet.sh with the alert rules of
# os/monitoring/rules loaded; the Grafana dashboards of os/monitoring/dashboards are ready to
# import into any Grafana (Dashboards > New > Import, data source: this Prometheus).
#
#   ./scripts/monitoring.sh                 # scrape 127.0.0.1:9615, 9616, 9617
#   MONITORING_TARGETS="10.0.0.2:9615 10.0.0.3:9615" ./scripts/monitoring.sh
#   MONITORING_PORT=9091 ./scripts/monitoring.sh
#
# Prometheus' data lives in a temporary directory removed on exit (MONITORING_DIR keeps it);
# Ctrl-C stops it. Prints the targets' health and the firing alerts once the first scrapes are in.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

command -v prometheus >/dev/null || as_root bash os/monitoring/deps.sh
port="${MONITORING_PORT:-9090}"
read -r -a targets <<<"${MONITORING_TARGETS:-127.0.0.1:9615 127.0.0.1:9616 127.0.0.1:9617}"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "port $port on 127.0.0.1 is in use (another Prometheus?); set MONITORING_PORT" >&2
	exit 1
fi
if [ -n "${MONITORING_DIR:-}" ]; then
	dir="$MONITORING_DIR"
	mkdir -p "$dir"
else
	dir="$(mktemp -d -t cognitive-monitoring-XXXXXX)"
	trap 'rm -rf "$dir"' EXIT
fi

{
	echo "# Written by scripts/monitoring.sh."
	echo "global: { scrape_interval: 5s, scrape_timeout: 4s, evaluation_interval: 15s }"
	echo "rule_files: [\"$REPO_ROOT/os/monitoring/rules/cognitive-alerts.yml\"]"
	echo "scrape_configs:"
	echo "  - job_name: cognitive-node"
	echo "    static_configs:"
	for target in "${targets[@]}"; do
		echo "      - targets: [\"$target\"]"
	done
} >"$dir/prometheus.yml"
promtool check config "$dir/prometheus.yml" >/dev/null

prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
	--web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
pid=$!
stop() {
	kill "$pid" 2>/dev/null || true
	# Prometheus writes its data until it has exited: remove the directory only then.
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "${MONITORING_DIR:-}" ] || rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

api="http://127.0.0.1:$port/api/v1"
until curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null; do
	kill -0 "$pid" 2>/dev/null || { cat "$dir/prometheus.log" >&2; exit 1; }
	sleep 1
done
sleep 12 # two scrapes
echo "Prometheus: http://127.0.0.1:$port (config $dir/prometheus.yml)"
python3 - "$api" <<'PY'
import json, sys, urllib.request
api = sys.argv[1]
get = lambda path: json.load(urllib.request.urlopen(f"{api}/{path}"))["data"]
for t in get("targets")["activeTargets"]:
    print(f"  target {t['scrapeUrl']}: {t['health']} {t.get('lastError', '')}")
alerts = get("alerts")["alerts"]
print(f"  alerts firing or pending: {len(alerts)}")
for a in alerts:
    print(f"    {a['state']}: {a['labels']['alertname']} on {a['labels'].get('instance', '?')}")
PY
echo "Dashboards to import into Grafana: $REPO_ROOT/os/monitoring/dashboards/*.json"
echo "Press Ctrl-C to stop."
wait "$pid"
