// What the Polkadot.js tests (tests/, through ESM imports) and the zombienet js-scripts
// (scripts/) both need to know about the chain: the models (from runtime/models.json, the one
// source the runtime's genesis compiles in too), the byte layouts inference keys sign, the
// hashes validators commit to, and node registration. Every layout here is also pinned by a
// Rust test on the other side (primitives and pallets), so the two cannot drift silently.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { blake2AsU8a } = require('@polkadot/util-crypto');
const { compactToU8a, u8aConcat, u8aToHex, hexToU8a, stringToU8a } = require('@polkadot/util');

/** One COG in plancks. */
const UNIT = 10n ** 12n;

const MODELS_FILE = join(__dirname, '..', '..', 'runtime', 'models.json');
const MODELS = JSON.parse(readFileSync(MODELS_FILE, 'utf8')).models;

/** The entry of `runtime/models.json` with `key`. */
function modelFacts(key) {
  const m = MODELS.find((x) => x.key === key);
  if (!m) throw new Error(`no model ${key} in ${MODELS_FILE}`);
  return m;
}

/** A model as `modelRegistry.whitelistModel` takes it. */
function whitelistEntry(key) {
  const m = modelFacts(key);
  return {
    name: m.name,
    cid: m.cid,
    sha256: `0x${m.sha256}`,
    sizeBytes: m.sizeBytes,
    format: m.format,
    architecture: m.architecture,
    quantization: m.quantization,
    license: m.license,
    profile: m.profile,
  };
}

/** sha256 (0x hex) of the genesis model 0, SmolLM2-135M-Instruct Q4_1. */
const SMOLLM2 = `0x${modelFacts('smollm2').sha256}`;
/** Gemma 3 270M Q4_K_M, as the governance tests whitelist it. */
const GEMMA = whitelistEntry('gemma');

/** The determinism class of the genesis model: what a node running this build declares. */
function engineClass() {
  const p = modelFacts('smollm2').profile;
  return { engine: p.engine, engineVersion: p.engineVersion, cpuTarget: p.cpuTarget };
}

/** A capability declaration of a CPU node of this build. */
function capabilities(cpuCores = 2) {
  return {
    cpuCores,
    ramMib: 4096,
    gpuMemoryMib: 0,
    accelerators: ['Cpu'],
    modelFormats: ['Gguf'],
    class: engineClass(),
  };
}

/** The genesis hash (0x hex) of the chain behind `api`. */
function genesisHash(api) {
  return api.genesisHash.toHex();
}

/**
 * The bytes an inference key signs for any on-chain statement:
 * `SCALE((context, genesis_hash, payload))`, with `payload` encoded as the SCALE `type`.
 */
function signingPayload(api, context, type, payload) {
  const ctx = stringToU8a(context);
  return u8aConcat(compactToU8a(ctx.length), ctx, hexToU8a(genesisHash(api)),
    api.createType(type, payload).toU8a());
}

/** An inference key's signature (0x hex) over `signingPayload(...)`. */
function signStatement(api, key, context, type, payload) {
  return u8aToHex(key.sign(signingPayload(api, context, type, payload)));
}

/** Signing contexts of the runtime (pallets' `*_CONTEXT` constants). */
const CONTEXT = {
  keyOwnership: 'cognitive-internet/key-ownership/v1',
  heartbeat: 'cognitive-internet/heartbeat/v2',
  commit: 'cognitive-internet/commit/v3',
  reveal: 'cognitive-internet/reveal/v2',
};

/** Proof that `address` may register the ed25519 inference key `key` (a keyring pair). */
function keyOwnershipProof(api, key, address) {
  return signStatement(api, key, CONTEXT.keyOwnership, 'AccountId32', address);
}

/**
 * `nodeRegistry.register` for `address` with the inference key pair `key` (whose secret this
 * process holds), serving `models`, with `bond` plancks.
 */
function registerTx(api, address, key, { models = [0], bond = 1_000n * UNIT, cores = 2, endpoints = ['/ip4/127.0.0.1/tcp/30333'] } = {}) {
  return api.tx.nodeRegistry.register(capabilities(cores), models, endpoints, key.publicKey,
    keyOwnershipProof(api, key, address), bond);
}

/** `result_hash = blake2_256(SCALE(job_id u64, model_sha256 [u8;32], prompt ids, output ids))`. */
function resultHash(api, jobId, modelSha256, promptIds, outputIds) {
  const encoded = api.createType('(u64, [u8; 32], Vec<u32>, Vec<u32>)',
    [jobId, modelSha256, promptIds, outputIds]).toU8a();
  return u8aToHex(blake2AsU8a(encoded, 256));
}

/** `commitment = blake2_256(result_hash ‖ salt ‖ SCALE(node account))`. */
function commitment(api, resultHashHex, saltHex, address) {
  return u8aToHex(blake2AsU8a(u8aConcat(hexToU8a(resultHashHex), hexToU8a(saltHex),
    api.createType('AccountId32', address).toU8a()), 256));
}

/** The fee `R × (base_fee + price_per_token × (prompt bytes + max_tokens))` under `params`. */
/**
 * A job's prompt as `proofOfInference.submitJob` takes it (`JobPrompt`): a string is a text
 * prompt the model continues; an array of `{ role: 'system' | 'user' | 'assistant', content }`
 * is a chat the model's own chat template renders, so the model answers the last message.
 */
function jobPrompt(prompt) {
  if (typeof prompt === 'string') return { Text: prompt };
  return {
    Chat: prompt.map(({ role, content }) => ({
      role: role.charAt(0).toUpperCase() + role.slice(1),
      content,
    })),
  };
}

/**
 * The prompt length a job is charged for and bounded by (`JobPrompt::billed_len`): a text's
 * UTF-8 bytes; a chat's SCALE-encoded messages plus the runtime's `chatTurnAllowance` per
 * message and once more for the assistant's turn.
 */
function billedPromptLen(api, prompt) {
  const wrapped = jobPrompt(prompt);
  if (wrapped.Text !== undefined) return Buffer.byteLength(wrapped.Text);
  const roles = ['System', 'User', 'Assistant'];
  const encoded = api.createType('Vec<(u8, Bytes)>',
    wrapped.Chat.map(({ role, content }) => [roles.indexOf(role), content])).encodedLength;
  const allowance = api.consts.proofOfInference.chatTurnAllowance.toNumber();
  return encoded + (wrapped.Chat.length + 1) * allowance;
}

function jobFee(params, promptBytes, maxTokens, r) {
  const perNode = params.baseFee.toBigInt()
    + params.pricePerToken.toBigInt() * BigInt(promptBytes + maxTokens);
  return BigInt(r) * perNode;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe()` every `intervalMs` until it returns a truthy value. */
async function until(what, probe, timeoutMs = 120_000, intervalMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Waits until the registry shows `address`'s engine ready for `model` (its heartbeat said so). */
async function waitReady(api, address, model = 0, timeoutMs = 120_000) {
  return until(`${address} to be ready for model ${model}`, async () => {
    const node = await api.query.nodeRegistry.nodes(address);
    return node.isSome && node.unwrap().readyModels.some((m) => m.toNumber() === model);
  }, timeoutMs, 1000);
}

/**
 * The BABE slot claim in the header of block `hash`: `{ kind, index, number }`, where `index`
 * points into the BABE authorities of the block's epoch (the session's validators), or null
 * for a header without one (genesis). The pre-digest is SCALE: claim kind (u8), then the
 * authority index (u32, little-endian).
 */
async function babeAuthorIndex(api, hash) {
  const header = await api.rpc.chain.getHeader(hash);
  const log = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
  if (!log) return null;
  const raw = log.asPreRuntime[1].toU8a(true);
  return {
    kind: ['', 'primary', 'secondary-plain', 'secondary-vrf'][raw[0]] || `kind ${raw[0]}`,
    index: (raw[1] | (raw[2] << 8) | (raw[3] << 16) | (raw[4] << 24)) >>> 0,
    number: header.number.toNumber(),
  };
}

/**
 * The chain's slot length and session length, read from the runtime's own constants (BABE's
 * expected block time and epoch duration: a session is an epoch), so scripts never hard-code
 * them: `{ slotMs, sessionBlocks, sessionMs }`.
 */
function sessionTiming(api) {
  const slotMs = api.consts.babe.expectedBlockTime.toNumber();
  const sessionBlocks = api.consts.babe.epochDuration.toNumber();
  return { slotMs, sessionBlocks, sessionMs: slotMs * sessionBlocks };
}

/** A JSON-RPC call over HTTP to `url` (http:// or ws://); resolves to `{ result }` or `{ error }`. */
async function rpc(url, method, params = [], timeoutMs = 30_000) {
  const r = await fetch(url.replace(/^ws/, 'http'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return r.json();
}

/**
 * Verifies job `jobId` as a client that trusts nobody but the chain: reads the job through the
 * runtime API (`api`, connected to any node), fetches the output from an assigned node — each
 * URL of `rpcUris` in turn (an assignee's RPC, say) — recomputes the result hash from the
 * returned token ids and compares it with the chain's answer (the agreed hash, or the auditors'
 * after an overturn). Returns
 * `{ jobId, status, verified, chainHash, computedHash, text, from, challengeable,
 * challengeableUntil, audit }`; `verified` is false when no node served an output that hashes
 * to the chain's answer (or the job has none yet).
 */
async function verifyJob(api, jobId, rpcUris) {
  const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrapOr(null);
  if (!view) throw new Error(`job ${jobId} is not on chain (never submitted, or pruned)`);
  const status = view.status.type;
  let chainHash = null;
  if (view.status.isCompleted) chainHash = view.status.asCompleted.resultHash.toHex();
  if (view.status.isOverturned) chainHash = view.status.asOverturned.auditedHash.toHex();
  const model = view.modelSha256.toHex();
  const out = {
    jobId,
    status,
    verified: false,
    chainHash,
    computedHash: null,
    text: null,
    from: null,
    challengeable: view.challengeableUntil.isSome,
    challengeableUntil: view.challengeableUntil.isSome ? view.challengeableUntil.unwrap().toNumber() : null,
    audit: view.audit.isSome ? view.audit.unwrap().verdict.toJSON() : null,
  };
  if (!chainHash) return out;
  for (const url of rpcUris) {
    const { result, error } = await rpc(url, 'inference_jobResult', [jobId]).catch((e) => ({ error: e }));
    if (error || !result) continue;
    const computed = resultHash(api, jobId, model, result.promptTokenIds, result.outputTokenIds);
    if (computed === chainHash) {
      return { ...out, verified: true, computedHash: computed, text: result.text, from: url };
    }
    out.computedHash = computed;
  }
  return out;
}

module.exports = {
  babeAuthorIndex,
  sessionTiming,
  UNIT,
  MODELS,
  modelFacts,
  whitelistEntry,
  SMOLLM2,
  GEMMA,
  engineClass,
  capabilities,
  genesisHash,
  signingPayload,
  signStatement,
  CONTEXT,
  keyOwnershipProof,
  registerTx,
  resultHash,
  verifyJob,
  jobPrompt,
  billedPromptLen,
  commitment,
  jobFee,
  sleep,
  until,
  waitReady,
  rpc,
};
