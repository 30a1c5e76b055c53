// Shared helpers of the zndsl suites' js-scripts.
//
// zombienet loads each js-script with `require` and calls `run(nodeName, networkInfo, args)`.
// Every script wraps its work in `check(...)`: on success it resolves to 1, which the suite
// line compares (`return is 1`); on any failed assertion or error it logs the reason and
// rethrows, which fails that line. (Success is 1, not 0, because zombienet skips the comparison
// when the expected value is 0: `return is 0` could never fail.)
//
// The @polkadot/api here is the project's own (zombienet/package.json), not the older copy
// zombienet bundles for itself.

'use strict';

const assert = require('node:assert/strict');
const { ApiPromise, WsProvider, Keyring } = require('@polkadot/api');
const { submit, dispatchErrorName } = require('../lib/tx.cjs');
const chain = require('../lib/chain.cjs');
const { cryptoWaitReady } = require('@polkadot/util-crypto');
const { compactFromU8a, compactToU8a, u8aConcat, u8aToHex, hexToU8a } = require('@polkadot/util');

const { SMOLLM2, rpc, until, resultHash, commitment } = chain;

/** The validators of the `local` chain and the dev seeds of their keys. */
const VALIDATORS = ['alice', 'bob', 'charlie'];

function seedOf(name) {
  return `//${name[0].toUpperCase()}${name.slice(1)}`;
}

/** sr25519 account (the operator account of a node, or a user) of a dev seed. */
function account(name) {
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(seedOf(name));
}

/** ed25519 `infr` key of a dev seed. */
function inferenceKey(name) {
  return new Keyring({ type: 'ed25519', ss58Format: 42 }).addFromUri(seedOf(name));
}

const apis = [];

/** A Polkadot.js API connected to `wsUri`; `keep` leaves it open after the script returns. */
async function connect(wsUri, { keep = false } = {}) {
  await cryptoWaitReady();
  const api = await ApiPromise.create({
    provider: new WsProvider(wsUri, 1000), noInitWarn: true, throwOnConnect: false,
  });
  if (!keep) apis.push(api);
  return api;
}

function log(...args) {
  console.log('   ', ...args);
}

/** Runs `body`; resolves to 1 on success, logs the reason and rethrows on any error. */
async function check(name, body) {
  const t0 = Date.now();
  try {
    await body();
    console.log(`    ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return 1;
  } catch (e) {
    console.error(`    ✘ ${name}: ${e && e.stack ? e.stack : e}`);
    throw e;
  } finally {
    while (apis.length) await apis.pop().disconnect().catch(() => {});
  }
}

/** Submits `tx` and fails unless it is included and dispatched successfully. */
async function sendOk(api, tx, signer) {
  const r = await submit(tx, signer);
  const err = dispatchErrorName(api, r.events);
  assert.equal(err, null, `${tx.method.section}.${tx.method.method} failed: ${err}`);
  return r;
}

/**
 * Submits a job and returns `{ jobId, assignees, fee, blockHash, submittedAt }`. `prompt` is a
 * string (text) or an array of `{ role, content }` messages (a chat; `chain.jobPrompt`). `sampling` is
 * `'Greedy'` or `{ Sampled: { temperatureMilli, topPPpm } }` (temperature in thousandths, top-p
 * in millionths); the chain adds a sampled job's seed.
 */
async function submitJob(api, owner, { model = 0, prompt, maxTokens = 24, replication = 3, sampling = 'Greedy' }) {
  const submittedAt = Date.now();
  const { blockHash, events } = await sendOk(api,
    api.tx.proofOfInference.submitJob(model, chain.jobPrompt(prompt), maxTokens, replication, sampling), owner);
  const ev = events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event));
  assert.ok(ev, 'JobSubmitted event');
  return {
    jobId: ev.event.data.jobId.toNumber(),
    assignees: ev.event.data.assignees.map((a) => a.toString()),
    fee: ev.event.data.fee.toBigInt(),
    blockHash,
    submittedAt,
  };
}

/** The job's runtime-API view once it is no longer pending. */
async function settled(api, jobId, timeoutMs = 240_000) {
  return until(`job ${jobId} to settle`, async () => {
    const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrapOr(null);
    return view && !view.status.isPending ? view : null;
  }, timeoutMs);
}

/**
 * Events of `section` from the best chain's blocks `from..=to` (numbers), each with its block
 * number: `[{ number, event }]`.
 */
async function eventsBetween(api, from, to, section = 'proofOfInference') {
  const out = [];
  for (let n = from; n <= to; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const events = await (await api.at(hash)).query.system.events();
    for (const { event } of events) {
      if (event.section === section) out.push({ number: n, event });
    }
  }
  return out;
}

async function blockNumber(api, hash) {
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

/** Reputation score of `address` in parts per billion (zero without a record: no prior). */
async function score(api, address) {
  const s = await api.call.reputationApi.score(address);
  return s.isSome ? s.unwrap().toNumber() : 0;
}

/** Blocks a general transaction stays valid for: `AUTHORIZED_TX_PERIOD` of runtime/src/configs.rs. */
const ERA_PERIOD = 64;

/**
 * SCALE of `Era::mortal(ERA_PERIOD, birth)`: a u16 (little endian) with log2(period) − 1 in its
 * low four bits and the phase, `birth % period`, above them.
 */
function mortalEra(birth) {
  const encoded = (Math.log2(ERA_PERIOD) - 1) | ((birth % ERA_PERIOD) << 4);
  return new Uint8Array([encoded & 0xff, encoded >> 8]);
}

/**
 * The bytes before the call in every general (authorised, unsigned) transaction of this runtime,
 * born at block `birth`: the v5 "general" version byte 0x45, extension version 0, and the
 * explicit data of the transaction extensions in the order of `runtime/src/lib.rs` `TxExtension`,
 * with the values the runtime's `CreateAuthorizedTransaction` uses: AuthorizeCall,
 * CheckNonZeroSender, CheckSpecVersion, CheckTxVersion and CheckGenesis carry nothing; CheckEra
 * mortal, born at the block the off-chain worker ran on (two bytes); CheckNonce compact 0 (0x00);
 * CheckWeight nothing; ChargeTransactionPayment tip compact 0 (0x00); CheckMetadataHash mode
 * disabled (0x00); WeightReclaim nothing.
 */
function generalPreamble(birth) {
  return u8aConcat(new Uint8Array([0x45, 0x00]), mortalEra(birth), new Uint8Array([0x00, 0x00, 0x00]));
}

/** Length of `generalPreamble`. */
const PREAMBLE_LEN = 7;

/** A general transaction carrying `call`, born at block `birth`, as hex ready for `author_submitExtrinsic`. */
function generalTransaction(call, birth) {
  const body = u8aConcat(generalPreamble(birth), call.toU8a());
  return u8aToHex(u8aConcat(compactToU8a(body.length), body));
}

/**
 * Checks `generalPreamble` against a general transaction the node itself built: the first
 * heartbeat an off-chain worker put in a block since block `from` (born at one of the
 * `ERA_PERIOD` blocks before it). Reads raw block bodies over JSON-RPC, so nothing here depends
 * on Polkadot.js decoding v5 extrinsics. Returns the block number of that heartbeat.
 */
async function assertPreambleMatchesNode(api, wsUri, from) {
  const heartbeatIndex = api.tx.nodeRegistry.heartbeat.callIndex;
  const at = PREAMBLE_LEN;
  return until('a heartbeat sent by an off-chain worker', async () => {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    for (let n = from; n <= best; n += 1) {
      const hash = (await api.rpc.chain.getBlockHash(n)).toHex();
      const { result } = await rpc(wsUri, 'chain_getBlock', [hash]);
      for (const hex of result.block.extrinsics) {
        const raw = hexToU8a(hex);
        const [offset] = compactFromU8a(raw);
        const body = raw.subarray(offset);
        if (body[0] === 0x45 && body[at] === heartbeatIndex[0] && body[at + 1] === heartbeatIndex[1]) {
          const births = Array.from({ length: ERA_PERIOD }, (_, k) => n - k).filter((b) => b >= 0);
          const preamble = u8aToHex(body.subarray(0, at));
          assert.ok(births.some((b) => u8aToHex(generalPreamble(b)) === preamble),
            `the hand-built general-transaction preamble equals the node's own (${preamble} in block ${n})`);
          return n;
        }
      }
    }
    return null;
  }, 150_000, 3000);
}

/**
 * Submits a general transaction born at the node's best block; resolves to `{ hash }` when the
 * pool accepted it or `{ error }` (the JSON-RPC error, e.g. an invalid transaction) when it
 * refused it.
 */
async function submitGeneral(wsUri, call) {
  const header = await rpc(wsUri, 'chain_getHeader', []);
  if (header.error) return { error: header.error };
  const birth = parseInt(header.result.number, 16);
  const { result, error } = await rpc(wsUri, 'author_submitExtrinsic', [generalTransaction(call, birth)]);
  return error ? { error } : { hash: result };
}

/** An inference key's signature over `SCALE((context, genesis_hash, payload))`. */
const signPayload = chain.signStatement;

/** Best and finalized block numbers of the node behind `api`. */
async function heights(api) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  const fin = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  return { best, fin };
}

/** The chat-formatted prompt SmolLM2 is trained on, for one user message. */
/**
 * Waits for the RPC server of a node that was just (re)started: a restarted node loads its
 * models before it opens RPC, and zombienet's `restart` does not wait for that.
 */
async function rpcUp(wsUri, name, timeoutMs = 60_000) {
  await until(`${name}'s RPC server after the restart`, async () => {
    const r = await rpc(wsUri, 'system_health').catch(() => null);
    return r && r.result;
  }, timeoutMs, 1000);
}

function chatPrompt(text) {
  return `<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`;
}

module.exports = {
  ...chain,
  assert,
  SMOLLM2,
  VALIDATORS,
  account,
  inferenceKey,
  connect,
  rpc,
  until,
  log,
  check,
  submit,
  sendOk,
  dispatchErrorName,
  submitJob,
  settled,
  eventsBetween,
  blockNumber,
  score,
  resultHash,
  commitment,
  PREAMBLE_LEN,
  assertPreambleMatchesNode,
  submitGeneral,
  signPayload,
  heights,
  rpcUp,
  chatPrompt,
};
