// Model-distribution suite, after governance.cjs has whitelisted Gemma 3 270M. Only Alice's
// store has Gemma (network/model-distribution.toml); the steps (`args[0]`):
//
//   spread      every node publishes its model endpoint (`inference_nodeInfo.modelEndpoints`)
//               with `nodeRegistry.setEndpoints`. Alice declares Gemma and is ready at once.
//               Bob declares it and his node fetches it from Alice over bitswap; once he has a
//               quarter, Charlie declares it and fetches from Alice and from Bob, who serves
//               the blocks he already has. Both end with the chain's sha256 and report Gemma
//               ready; a Gemma job with R = 3 then settles on three agreeing reveals.
//   refetch     Charlie's operator deletes Gemma (`cognitive-node model rm`); his node fetches
//               it again, from Alice and Bob. The step returns as soon as that transfer runs,
//               and the zndsl kills Alice in the middle of it.
//   after-kill  Charlie's transfer finished without Alice (Bob delivered the rest), the file
//               hashes to the chain's sha256; Alice is back, publishes her new endpoint, and a
//               second Gemma job with R = 3 settles on three agreeing reveals.
'use strict';

const { createHash } = require('node:crypto');
const { createReadStream, existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');
const c = require('./common.cjs');
const { GEMMA } = require('../lib/models.cjs');

const { assert } = c;
const GEMMA_HEX = GEMMA.sha256.slice(2);
const GEMMA_PROMPT = '<start_of_turn>user\nWhat colour is the sky on a clear day?<end_of_turn>\n<start_of_turn>model\n';

/** The model store of node `name` (run-suites.sh names it in $ZOMBIE_STORE_<NAME>). */
function storeOf(name) {
  const dir = process.env[`ZOMBIE_STORE_${name.toUpperCase()}`];
  assert.ok(dir, `ZOMBIE_STORE_${name.toUpperCase()} is set (run the suite with zombienet/run-suites.sh)`);
  return dir;
}

async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** `name`'s model endpoint and the peer id in it. */
async function endpointOf(uri) {
  const { result, error } = await c.rpc(uri, 'inference_nodeInfo');
  assert.equal(error, undefined, JSON.stringify(error));
  const endpoint = result.modelEndpoints[0];
  assert.ok(endpoint, 'the node runs a model-transfer endpoint');
  return { endpoint, peer: endpoint.split('/p2p/')[1] };
}

/** `name`'s transfer of Gemma as `inference_modelTransfers` reports it (or undefined). */
async function gemmaTransfer(uri) {
  const { result, error } = await c.rpc(uri, 'inference_modelTransfers');
  assert.equal(error, undefined, JSON.stringify(error));
  return result.find((t) => t.cid === GEMMA.cid);
}

async function publishEndpoints(api, uris, names) {
  const peers = {};
  await Promise.all(names.map(async (name) => {
    const { endpoint, peer } = await endpointOf(uris[name]);
    peers[name] = peer;
    await c.sendOk(api, api.tx.nodeRegistry.setEndpoints([endpoint]), c.account(name));
    c.log(`${name} publishes ${endpoint}`);
  }));
  return peers;
}

/** A Gemma job with R = 3 settles on three agreeing reveals; every node's output hashes to it. */
async function agreeOnGemma(api, uris, id) {
  const validators = c.VALIDATORS.map((n) => c.account(n).address);
  const job = await c.submitJob(api, c.account('ferdie'), { model: id, prompt: GEMMA_PROMPT, maxTokens: 16, replication: 3 });
  assert.deepEqual([...job.assignees].sort(), [...validators].sort(), 'all three validators assigned');
  const view = await c.settled(api, job.jobId);
  assert.ok(view.status.isCompleted, `job settled as ${view.status.type}`);
  assert.equal(view.modelSha256.toHex(), GEMMA.sha256);
  const chainHash = view.status.asCompleted.resultHash.toHex();
  for (const a of view.assignees) {
    assert.equal(a.revealed.unwrap().toHex(), chainHash, `${a.node} revealed the agreed hash`);
  }
  let text = '';
  for (const name of c.VALIDATORS) {
    const { result, error } = await c.rpc(uris[name], 'inference_jobResult', [job.jobId]);
    assert.equal(error, undefined, `${name}: ${JSON.stringify(error)}`);
    assert.equal(c.resultHash(api, job.jobId, GEMMA.sha256, result.promptTokenIds, result.outputTokenIds), chainHash);
    assert.equal(result.matchesChain, true, `${name}: matchesChain`);
    text = result.text;
  }
  c.log(`Gemma job ${job.jobId} settled on three agreeing reveals: ${JSON.stringify(text)}`);
}

async function gemmaId(api) {
  const entry = await api.query.modelRegistry.modelBySha256(GEMMA.sha256);
  assert.ok(entry.isSome, 'Gemma is whitelisted (governance.cjs runs first)');
  return entry.unwrap().toNumber();
}

function describe(transfer, names) {
  return transfer.sources.map((s) => `${names[s.peer] || s.peer} ${s.blocks} blocks`).join(', ');
}

async function spread(uris) {
  const api = await c.connect(uris.alice);
  const id = await gemmaId(api);
  for (const name of ['bob', 'charlie']) {
    assert.ok(!existsSync(join(storeOf(name), `${GEMMA_HEX}.gguf`)), `${name} starts without Gemma`);
  }
  const peers = await publishEndpoints(api, uris, c.VALIDATORS);
  const names = Object.fromEntries(Object.entries(peers).map(([n, p]) => [p, n]));

  await c.sendOk(api, api.tx.nodeRegistry.setServedModels([0, id]), c.account('alice'));
  await c.waitReady(api, c.account('alice').address, id);
  c.log('alice declared Gemma and is ready for it');

  const t0 = Date.now();
  await c.sendOk(api, api.tx.nodeRegistry.setServedModels([0, id]), c.account('bob'));
  const bobQuarter = await c.until('Bob to have a quarter of Gemma', async () => {
    const t = await gemmaTransfer(uris.bob);
    return t && t.sizeBytes && t.bytesDone >= t.sizeBytes / 4 ? t : null;
  }, 180_000, 250);
  assert.notEqual(bobQuarter.state, 'failed', bobQuarter.error);
  c.log(`bob is fetching Gemma: ${bobQuarter.bytesDone} of ${bobQuarter.sizeBytes} bytes after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await c.sendOk(api, api.tx.nodeRegistry.setServedModels([0, id]), c.account('charlie'));

  for (const name of ['bob', 'charlie']) {
    await c.waitReady(api, c.account(name).address, id, 300_000);
    const t = await gemmaTransfer(uris[name]);
    assert.equal(t.state, 'done', `${name}'s transfer: ${JSON.stringify(t)}`);
    assert.equal(await sha256File(join(storeOf(name), `${GEMMA_HEX}.gguf`)), GEMMA_HEX, `${name}'s copy has the chain's sha256`);
    c.log(`${name} fetched Gemma in ${t.elapsedSecs.toFixed(1)} s from: ${describe(t, names)}`);
  }
  const bob = await gemmaTransfer(uris.bob);
  assert.deepEqual(bob.sources.map((s) => names[s.peer]), ['alice'], 'Bob got every block from Alice');
  const charlie = await gemmaTransfer(uris.charlie);
  const fromBob = charlie.sources.find((s) => names[s.peer] === 'bob');
  assert.ok(fromBob && fromBob.blocks > 0, `Charlie got blocks from Bob while Bob was still fetching: ${describe(charlie, names)}`);
  assert.ok(charlie.sources.some((s) => names[s.peer] === 'alice' && s.blocks > 0), 'and from Alice');

  // The transfers are in the nodes' metrics: Bob and Charlie fetched, Alice and Bob served.
  const figure = async (name, metric) => {
    const text = await (await fetch(uris.metrics[name])).text();
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `) || l.startsWith(`${metric}{`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  for (const name of ['bob', 'charlie']) {
    const bytes = await figure(name, 'cognitive_model_transfer_fetched_bytes_total');
    // The file's leaves and the DAG's interior nodes (well under 1 % more).
    assert.ok(bytes > 0 && bytes <= GEMMA.sizeBytes * 1.01, `${name} fetched ${bytes} bytes for Gemma's ${GEMMA.sizeBytes}`);
  }
  for (const name of ['alice', 'bob']) {
    assert.ok(await figure(name, 'cognitive_model_transfer_served_blocks_total') > 0, `${name} served blocks`);
  }
  c.log('the nodes\' model-transfer metrics show the fetches and what Alice and Bob served');

  await agreeOnGemma(api, uris, id);
}

async function refetch(uris) {
  const removed = execFileSync(process.env.COGNITIVE_NODE, ['model', 'rm', GEMMA_HEX, '--model-store', storeOf('charlie')]).toString().trim();
  c.log(`charlie's operator: ${removed}`);
  const t = await c.until('Charlie to fetch Gemma again', async () => {
    const t = await gemmaTransfer(uris.charlie);
    return t && t.state === 'running' && t.bytesDone > 0 ? t : null;
  }, 60_000, 100);
  assert.ok(t.bytesDone < t.sizeBytes / 2, `still early in the transfer (${t.bytesDone} of ${t.sizeBytes} bytes)`);
  assert.equal(t.providers, 2, 'from Alice and Bob');
  c.log(`charlie fetches Gemma again from ${t.providers} providers: ${t.bytesDone} of ${t.sizeBytes} bytes; killing Alice now`);
}

async function afterKill(uris) {
  const api = await c.connect(uris.charlie);
  const id = await gemmaId(api);
  // Alice is back with the same peer id (her key is on disk), once her RPC server is up.
  await c.rpcUp(uris.alice, 'Alice');
  const peers = {};
  for (const name of c.VALIDATORS) peers[(await endpointOf(uris[name])).peer] = name;
  const t = await c.until('Charlie\'s transfer to finish', async () => {
    const t = await gemmaTransfer(uris.charlie);
    return t && (t.state === 'done' || t.state === 'failed') ? t : null;
  }, 300_000, 500);
  assert.equal(t.state, 'done', `Charlie's transfer: ${JSON.stringify(t)}`);
  const fromBob = t.sources.find((s) => peers[s.peer] === 'bob');
  assert.ok(fromBob && fromBob.bytes > t.sizeBytes / 2, `Bob delivered most of it after Alice died: ${describe(t, peers)}`);
  assert.equal(await sha256File(join(storeOf('charlie'), `${GEMMA_HEX}.gguf`)), GEMMA_HEX, 'Charlie\'s new copy has the chain\'s sha256');
  c.log(`charlie fetched Gemma again in ${t.elapsedSecs.toFixed(1)} s despite Alice's death: ${describe(t, peers)}`);

  // Alice restarted on a new port (the suite's endpoints take free ports): she publishes it.
  await publishEndpoints(api, uris, ['alice']);
  await c.waitReady(api, c.account('charlie').address, id);
  await agreeOnGemma(api, uris, id);
}

async function run(nodeName, networkInfo, args) {
  const step = (args && args[0]) || '';
  const uris = Object.fromEntries(c.VALIDATORS.map((n) => [n, networkInfo.nodesByName[n].wsUri]));
  uris.metrics = Object.fromEntries(c.VALIDATORS.map((n) => [n, networkInfo.nodesByName[n].prometheusUri]));
  const steps = {
    spread: ['only Alice has Gemma; Bob and Charlie fetch it from her and from each other, then all three agree on a Gemma job', spread],
    refetch: ['Charlie fetches Gemma again from Alice and Bob', refetch],
    'after-kill': ['Charlie\'s transfer survives Alice\'s death mid-transfer; all three agree on a Gemma job again', afterKill],
  };
  assert.ok(steps[step], `unknown step ${JSON.stringify(step)}`);
  const [name, body] = steps[step];
  return c.check(name, () => body(uris));
}

module.exports = { run };
