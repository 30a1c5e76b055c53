// Proof of inference on a real dev node with the real SmolLM2-135M-Instruct model (installed in
// the model store by scripts/install-models.sh): Alice's node, registered at genesis, proves it
// holds her inference key (`inference_keyOwnershipProof`), Polkadot.js submits a job with R = 1, the
// node's off-chain worker runs it through llama.cpp, commits and reveals, the job settles, and
// `inference_jobResult` returns text whose recomputed hash equals the chain's (and, for a block
// at which the job was pending, only to the job's owner on a signed request). Direct JSON-RPC
// inference answers with a version 2 proof checked here by an independent verifier
// (lib/proof.cjs); the dedicated inference port limits clients per address; a chain job still
// commits in time while public generation is saturated; BABE keeps every slot during a long
// generation; and the node's own benchmark (`cognitive-node bench`) reaches the registry's
// ratings through Polkadot.js.
//
// Cast: Alice is the only validator (`--dev`); her node's keystore holds the ed25519 //Alice
// key, her inference key since genesis, serving model 0 (SmolLM2). Bob submits jobs;
// Charlie is a stranger to them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import chain from '../lib/chain.cjs';
import proofs from '../lib/proof.cjs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { nodeBinary, startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';

const { SMOLLM2, modelFacts } = chain;
const DEADLINE = { timeout: 240_000 };
const JOB_RESULT_CONTEXT = 'cognitive-internet/job-result/v1';
/** The client example in docs/examples and its installer. */
const EXAMPLES = {
  deps: new URL('../../docs/examples/deps.sh', import.meta.url).pathname,
  verifyJob: new URL('../../docs/examples/verify_job.py', import.meta.url).pathname,
};

let node;
let api;
let alice; let bob; let charlie;
const aliceInference = new Keyring({ type: 'ed25519' }).addFromUri('//Alice');

/** A JSON-RPC call to the node's Substrate RPC port (loopback: the operator's own port). */
const rpc = (method, params = [], timeoutMs = 60_000) => chain.rpc(`http://127.0.0.1:${node.rpcPort}`, method, params, timeoutMs);
/** A JSON-RPC call to the dedicated inference port (public, limited per client address). */
const publicRpc = (method, params = [], timeoutMs = 60_000) => chain.rpc(`http://127.0.0.1:${node.inferencePort}`, method, params, timeoutMs);

async function sendOk(tx, signer) {
  const r = await submit(tx, signer);
  const err = dispatchErrorName(api, r.events);
  assert.equal(err, null, `${tx.method.section}.${tx.method.method} failed: ${err}`);
  return r;
}

before(async () => {
  node = await startNode(['--dev', '--tmp'], { name: 'inference' });
  api = await node.api();
  const sr = new Keyring({ type: 'sr25519', ss58Format: 42 });
  [alice, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((uri) => sr.addFromUri(uri));

  // The operator's registration flow: the node proves it holds its inference key for Alice's
  // account on this chain, and reports the determinism class it was built for.
  const { result: ownership, error } = await rpc('inference_keyOwnershipProof', [alice.address]);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(ownership.publicKey, u8aToHex(aliceInference.publicKey));
  assert.equal(ownership.genesisHash, chain.genesisHash(api));
  // ed25519 signatures are deterministic: the node signed exactly the documented bytes.
  assert.equal(ownership.signature, chain.keyOwnershipProof(api, aliceInference, alice.address));
  const info = (await rpc('inference_nodeInfo')).result;
  assert.deepEqual(info.engineClass, chain.engineClass(), 'the node runs the genesis model\'s class');
  // The dev chain registers Alice's node at genesis with exactly that key and class, so jobs
  // can be submitted at once (an operator on another chain registers with the proof above).
  const record = (await api.query.nodeRegistry.nodes(alice.address)).unwrap();
  assert.equal(record.inferenceKey.toHex(), ownership.publicKey);
  const cls = record.capabilities.class;
  assert.deepEqual({ engine: cls.engine.toUtf8(), engineVersion: cls.engineVersion.toUtf8(), cpuTarget: cls.cpuTarget.toUtf8() },
    chain.engineClass());
  assert.deepEqual(record.servedModels.map((m) => m.toNumber()), [0]);
  // Jobs go only to nodes whose heartbeat says the engine has the model ready.
  await chain.waitReady(api, alice.address, 0);
}, { timeout: 240_000 });

after(async () => {
  if (node) await node.stop();
});

/** Waits until the job has settled and returns its view. */
async function settled(jobId) {
  return chain.until(`job ${jobId} to settle`, async () => {
    const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrap();
    return view.status.isPending ? null : view;
  }, 180_000);
}

/** Submits a job as Bob and returns { jobId, blockHash (of the block that included it) }. */
async function submitJob(prompt, maxTokens) {
  const r = await sendOk(api.tx.proofOfInference.submitJob(0, chain.jobPrompt(prompt), maxTokens, 1, 'Greedy'), bob);
  const submitted = r.events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event));
  assert.ok(submitted, 'JobSubmitted event');
  assert.deepEqual(submitted.event.data.assignees.map((a) => a.toString()), [alice.address]);
  return { jobId: submitted.event.data.jobId.toNumber(), blockHash: r.blockHash.toHex() };
}

/** `signer`'s authorization to read job `jobId` from Alice's node while it is pending. */
function jobResultAuth(signer, jobId, wrap = false) {
  const payload = api.createType('(Bytes, [u8; 32], u64, [u8; 32])',
    [JOB_RESULT_CONTEXT, chain.genesisHash(api), jobId, aliceInference.publicKey]).toU8a();
  const signed = wrap
    ? new Uint8Array([...Buffer.from('<Bytes>'), ...payload, ...Buffer.from('</Bytes>')])
    : payload;
  return { signature: { sr25519: u8aToHex(signer.sign(signed)) } };
}

test('a job submitted with Polkadot.js is run by the off-chain worker and settles; jobResult matches the chain', DEADLINE, async () => {
  const prompt = '<|im_start|>user\nName three primary colours.<|im_end|>\n<|im_start|>assistant\n';
  const params = await api.query.proofOfInference.params();
  const balanceBefore = (await api.query.system.account(bob.address)).data.free.toBigInt();
  const { jobId, blockHash: pendingAt } = await submitJob(prompt, 24);

  const job = await settled(jobId);
  assert.ok(job.status.isCompleted, `job settled as ${job.status.type}`);
  const chainHash = job.status.asCompleted.resultHash.toHex();
  assert.equal(job.assignees[0].revealed.unwrap().toHex(), chainHash);
  assert.equal(job.fee.toBigInt(), chain.jobFee(params, Buffer.byteLength(prompt), 24, 1),
    'fee = R x (base fee + price per token x (prompt bytes + max tokens))');

  const { result, error } = await rpc('inference_jobResult', [jobId]);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.ok(result.text.length > 0, 'non-empty output text');
  assert.ok(result.outputTokenIds.length > 0 && result.outputTokenIds.length <= 24);
  assert.equal(chain.resultHash(api, jobId, SMOLLM2, result.promptTokenIds, result.outputTokenIds), chainHash,
    'the hash recomputed from the returned tokens equals the on-chain result hash');
  assert.equal(result.matchesChain, true);
  assert.equal(result.onChain.status, 'completed');
  assert.equal(result.jobDigest, job.digest.toHex());
  // The fee stays held from Bob through the challenge window, then goes to Alice: Bob paid it
  // (plus transaction fees) and nothing is held any more.
  assert.equal(job.feeHeld.isTrue, true, 'held through the challenge window');
  const releaseAt = job.challengeableUntil.unwrap().toNumber();
  assert.equal(releaseAt, job.settledAt.unwrap().toNumber() + params.challengePeriod.toNumber());
  await chain.until('the end of the challenge window', async () =>
    (await api.query.system.account(bob.address)).data.reserved.toBigInt() === 0n, 120_000);
  const after = (await api.query.system.account(bob.address)).data;
  assert.ok(balanceBefore - after.free.toBigInt() >= job.fee.toBigInt());
  assert.ok((await api.rpc.chain.getHeader()).number.toNumber() >= releaseAt, 'not before the window closed');

  // Audit H-2: at a block where the job is pending, its output goes only to its owner, on a
  // request signed for this chain, this job and this node; nobody else can read (and copy) it.
  const at = (auth) => rpc('inference_jobResult', [jobId, auth, pendingAt]);
  assert.equal((await at(null)).error?.code, 4015, 'no auth while pending');
  const byOwner = await at(jobResultAuth(bob, jobId));
  assert.equal(byOwner.error, undefined, JSON.stringify(byOwner.error));
  assert.equal(byOwner.result.text, result.text);
  assert.equal(byOwner.result.matchesChain, null, 'still pending at that block');
  const wrapped = await at(jobResultAuth(bob, jobId, true));
  assert.equal(wrapped.error, undefined, 'a <Bytes>-wrapped signature (signRaw) is accepted too');
  assert.equal((await at(jobResultAuth(charlie, jobId))).error?.code, 4016, 'another account');
  assert.equal((await at(jobResultAuth(bob, jobId + 1))).error?.code, 4016, 'signed for another job');
  assert.equal((await at({ signature: { sr25519: '0x1234' } })).error?.code, 4016, 'malformed signature');
  assert.equal((await rpc('inference_jobResult', [jobId, null, `0x${'ab'.repeat(32)}`])).error?.code, 4019,
    'unknown block');
});

test('a sampled job (temperature 0.7, top-p 0.95) runs with the seed the chain fixed and settles', DEADLINE, async () => {
  const prompt = '<|im_start|>user\nWrite one sentence about the sea.<|im_end|>\n<|im_start|>assistant\n';
  const r = await sendOk(api.tx.proofOfInference.submitJob(0, chain.jobPrompt(prompt), 24, 1,
    { Sampled: { temperatureMilli: 700, topPPpm: 950_000 } }), bob);
  const submitted = r.events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event));
  const jobId = submitted.event.data.jobId.toNumber();
  const job = await settled(jobId);
  assert.ok(job.status.isCompleted, `job settled as ${job.status.type}`);
  assert.ok(job.sampling.isSampled, 'the view names the sampling');
  const { temperatureMilli, topPPpm, seed } = job.sampling.asSampled;
  assert.equal(temperatureMilli.toNumber(), 700);
  assert.equal(topPPpm.toNumber(), 950_000);
  assert.ok(seed.toBigInt() > 0n, 'the chain fixed a seed');
  const { result, error } = await rpc('inference_jobResult', [jobId]);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(chain.resultHash(api, jobId, SMOLLM2, result.promptTokenIds, result.outputTokenIds),
    job.status.asCompleted.resultHash.toHex(), 'the sampled tokens hash to the on-chain result');
  assert.equal(result.matchesChain, true);
});

test('a chat job renders the model\'s template; the Python example and verifyJob check it against the chain', DEADLINE, async () => {
  const messages = [{ role: 'user', content: 'What is the capital of France?' }];
  const r = await sendOk(api.tx.proofOfInference.submitJob(0, chain.jobPrompt(messages), 24, 1, 'Greedy'), bob);
  const jobId = r.events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event))
    .event.data.jobId.toNumber();
  const job = await settled(jobId);
  assert.ok(job.status.isCompleted, `job settled as ${job.status.type}`);
  assert.equal(job.format.asChat.templateSha256.toHex(), `0x${modelFacts('smollm2').profile.chatTemplateSha256}`);
  // The node read the ChatML rendering: the same tokens as that text sent directly.
  const { result } = await rpc('inference_jobResult', [jobId]);
  const direct = (await publicRpc('inference_generate', [{ model: SMOLLM2,
    prompt: '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n', maxTokens: 24 }])).result;
  assert.deepEqual(result.promptTokenIds, direct.promptTokenIds, 'rendered as ChatML');
  assert.deepEqual(result.outputTokenIds, direct.tokenIds);

  // The JavaScript helper and the Python example (docs/examples) agree on the verdict.
  const url = `http://127.0.0.1:${node.rpcPort}`;
  const js = await chain.verifyJob(api, jobId, [url]);
  assert.equal(js.verified, true);
  const lib = execFileSync('bash', [EXAMPLES.deps], { encoding: 'utf8' }).trim();
  const python = (args) => {
    try {
      return { code: 0, report: JSON.parse(execFileSync('python3', [EXAMPLES.verifyJob, ...args],
        { encoding: 'utf8', env: { ...process.env, PYTHONPATH: lib } })) };
    } catch (e) {
      return { code: e.status, report: JSON.parse(e.stdout) };
    }
  };
  const ok = python(['--chain', `ws://127.0.0.1:${node.rpcPort}`, '--node', url, String(jobId)]);
  assert.equal(ok.code, 0, JSON.stringify(ok.report));
  assert.equal(ok.report.verified, true);
  assert.equal(ok.report.chain_hash, js.chainHash);
  assert.equal(ok.report.computed_hash, js.computedHash);
  // The window may close between the two reads, never move.
  assert.ok(Number.isInteger(js.challengeableUntil), 'the window is open right after settlement');
  assert.ok([js.challengeableUntil, null].includes(ok.report.challengeable_until), JSON.stringify(ok.report));
  assert.equal(ok.report.text, js.text);
  // A node that does not serve the output, and a job that does not exist, are not verified.
  const noNode = python(['--chain', `ws://127.0.0.1:${node.rpcPort}`, '--node', 'http://127.0.0.1:9', String(jobId)]);
  assert.equal(noNode.code, 1);
  assert.equal(noNode.report.verified, false);
  const missing = python(['--chain', `ws://127.0.0.1:${node.rpcPort}`, '--node', url, '999999']);
  assert.equal(missing.code, 1);
  assert.match(missing.report.error, /not on chain/);
});

test('inference_generate answers with a version 2 proof that an independent verifier accepts', DEADLINE, async () => {
  const ask = { model: 'SmolLM2-135M-Instruct-Q4_1', messages: [{ role: 'user', content: 'What is the capital of France?' }], maxTokens: 32 };
  const { result, error } = await publicRpc('inference_generate', [ask]);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.ok(result.text.length > 0);
  assert.equal(result.model.sha256, SMOLLM2);
  assert.ok(result.prompt.includes('What is the capital of France?'), 'rendered with the chat template');
  assert.equal(result.completionTokens, result.tokenIds.length);
  assert.ok(result.timings.generationTokensPerSecond > 0);
  const { nCtx, nBatch, nUbatch } = modelFacts('smollm2').profile;
  assert.deepEqual(result.profile, { nCtx, nBatch, nUbatch }, 'the model\'s determinism profile');

  const { proof } = result;
  assert.equal(proof.version, 2);
  assert.equal(proof.publicKey, u8aToHex(aliceInference.publicKey), 'signed by the inference key');
  assert.deepEqual(proofs.checkGenerateResult(result, ask.maxTokens), []);
  // Audit L-2 / M-4: the proof names this chain and a block of it that existed when it was made.
  assert.equal(proof.genesisHash, chain.genesisHash(api));
  assert.equal((await api.rpc.chain.getBlockHash(proof.blockNumber)).toHex(), proof.blockHash);
  // Any change to what the proof covers breaks it.
  const tampered = [
    { ...result, tokenIds: [...result.tokenIds.slice(0, -1), result.tokenIds.at(-1) + 1] },
    { ...result, prompt: `${result.prompt} ` },
    { ...result, profile: { ...result.profile, nCtx: nCtx * 2 } },
    { ...result, proof: { ...proof, genesisHash: `0x${'00'.repeat(32)}` } },
    { ...result, proof: { ...proof, blockNumber: proof.blockNumber + 1 } },
    { ...result, proof: { ...proof, timestampMs: proof.timestampMs + 1 } },
  ];
  for (const t of tampered) assert.notDeepEqual(proofs.checkGenerateResult(t, ask.maxTokens), []);
  assert.notDeepEqual(proofs.checkGenerateResult(result, ask.maxTokens + 1), [], 'maxTokens is covered');

  // Deterministic requests repeat exactly; a sampled one names its temperature and seed.
  const again = await rpc('inference_generate', [{ ...ask, model: SMOLLM2 }]);
  assert.deepEqual(again.result.tokenIds, result.tokenIds);
  const sampledAsk = { model: SMOLLM2, prompt: 'Once upon a time', maxTokens: 16, deterministic: false, temperature: 0.7, topP: 0.9, seed: 42 };
  const sampled = (await rpc('inference_generate', [sampledAsk])).result;
  assert.equal(sampled.seed, 42);
  assert.equal(sampled.topP, 0.9);
  assert.deepEqual(proofs.checkGenerateResult(sampled, 16), []);
  assert.notDeepEqual(proofs.checkGenerateResult({ ...sampled, seed: 43 }, 16), [], 'the seed is covered');
  assert.notDeepEqual(proofs.checkGenerateResult({ ...sampled, topP: 0.8 }, 16), [], 'top-p is covered');
  // The same seed and settings draw the same tokens (the sampler is reproducible, not random).
  const sampledAgain = (await rpc('inference_generate', [sampledAsk])).result;
  assert.deepEqual(sampledAgain.tokenIds, sampled.tokenIds);
  const badTopP = await rpc('inference_generate', [{ ...sampledAsk, topP: 1.5 }]);
  assert.equal(badTopP.error?.code, 4020, JSON.stringify(badTopP));
});

test('streaming, models, nodeInfo, and distinct error codes for bad requests', DEADLINE, async () => {
  const items = [];
  await new Promise((resolve, reject) => {
    api._rpcCore.provider.subscribe('inference_generateEvent', 'inference_subscribeGenerate',
      [{ model: SMOLLM2, prompt: 'The blockchain is', maxTokens: 16 }], (err, item) => {
        if (err) { reject(err); return; }
        items.push(item);
        if (item.type === 'done' || item.type === 'error') resolve();
      }).catch(reject);
  });
  const done = items.at(-1);
  assert.equal(done.type, 'done', JSON.stringify(done));
  const tokens = items.filter((i) => i.type === 'token');
  assert.equal(tokens.filter((t) => t.id !== null).length, done.completionTokens);
  assert.equal(tokens.map((t) => t.text).join(''), done.text, 'streamed pieces spell the text');
  assert.deepEqual(proofs.checkGenerateResult(done, 16), []);

  const models = (await rpc('inference_models')).result;
  assert.ok(models.some((m) => m.sha256 === SMOLLM2 && m.loaded), JSON.stringify(models));
  const info = (await rpc('inference_nodeInfo')).result;
  assert.equal(info.publicKey, u8aToHex(aliceInference.publicKey));
  assert.equal(info.engine, chain.engineClass().engineVersion);
  assert.ok(info.loadedModels.some((m) => m.sha256 === SMOLLM2));
  assert.equal(info.inferenceRpcPort, node.inferencePort);
  assert.ok(info.chainWorkers >= 1, 'capacity reserved for chain jobs');

  const code = async (params) => (await rpc('inference_generate', [params])).error?.code;
  assert.equal(await code({ model: 'no-such-model', prompt: 'hi' }), 4001);
  assert.equal(await code({ model: SMOLLM2, prompt: 'x'.repeat(9000) }), 4002);
  assert.equal(await code({ model: SMOLLM2, prompt: 'hi', maxTokens: 0 }), 4003);
  assert.equal(await code({ model: SMOLLM2 }), 4006);
  assert.equal((await rpc('inference_jobResult', [999_999])).error?.code, 4008);
  // An oversized on-chain prompt is refused by the runtime and costs only the transaction fee.
  const r = await submit(api.tx.proofOfInference.submitJob(0, chain.jobPrompt('x'.repeat(1537)), 8, 1, 'Greedy'), bob);
  assert.equal(dispatchErrorName(api, r.events), 'proofOfInference.PromptTooLong');
  const unknown = await submit(api.tx.proofOfInference.submitJob(77, chain.jobPrompt('hi'), 8, 1, 'Greedy'), bob);
  assert.equal(dispatchErrorName(api, unknown.events), 'proofOfInference.UnknownModel');
  const hot = await submit(api.tx.proofOfInference.submitJob(0, chain.jobPrompt('hi'), 8, 1, { Sampled: { temperatureMilli: 2001, topPPpm: 950_000 } }), bob);
  assert.equal(dispatchErrorName(api, hot.events), 'proofOfInference.InvalidSampling');
});

/**
 * Keeps `inference_generate` busy at `url` until `signal` aborts, counting answers by error
 * code (`ok` for a generation).
 */
async function flood(url, signal, counts, i) {
  while (!signal.aborted) {
    let code;
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: i, jsonrpc: '2.0', method: 'inference_generate', params: [{ model: SMOLLM2, prompt: `Story ${i}: the night the validators`, maxTokens: 256 }] }),
        signal,
      });
      const body = await r.json();
      code = body.error ? body.error.code : 'ok';
    } catch (e) {
      if (signal.aborted) return;
      code = e.name;
    }
    counts[code] = (counts[code] || 0) + 1;
    if (code !== 'ok') await chain.sleep(200);
  }
}

test('the node declares the capabilities it measured: nodeInfo and the CLI agree, and Polkadot.js sends them', DEADLINE, async () => {
  const info = (await rpc('inference_nodeInfo')).result;
  const caps = info.capabilities;
  assert.ok(caps, 'nodeInfo.capabilities');
  const cli = JSON.parse(execFileSync(nodeBinary(), ['hardware', 'capabilities', '--json'], { encoding: 'utf8' }));
  assert.deepEqual(caps, cli.capabilities, 'the running node and `hardware capabilities` measure alike');
  assert.equal(caps.cpuCores, os.cpus().length);
  assert.deepEqual(caps.class, chain.engineClass(), 'the class jobs are matched on');
  // The call the CLI prints is the one Polkadot.js builds from the same object.
  const tx = api.tx.nodeRegistry.updateCapabilities(caps);
  assert.equal(tx.method.toHex(), cli.updateCapabilitiesCall);
  await sendOk(tx, alice);
  const record = (await api.query.nodeRegistry.nodes(alice.address)).unwrap();
  assert.equal(record.capabilities.cpuCores.toNumber(), caps.cpuCores);
  assert.equal(record.capabilities.ramMib.toNumber(), caps.ramMib);
  assert.deepEqual(record.capabilities.accelerators.map((a) => a.toString()), caps.accelerators);
  // Same class: the node keeps its ready models and its jobs.
  assert.deepEqual(record.readyModels.map((m) => m.toNumber()), [0]);
});

test('the node rates its models with `cognitive-node bench` and Polkadot.js publishes the figures in the registry', DEADLINE, async () => {
  // A real measurement (one run) of the model Alice's node serves, not kept in the store.
  const bench = JSON.parse(execFileSync(nodeBinary(), ['bench', '--json', '--no-save', '--runs', '1', '--model', SMOLLM2], { encoding: 'utf8' }));
  const [measured] = bench.models;
  assert.equal(measured.sha256, SMOLLM2);
  assert.deepEqual(bench.engineClass, chain.engineClass(), 'measured with the class jobs are matched on');
  // The chain names the file by its sha256; `{ model, ...onChain }` is the call's entry.
  const model = (await api.query.modelRegistry.modelBySha256(SMOLLM2)).unwrap().toNumber();
  const entry = { model, ...measured.onChain };
  assert.ok(entry.generationMilliTps > 0 && entry.promptMilliTps > 0 && entry.memoryMib > 0, JSON.stringify(entry));
  const r = await sendOk(api.tx.nodeRegistry.rateModels([entry]), alice);
  assert.ok(r.events.some(({ event }) => api.events.nodeRegistry.ModelsRated.is(event)));
  const published = (await api.query.nodeRegistry.ratings(alice.address)).unwrap();
  assert.ok(published.ratedAt.toNumber() > 0);
  assert.deepEqual(published.ratings.map((x) => x.toJSON()), [entry]);

  // Refused: a model the node does not serve, the same model twice.
  const notServed = await submit(api.tx.nodeRegistry.rateModels([{ ...entry, model: model + 77 }]), alice);
  assert.equal(dispatchErrorName(api, notServed.events), 'nodeRegistry.RatedModelNotServed');
  const twice = await submit(api.tx.nodeRegistry.rateModels([entry, entry]), alice);
  assert.equal(dispatchErrorName(api, twice.events), 'nodeRegistry.InvalidRating');
  // A stranger has no node to rate.
  const stranger = await submit(api.tx.nodeRegistry.rateModels([entry]), charlie);
  assert.equal(dispatchErrorName(api, stranger.events), 'nodeRegistry.NotRegistered');
  assert.deepEqual((await api.query.nodeRegistry.ratings(alice.address)).unwrap().ratings.map((x) => x.toJSON()), [entry]);
});

test('a chain job commits in time while public generation is saturated (audit H-5)', DEADLINE, async () => {
  const stop = new AbortController();
  const operator = {};
  const publicPort = {};
  // Twelve connections on the operator's port (each within its per-connection bound) fill the
  // public worker and its queue; six more on the public port are held to two per address.
  const loops = [
    ...Array.from({ length: 12 }, (_, i) => flood(`http://127.0.0.1:${node.rpcPort}`, stop.signal, operator, i)),
    ...Array.from({ length: 6 }, (_, i) => flood(`http://127.0.0.1:${node.inferencePort}`, stop.signal, publicPort, 100 + i)),
  ];
  try {
    const saturated = await chain.until('the public queue to fill', async () => {
      const info = (await rpc('inference_nodeInfo')).result;
      return info.publicQueueDepth >= 8 ? info : null;
    }, 60_000, 500);
    const t0 = Date.now();
    const { jobId } = await submitJob('<|im_start|>user\nWhy is the sky blue?<|im_end|>\n<|im_start|>assistant\n', 24);
    const submittedAt = (await api.rpc.chain.getHeader()).number.toNumber();
    const committed = await chain.until('the commitment', async () => {
      const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrap();
      return view.assignees[0].commitment.isSome ? view : null;
    }, 180_000, 1000);
    const committedAt = (await api.rpc.chain.getHeader()).number.toNumber();
    console.log(`public queue ${saturated.publicQueueDepth}/${saturated.queueCapacity}: job ${jobId} `
      + `committed ${Date.now() - t0} ms after submission (block #${submittedAt} -> #${committedAt}, `
      + `deadline #${committed.commitDeadline.toNumber()}); operator port ${JSON.stringify(operator)}, `
      + `inference port ${JSON.stringify(publicPort)}`);
    assert.ok(committedAt < committed.commitDeadline.toNumber(), 'committed before the deadline');
    const job = await settled(jobId);
    assert.ok(job.status.isCompleted, `job settled as ${job.status.type}`);
    // The flood was real, and the public port held it to two requests in flight per address.
    assert.ok((publicPort[4013] || 0) > 0, `per-address refusals on the inference port: ${JSON.stringify(publicPort)}`);
  } finally {
    stop.abort();
    await Promise.all(loops);
  }
  // Aborted clients cancel their generations: the engine drains.
  await chain.until('the public queue to drain', async () => {
    const info = (await rpc('inference_nodeInfo')).result;
    return info.publicQueueDepth === 0 && info.running === 0;
  }, 120_000, 500);
});

test('block production keeps its slots during a long generation', DEADLINE, async () => {
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  const t0 = Date.now();
  // Keep the engine busy for at least 20 s (both cores: 2 inference threads by default).
  let tokens = 0;
  let tps = 0;
  while (Date.now() - t0 < 20_000) {
    const { result, error } = await rpc('inference_generate', [{
      model: SMOLLM2, prompt: `Chapter ${tokens}. The validator node woke up and`, maxTokens: 512,
    }], 120_000);
    assert.equal(error, undefined, JSON.stringify(error));
    tokens += result.completionTokens;
    tps = result.timings.generationTokensPerSecond;
  }
  const elapsedMs = Date.now() - t0;
  // Let the block of the last slot arrive, then check every slot in the window has its block.
  await new Promise((r) => setTimeout(r, 4000));
  const end = (await api.rpc.chain.getHeader()).number.toNumber();
  const slots = [];
  for (let n = start; n <= end; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const digest = (await api.rpc.chain.getHeader(hash)).digest.logs
      .find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
    // A BABE pre-digest: the claim kind (1 byte), the authority index (u32), then the slot (u64).
    slots.push(api.createType('u64', digest.asPreRuntime[1].subarray(5, 13)).toNumber());
  }
  console.log(`generation: ${tokens} tokens in ${elapsedMs} ms (last ${tps.toFixed(1)} tok/s); `
    + `blocks #${start}..#${end}, slots ${slots[0]}..${slots.at(-1)}`);
  assert.ok(end - start >= 3, 'the generation spans several slots');
  for (let i = 1; i < slots.length; i += 1) {
    assert.equal(slots[i], slots[i - 1] + 1, `slot missed between blocks #${start + i - 1} and #${start + i}`);
  }
});
