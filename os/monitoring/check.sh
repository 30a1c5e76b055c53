#!/usr/bin/env bash
# Checks the monitoring configuration with Prometheus' own tools (run by scripts/test.sh):
#   1. the committed dashboards are what dashboards/generate.py makes (no hand edits, no drift);
#   2. every dashboard panel's query parses and type-checks: each is wrapped in a recording rule
#      for `promtool check rules` (Grafana's $instance and $__rate_interval filled in);
#   3. the alert rules load, and each alert's unit tests pass (`promtool test rules`);
#   4. every cognitive_* metric the rules and dashboards use is described in
#      docs/observability.md.
# Needs python3 and promtool (Debian's `prometheus` package; os/monitoring/deps.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 "$here/dashboards/generate.py" --out "$tmp/dashboards"
for made in "$tmp"/dashboards/*.json; do
	if ! diff -u "$here/dashboards/$(basename "$made")" "$made"; then
		echo "os/monitoring/dashboards/$(basename "$made") differs from what generate.py makes:" \
			"run python3 os/monitoring/dashboards/generate.py and commit the result" >&2
		exit 1
	fi
done
echo "dashboards: $(ls "$tmp"/dashboards/*.json | wc -l) files, as generated"

python3 "$here/dashboards/generate.py" --queries >"$tmp/queries.jsonl"
python3 - "$tmp/queries.jsonl" >"$tmp/panels.rules.yml" <<'PY'
import json, sys
print("groups:\n  - name: dashboard-panels\n    rules:")
for i, line in enumerate(open(sys.argv[1])):
    q = json.loads(line)
    expr = q["expr"].replace("$instance", ".+").replace("$__rate_interval", "1m")
    print(f"      # {q['dashboard']}: {q['panel']}")
    print(f"      - record: dashboard:panel_{i}")
    print(f"        expr: {json.dumps(expr)}")
PY
promtool check rules "$tmp/panels.rules.yml"
promtool check rules "$here/rules/cognitive-alerts.yml"
(cd "$here/rules" && promtool test rules cognitive-alerts.test.yml)

# Metric names (histograms by their base name) used in rules and panels, each documented.
used="$(cat "$tmp/queries.jsonl" "$here/rules/cognitive-alerts.yml" |
	grep -o 'cognitive_[a-z0-9_]*' | sed -E 's/_(bucket|sum|count)$//' | sort -u)"
missing=0
for name in $used; do
	if ! grep -q "\`$name\`" "$repo/docs/observability.md"; then
		echo "docs/observability.md does not describe \`$name\`" >&2
		missing=1
	fi
done
[ "$missing" -eq 0 ]
echo "monitoring: $(echo "$used" | wc -w) cognitive_* metrics used, all documented; rules and panels valid"
