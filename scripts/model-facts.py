#!/usr/bin/env python3
"""Prints facts of the network's models from runtime/models.json, the one source the runtime's
genesis presets compile in and the tests read.

Usage:
  model-facts.py KEY FIELD     one field of model KEY (e.g. `smollm2 sha256`, `gemma name`);
                               a nested field with dots (`smollm2 profile.nCtx`)
  model-facts.py keys          the model keys, one per line
"""
import json
import pathlib
import sys

MODELS = pathlib.Path(__file__).resolve().parent.parent / "runtime" / "models.json"


def main(argv):
    models = json.loads(MODELS.read_text())["models"]
    if argv == ["keys"]:
        print("\n".join(m["key"] for m in models))
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    key, field = argv
    model = next((m for m in models if m["key"] == key), None)
    if model is None:
        print(f"no model {key!r} in {MODELS}", file=sys.stderr)
        return 1
    value = model
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            print(f"model {key!r} has no field {field!r}", file=sys.stderr)
            return 1
        value = value[part]
    print("\n".join(value) if isinstance(value, list) else value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
