// Requests balanced across the network through the OpenAI API: three real nodes of the dev
// chain on this machine. A, Alice's authority node, runs with an empty model store: it serves
// the API but not the model. B and C join the chain as Bob's and Charlie's inference nodes
// (registered here with Polkadot.js, their inference keys in their keystores), each with the
// model, one public worker and a public queue of one, and publish their OpenAI endpoint in the
// registry (`/ip4/127.0.0.1/tcp/PORT/http`). What the gateway knows of them comes from the
// chain (active, ready for the model, endpoint, reputation, ratings) and from their
// `GET /v1/status`.
//
// Checked: A's requests are answered by B or C, named in `x-cognitive-worker` and by the
// receipt's key, streamed or not; a saturated B sheds a request to C, and a request that has
// already been forwarded twice is not forwarded again; when the peer that answered is killed,
// the next request goes to the other one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Keyring } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { freePort, startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';

const require = createRequire(import.meta.url);
const chain = require('../lib/chain.cjs');
const { checkGenerateResult } = require('../lib/proof.cjs');

const MODEL = chain.modelFacts('smollm2').name;
const DEADLINE = { timeout: 300_000 };
/** The test's own requests all come from 127.0.0.1: room for them on every node. */
const LIMITS = ['--inference-rpc-max-per-ip', '16', '--inference-rpc-rate-per-ip', '1000'];

const sr = new Keyring({ type: 'sr25519', ss58Format: 42 });
const ed = new Keyring({ type: 'ed25519', ss58Format: 42 });
const nodes = {};
/** Per peer: its operator's account (`0x` hex, as `x-cognitive-worker` names it) and inference key. */
const peers = {};
let api;

before(async () => {
  const empty = mkdtempSync(join(tmpdir(), 'balance-e2e-'));
  const port = { a: await freePort(), b: await freePort(), c: await freePort() };
  nodes.a = await startNode(['--dev', '--tmp', '--model-store', empty, '--openai-port', String(port.a), ...LIMITS], { name: 'gateway' });
  nodes.a.openai = `http://127.0.0.1:${port.a}/v1`;
  api = await nodes.a.api();
  const peerId = (await chain.rpc(nodes.a.wsUrl, 'system_localPeerId')).result;
  const listen = (await chain.rpc(nodes.a.wsUrl, 'system_localListenAddresses')).result
    .find((addr) => addr.startsWith('/ip4/127.0.0.1/'));
  const bootnode = listen.includes('/p2p/') ? listen : `${listen}/p2p/${peerId}`;

  for (const [name, seed] of [['b', '//Bob'], ['c', '//Charlie']]) {
    // `--validator`: not an authority of the dev chain, but its off-chain worker heartbeats.
    const node = await startNode(['--chain', 'dev', '--tmp', '--validator', '--unsafe-force-node-key-generation', '--bootnodes', bootnode,
      '--openai-port', String(port[name]), '--inference-threads', '1', '--inference-queue', '1', ...LIMITS], { name: `peer-${name}` });
    node.openai = `http://127.0.0.1:${port[name]}/v1`;
    nodes[name] = node;
    const key = ed.addFromUri(seed);
    const { error } = await chain.rpc(node.wsUrl, 'author_insertKey', ['infr', seed, u8aToHex(key.publicKey)]);
    assert.equal(error, undefined, JSON.stringify(error));
    const operator = sr.addFromUri(seed);
    const r = await submit(chain.registerTx(api, operator.address, key, { endpoints: [`/ip4/127.0.0.1/tcp/${port[name]}/http`] }), operator);
    assert.equal(dispatchErrorName(api, r.events), null, `${seed} registers`);
    peers[name] = { account: u8aToHex(operator.publicKey), key: u8aToHex(key.publicKey) };
  }
  // Their heartbeats report the model ready: from then on they take requests.
  for (const seed of ['//Bob', '//Charlie']) await chain.waitReady(api, sr.addFromUri(seed).address, 0, 180_000);
}, { timeout: 420_000 });

after(async () => {
  for (const node of Object.values(nodes)) await node.stop();
});

const chatBody = (extra = {}) => ({
  model: MODEL, messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 8, ...extra,
});

/** POST /chat/completions on `base`: status, worker header and JSON body. */
async function chat(base, extra = {}, headers = {}) {
  const r = await fetch(`${base}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(chatBody(extra)),
  });
  return { status: r.status, worker: r.headers.get('x-cognitive-worker'), body: await r.json() };
}

/** Which peer `worker` names; asserts the receipt is that peer's and verifies. */
function workerOf(answer) {
  const name = Object.keys(peers).find((n) => peers[n].account === answer.worker);
  assert.ok(name, `x-cognitive-worker names a peer: ${answer.worker}`);
  const { receipt } = answer.body;
  assert.deepEqual(checkGenerateResult(receipt, receipt.maxTokens), []);
  assert.equal(receipt.proof.publicKey, peers[name].key, 'the receipt is signed by the worker');
  return name;
}

const status = async (base) => (await fetch(`${base}/status`)).json();

test('a node that does not serve the model has a peer answer it, named in the answer and by its receipt', DEADLINE, async () => {
  const gateway = await status(nodes.a.openai);
  assert.equal(gateway.object, 'node.status');
  assert.deepEqual(gateway.models, [], 'the gateway has no model');
  const b = await status(nodes.b.openai);
  assert.ok(b.models.includes(MODEL));
  assert.equal(b.publicKey, peers.b.key);

  const answer = await chat(nodes.a.openai);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.match(answer.body.choices[0].message.content, /Paris/);
  workerOf(answer);

  // Streamed: the peer's events pass through; the last one carries its receipt.
  const r = await fetch(`${nodes.a.openai}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chatBody({ stream: true })),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  const events = (await r.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(events.at(-1), '[DONE]');
  const last = JSON.parse(events.at(-2));
  assert.ok(last.choices[0].finish_reason, 'the finishing chunk');
  workerOf({ worker: r.headers.get('x-cognitive-worker'), body: last });

  // A model nobody serves is still the gateway's own 404.
  const unknown = await chat(nodes.a.openai, { model: 'no-such-model' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'model_not_found');
});

test('a saturated node sheds a request to a peer; a request forwarded twice already is refused', DEADLINE, async () => {
  // Fill B: one generation running, then one waiting (its public queue holds one), sent one
  // after the other: two at once could both find the queue empty before the worker took the
  // first, and B would shed the second. Greedy, a count goes on to the token bound (500 tokens,
  // seconds at one thread), where a story may end early and free B too soon.
  const hold = new AbortController();
  const long = [];
  const fill = () => long.push(fetch(`${nodes.b.openai}/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: '1, 2, 3, 4, 5, 6, 7, 8, 9, 10,', max_tokens: 500, temperature: 0, stream: true }),
    signal: hold.signal,
  }).catch(() => null));
  try {
    fill();
    await chain.until('B to run the first', async () => {
      const s = await status(nodes.b.openai);
      return s.running >= 1 && s.queueDepth === 0;
    }, 30_000, 100);
    fill();
    await chain.until('B to be saturated', async () => {
      const s = await status(nodes.b.openai);
      return s.running >= 1 && s.saturated;
    }, 30_000, 100);
    const shed = await chat(nodes.b.openai);
    assert.equal(shed.status, 200, JSON.stringify(shed.body));
    assert.equal(workerOf(shed), 'c', 'B sent it to C');
    const bounded = await chat(nodes.b.openai, {}, { 'x-cognitive-hops': '2' });
    assert.equal(bounded.status, 503);
    assert.equal(bounded.body.error.code, 'overloaded');
  } finally {
    hold.abort();
    await Promise.all(long);
  }
});

test('when the peer that answered is killed, the next request goes to another', DEADLINE, async () => {
  const first = await chat(nodes.a.openai);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const gone = workerOf(first);
  await nodes[gone].kill();
  const next = await chat(nodes.a.openai);
  assert.equal(next.status, 200, JSON.stringify(next.body));
  assert.notEqual(workerOf(next), gone);
  const again = await chat(nodes.a.openai);
  assert.equal(again.status, 200);
  assert.notEqual(workerOf(again), gone);
});
