#!/usr/bin/env python3
"""Print the IPFS CIDv1 and the sha256 of a model file, per docs/ARCHITECTURE "Model distribution".

Rules (kubo's `unixfs-v1-2025` profile): raw leaves, sha2-256, 1 MiB fixed-size chunks, at most
1024 links per dag-pb node (balanced layout), CIDv1, base32. A file of one chunk is the raw leaf
itself. Standard library only, so it runs on a bare machine:

    python3 scripts/model-cid.py path/to/model.gguf

`--chunk BYTES` and `--links N` change the chunk size and fan-out; the Rust DAG builder's tests
use small values to compare trees of several levels built from files of a few kilobytes. The
chain's CIDs use the defaults only.
"""
import base64
import hashlib
import sys

CHUNK = 1 << 20
MAX_LINKS = 1024
RAW, DAG_PB, SHA2_256 = 0x55, 0x70, 0x12


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num: int, wire: int, payload) -> bytes:
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def cid(codec: int, block: bytes) -> bytes:
    digest = hashlib.sha256(block).digest()
    return varint(1) + varint(codec) + bytes([SHA2_256, len(digest)]) + digest


def node(children):
    """children: list of (cid, file bytes below it, total encoded DAG size). Returns the same."""
    links = b"".join(
        field(2, 2, field(1, 2, c) + field(2, 2, b"") + field(3, 0, tsize))
        for c, _, tsize in children
    )
    filesize = sum(size for _, size, _ in children)
    unixfs = field(1, 0, 2) + field(3, 0, filesize)  # Type = File
    for _, size, _ in children:
        unixfs += field(4, 0, size)  # blocksizes
    block = links + field(1, 2, unixfs)
    return cid(DAG_PB, block), filesize, len(block) + sum(t for _, _, t in children)


def main(path: str, chunk_size: int = CHUNK, max_links: int = MAX_LINKS) -> None:
    sha = hashlib.sha256()
    level = []
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            sha.update(chunk)
            level.append((cid(RAW, chunk), len(chunk), len(chunk)))
    if not level:
        sys.exit("empty file")
    while len(level) > 1:
        level = [node(level[i : i + max_links]) for i in range(0, len(level), max_links)]
    root = level[0][0]
    print("cid", "b" + base64.b32encode(root).decode().lower().rstrip("="))
    print("sha256", sha.hexdigest())
    print("size", level[0][1])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="CIDv1 and sha256 of a model file")
    parser.add_argument("file")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="bytes per leaf (default 1 MiB)")
    parser.add_argument("--links", type=int, default=MAX_LINKS, help="links per node (default 1024)")
    args = parser.parse_args()
    if args.chunk < 1 or args.links < 2:
        sys.exit("--chunk must be at least 1 and --links at least 2")
    main(args.file, args.chunk, args.links)
