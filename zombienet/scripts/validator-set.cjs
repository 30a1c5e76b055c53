// Validator-set suite, in steps around the zndsl's fault commands (`args[0]` names the step):
//
// 1. `join`: Dave, a fourth node that is not in genesis, follows the operator's path: he
//    registers his inference node (key proof from `inference_keyOwnershipProof`), generates
//    session keys on his node (`author_rotateKeysWithOwner`), sets them (`session.setKeys`) and
//    opts in (`validatorSet.optIn`). At a session boundary he is queued and one session later
//    he is an authority: in `session.validators`, in GRANDPA's authority set and authoring
//    blocks (his index in BABE pre-digests).
// 2. `before-stop`, then `charlie: pause` (SIGSTOP, never resumed), then `after-stop`: with four
//    validators GRANDPA needs three, so finality goes on without Charlie, on Dave's votes too
//    (Alice and Bob alone are two); Charlie's node misses its
//    heartbeats, the registry marks it offline, and the validator set drops him at the
//    following session boundary. Finality continues on the three that remain.
// 3. `equivocate`: the classic operator mistake, two machines with one validator's keys. This
//    script copies Dave's BABE key into a second node process: both author in Dave's slots, the
//    other nodes see two blocks in one slot and report them (`babe.reportEquivocationUnsigned`,
//    key-ownership proof from the session history); `pallet_offences` records a `babe`
//    offence, and the validator set burns 10% of Dave's bond and ends his candidacy. Then a
//    process with Dave's GRANDPA key votes in his name while he is still an authority (frozen
//    for part of every two seconds, so that its view of the chain lags Dave's): two votes in
//    one round, a `grandpa` offence (`grandpa.reportEquivocationUnsigned`), and no second slash
//    for the same incident. Dave leaves the set.
//    At the same time Bob opts out (`validatorSet.optOut`) and leaves the set too.
// 4. `after-leave`: Alice alone remains, and finality still moves on.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { u8aToHex, hexToU8a, u8aToString } = require('@polkadot/util');
const c = require('./common.cjs');

const { assert } = c;

/** State shared by the steps (zombienet runs them in one process, one after another). */
const state = global.cognitiveValidatorSet || (global.cognitiveValidatorSet = {});

const uri = (info, name) => info.nodesByName[name].wsUri;

async function validators(api) {
  return (await api.query.session.validators()).map((v) => v.toString());
}

async function sessionIndex(api) {
  return (await api.query.session.currentIndex()).toNumber();
}

/** Waits until `probe(validators)` holds for the current session's set. */
async function waitForSet(api, what, probe, sessions) {
  const timeout = sessions * c.sessionTiming(api).sessionMs + 60_000;
  const t0 = Date.now();
  const set = await c.until(what, async () => {
    const v = await validators(api);
    return probe(v) ? v : null;
  }, timeout, 3000);
  c.log(`${what}: session ${await sessionIndex(api)}, after ${((Date.now() - t0) / 1000).toFixed(0)} s: `
    + `[${set.map(name).join(', ')}]`);
  return set;
}

const NAMES = new Map(['alice', 'bob', 'charlie', 'dave'].map((n) => [c.account(n).address, n]));
function name(address) {
  return NAMES.get(address) || address;
}

/** Waits for the finalized head to advance by `blocks`; returns the new height. */
async function finalityMoves(api, blocks, what) {
  const from = (await c.heights(api)).fin;
  const { fin } = await c.until(`finality to move ${blocks} blocks ${what}`, async () => {
    const h = await c.heights(api);
    return h.fin >= from + blocks ? h : null;
  }, 120_000);
  c.log(`finalized #${from} → #${fin} ${what}`);
  return fin;
}

async function join(info) {
  const api = await c.connect(uri(info, 'alice'));
  const daveUri = uri(info, 'dave');
  const dave = c.account('dave');
  assert.deepEqual((await validators(api)).map(name), ['alice', 'bob', 'charlie'], 'genesis set');

  // The operator's path (docs/operator.md): register the node with the key its node proves.
  const { result: ownership, error } = await c.rpc(daveUri, 'inference_keyOwnershipProof', [dave.address]);
  assert.equal(error, undefined, JSON.stringify(error));
  const { result: nodeInfo } = await c.rpc(daveUri, 'inference_nodeInfo');
  await c.sendOk(api, api.tx.nodeRegistry.register(
    { ...c.capabilities(nodeInfo.cpuCores), class: nodeInfo.engineClass },
    [0], [], ownership.publicKey, ownership.signature, 1_000n * c.UNIT,
  ), dave);

  // Without session keys the candidacy is refused.
  const { error: noKeys } = await c.submit(api.tx.validatorSet.optIn(), dave)
    .then((r) => ({ error: c.dispatchErrorName(api, r.events) }));
  assert.equal(noKeys, 'validatorSet.NoSessionKeys');

  // Session keys generated in Dave's keystore, with the proof that he holds them.
  const { result: generated, error: rotateError } = await c.rpc(daveUri, 'author_rotateKeysWithOwner',
    [u8aToHex(dave.publicKey)]);
  assert.equal(rotateError, undefined, JSON.stringify(rotateError));
  await c.sendOk(api, api.tx.session.setKeys(generated.keys, generated.proof), dave);
  // SessionKeys: babe (sr25519) ‖ grandpa (ed25519) ‖ inference (ed25519), 32 bytes each.
  state.daveGrandpa = u8aToHex(hexToU8a(generated.keys).subarray(32, 64));
  state.daveKeys = generated.keys;
  const { events } = await c.sendOk(api, api.tx.validatorSet.optIn(), dave);
  assert.ok(events.some(({ event }) => api.events.validatorSet.CandidateAdded.is(event)), 'CandidateAdded');
  const optedAt = await sessionIndex(api);
  c.log(`Dave registered, set his keys and opted in during session ${optedAt}`);

  // Queued at the next boundary, an authority one session later.
  await waitForSet(api, 'Dave in the validator set', (v) => v.includes(dave.address), 3);
  const joinedAt = await sessionIndex(api);
  assert.ok(joinedAt <= optedAt + 2, `Dave validates from session ${joinedAt}, opted in during ${optedAt}`);
  const grandpa = (await api.call.grandpaApi.grandpaAuthorities()).map(([id]) => id.toHex());
  assert.ok(grandpa.includes(state.daveGrandpa), 'Dave\'s GRANDPA key is in the authority set');
  assert.equal(grandpa.length, 4);

  // He authors blocks: his index appears in BABE pre-digests.
  const index = (await validators(api)).indexOf(dave.address);
  const start = (await c.heights(api)).best;
  const authored = await c.until('a block authored by Dave', async () => {
    const best = (await c.heights(api)).best;
    for (let n = start; n <= best; n += 1) {
      const claim = await c.babeAuthorIndex(api, await api.rpc.chain.getBlockHash(n));
      if (claim && claim.index === index) return n;
    }
    return null;
  }, 120_000, 3000);
  c.log(`Dave authored block #${authored}`);

  await finalityMoves(api, 3, 'with four validators');
}

async function beforeStop(info) {
  const api = await c.connect(uri(info, 'alice'));
  state.stoppedAt = Date.now();
  state.stopHeights = await c.heights(api);
  c.log(`pausing Charlie at finalized #${state.stopHeights.fin}, session ${await sessionIndex(api)}`);
}

async function afterStop(info) {
  const api = await c.connect(uri(info, 'alice'));
  const charlie = c.account('charlie').address;
  // GRANDPA needs three of the four voters: finality goes on while Charlie is frozen, which
  // takes Dave's votes (Alice and Bob alone are two).
  await finalityMoves(api, 5, 'without Charlie: Alice, Bob and Dave vote');
  // Offline (no heartbeat in a whole period), then out of the set at the following boundary.
  await waitForSet(api, 'Charlie dropped from the set', (v) => !v.includes(charlie), 7);
  const events = await c.eventsBetween(api, state.stopHeights.best, (await c.heights(api)).best, 'validatorSet');
  const removed = events.find(({ event }) => event.method === 'CandidateRemoved'
    && event.data.who.toString() === charlie);
  assert.ok(removed, 'Charlie\'s candidacy ended');
  c.log(`Charlie's candidacy ended in block #${removed.number}: ${removed.event.data.reason.toString()}`);
  assert.equal((await api.call.grandpaApi.grandpaAuthorities()).length, 3);
  await finalityMoves(api, 3, 'on Alice, Bob and Dave');
}

/** Keystore file names start with the key type in hex. */
const KEY_FILE_PREFIX = { babe: '62616265', gran: '6772616e' };

/**
 * Starts a second node process with Dave's session keys `keys` (`{ babe, gran }`: public keys
 * in hex, as the chain holds them for him) copied from his keystore, on its own base path.
 */
async function startTwin(info, keys) {
  const daveDir = path.join(info.tmpDir, 'dave');
  const name = `dave-twin-${Object.keys(keys).join('-')}`;
  const base = path.join(info.tmpDir, name);
  for (const [type, publicHex] of Object.entries(keys)) {
    const file = `${KEY_FILE_PREFIX[type]}${publicHex.replace(/^0x/, '')}`;
    const found = findFile(daveDir, file);
    assert.ok(found, `Dave's ${type} session key ${publicHex} in a keystore under ${daveDir}`);
    const chainId = path.basename(path.dirname(path.dirname(found)));
    const twinKeystore = path.join(base, 'chains', chainId, 'keystore');
    fs.mkdirSync(twinKeystore, { recursive: true });
    fs.copyFileSync(found, path.join(twinKeystore, file));
  }
  const { result: addrs } = await c.rpc(uri(info, 'alice'), 'system_localListenAddresses');
  const bootnode = addrs.find((a) => a.includes('127.0.0.1'));
  const logPath = path.join(info.tmpDir, `${name}.log`);
  const log = fs.openSync(logPath, 'a');
  const twin = spawn(process.env.COGNITIVE_NODE, [
    '--chain', info.chainSpecPath, '--base-path', base, '--validator', '--name', name,
    // Its own network identity (a validator needs one given): only the keys are Dave's.
    '--node-key', crypto.randomBytes(32).toString('hex'),
    '--bootnodes', bootnode, '--listen-addr', '/ip4/127.0.0.1/tcp/0', '--rpc-port', '0',
    '--no-prometheus', '--no-telemetry', '--offchain-worker', 'never', '--no-inference-rpc',
    '--inference-threads', '1', '--model-p2p-port', '0', '--model-p2p-listen', '127.0.0.1',
  ], { stdio: ['ignore', log, log] });
  twin.exited = null;
  twin.logPath = logPath;
  twin.on('exit', (code, signal) => { twin.exited = `${code ?? signal}`; });
  c.log(`started ${name} (pid ${twin.pid}) with Dave's ${Object.keys(keys).join(' and ')} key, bootnode ${bootnode}`);
  return twin;
}

/** Fails with the tail of its log if `twin` has exited. */
function assertRunning(twin) {
  if (twin.exited === null) return;
  const tail = fs.readFileSync(twin.logPath, 'utf8').split('\n').slice(-15).join('\n');
  throw new Error(`${path.basename(twin.logPath)} exited (${twin.exited}):\n${tail}`);
}

/** Waits for an offence of `kind` (`babe` or `grandpa`) in the best chain since block `from`. */
async function offenceOf(api, from, kind, twin, timeoutMs) {
  return c.until(`a ${kind} equivocation offence`, async () => {
    assertRunning(twin);
    const offences = await c.eventsBetween(api, from, (await c.heights(api)).best, 'offences');
    return offences.find(({ event }) => u8aToString(event.data.kind.toU8a()).startsWith(`${kind}:`));
  }, timeoutMs, 3000).catch(async (e) => {
    throw new Error(`${e.message}; its reports: ${await reportOutcomes(api, from, kind)}`);
  });
}

/** The path of the file named `nameWanted` somewhere under `root`, or null. */
function findFile(root, nameWanted) {
  if (!fs.existsSync(root)) return null;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, entry.name);
    if (entry.isFile() && entry.name === nameWanted) return p;
    if (entry.isDirectory()) {
      const found = findFile(p, nameWanted);
      if (found) return found;
    }
  }
  return null;
}

async function equivocate(info) {
  const api = await c.connect(uri(info, 'alice'));
  const dave = c.account('dave').address;
  const bob = c.account('bob');
  const bondBefore = (await api.query.nodeRegistry.nodes(dave)).unwrap().bond.toBigInt();
  const slash = (await api.query.validatorSet.parameters()).equivocationSlash.toNumber();
  const from = (await c.heights(api)).best;

  // Bob leaves on his own at the same time.
  const { events: outEvents } = await c.sendOk(api, api.tx.validatorSet.optOut(), bob);
  assert.ok(outEvents.some(({ event }) => api.events.validatorSet.CandidateRemoved.is(event)), 'Bob opted out');

  // Two blocks in one slot: a second process with Dave's BABE key authors in his slots. The
  // offence burns the slash once, ends Dave's candidacy and disables him while he is still in
  // the set (his node's attempts to author are then refused by the runtime).
  const keys = (await api.query.session.nextKeys(dave)).unwrap();
  let twin = await startTwin(info, { babe: keys.babe.toHex() });
  let expected;
  try {
    const babe = await offenceOf(api, from, 'babe', twin, 300_000);
    c.log(`babe offence in block #${babe.number}`);
    const slashed = await c.until('Dave\'s slash', async () => {
      const events = await c.eventsBetween(api, from, (await c.heights(api)).best, 'validatorSet');
      return events.find(({ event }) => event.method === 'Slashed' && event.data.who.toString() === dave);
    }, 60_000, 3000);
    expected = (bondBefore * BigInt(slash)) / 1_000_000_000n;
    assert.equal(slashed.event.data.amount.toBigInt(), expected, 'the equivocation slash of the bond');
    assert.equal((await api.query.nodeRegistry.nodes(dave)).unwrap().bond.toBigInt(), bondBefore - expected);
    assert.ok((await api.query.validatorSet.candidates(dave)).isNone, 'Dave is no longer a candidate');
    c.log(`Dave slashed ${expected} of ${bondBefore} in block #${slashed.number}`);
  } finally {
    twin.kill('SIGKILL');
  }

  // Two votes in one round: a process with Dave's GRANDPA key votes in his name while he is
  // still a GRANDPA authority (disabling stops authoring, not voting). Two processes that see
  // the same chain cast the same vote, so this one is frozen for 1.2 s of every 2 s (SIGSTOP,
  // SIGCONT): it falls behind the chain and votes for older blocks than Dave does in the same
  // round. A second offence of the same incident: no second slash.
  twin = await startTwin(info, { gran: keys.grandpa.toHex() });
  const jitter = setInterval(() => {
    if (twin.exited !== null) return;
    twin.kill('SIGSTOP');
    setTimeout(() => { if (twin.exited === null) twin.kill('SIGCONT'); }, 1200);
  }, 2000);
  try {
    const grandpa = await offenceOf(api, from, 'grandpa', twin, 150_000);
    c.log(`grandpa offence in block #${grandpa.number}`);
  } finally {
    clearInterval(jitter);
    twin.kill('SIGKILL');
  }
  const slashes = (await c.eventsBetween(api, from, (await c.heights(api)).best, 'validatorSet'))
    .filter(({ event }) => event.method === 'Slashed');
  assert.equal(slashes.length, 1, 'one slash for the incident');
  assert.equal((await api.query.nodeRegistry.nodes(dave)).unwrap().bond.toBigInt(), bondBefore - expected);
  await waitForSet(api, 'Dave and Bob out of the set', (v) => !v.includes(dave) && !v.includes(bob.address), 3);
}

/**
 * How the `section.reportEquivocationUnsigned` extrinsics in the best chain since block `from`
 * ended: `#block ok` or `#block <module error>`, for the failure message.
 */
async function reportOutcomes(api, from, section) {
  const out = [];
  for (let n = from; n <= (await c.heights(api)).best; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const [block, events] = await Promise.all([api.rpc.chain.getBlock(hash), (await api.at(hash)).query.system.events()]);
    block.block.extrinsics.forEach((xt, i) => {
      if (xt.method.section !== section || xt.method.method !== 'reportEquivocationUnsigned') return;
      const mine = events.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === i)
        .map(({ event }) => ({ event }));
      out.push(`#${n} ${c.dispatchErrorName(api, mine) || 'ok'}`);
    });
  }
  return out.length ? out.join(', ') : 'none included';
}

async function afterLeave(info) {
  const api = await c.connect(uri(info, 'alice'));
  assert.deepEqual((await validators(api)).map(name), ['alice']);
  assert.equal((await api.call.grandpaApi.grandpaAuthorities()).length, 1);
  await finalityMoves(api, 3, 'on Alice alone');
}

async function run(nodeName, networkInfo, args) {
  const step = (args && args[0]) || '';
  const steps = {
    join,
    'before-stop': beforeStop,
    'after-stop': afterStop,
    equivocate,
    'after-leave': afterLeave,
  };
  if (!steps[step]) throw new Error(`unknown validator-set step "${step}"`);
  return c.check(`validator-set: ${step}`, () => steps[step](networkInfo));
}

module.exports = { run };
