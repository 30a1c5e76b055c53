// Per-node model stores for a network in which the nodes do not all start with the same models
// (network/model-distribution.toml): Alice gets every model of the shared store, Bob and
// Charlie only the genesis model, SmolLM2, so whatever else they run they must fetch.
//
//   node lib/stores.cjs DIR   # fills DIR/alice, DIR/bob, DIR/charlie; prints them as KEY=VALUE
//
// Model files are hard-linked from the shared store ($COGNITIVE_MODEL_STORE, else the node's
// default), or copied where a link cannot be made; their small sidecars are copied, so a node
// that deletes or replaces a model touches only its own store.
'use strict';

const fs = require('node:fs');
const { join } = require('node:path');
const { homedir } = require('node:os');
const { SMOLLM2 } = require('./chain.cjs');

const SHARED = process.env.COGNITIVE_MODEL_STORE || join(homedir(), '.local', 'share', 'cognitive-internet', 'models');

/** Puts the model `sha` (hex, no 0x) of the shared store into `dir`. */
function place(sha, dir) {
  const gguf = `${sha}.gguf`;
  try {
    fs.linkSync(join(SHARED, gguf), join(dir, gguf));
  } catch (e) {
    if (e.code !== 'EXDEV' && e.code !== 'EPERM') throw e;
    fs.copyFileSync(join(SHARED, gguf), join(dir, gguf));
  }
  for (const sidecar of [`${sha}.json`, `${sha}.dag`]) {
    if (fs.existsSync(join(SHARED, sidecar))) fs.copyFileSync(join(SHARED, sidecar), join(dir, sidecar));
  }
}

function prepare(root) {
  const all = fs.readdirSync(SHARED).filter((f) => /^[0-9a-f]{64}\.gguf$/.test(f)).map((f) => f.slice(0, 64));
  const genesis = SMOLLM2.slice(2);
  if (!all.includes(genesis)) throw new Error(`${SHARED} lacks SmolLM2 (${genesis}): run scripts/install-models.sh`);
  const stores = { alice: all, bob: [genesis], charlie: [genesis] };
  const dirs = {};
  for (const [name, models] of Object.entries(stores)) {
    const dir = join(root, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const sha of models) place(sha, dir);
    dirs[name] = dir;
  }
  return dirs;
}

if (require.main === module) {
  const root = process.argv[2];
  if (!root) {
    console.error('usage: node lib/stores.cjs DIR');
    process.exit(2);
  }
  for (const [name, dir] of Object.entries(prepare(root))) {
    console.log(`ZOMBIE_STORE_${name.toUpperCase()}=${dir}`);
  }
}

module.exports = { prepare };
