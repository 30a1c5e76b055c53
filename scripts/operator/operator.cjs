#!/usr/bin/env node
// The operator's chain steps from docs/operator.md, as one small command-line tool: register the
// node, set its session keys, opt in as a validator candidate, watch it join the set and author,
// and leave again. It talks to the operator's own node over its local RPC port and signs with
// the operator's account.
//
//   node scripts/operator/operator.cjs <command> [--ws ws://127.0.0.1:9944] [options]
//
// The account's secret (a mnemonic or a secret URI such as //Ferdie) comes from the environment
// variable OPERATOR_SURI or from the file given with --suri-file, never from the command line
// (where `ps` would show it). Commands:
//
//   status                                     what the chain knows about the account (JSON)
//   transfer --to ADDRESS --amount COG         a plain balance transfer (funding an account)
//   register --bond COG [--models 0,1]         nodeRegistry.register: the capabilities the node
//            [--endpoint MULTIADDR]...           measured (inference_nodeInfo), inference key and
//                                                its proof from inference_keyOwnershipProof
//   set-keys --keys 0x… --proof 0x…            session.setKeys (output of author_rotateKeysWithOwner)
//   opt-in | opt-out                           validatorSet.optIn / optOut
//   unregister | withdraw                      nodeRegistry.unregister / withdrawUnbonded
//   purge-keys                                 session.purgeKeys (returns the key deposit)
//   wait-validator [--sessions N]              until the account is in session.validators
//   wait-authored [--timeout-s S]              until a block carries the account's BABE index
//   wait-out [--sessions N]                    until the account is neither validator nor queued
//   wait-withdrawable [--timeout-s S]          until withdrawUnbonded would succeed, then sends it
//
// Every transaction waits for finality (a transaction only counts once its block is final) and
// fails with the module error's name (e.g. `validatorSet.NoSessionKeys`). Exit status 0 on
// success, 1 with a one-line reason on failure.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');

const ROOT = path.resolve(__dirname, '..', '..');
// @polkadot/api lives in zombienet/node_modules (`npm --prefix zombienet ci`, run by setup.sh).
const zrequire = createRequire(path.join(ROOT, 'zombienet', 'package.json'));
const { ApiPromise, WsProvider, Keyring } = zrequire('@polkadot/api');
const { cryptoWaitReady } = zrequire('@polkadot/util-crypto');
const { hexToU8a } = zrequire('@polkadot/util');
const chain = require(path.join(ROOT, 'zombienet', 'lib', 'chain.cjs'));
const { submit, dispatchErrorName } = require(path.join(ROOT, 'zombienet', 'lib', 'tx.cjs'));

const { UNIT } = chain;

class Fail extends Error {}

function fail(message) {
  throw new Fail(message);
}

function say(...args) {
  console.log(...args);
}

/** `--name value` options (repeatable ones collect into arrays) and positional words. */
function parseArgs(argv) {
  const opts = { endpoint: [] };
  const words = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (!a.startsWith('--')) { words.push(a); continue; }
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) fail(`${a} needs a value`);
    i += 1;
    if (Array.isArray(opts[key])) opts[key].push(value);
    else opts[key] = value;
  }
  return { words, opts };
}

function cog(plancks) {
  const p = BigInt(plancks);
  const whole = p / UNIT;
  const frac = (p % UNIT).toString().padStart(12, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} COG`;
}

function plancks(text, what) {
  if (!/^\d+(\.\d{1,12})?$/.test(String(text))) fail(`${what} must be a number of COG, not ${text}`);
  const [whole, frac = ''] = String(text).split('.');
  return BigInt(whole) * UNIT + BigInt(frac.padEnd(12, '0'));
}

function operatorPair(opts) {
  let suri = process.env.OPERATOR_SURI;
  if (opts.suriFile) suri = fs.readFileSync(opts.suriFile, 'utf8').trim();
  if (!suri) fail('no operator account: set OPERATOR_SURI or pass --suri-file FILE');
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(suri);
}

/** A JSON-RPC call to the node; fails on an error answer. */
async function nodeRpc(url, method, params = []) {
  let answer;
  try {
    answer = await chain.rpc(url, method, params, 60_000);
  } catch (e) {
    fail(`${method} on ${url}: ${e.message}`);
  }
  if (answer.error) fail(`${method} on ${url} failed: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

/** Sends `tx` signed by `pair`, waits for finality; fails with the dispatch error's name. */
async function send(api, tx, pair) {
  const name = `${tx.method.section}.${tx.method.method}`;
  let r;
  try {
    r = await submit(tx, pair, { finalized: true });
  } catch (e) {
    fail(`${name} was not included: ${e.message}`);
  }
  const err = dispatchErrorName(api, r.events);
  if (err) fail(`${name} failed: ${err}`);
  const number = (await api.rpc.chain.getHeader(r.blockHash)).number.toNumber();
  say(`${name} finalized in block #${number}`);
  return { ...r, number };
}

function eventsOf(api, events, section) {
  return events.filter(({ event }) => event.section === section)
    .map(({ event }) => `${event.section}.${event.method} ${JSON.stringify(event.data.toHuman())}`);
}

async function sessionIndex(api) {
  return (await api.query.session.currentIndex()).toNumber();
}

async function validators(api, at) {
  const q = at ? await api.at(at) : api;
  return (await q.query.session.validators()).map((v) => v.toString());
}

async function status(api, address) {
  const [account, node, nextKeys, candidate, queued, set, index, best, fin] = await Promise.all([
    api.query.system.account(address),
    api.query.nodeRegistry.nodes(address),
    api.query.session.nextKeys(address),
    api.query.validatorSet.candidates(address),
    api.query.validatorSet.queued(),
    validators(api),
    sessionIndex(api),
    api.rpc.chain.getHeader(),
    api.rpc.chain.getFinalizedHead().then((h) => api.rpc.chain.getHeader(h)),
  ]);
  const n = node.isSome ? node.unwrap() : null;
  return {
    account: address,
    free: cog(account.data.free.toBigInt()),
    reserved: cog(account.data.reserved.toBigInt()),
    node: n && {
      bond: cog(n.bond.toBigInt()),
      status: n.status.toHuman(),
      inferenceKey: n.inferenceKey.toHex(),
      servedModels: n.servedModels.map((m) => m.toNumber()),
      readyModels: n.readyModels.map((m) => m.toNumber()),
      endpoints: n.endpoints.map((e) => e.toUtf8()),
    },
    sessionKeys: nextKeys.isSome ? nextKeys.unwrap().toHex() : null,
    candidate: candidate.isSome,
    validator: set.includes(address),
    queued: queued.map((v) => v.toString()).includes(address),
    session: index,
    validators: set,
    bestBlock: best.number.toNumber(),
    finalizedBlock: fin.number.toNumber(),
  };
}

/** Polls `probe()` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
async function until(what, probe, timeoutMs, intervalMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) fail(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const commands = {
  async status(api, opts) {
    const who = opts.address || operatorPair(opts).address;
    say(JSON.stringify(await status(api, who), null, 2));
  },

  async transfer(api, opts) {
    const pair = operatorPair(opts);
    if (!opts.to) fail('transfer needs --to ADDRESS');
    const amount = plancks(opts.amount, '--amount');
    await send(api, api.tx.balances.transferKeepAlive(opts.to, amount), pair);
    say(`sent ${cog(amount)} from ${pair.address} to ${opts.to}`);
  },

  async register(api, opts) {
    const pair = operatorPair(opts);
    const nodeUrl = opts.node || opts.ws;
    const bond = plancks(opts.bond || '1000', '--bond');
    const models = (opts.models || '0').split(',').map((m) => Number(m.trim()));
    // The node's own answers: its engine build (the determinism class jobs are matched on),
    // and its inference key's signature that lets this account register it on this chain.
    const info = await nodeRpc(nodeUrl, 'inference_nodeInfo');
    const proof = await nodeRpc(nodeUrl, 'inference_keyOwnershipProof', [pair.address]);
    if (proof.genesisHash !== api.genesisHash.toHex()) {
      fail(`the node signed for chain ${proof.genesisHash}, but ${opts.ws} is chain ${api.genesisHash.toHex()}`);
    }
    // What the node measured on its machine (`cognitive-node hardware capabilities`), never
    // typed figures: an operator cannot overstate the hardware by accident.
    if (!info.capabilities) fail(`${nodeUrl} could not measure its machine (see its log); run \`cognitive-node hardware capabilities\` there`);
    const capabilities = info.capabilities;
    say(`registering ${pair.address}: inference key ${proof.publicKey}, class `
      + `${JSON.stringify(capabilities.class)}, ${capabilities.cpuCores} cores, ${capabilities.ramMib} MiB, `
      + `accelerators ${capabilities.accelerators.join('+')}, models [${models}], `
      + `endpoints ${JSON.stringify(opts.endpoint)}, bond ${cog(bond)}`);
    const r = await send(api, api.tx.nodeRegistry.register(capabilities, models, opts.endpoint,
      proof.publicKey, proof.signature, bond), pair);
    eventsOf(api, r.events, 'nodeRegistry').forEach((e) => say(`  ${e}`));
  },

  async setKeys(api, opts) {
    const pair = operatorPair(opts);
    if (!opts.keys || !opts.proof) fail('set-keys needs --keys and --proof (from author_rotateKeysWithOwner)');
    if (hexToU8a(opts.keys).length !== 96) fail('--keys must be 96 bytes: babe ‖ grandpa ‖ inference');
    const r = await send(api, api.tx.session.setKeys(opts.keys, opts.proof), pair);
    eventsOf(api, r.events, 'session').forEach((e) => say(`  ${e}`));
  },

  async optIn(api, opts) {
    const pair = operatorPair(opts);
    const r = await send(api, api.tx.validatorSet.optIn(), pair);
    eventsOf(api, r.events, 'validatorSet').forEach((e) => say(`  ${e}`));
    say(`candidate since session ${await sessionIndex(api)}`);
  },

  async optOut(api, opts) {
    const pair = operatorPair(opts);
    const r = await send(api, api.tx.validatorSet.optOut(), pair);
    eventsOf(api, r.events, 'validatorSet').forEach((e) => say(`  ${e}`));
  },

  async unregister(api, opts) {
    const pair = operatorPair(opts);
    const r = await send(api, api.tx.nodeRegistry.unregister(), pair);
    eventsOf(api, r.events, 'nodeRegistry').forEach((e) => say(`  ${e}`));
  },

  async withdraw(api, opts) {
    const pair = operatorPair(opts);
    const r = await send(api, api.tx.nodeRegistry.withdrawUnbonded(), pair);
    eventsOf(api, r.events, 'nodeRegistry').forEach((e) => say(`  ${e}`));
  },

  async purgeKeys(api, opts) {
    const pair = operatorPair(opts);
    const r = await send(api, api.tx.session.purgeKeys(), pair);
    eventsOf(api, r.events, 'session').forEach((e) => say(`  ${e}`));
  },

  async waitValidator(api, opts) {
    const who = opts.address || operatorPair(opts).address;
    const sessions = Number(opts.sessions || 3);
    const from = await sessionIndex(api);
    const t0 = Date.now();
    await until(`${who} in session.validators (${sessions} sessions)`, async () => {
      const s = await status(api, who);
      if (s.node === null) fail(`${who} is no longer registered`);
      if (!s.candidate && !s.queued && !s.validator) fail(`${who} lost its candidacy before joining the set`);
      return s.validator;
    }, sessions * chain.sessionTiming(api).sessionMs + 30_000);
    const set = await validators(api);
    say(`in session.validators from session ${await sessionIndex(api)} (waited from session ${from}, `
      + `${Math.round((Date.now() - t0) / 1000)} s): index ${set.indexOf(who)} of ${set.length}`);
    const grandpa = (await api.call.grandpaApi.grandpaAuthorities()).map(([id]) => id.toHex());
    const keys = (await api.query.session.nextKeys(who)).unwrap();
    if (!grandpa.includes(keys.grandpa.toHex())) fail('the GRANDPA key is not in the GRANDPA authority set');
    say(`GRANDPA authorities: ${grandpa.length}, this node's key ${keys.grandpa.toHex()} among them`);
  },

  async waitAuthored(api, opts) {
    const who = opts.address || operatorPair(opts).address;
    const timeoutMs = Number(opts.timeoutS || 180) * 1000;
    let next = (await api.rpc.chain.getHeader()).number.toNumber();
    const t0 = Date.now();
    const found = await until(`a block authored by ${who}`, async () => {
      const best = (await api.rpc.chain.getHeader()).number.toNumber();
      for (; next <= best; next += 1) {
        const hash = await api.rpc.chain.getBlockHash(next);
        const claim = await chain.babeAuthorIndex(api, hash);
        // The index points into the BABE authorities of the block's epoch, which are the
        // session's validators as that block's state has them.
        const set = await validators(api, hash);
        if (claim && set[claim.index] === who) return { ...claim, hash: hash.toHex() };
      }
      return null;
    }, timeoutMs);
    say(`authored block #${found.number} (${found.hash}), ${found.kind} slot claim, authority index `
      + `${found.index}, after ${Math.round((Date.now() - t0) / 1000)} s`);
  },

  async waitOut(api, opts) {
    const who = opts.address || operatorPair(opts).address;
    const sessions = Number(opts.sessions || 3);
    const t0 = Date.now();
    await until(`${who} to leave the validator set`, async () => {
      const s = await status(api, who);
      return !s.validator && !s.queued && !s.candidate;
    }, sessions * chain.sessionTiming(api).sessionMs + 30_000);
    say(`out of the set in session ${await sessionIndex(api)}, after ${Math.round((Date.now() - t0) / 1000)} s`);
  },

  async waitWithdrawable(api, opts) {
    const pair = operatorPair(opts);
    const timeoutMs = Number(opts.timeoutS || 1200) * 1000;
    const t0 = Date.now();
    let last = '';
    await until('the bond to become withdrawable', async () => {
      // A dry run of the call at the best block says whether it would succeed now.
      const tx = api.tx.nodeRegistry.withdrawUnbonded();
      const signed = await tx.signAsync(pair, { nonce: -1 });
      const result = await api.rpc.system.dryRun(signed.toHex()).catch(() => null);
      let why = 'no answer from system_dryRun';
      if (result && result.isOk) {
        const inner = result.asOk;
        if (inner.isOk) return true;
        const e = inner.asErr;
        why = e.isModule ? (() => { const m = api.registry.findMetaError(e.asModule); return `${m.section}.${m.name}`; })() : e.type;
      } else if (result) {
        // Not applicable at this block at all, e.g. `ExhaustsResources` in the first block of
        // a session, whose rotation takes the whole block.
        why = `invalid transaction (${result.asErr.toString()})`;
      }
      if (why !== last) {
        const n = (await api.query.nodeRegistry.nodes(pair.address)).unwrap();
        say(`  ${Math.round((Date.now() - t0) / 1000)} s: withdrawUnbonded would fail with ${why} `
          + `(session ${await sessionIndex(api)}, block #${(await api.rpc.chain.getHeader()).number}, `
          + `node ${JSON.stringify(n.status.toHuman())})`);
        last = why;
      }
      return false;
    }, timeoutMs, 6000);
    const r = await send(api, api.tx.nodeRegistry.withdrawUnbonded(), pair);
    eventsOf(api, r.events, 'nodeRegistry').forEach((e) => say(`  ${e}`));
    say(`bond released ${Math.round((Date.now() - t0) / 1000)} s after the wait began`);
  },
};

async function main() {
  const { words, opts } = parseArgs(process.argv.slice(2));
  const name = (words[0] || '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!commands[name]) {
    fail(`usage: operator.cjs <${Object.keys(commands).map((c) => c.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)).join('|')}> `
      + '[--ws ws://127.0.0.1:9944] [options] (see the head of this file)');
  }
  opts.ws = opts.ws || 'ws://127.0.0.1:9944';
  await cryptoWaitReady();
  const provider = new WsProvider(opts.ws, false);
  try {
    await provider.connect();
    await provider.isReadyOrError;
  } catch (e) {
    fail(`cannot connect to ${opts.ws}: ${e.message || e}`);
  }
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  try {
    await commands[name](api, opts);
  } finally {
    await api.disconnect();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`operator.cjs: ${e instanceof Fail ? e.message : (e && e.stack) || e}`);
  process.exit(1);
});

