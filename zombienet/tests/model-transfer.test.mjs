// Model distribution between two real nodes of the dev chain: a node with an empty model store
// fetches the whitelisted genesis model by itself, over IPFS bitswap, from the registered node
// that has it and publishes its model endpoint — by the CID and sha256 of the whitelist entry —
// and reports the transfer's progress over RPC.
//
// Cast: node A (`--dev`, Alice's dev keys, the default model store with SmolLM2) runs Alice's
// inference node (registered at genesis), whose operator publishes A's model-transfer endpoint
// with `nodeRegistry.setEndpoints`; its off-chain worker reports the model ready. Node B joins the same chain with an empty store and
// `--fetch-whitelisted-models`.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/api';
import { startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';
import chain from '../lib/chain.cjs';

const SMOLLM2 = chain.modelFacts('smollm2');
const nodes = [];

after(async () => {
  for (const n of nodes) await n.stop();
});

test('a node with an empty store fetches the whitelisted model from a registered provider over bitswap', { timeout: 420_000 }, async () => {
  const a = await startNode(['--dev', '--tmp', '--model-p2p-port', '0', '--model-p2p-listen', '127.0.0.1'], { name: 'provider' });
  nodes.push(a);
  const api = await a.api();
  const info = (await chain.rpc(a.wsUrl, 'inference_nodeInfo')).result;
  const endpoint = info.modelEndpoints[0];
  assert.match(endpoint, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);

  // Alice's node (inference key //Alice, in A's keystore, serving model 0 since genesis)
  // publishes the model endpoint; A's off-chain worker reports the model ready.
  const alice = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice');
  const { events } = await submit(api.tx.nodeRegistry.setEndpoints([endpoint]), alice);
  assert.equal(dispatchErrorName(api, events), null, 'setEndpoints');
  assert.deepEqual((await api.query.nodeRegistry.nodes(alice.address)).unwrap().endpoints.map((e) => e.toUtf8()), [endpoint]);
  await chain.waitReady(api, alice.address, 0, 180_000);

  // B: the same chain, no keys, an empty store, opted in to every whitelisted model.
  const peerId = (await chain.rpc(a.wsUrl, 'system_localPeerId')).result;
  const listen = (await chain.rpc(a.wsUrl, 'system_localListenAddresses')).result
    .find((addr) => addr.startsWith('/ip4/127.0.0.1/'));
  assert.ok(listen, 'A listens on loopback');
  const store = mkdtempSync(join(tmpdir(), 'model-transfer-e2e-'));
  const b = await startNode(['--chain', 'dev', '--tmp', '--bootnodes', listen.includes('/p2p/') ? listen : `${listen}/p2p/${peerId}`,
    '--model-store', store, '--model-p2p-port', '0', '--model-p2p-listen', '127.0.0.1',
    '--fetch-whitelisted-models', '--no-inference-rpc'], { name: 'fetcher' });
  nodes.push(b);

  // Progress over RPC, until the fetch is done.
  const states = new Set();
  const done = await chain.until('B to fetch the model', async () => {
    const transfers = (await chain.rpc(b.wsUrl, 'inference_modelTransfers')).result;
    const t = transfers.find((x) => x.cid === SMOLLM2.cid);
    if (!t) return null;
    states.add(t.state);
    assert.notEqual(t.state, 'failed', `the fetch failed: ${t.error}`);
    return t.state === 'done' ? t : null;
  }, 240_000, 500);
  assert.equal(done.sizeBytes, SMOLLM2.sizeBytes);
  assert.equal(done.bytesDone, SMOLLM2.sizeBytes);
  assert.equal(done.name, SMOLLM2.name);

  // The model is in B's store under the chain's sha256 and CID, and B serves it in turn.
  const sha = SMOLLM2.sha256.replace(/^0x/, '');
  const bytes = readFileSync(join(store, `${sha}.gguf`));
  assert.equal(createHash('sha256').update(bytes).digest('hex'), sha);
  const models = (await chain.rpc(b.wsUrl, 'inference_models')).result;
  const stored = models.find((m) => m.sha256 === `0x${sha}`);
  assert.ok(stored, `B lists the model: ${JSON.stringify(models)}`);
  assert.equal(stored.cid, SMOLLM2.cid);
  const bInfo = (await chain.rpc(b.wsUrl, 'inference_nodeInfo')).result;
  assert.equal(bInfo.modelEndpoints.length, 1);
});
