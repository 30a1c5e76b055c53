#!/usr/bin/env python3
"""Grafana dashboards for Cognitive Internet nodes, as code.

Writes two dashboards into this directory (or --out DIR):

- cognitive-node.json: one node (chosen with the `instance` variable): chain, inference engine,
  proof of inference, registry;
- cognitive-network.json: every scraped node side by side, one series per instance.

Plain JSON of Grafana's dashboard model (schemaVersion 39): nothing to install. Import the
files in any Grafana (Dashboards > New > Import) or provision them with provisioning.yml. Every
panel's query is checked by `promtool` in os/monitoring/check.sh (--queries prints them), and
docs/observability.md describes each panel.

    python3 os/monitoring/dashboards/generate.py [--out DIR] [--queries]
"""

import argparse
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# A node's series, on the node dashboard.
NODE = 'instance=~"$instance"'


class Board:
    """Panels laid out two to a row, 12 columns each, in the order they are added."""

    def __init__(self, uid, title, description, variables):
        self.uid, self.title, self.description = uid, title, description
        self.variables = variables
        self.panels = []
        self.y = 0
        self.x = 0

    def row(self, title):
        if self.x:
            self.y += 8
            self.x = 0
        self.panels.append({
            "type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
        })
        self.y += 1

    def panel(self, title, description, queries, unit="short", kind="timeseries"):
        """`queries`: (PromQL, legend) pairs."""
        panel = {
            "type": kind, "title": title, "description": description,
            "datasource": DATASOURCE,
            "gridPos": {"h": 8, "w": 12, "x": self.x, "y": self.y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [
                {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
                 "legendFormat": legend}
                for i, (expr, legend) in enumerate(queries)
            ],
        }
        if kind == "timeseries":
            panel["options"] = {"legend": {"displayMode": "list", "placement": "bottom"},
                                "tooltip": {"mode": "multi"}}
        else:
            panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
        self.panels.append(panel)
        self.x = 12 - self.x
        if self.x == 0:
            self.y += 8

    def json(self):
        for i, panel in enumerate(self.panels, start=1):
            panel["id"] = i
        return {
            "uid": self.uid, "title": self.title, "description": self.description,
            "tags": ["cognitive-internet"], "timezone": "browser", "editable": True,
            "schemaVersion": 39, "version": 1, "refresh": "10s",
            "time": {"from": "now-1h", "to": "now"},
            "templating": {"list": [{
                "name": "datasource", "label": "Prometheus", "type": "datasource",
                "query": "prometheus",
            }] + self.variables},
            "annotations": {"list": []},
            "panels": self.panels,
        }


def quantile(q, metric, selector, by):
    return (f"histogram_quantile({q}, sum by (le{', ' + by if by else ''}) "
            f"(rate({metric}_bucket{{{selector}}}[$__rate_interval])))")


def quantiles(metric, by, *named):
    """One query per (quantile, legend) of histogram `metric` on the dashboard's node."""
    return [(quantile(q, metric, NODE, by), legend) for q, legend in named]


def node_board():
    instance = {
        "name": "instance", "label": "Node", "type": "query", "datasource": DATASOURCE,
        "query": {"query": "label_values(substrate_block_height, instance)", "refId": "instance"},
        "definition": "label_values(substrate_block_height, instance)",
        "refresh": 2, "includeAll": False, "multi": False, "sort": 1,
    }
    b = Board("cognitive-node", "Cognitive Internet: node",
              "One node: its chain, inference engine, proof-of-inference work and registry entry.",
              [instance])
    b.row("Chain")
    b.panel("Block height", "Best and finalized block of this node.", [
        (f'substrate_block_height{{status="best", {NODE}}}', "best"),
        (f'substrate_block_height{{status="finalized", {NODE}}}', "finalized"),
    ])
    b.panel("Finality lag and peers",
            "Blocks between the best and the finalized head (GRANDPA keeps it at a few), and "
            "connected peers.", [
                (f'substrate_block_height{{status="best", {NODE}}} - ignoring(status) '
                 f'substrate_block_height{{status="finalized", {NODE}}}', "finality lag (blocks)"),
                (f"substrate_sub_libp2p_peers_count{{{NODE}}}", "peers"),
            ])
    b.row("Inference engine")
    b.panel("Requests by source and outcome",
            "Requests per second: source chain (on-chain jobs), rpc (JSON-RPC), http (OpenAI "
            "API); outcome ok, invalid, refused, cancelled, failed.", [
                (f"sum by (source, outcome) (rate(cognitive_inference_requests_total{{{NODE}}}"
                 f"[$__rate_interval]))", "{{source}} {{outcome}}"),
            ], unit="reqps")
    b.panel("Queues and workers",
            "Requests waiting per lane against the lane's capacity, and generations running.", [
                (f"cognitive_inference_queue_depth{{{NODE}}}", "waiting ({{lane}})"),
                (f"cognitive_inference_queue_capacity{{{NODE}}}", "capacity ({{lane}})"),
                (f"cognitive_inference_running{{{NODE}}}", "running"),
            ])
    b.panel("Generation speed",
            "Median and 10th percentile of the generation speed of answered requests, by lane.", [
                *quantiles("cognitive_inference_generation_tokens_per_second", "lane",
                           (0.5, "median ({{lane}})"), (0.1, "slowest 10% ({{lane}})")),
            ], unit="tokens/s")
    b.panel("Throughput",
            "Tokens per second through the engine, prompt and generated, all lanes.", [
                (f"sum by (kind) (rate(cognitive_inference_tokens_total{{{NODE}}}"
                 f"[$__rate_interval]))", "{{kind}}"),
            ], unit="tokens/s")
    b.panel("Time to first token",
            "Median and 95th percentile from queueing to the first generated token, by lane.", [
                *quantiles("cognitive_inference_time_to_first_token_seconds", "lane",
                           (0.5, "median ({{lane}})"), (0.95, "p95 ({{lane}})")),
            ], unit="s")
    b.panel("Prompt speed and queue wait",
            "Median prompt evaluation speed, and the 95th percentile of the wait for a worker.", [
                (quantile(0.5, "cognitive_inference_prompt_tokens_per_second", NODE, "lane"),
                 "prompt tokens/s ({{lane}})"),
                (quantile(0.95, "cognitive_inference_queue_wait_seconds", NODE, "lane"),
                 "p95 queue wait, s ({{lane}})"),
            ])
    b.panel("Model memory",
            "Bytes of models loaded in llama.cpp against the engine's budget.", [
                (f"cognitive_inference_models_loaded_bytes{{{NODE}}}", "loaded"),
                (f"cognitive_inference_memory_budget_bytes{{{NODE}}}", "budget"),
            ], unit="bytes")
    b.panel("Model loads",
            "95th percentile of the time to load a model file into llama.cpp, and models loaded.", [
                (quantile(0.95, "cognitive_inference_model_load_seconds", NODE, ""), "p95 load (s)"),
                (f"cognitive_inference_models_loaded{{{NODE}}}", "models loaded"),
            ])
    b.panel("Model store",
            "Free space on the model store's file system, and the bytes of its models.", [
                (f"cognitive_model_store_filesystem_free_bytes{{{NODE}}}", "free"),
                (f"cognitive_model_store_bytes{{{NODE}}}", "models"),
            ], unit="bytes")
    b.row("Model transfer")
    b.panel("Model bytes fetched and served",
            "Bytes per second of model blocks received from providers and sent to peers "
            "(IPFS bitswap).", [
                (f"rate(cognitive_model_transfer_fetched_bytes_total{{{NODE}}}[$__rate_interval])",
                 "fetched"),
                (f"rate(cognitive_model_transfer_served_bytes_total{{{NODE}}}[$__rate_interval])",
                 "served"),
            ], unit="Bps")
    b.panel("Provider failures and refused wants",
            "Per hour: what went wrong with providers (corrupt blocks, refusals, timeouts) and "
            "the wants this node could not serve.", [
                (f"sum by (kind) (increase(cognitive_model_transfer_peer_failures_total{{{NODE}}}"
                 f"[1h]))", "provider {{kind}}"),
                (f"sum by (reason) (increase(cognitive_model_transfer_refused_wants_total{{{NODE}}}"
                 f"[1h]))", "refused ({{reason}})"),
            ])
    b.row("Proof of inference")
    b.panel("This node's jobs",
            "Jobs assigned to the node, its commitments and reveals, per hour (finalized).", [
                (f"increase(cognitive_poi_jobs_assigned_total{{{NODE}}}[1h])", "assigned"),
                (f"increase(cognitive_poi_commits_total{{{NODE}}}[1h])", "committed"),
                (f"increase(cognitive_poi_reveals_total{{{NODE}}}[1h])", "revealed"),
            ])
    b.panel("Settled jobs by result",
            "The node's settled jobs per hour: agreed (paid with the majority), outvoted, missed "
            "(no reveal), failed (no majority).", [
                (f"sum by (result) (increase(cognitive_poi_jobs_settled_total{{{NODE}}}[1h]))",
                 "{{result}}"),
            ])
    b.panel("Settlement latency",
            "Blocks from submission to settlement of the node's jobs, median and p95.", [
                *quantiles("cognitive_poi_settlement_blocks", "", (0.5, "median"), (0.95, "p95")),
            ])
    b.panel("Slashes and disputes",
            "Slashes by reason and challenges by the node's role, per day.", [
                (f"sum by (reason) (increase(cognitive_poi_slashes_total{{{NODE}}}[1d]))",
                 "slashed ({{reason}})"),
                (f"sum by (role) (increase(cognitive_poi_disputes_total{{{NODE}}}[1d]))",
                 "challenged ({{role}})"),
            ])
    b.row("Registry")
    b.panel("Status on chain", "1 for the node's current registry status.", [
        (f"cognitive_registry_status{{{NODE}}} == 1", "{{status}}"),
    ], kind="stat")
    b.panel("Reputation", "The node's reputation score (0 to 1), as the chain decays it.", [
        (f"cognitive_registry_reputation{{{NODE}}}", "reputation"),
    ], unit="percentunit")
    b.panel("Heartbeat lag",
            "Heartbeat periods since the chain last saw the node alive (0 or 1 is healthy).", [
                (f"cognitive_registry_current_period{{{NODE}}} - "
                 f"cognitive_registry_last_alive_period{{{NODE}}}", "periods"),
            ])
    b.panel("Bond", "The node's bond, in plancks.", [
        (f"cognitive_registry_bond_plancks{{{NODE}}}", "bond"),
    ])
    return b


def network_board():
    b = Board("cognitive-network", "Cognitive Internet: network",
              "Every scraped node side by side: one series per instance.", [])
    b.row("Consensus")
    b.panel("Finalized height", "Each node's finalized block: lines that part are nodes "
            "that stopped following finality.", [
                ('substrate_block_height{status="finalized"}', "{{instance}}"),
            ])
    b.panel("Peers", "Each node's connected peers.", [
        ("substrate_sub_libp2p_peers_count", "{{instance}}"),
    ])
    b.row("Inference")
    b.panel("Generation speed", "Each node's median generation speed.", [
        (quantile(0.5, "cognitive_inference_generation_tokens_per_second", "", "instance"),
         "{{instance}}"),
    ], unit="tokens/s")
    b.panel("Queue depth", "Requests waiting for a worker on each node, both lanes.", [
        ("sum by (instance) (cognitive_inference_queue_depth)", "{{instance}}"),
    ])
    b.panel("Requests", "Requests per second each node answered, all sources.", [
        ('sum by (instance) (rate(cognitive_inference_requests_total{outcome="ok"}'
         '[$__rate_interval]))', "{{instance}}"),
    ], unit="reqps")
    b.panel("Network jobs", "Jobs submitted, completed and failed on the chain per hour (the "
            "highest count any node saw: every node sees every job).", [
                ("max by (event) (increase(cognitive_poi_network_jobs_total[1h]))", "{{event}}"),
            ])
    b.row("Proof of inference and registry")
    b.panel("Agreed jobs", "Jobs each node settled in the paid majority, per hour.", [
        ('sum by (instance) (increase(cognitive_poi_jobs_settled_total{result="agreed"}[1h]))',
         "{{instance}}"),
    ])
    b.panel("Missed and slashed", "Jobs each node missed, and its slashes, per day.", [
        ('sum by (instance) (increase(cognitive_poi_jobs_settled_total{result="missed"}[1d]))',
         "missed {{instance}}"),
        ("sum by (instance) (increase(cognitive_poi_slashes_total[1d]))", "slashed {{instance}}"),
    ])
    b.panel("Reputation", "Each node's reputation score.", [
        ("cognitive_registry_reputation", "{{instance}}"),
    ], unit="percentunit")
    b.panel("Active on chain", "1 where the registry counts the node active.", [
        ('cognitive_registry_status{status="active"}', "{{instance}}"),
    ])
    return b


def boards():
    return {"cognitive-node.json": node_board(), "cognitive-network.json": network_board()}


def queries(board):
    """Every (panel title, PromQL) of `board`."""
    return [(p["title"], t["expr"]) for p in board.panels for t in p.get("targets", [])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE)
    parser.add_argument("--queries", action="store_true",
                        help="print every panel's query as JSON lines instead of writing files")
    args = parser.parse_args()
    for name, board in boards().items():
        if args.queries:
            for title, expr in queries(board):
                print(json.dumps({"dashboard": name, "panel": title, "expr": expr}))
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(board.json(), indent=2, ensure_ascii=False) + "\n"
        (args.out / name).write_text(text)


if __name__ == "__main__":
    main()
