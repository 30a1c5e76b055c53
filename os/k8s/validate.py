#!/usr/bin/env python3
"""Offline validation of the Kubernetes manifests in os/k8s (no API server needed).

1. Every resource is checked against the Kubernetes JSON schemas of the oldest and newest
   versions we support, strictly (unknown fields are errors), with the `kubernetes-validate`
   package (os/k8s/deps.sh installs it).
2. The manifests are checked against each other: what kustomization.yaml lists, one namespace,
   the StatefulSet's headless Service, selectors that match the pod labels, the ConfigMap, Secret
   and claim the pods name, the ports the probes and Services name, a key pair per replica, and
   bootnodes whose peer ids are those of the Secret's node keys (derived by the node itself:
   `cognitive-node key inspect-node-key`).
3. --self-test: broken copies of the manifests (a wrong type, an unknown field, a selector that
   matches no pod, a bootnode with another node's peer id) must each be rejected, so that a
   passing run means something.

Usage: os/k8s/validate.py [--node PATH] [--self-test]
       (PATH: the cognitive-node binary; default $NODE_BIN or $COGNITIVE_NODE)
Exit status 0 when everything holds; 1 with one line per problem otherwise.
"""

import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LIB = os.path.join(
    os.path.expanduser(os.environ.get("COGNITIVE_CACHE", "~/.cache/cognitive-internet")), "python", "k8s"
)
sys.path.insert(0, os.environ.get("K8S_VALIDATE_LIB", DEFAULT_LIB))
try:
    import kubernetes_validate  # noqa: E402
    import yaml  # noqa: E402
except ImportError as e:
    sys.exit(f"validate.py: {e.name} missing: run os/k8s/deps.sh")

# The Kubernetes versions the manifests must be valid for: the oldest still supported upstream
# when this was written, and the newest the schema package knows.
K8S_VERSIONS = ("1.31.0", "1.37.0")


def load(directory):
    """The kustomization and every resource it lists, as (file, document) pairs."""
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    docs = []
    for name in kustomization.get("resources", []):
        with open(os.path.join(directory, name)) as f:
            docs += [(name, d) for d in yaml.safe_load_all(f) if d is not None]
    return kustomization, docs


def schema_problems(docs):
    out = []
    for name, doc in docs:
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                out.append(f"{name}: {doc.get('kind')} {meta_name(doc)}: Kubernetes {version}: {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError:
                out.append(f"{name}: no Kubernetes {version} schema for {doc.get('apiVersion')} {doc.get('kind')}")
    return out


def meta_name(doc):
    return (doc.get("metadata") or {}).get("name", "?")


def peer_id(node_bin, secret_hex):
    """The libp2p peer id of a node key, as the node derives it."""
    with tempfile.NamedTemporaryFile("w", suffix=".key") as f:
        f.write(secret_hex)
        f.flush()
        r = subprocess.run([node_bin, "key", "inspect-node-key", "--file", f.name],
                           capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise ValueError(r.stderr.strip() or f"exit status {r.returncode}")
    return r.stdout.strip()


def consistency_problems(directory, kustomization, docs, node_bin):
    out = []
    files = sorted(f for f in os.listdir(directory) if f.endswith(".yaml") and f != "kustomization.yaml")
    if sorted(kustomization.get("resources", [])) != files:
        out.append(f"kustomization.yaml lists {sorted(kustomization.get('resources', []))}, the directory has {files}")
    namespace = kustomization.get("namespace")
    by_kind = {}
    for _, doc in docs:
        by_kind.setdefault(doc["kind"], {})[meta_name(doc)] = doc
        if doc["kind"] != "Namespace" and doc["metadata"].get("namespace") != namespace:
            out.append(f"{doc['kind']} {meta_name(doc)}: namespace {doc['metadata'].get('namespace')}, not {namespace}")
    if namespace not in by_kind.get("Namespace", {}):
        out.append(f"no Namespace {namespace}")

    sets = by_kind.get("StatefulSet", {})
    if len(sets) != 1:
        return out + [f"expected one StatefulSet, found {len(sets)}"]
    sts = next(iter(sets.values()))
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    labels = sts["spec"]["template"]["metadata"].get("labels", {})
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 1:
        return out + [f"StatefulSet: replicas {replicas!r} is not a positive integer"]

    def selects_pods(selector):
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    if not selects_pods(spec["selector"].get("matchLabels")):
        out.append("StatefulSet: its selector does not match its pod labels")
    if spec.get("podManagementPolicy") != "Parallel":
        out.append("StatefulSet: podManagementPolicy must be Parallel (pods are ready only with peers)")
    services = by_kind.get("Service", {})
    headless = services.get(spec.get("serviceName"))
    if headless is None:
        out.append(f"StatefulSet: serviceName {spec.get('serviceName')} names no Service")
    elif headless["spec"].get("clusterIP") != "None" or not headless["spec"].get("publishNotReadyAddresses"):
        out.append(f"Service {spec['serviceName']}: must be headless and publish not-ready addresses")
    for name, svc in services.items():
        if not selects_pods(svc["spec"].get("selector")):
            out.append(f"Service {name}: its selector matches no validator pod")
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        for name, doc in by_kind.get(kind, {}).items():
            sel = doc["spec"].get("selector") or doc["spec"].get("podSelector") or {}
            if not selects_pods(sel.get("matchLabels")):
                out.append(f"{kind} {name}: its selector matches no validator pod")

    container = pod["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    for name, svc in services.items():
        for p in svc["spec"]["ports"]:
            if p.get("targetPort") not in port_names:
                out.append(f"Service {name}: targetPort {p.get('targetPort')} is no container port name")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        handler = container.get(probe, {})
        port = (handler.get("tcpSocket") or handler.get("httpGet") or {}).get("port")
        if port not in port_names:
            out.append(f"{probe}: port {port} is no container port name")
    config_maps = by_kind.get("ConfigMap", {})
    for ref in container.get("envFrom", []):
        name = ref.get("configMapRef", {}).get("name")
        if name not in config_maps:
            out.append(f"envFrom: no ConfigMap {name}")
    claims = by_kind.get("PersistentVolumeClaim", {})
    secrets = by_kind.get("Secret", {})
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    volumes.update({t["metadata"]["name"]: {"template": t} for t in spec.get("volumeClaimTemplates", [])})
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volumes:
            out.append(f"volumeMount {mount['name']}: no such volume")
    for name, v in volumes.items():
        if "persistentVolumeClaim" in v and v["persistentVolumeClaim"]["claimName"] not in claims:
            out.append(f"volume {name}: no PersistentVolumeClaim {v['persistentVolumeClaim']['claimName']}")
        if "secret" in v and v["secret"]["secretName"] not in secrets:
            out.append(f"volume {name}: no Secret {v['secret']['secretName']}")
    if "data" not in volumes or "template" not in volumes["data"]:
        out.append("StatefulSet: /data must be a volumeClaimTemplate (each validator keeps its own chain and keys)")

    # Keys by ordinal and the bootnodes that follow from them.
    keys_secret = next((s for s in secrets.values()), None)
    chain = next(iter(config_maps.values()), {}).get("data", {})
    if keys_secret is None:
        return out + ["no Secret with the validators' keys"]
    keys = keys_secret.get("stringData", {})
    bootnodes = chain.get("BOOTNODES", "").split()
    if len(bootnodes) != replicas:
        out.append(f"BOOTNODES has {len(bootnodes)} entries for {replicas} replicas")
    p2p = port_names.get("p2p")
    for i in range(replicas):
        seed, node_key = keys.get(f"validator-{i}.seed"), keys.get(f"validator-{i}.node-key")
        if not seed or not node_key:
            out.append(f"Secret: no validator-{i}.seed / validator-{i}.node-key")
            continue
        if not re.fullmatch(r"[0-9a-f]{64}", node_key):
            out.append(f"Secret: validator-{i}.node-key is not 64 hex digits")
            continue
        if i >= len(bootnodes):
            continue
        host = f"{sts['metadata']['name']}-{i}.{spec.get('serviceName')}.{namespace}.svc.cluster.local"
        m = re.fullmatch(r"/dns/([^/]+)/tcp/(\d+)/p2p/(\w+)", bootnodes[i])
        if not m:
            out.append(f"BOOTNODES[{i}] is not /dns/<host>/tcp/<port>/p2p/<id>: {bootnodes[i]}")
            continue
        if m.group(1) != host or int(m.group(2)) != p2p:
            out.append(f"BOOTNODES[{i}]: {m.group(1)}:{m.group(2)}, expected {host}:{p2p}")
        if node_bin:
            try:
                expected = peer_id(node_bin, node_key)
            except (OSError, ValueError, subprocess.TimeoutExpired) as e:
                out.append(f"validator-{i}.node-key: the node could not derive its peer id: {e}")
                continue
            if m.group(3) != expected:
                out.append(f"BOOTNODES[{i}]: peer id {m.group(3)}, but validator-{i}'s node key gives {expected}")
    return out


def problems(directory, node_bin):
    kustomization, docs = load(directory)
    return schema_problems(docs) + consistency_problems(directory, kustomization, docs, node_bin)


def self_test(node_bin):
    """Each of these breakages must be caught; returns the ones that were not."""

    def edit(doc_kind, fn):
        def apply(docs):
            for _, d in docs:
                if d["kind"] == doc_kind:
                    fn(d)
        return apply

    def swap_peer_ids(d):
        nodes = d["data"]["BOOTNODES"].split()
        ids = [n.rsplit("/", 1)[1] for n in nodes]
        d["data"]["BOOTNODES"] = " ".join(n.rsplit("/", 1)[0] + "/" + ids[(i + 1) % len(ids)] for i, n in enumerate(nodes))

    cases = {
        "replicas of the wrong type": edit("StatefulSet", lambda d: d["spec"].__setitem__("replicas", "three")),
        "an unknown field": edit("Service", lambda d: d["spec"].__setitem__("clusterIp", "None")),
        "a Service selecting no pod": edit("Service", lambda d: d["spec"]["selector"].__setitem__("app.kubernetes.io/name", "other")),
        "ordered pod start-up": edit("StatefulSet", lambda d: d["spec"].__setitem__("podManagementPolicy", "OrderedReady")),
        "a probe on an unnamed port": edit("StatefulSet", lambda d: d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"].__setitem__("port", "http")),
    }
    if node_bin:
        cases["bootnodes with each other's peer ids"] = edit("ConfigMap", swap_peer_ids)
    missed = []
    for name, breakage in cases.items():
        kustomization, docs = load(HERE)
        docs = copy.deepcopy(docs)
        breakage(docs)
        found = schema_problems(docs) + consistency_problems(HERE, kustomization, docs, node_bin)
        print(f"validate.py: self-test: {name}: {'rejected (' + found[0] + ')' if found else 'NOT rejected'}")
        if not found:
            missed.append(name)
    return missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--node", default=os.environ.get("NODE_BIN") or os.environ.get("COGNITIVE_NODE"),
                    help="cognitive-node binary, to derive peer ids from node keys")
    ap.add_argument("--self-test", action="store_true", help="also check that broken manifests are rejected")
    args = ap.parse_args()
    if args.node and not os.access(args.node, os.X_OK):
        sys.exit(f"validate.py: {args.node} is not an executable")
    found = problems(HERE, args.node)
    for p in found:
        print(f"validate.py: {p}")
    _, docs = load(HERE)
    if not found:
        kinds = ", ".join(f"{d['kind']} {meta_name(d)}" for _, d in docs)
        peer_ids = "peer ids derived by the node" if args.node else "peer ids NOT checked (no --node)"
        print(f"validate.py: {len(docs)} resources valid for Kubernetes {' and '.join(K8S_VERSIONS)} "
              f"(strict schemas) and consistent, {peer_ids}: {kinds}")
    missed = self_test(args.node) if args.self_test else []
    if missed:
        print(f"validate.py: self-test: not rejected: {', '.join(missed)}")
    return 1 if found or missed else 0


if __name__ == "__main__":
    sys.exit(main())
