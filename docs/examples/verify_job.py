#!/usr/bin/env python3
"""Checks an on-chain inference job's result the way a client that trusts no single node would.

It reads the job from the chain's storage (`ProofOfInference.Jobs`, `Escrow` and `Audits`,
decoded with the runtime's own metadata by substrate-interface, so no layout is copied here),
fetches the output from the job's nodes
(`inference_jobResult` on each RPC URL given, first match wins), recomputes

    result_hash = blake2b-256(SCALE((job_id: u64, model_sha256: [u8; 32],
                                     prompt_tokens: Vec<u32>, output_tokens: Vec<u32>)))

and compares it with the hash the chain settled on (the audited hash if an audit overturned
the majority). It also says whether the job can still be challenged, and until which block.

    PYTHONPATH="$(bash docs/examples/deps.sh)" python3 docs/examples/verify_job.py \
        --chain ws://127.0.0.1:9944 --node http://127.0.0.1:9944 7

Prints one JSON object; exits 0 when the output matches the chain, 1 when it does not (or no
node served it, or the job has no agreed result), 2 on bad arguments or an unreachable chain.
"""
import argparse
import hashlib
import json
import struct
import sys
import urllib.request

from substrateinterface import SubstrateInterface


def compact(n):
    """SCALE compact encoding of a non-negative integer."""
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return struct.pack("<H", (n << 2) | 1)
    if n < 1 << 30:
        return struct.pack("<I", (n << 2) | 2)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "little")
    return bytes([((len(raw) - 4) << 2) | 3]) + raw


def token_vec(tokens):
    return compact(len(tokens)) + b"".join(struct.pack("<I", t) for t in tokens)


def result_hash(job_id, model_sha256, prompt_tokens, output_tokens):
    """The value the assignees committed to and revealed."""
    data = struct.pack("<Q", job_id) + model_sha256 + token_vec(prompt_tokens) + token_vec(output_tokens)
    return hashlib.blake2b(data, digest_size=32).digest()


def rpc(url, method, params):
    """One JSON-RPC call over HTTP; returns (result, error)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
    except (OSError, ValueError) as e:
        return None, str(e)
    return answer.get("result"), answer.get("error")


def agreed_hash(status):
    """The hash the chain stands by: the settled one, or the auditors' after an overturn."""
    if isinstance(status, dict):
        if "Completed" in status:
            return status["Completed"]["result_hash"]
        if "Overturned" in status:
            return status["Overturned"]["audited_hash"]
    return None


def unhex(text):
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("job_id", type=int)
    parser.add_argument("--chain", required=True, help="a node's WebSocket RPC URL, to read the chain")
    parser.add_argument("--node", action="append", default=[],
                        help="an HTTP RPC URL of a node that ran the job (repeat for several)")
    args = parser.parse_args(argv)
    try:
        substrate = SubstrateInterface(url=args.chain)
        head = substrate.get_chain_head()
        now = substrate.get_block_number(head)

        def storage(item):
            return substrate.query("ProofOfInference", item, [args.job_id], block_hash=head).value

        job, escrow, audit = storage("Jobs"), storage("Escrow"), storage("Audits")
    except Exception as e:  # the client library raises many kinds; all mean "no answer"
        print(json.dumps({"job_id": args.job_id, "error": f"reading the chain: {e}"}))
        return 2
    if job is None:
        print(json.dumps({"job_id": args.job_id, "error": "not on chain (never submitted, or pruned)"}))
        return 1
    status = job["status"]
    chain_hash = agreed_hash(status)
    # As the runtime API's `challengeable_until`: a completed job whose fee is still held in
    # escrow, not audited yet, before the escrow's end.
    open_window = (isinstance(status, dict) and "Completed" in status and audit is None
                   and escrow is not None and now < escrow)
    report = {
        "job_id": args.job_id,
        "status": status if isinstance(status, str) else next(iter(status)),
        "chain_hash": chain_hash,
        "computed_hash": None,
        "verified": False,
        "from": None,
        "text": None,
        "challengeable_until": escrow if open_window else None,
        "audit_verdict": (audit or {}).get("verdict"),
    }
    if chain_hash is not None:
        model = unhex(job["model_sha256"])
        for url in args.node:
            result, error = rpc(url, "inference_jobResult", [args.job_id])
            if error is not None or not result:
                continue
            computed = "0x" + result_hash(args.job_id, model, result["promptTokenIds"],
                                          result["outputTokenIds"]).hex()
            report["computed_hash"] = computed
            if computed == chain_hash:
                report["verified"] = True
                report["from"] = url
                report["text"] = result.get("text")
                break
    print(json.dumps(report))
    return 0 if report["verified"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
