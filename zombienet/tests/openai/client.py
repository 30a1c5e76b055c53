#!/usr/bin/env python3
"""Drives a node's OpenAI-compatible API with the official `openai` package, unmodified, and
checks each answer's receipt with PyNaCl (libsodium's ed25519, independent of the node's
ed25519-dalek). Prints one JSON object of findings for the calling test; exits non-zero on the
first failed check.

    python3 client.py http://127.0.0.1:PORT/v1 MODEL_NAME
"""
import hashlib
import json
import struct
import sys

import nacl.signing
import openai


def compact(n):
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return struct.pack("<H", (n << 2) | 1)
    if n < 1 << 30:
        return struct.pack("<I", (n << 2) | 2)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "little")
    return bytes([((len(raw) - 4) << 2) | 3]) + raw


def u32_vec(values):
    return compact(len(values)) + b"".join(struct.pack("<I", v) for v in values)


def unhex(text):
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def check_receipt(receipt):
    """The signature is the inference key's over the message, and the message commits to this
    answer's tokens (outputHash) and to the rendered prompt (requestHash, greedy only here)."""
    proof = receipt["proof"]
    message = unhex(proof["message"])
    nacl.signing.VerifyKey(unhex(proof["publicKey"])).verify(message, unhex(proof["signature"]))
    output_hash = hashlib.blake2b(
        u32_vec(receipt["promptTokenIds"]) + u32_vec(receipt["tokenIds"]), digest_size=32
    ).digest()
    assert output_hash == unhex(proof["outputHash"]), "outputHash covers the tokens"
    # The message layout (docs/rpc.md): context ‖ genesis ‖ block ‖ number ‖ model ‖ request ‖ output ‖ time.
    assert message[-8 - 32:-8] == output_hash, "the signed message holds outputHash"
    return proof["publicKey"]


def main(base_url, model):
    client = openai.OpenAI(base_url=base_url, api_key="unused")
    findings = {}

    listed = [m.id for m in client.models.list().data]
    assert model in listed, listed
    findings["models"] = listed

    raw = client.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0,
        max_tokens=16,
    )
    chat = raw.parse()
    answer = chat.choices[0].message.content
    assert answer, "a non-empty answer"
    assert chat.usage.completion_tokens > 0
    receipt = chat.model_extra["receipt"]
    key = check_receipt(receipt)
    assert receipt["text"] == answer
    header = raw.headers.get("x-cognitive-receipt", "")
    assert f"key={key}" in header and receipt["proof"]["signature"] in header, header
    findings["chat"] = answer

    # Streamed: the chunks add up to the answer of the same greedy request.
    chunks = list(client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0,
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    ))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == answer, (streamed, answer)
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finishing) == 1
    check_receipt(finishing[0].model_extra["receipt"])
    assert chunks[-1].usage.completion_tokens == chat.usage.completion_tokens
    findings["streamed_chunks"] = len(chunks)

    completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8, temperature=0)
    assert completion.choices[0].text
    check_receipt(completion.model_extra["receipt"])
    findings["completion"] = completion.choices[0].text

    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("an unknown model was served")
    except openai.NotFoundError as e:
        assert e.body["code"] == "model_not_found", e.body
        findings["unknown_model"] = e.status_code

    print(json.dumps(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
