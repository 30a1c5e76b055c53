#!/usr/bin/env node
// Builds the prototype network's chain specification from the machines that run it.
//
//   node scripts/prototype/gen-spec.cjs --machines FILE --out-dir DIR [--node BIN]
//
// FILE (chain-specs/prototype-machines.json) lists the machines, each as
// scripts/prototype-machine.sh printed it, and the endowments. The spec starts from the
// runtime's `prototype` preset (`build-spec --chain prototype-template`: the settings of a
// network that holds value, with development keys) and replaces everything that names a key:
//
//   bootNodes                 every machine's address with its peer id
//   session.keys              each machine's BABE, GRANDPA and inference keys
//   validatorSet.validators   each machine's operator account: the genesis validators
//   nodeRegistry.nodes        each machine registered as an inference node (its inference key,
//                             address, cores and memory; the preset's models, class and bond)
//   balances                  each operator account gets `validatorEndowment` COG; then the
//                             listed endowments. No development account keeps a balance.
//
// Writes DIR/prototype.json (readable genesis) and DIR/prototype-raw.json (what nodes run: the
// runtime blob is fixed in it, so machines that build the node separately share one genesis).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { createRequire } = require('node:module');

const ROOT = path.resolve(__dirname, '..', '..');
const zrequire = createRequire(path.join(ROOT, 'zombienet', 'package.json'));
const { decodeAddress, encodeAddress } = zrequire('@polkadot/util-crypto');

/** Plancks per COG (the runtime's 12 decimals). */
const UNIT = 10n ** 12n;

function fail(message) {
  console.error(`gen-spec: ${message}`);
  process.exit(1);
}

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--machines', '--out-dir', '--node'].includes(flag) || value === undefined) {
      fail(`usage: gen-spec.cjs --machines FILE --out-dir DIR [--node BIN] (got ${flag})`);
    }
    out[flag.slice(2)] = value;
  }
  if (!out.machines || !out['out-dir']) fail('--machines and --out-dir are required');
  return out;
}

/** The SS58 address (generic prefix 42) of `value`, or a failure naming `what`. */
function address(value, what) {
  try {
    return encodeAddress(decodeAddress(value), 42);
  } catch (e) {
    return fail(`${what}: not an SS58 address (${value})`);
  }
}

/**
 * COG as a whole number → plancks as a JS number. The node reads balances from JSON numbers;
 * JavaScript writes only the integers a double holds exactly, so any other amount is refused
 * rather than rounded.
 */
function plancks(cog, what) {
  if (!Number.isSafeInteger(cog) || cog <= 0) fail(`${what}: a positive whole number of COG`);
  const exact = BigInt(cog) * UNIT;
  if (BigInt(Number(exact)) !== exact) fail(`${what}: ${cog} COG is not exact as a JSON number; round it`);
  return Number(exact);
}

/** Fails unless every integer in `text` survives JSON.parse exactly (no double rounding). */
function assertExactNumbers(text, what) {
  for (const [, digits] of text.matchAll(/[:,[\s](\d{16,})(?=[,\]}\s])/g)) {
    if (BigInt(Number(digits)) !== BigInt(digits)) fail(`${what}: ${digits} would lose precision in JavaScript`);
  }
}

function readMachines(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`${file}: ${e.message}`);
  }
  const machines = doc.machines;
  if (!Array.isArray(machines) || machines.length === 0) fail(`${file}: "machines" lists no machine`);
  const names = new Set();
  for (const [i, m] of machines.entries()) {
    const at = `${file}: machines[${i}]`;
    if (typeof m.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(m.name)) fail(`${at}: bad name`);
    if (names.has(m.name)) fail(`${at}: name ${m.name} listed twice`);
    names.add(m.name);
    if (!/^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+$/.test(m.address || '')) fail(`${at}: bad address ${m.address}`);
    if (!/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/.test(m.peerId || '')) fail(`${at}: bad peer id ${m.peerId}`);
    m.account = address(m.account, `${at}.account`);
    const keys = m.sessionKeys || {};
    for (const k of ['babe', 'grandpa', 'inference']) keys[k] = address(keys[k], `${at}.sessionKeys.${k}`);
    for (const k of ['cpuCores', 'ramMib']) {
      if (!Number.isSafeInteger(m[k]) || m[k] <= 0) fail(`${at}: ${k} must be a positive integer`);
    }
  }
  const accounts = machines.map((m) => m.account);
  if (new Set(accounts).size !== accounts.length) fail(`${file}: two machines share an operator account`);
  const endowments = (doc.endowments || []).map((e, i) => ({
    account: address(e.account, `${file}: endowments[${i}].account`),
    cog: e.cog,
    why: e.why,
  }));
  if (!Number.isSafeInteger(doc.validatorEndowment)) fail(`${file}: "validatorEndowment" (COG) is required`);
  return { machines, endowments, validatorEndowment: doc.validatorEndowment };
}

function buildSpec(node, args) {
  return execFileSync(node, ['build-spec', '--disable-default-bootnode', ...args], {
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

function main() {
  const opts = args();
  const node = opts.node || process.env.COGNITIVE_NODE;
  if (!node) fail('--node or $COGNITIVE_NODE must name the node binary');
  const { machines, endowments, validatorEndowment } = readMachines(opts.machines);

  const text = buildSpec(node, ['--chain', 'prototype-template']);
  assertExactNumbers(text, 'the prototype template');
  const spec = JSON.parse(text);
  const patch = spec.genesis.runtimeGenesis.patch;
  const template = patch.nodeRegistry.nodes[0];
  if (!template) fail('the prototype preset registers no node to start from');

  spec.name = 'Cognitive Internet Prototype';
  spec.id = 'cognitive_prototype';
  spec.bootNodes = machines.map((m) => `${m.address}/p2p/${m.peerId}`);
  patch.session.keys = machines.map((m) => [m.account, m.account, {
    babe: m.sessionKeys.babe,
    grandpa: m.sessionKeys.grandpa,
    inference: m.sessionKeys.inference,
  }]);
  patch.validatorSet.validators = machines.map((m) => m.account);
  patch.nodeRegistry.nodes = machines.map((m) => ({
    ...template,
    account: m.account,
    inferenceKey: m.sessionKeys.inference,
    endpoints: [m.address],
    capabilities: { ...template.capabilities, cpuCores: m.cpuCores, ramMib: m.ramMib },
  }));
  const balances = new Map();
  for (const m of machines) balances.set(m.account, plancks(validatorEndowment, 'validatorEndowment'));
  for (const e of endowments) {
    if (balances.has(e.account)) fail(`endowment of ${e.account} given twice`);
    balances.set(e.account, plancks(e.cog, `endowment of ${e.account}`));
  }
  patch.balances.balances = [...balances.entries()];

  fs.mkdirSync(opts['out-dir'], { recursive: true });
  const plain = path.join(opts['out-dir'], 'prototype.json');
  fs.writeFileSync(plain, `${JSON.stringify(spec, null, 2)}\n`);
  // The raw spec comes from the node, which checks the patch against the runtime's genesis types.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prototype-spec-'));
  try {
    const raw = buildSpec(node, ['--chain', plain, '--raw']);
    fs.writeFileSync(path.join(tmp, 'raw.json'), raw);
    fs.renameSync(path.join(tmp, 'raw.json'), path.join(opts['out-dir'], 'prototype-raw.json'));
  } catch (e) {
    fail(`build-spec --raw refused the patched spec: ${(e.stderr || e.message).toString().trim()}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${plain}, ${path.join(opts['out-dir'], 'prototype-raw.json')}: ${machines.length} validators (${machines.map((m) => m.name).join(', ')}), ${balances.size} endowed accounts`);
}

main();
