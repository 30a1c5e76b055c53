#!/usr/bin/env python3
"""Writes an OCI image layout (one layer) for os/build.sh.

Usage: oci-layout.py LAYER_TAR LAYER_TAR_GZ OUT_DIR SOURCE_DATE_EPOCH KEY

LAYER_TAR is the uncompressed root file system tar (its sha256 is the layer's diff_id),
LAYER_TAR_GZ the same compressed (the blob). Everything is content-addressed, so the same
inputs give byte-identical JSON.
"""
import datetime
import hashlib
import json
import os
import shutil
import sys


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main():
    layer_tar, layer_gz, out, epoch, key = sys.argv[1:6]
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    created = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    diff_id = sha256_file(layer_tar)
    gz_digest = sha256_file(layer_gz)
    # build.sh replaces this copy with a hard link to rootfs.tar.gz.
    shutil.copyfile(layer_gz, os.path.join(out, "blobs", "sha256", gz_digest))
    layer = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": f"sha256:{gz_digest}",
        "size": os.path.getsize(layer_gz),
    }
    # In a container there is no systemd: the node runs as PID 1 on the dev chain, with its data
    # in /data/cognitive-node (mount a volume there to keep it).
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": "900:900",
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Entrypoint": ["/usr/local/bin/cognitive-node"],
            "Cmd": ["--dev", "--base-path", "/data/cognitive-node", "--model-store",
                    "/data/cognitive-node/models", "--rpc-external", "--no-telemetry"],
            "ExposedPorts": {"30333/tcp": {}, "30433/tcp": {}, "9944/tcp": {}, "9615/tcp": {}},
            "Volumes": {"/data/cognitive-node": {}},
            "WorkingDir": "/",
            "Labels": {"org.opencontainers.image.title": "cognitive-os",
                       "org.opencontainers.image.revision": key},
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created": created, "created_by": "os/build.sh (mmdebstrap)"}],
    }
    cfg = write_blob(out, json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": cfg,
        "layers": [layer],
    }
    man = write_blob(out, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    man["annotations"] = {"org.opencontainers.image.ref.name": "cognitive-os:latest"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [man]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


if __name__ == "__main__":
    main()
