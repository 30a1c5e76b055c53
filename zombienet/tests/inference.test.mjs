// Proof of inference on a real dev node with the real SmolLM2-135M-Instruct model (installed in
// the model store by scripts/install-models.sh): Polkadot.js submits a job with R = 1, the
// node's off-chain worker runs it through llama.cpp, commits and reveals, the job settles, and
// `inference_jobResult` returns text whose recomputed hash equals the chain's. Direct JSON-RPC
// inference answers a chat with a proof checked here with Node's own ed25519 (not the node's
// code), its errors have distinct codes, and Aura keeps every slot during a long generation.
//
// Cast: Alice is the only validator (`--dev`); her node's keystore holds the ed25519 //Alice
// key, which she registers as her inference key, serving model 0 (SmolLM2). Bob submits jobs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as edVerify } from 'node:crypto';
import { Keyring } from '@polkadot/api';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { compactToU8a, u8aToHex, hexToU8a, u8aConcat, stringToU8a } from '@polkadot/util';
import { startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';

const UNIT = 10n ** 12n;
const SMOLLM2 = '0xb179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53';
const DEADLINE = { timeout: 240_000 };

let node;
let api;
let alice; let bob;
const aliceInference = new Keyring({ type: 'ed25519' }).addFromUri('//Alice');

/** A JSON-RPC call over HTTP; resolves to { result } or { error: { code, message } }. */
async function rpc(method, params = []) {
  const r = await fetch(`http://127.0.0.1:${node.rpcPort}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
  });
  return r.json();
}

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
  [alice, bob] = ['//Alice', '//Bob'].map((uri) => sr.addFromUri(uri));
  await sendOk(api.tx.nodeRegistry.register(
    { cpuCores: 2, ramMib: 4096, gpuMemoryMib: 0, accelerators: ['Cpu'], modelFormats: ['Gguf'] },
    [0], ['/ip4/127.0.0.1/tcp/30333'], aliceInference.publicKey, 1_000n * UNIT,
  ), alice);
}, { timeout: 180_000 });

after(async () => {
  if (node) await node.stop();
});

/** Waits until `check()` returns a truthy value (polled every block time / 2). */
async function until(what, check, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

/** `result_hash = blake2_256(SCALE(job_id u64, model_sha256 [u8;32], prompt ids, output ids))`. */
function resultHash(jobId, modelSha256, promptIds, outputIds) {
  const encoded = api.createType('(u64, [u8; 32], Vec<u32>, Vec<u32>)',
    [jobId, modelSha256, promptIds, outputIds]).toU8a();
  return u8aToHex(blake2AsU8a(encoded, 256));
}

test('a job submitted with Polkadot.js is run by the off-chain worker and settles; jobResult matches the chain', DEADLINE, async () => {
  const prompt = '<|im_start|>user\nName three primary colours.<|im_end|>\n<|im_start|>assistant\n';
  const before = (await api.query.system.account(bob.address)).data.free.toBigInt();
  const { events } = await sendOk(api.tx.proofOfInference.submitJob(0, prompt, 24, 1), bob);
  const submitted = events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event));
  assert.ok(submitted, 'JobSubmitted event');
  const jobId = submitted.event.data.jobId.toNumber();
  assert.deepEqual(submitted.event.data.assignees.map((a) => a.toString()), [alice.address]);

  const job = await until('the job to settle', async () => {
    const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrap();
    return view.status.isPending ? null : view;
  });
  assert.ok(job.status.isCompleted, `job settled as ${job.status.type}`);
  const chainHash = job.status.asCompleted.resultHash.toHex();
  assert.equal(job.assignees[0].resultHash.unwrap().toHex(), chainHash);

  const { result, error } = await rpc('inference_jobResult', [jobId]);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.ok(result.text.length > 0, 'non-empty output text');
  assert.ok(result.outputTokenIds.length > 0 && result.outputTokenIds.length <= 24);
  assert.equal(resultHash(jobId, SMOLLM2, result.promptTokenIds, result.outputTokenIds), chainHash,
    'the hash recomputed from the returned tokens equals the on-chain result hash');
  assert.equal(result.matchesChain, true);
  assert.equal(result.onChain.status, 'completed');
  // The fee went to Alice: Bob paid it (plus transaction fees) and nothing is held any more.
  const after = (await api.query.system.account(bob.address)).data;
  assert.ok(before - after.free.toBigInt() >= job.fee.toBigInt());
  assert.equal(after.reserved.toBigInt(), 0n);
});

test('inference_generate answers a chat with a proof that Node.js crypto verifies', DEADLINE, async () => {
  const { result, error } = await rpc('inference_generate', [{
    model: 'SmolLM2-135M-Instruct-Q4_1',
    messages: [{ role: 'user', content: 'What is the capital of France?' }],
    maxTokens: 32,
  }]);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.ok(result.text.length > 0);
  assert.equal(result.model.sha256, SMOLLM2);
  assert.ok(result.prompt.includes('What is the capital of France?'), 'rendered with the chat template');
  assert.equal(result.completionTokens, result.tokenIds.length);
  assert.ok(result.timings.generationTokensPerSecond > 0);

  const { proof } = result;
  assert.equal(proof.publicKey, u8aToHex(aliceInference.publicKey), 'signed by the inference key');
  // Rebuild the signed bytes from the response, independently of the node.
  // SCALE by hand: [u8; 32] raw, Vec<u8> with its compact length, u32 LE, bool as one byte.
  const promptBytes = stringToU8a(result.prompt);
  const maxTokens = new Uint8Array(4);
  new DataView(maxTokens.buffer).setUint32(0, 32, true);
  const requestHash = blake2AsU8a(u8aConcat(hexToU8a(SMOLLM2), compactToU8a(promptBytes.length),
    promptBytes, maxTokens, new Uint8Array([1])), 256);
  const outputHash = blake2AsU8a(stringToU8a(result.text), 256);
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(proof.timestampMs), true);
  const message = u8aConcat(stringToU8a('cognitive-internet/inference-proof/v1'),
    hexToU8a(SMOLLM2), requestHash, outputHash, ts);
  assert.equal(u8aToHex(message), proof.message);
  assert.equal(u8aToHex(requestHash), proof.requestHash);
  assert.equal(u8aToHex(outputHash), proof.outputHash);
  // Node's OpenSSL-backed ed25519: SPKI DER = fixed 12-byte prefix + 32-byte key.
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hexToU8a(proof.publicKey))]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  assert.ok(edVerify(null, Buffer.from(message), key, Buffer.from(hexToU8a(proof.signature))), 'valid signature');
  const tampered = Buffer.from(message);
  tampered[tampered.length - 1] ^= 1;
  assert.ok(!edVerify(null, tampered, key, Buffer.from(hexToU8a(proof.signature))), 'tampering detected');

  // Deterministic requests repeat exactly.
  const again = await rpc('inference_generate', [{
    model: SMOLLM2, messages: [{ role: 'user', content: 'What is the capital of France?' }], maxTokens: 32,
  }]);
  assert.deepEqual(again.result.tokenIds, result.tokenIds);
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
  assert.ok(done.proof.signature.startsWith('0x'));

  const models = (await rpc('inference_models')).result;
  assert.ok(models.some((m) => m.sha256 === SMOLLM2 && m.loaded), JSON.stringify(models));
  const info = (await rpc('inference_nodeInfo')).result;
  assert.equal(info.publicKey, u8aToHex(aliceInference.publicKey));
  assert.equal(info.engine, 'llama-cpp-2 0.1.160');
  assert.ok(info.loadedModels.some((m) => m.sha256 === SMOLLM2));

  const code = async (params) => (await rpc('inference_generate', [params])).error?.code;
  assert.equal(await code({ model: 'no-such-model', prompt: 'hi' }), 4001);
  assert.equal(await code({ model: SMOLLM2, prompt: 'x'.repeat(9000) }), 4002);
  assert.equal(await code({ model: SMOLLM2, prompt: 'hi', maxTokens: 0 }), 4003);
  assert.equal(await code({ model: SMOLLM2 }), 4006);
  assert.equal((await rpc('inference_jobResult', [999_999])).error?.code, 4008);
  // An oversized on-chain prompt is refused by the runtime and costs only the transaction fee.
  const r = await submit(api.tx.proofOfInference.submitJob(0, 'x'.repeat(1537), 8, 1), bob);
  assert.equal(dispatchErrorName(api, r.events), 'proofOfInference.PromptTooLong');
  const unknown = await submit(api.tx.proofOfInference.submitJob(77, 'hi', 8, 1), bob);
  assert.equal(dispatchErrorName(api, unknown.events), 'proofOfInference.UnknownModel');
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
    }]);
    assert.equal(error, undefined, JSON.stringify(error));
    tokens += result.completionTokens;
    tps = result.timings.generationTokensPerSecond;
  }
  const elapsedMs = Date.now() - t0;
  // Let the block of the last slot arrive, then check every slot in the window has its block.
  await new Promise((r) => setTimeout(r, 7000));
  const end = (await api.rpc.chain.getHeader()).number.toNumber();
  const slots = [];
  for (let n = start; n <= end; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const digest = (await api.rpc.chain.getHeader(hash)).digest.logs
      .find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'aura');
    slots.push(api.createType('u64', digest.asPreRuntime[1]).toNumber());
  }
  console.log(`generation: ${tokens} tokens in ${elapsedMs} ms (last ${tps.toFixed(1)} tok/s); `
    + `blocks #${start}..#${end}, slots ${slots[0]}..${slots.at(-1)}`);
  assert.ok(end - start >= 3, 'the generation spans several slots');
  for (let i = 1; i < slots.length; i += 1) {
    assert.equal(slots[i], slots[i - 1] + 1, `slot missed between blocks #${start + i - 1} and #${start + i}`);
  }
});
