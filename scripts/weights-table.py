#!/usr/bin/env python3
"""Prints the measured weights of the six pallets as the Markdown table of docs/benchmarks.md.

Reads the `SubstrateWeight` implementation of each `pallets/<name>/src/weights.rs` (written by
scripts/bench-weights.sh) and shows, per call: base execution time plus its slope per component,
storage reads / writes (base + per component) and the estimated proof size.

    scripts/weights-table.py [pallet ...]     # default: all six
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PALLETS = ["reputation", "model-registry", "node-registry", "governance", "proof-of-inference", "validator-set"]


def measured_impl(text):
    """The body of `impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T>`."""
    start = text.index("WeightInfo for SubstrateWeight<T>")
    end = text.index("impl WeightInfo for ()", start)
    return text[start:end]


def num(text):
    return int(text.replace("_", ""))


def micros(picoseconds):
    return f"{picoseconds / 1e6:.1f} µs"


def terms(base, slopes, fmt):
    parts = [fmt(base)] if base or not slopes else []
    parts += [f"{fmt(v)}·{c}" for c, v in slopes]
    return " + ".join(parts) if parts else fmt(0)


def parse_fn(name, params, body):
    base = re.search(r"Weight::from_parts\(([\d_]+), ([\d_]+)\)", body)
    time, proof = num(base.group(1)), num(base.group(2))
    time_slopes, proof_slopes = [], []
    for t, p, c in re.findall(r"Weight::from_parts\(([\d_]+), ([\d_]+)\)\.saturating_mul\((\w+)\.into\(\)\)", body):
        if num(t):
            time_slopes.append((c, num(t)))
        if num(p):
            proof_slopes.append((c, num(p)))
    io = {}
    for kind in ("reads", "writes"):
        fixed = sum(num(v) for v in re.findall(rf"\.{kind}\(([\d_]+)_u64\)\)", body))
        per = [(c, num(v)) for v, c in re.findall(rf"\.{kind}\(\(([\d_]+)_u64\)\.saturating_mul\((\w+)\.into\(\)\)\)", body)]
        io[kind] = terms(fixed, per, str)
    comps = ", ".join(p.strip().lstrip("_").split(":")[0] for p in params.split(",") if p.strip())
    call = f"`{name}`" + (f" ({comps})" if comps else "")
    return (call, terms(time, time_slopes, micros), f"{io['reads']} / {io['writes']}",
            terms(proof, proof_slopes, lambda b: f"{b:,} B"))


def rows(pallet):
    text = measured_impl((ROOT / "pallets" / pallet / "src" / "weights.rs").read_text())
    for m in re.finditer(r"fn (\w+)\(([^)]*)\) -> Weight \{(.*?)\n\t\}", text, re.S):
        yield (pallet,) + parse_fn(*m.groups())


def main(pallets):
    print("| pallet | call (components) | time | reads / writes | proof |")
    print("|---|---|---|---|---|")
    for pallet in pallets:
        for row in rows(pallet):
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or PALLETS)
