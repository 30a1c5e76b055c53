// The AI pallets on a real dev node, driven by Polkadot.js as operators and voters would:
// the genesis model, node registration with a bond, heartbeats sent by the node's own off-chain
// worker, missed heartbeats lowering reputation (read through the runtime API), and
// reputation-weighted referenda — one that whitelists a second model, one that fails its quorum,
// and an emergency ban that burns part of a bond.
//
// Cast (dev chain, Alice authors every block; the node's keystore holds the dev keys of //Alice):
// - Alice: a node bonded with 10 000 COG (10 voting units); alive because she authors blocks.
// - Dave: a node whose inference key is the ed25519 //Alice key in the node's keystore, so the
//   off-chain worker heartbeats for it.
// - Bob, Charlie: nodes whose inference keys no running node holds: they miss heartbeats.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { blake2AsHex } from '@polkadot/util-crypto';
import { startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';
import models from '../lib/models.cjs';

const { GEMMA } = models;

const UNIT = 10n ** 12n;
const MIN_BOND = 1_000n * UNIT;
const HEARTBEAT_PERIOD = 10; // blocks, runtime constant

const DEFAULT_MODEL = {
  sha256: '0xb179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  cid: 'bafybeidd4va46is4xmnlwbnl3gluqqdvr34o6alhgit7g5s7ruylrv64b4',
  size: 98_362_432n,
};


// Whole referenda run here, each up to ~20 blocks of 6 s.
const DEADLINE = { timeout: 240_000 };

let node;
let api;
const sr = new Keyring({ type: 'sr25519', ss58Format: 42 });
const ed = new Keyring({ type: 'ed25519', ss58Format: 42 });
let alice; let bob; let charlie; let dave; let eve;

before(async () => {
  node = await startNode(['--dev', '--tmp'], { name: 'ai-pallets' });
  api = await node.api();
  [alice, bob, charlie, dave, eve] = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve']
    .map((uri) => sr.addFromUri(uri));
}, { timeout: 180_000 });

after(async () => {
  if (node) await node.stop();
});

/** Sends `tx`; resolves once it is in a block with { blockHash, events, error }. */
async function send(tx, signer) {
  const r = await submit(tx, signer);
  return { ...r, error: dispatchErrorName(api, r.events) };
}

async function sendOk(tx, signer) {
  const r = await send(tx, signer);
  assert.equal(r.error, null, `${tx.method.section}.${tx.method.method} failed: ${r.error}`);
  return r;
}

/** Resolves with the first event (and its block number) for which `pred` holds, from now on. */
function waitForEvent(pred, what, timeoutMs = 200_000) {
  return new Promise((resolve, reject) => {
    let unsub;
    const timer = setTimeout(() => {
      if (unsub) unsub();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    api.query.system.events((records) => {
      const hit = records.find(({ event }) => pred(event));
      if (hit) {
        clearTimeout(timer);
        if (unsub) unsub();
        resolve(hit.event);
      }
    }).then((u) => { unsub = u; }, reject);
  });
}

function capabilities(cores) {
  return {
    cpuCores: cores,
    ramMib: 24 * 1024,
    gpuMemoryMib: 0,
    accelerators: ['Cpu'],
    modelFormats: ['Gguf'],
  };
}

function register(who, inferenceKey, bond) {
  return api.tx.nodeRegistry.register(
    capabilities(2), [0], ['/ip4/127.0.0.1/tcp/30333'], inferenceKey, bond,
  );
}

async function reserved(who) {
  return (await api.query.system.account(who.address)).data.reserved.toBigInt();
}

/** Submits a referendum for `call` on the track of `origin`, places its decision deposit. */
async function propose(call, origin, submitter) {
  const encoded = call.method.toHex();
  const hash = blake2AsHex(encoded);
  await sendOk(api.tx.preimage.notePreimage(encoded), submitter);
  const { events } = await sendOk(api.tx.referenda.submit(
    origin,
    { Lookup: { hash, len: (encoded.length - 2) / 2 } },
    { After: 1 },
  ), submitter);
  const submitted = events.find(({ event }) => api.events.referenda.Submitted.is(event));
  const index = submitted.event.data.index.toNumber();
  await sendOk(api.tx.referenda.placeDecisionDeposit(index), submitter);
  return index;
}

test('genesis whitelists SmolLM2-135M-Instruct Q4_1 with its sha256, size and CID', DEADLINE, async () => {
  const entry = (await api.query.modelRegistry.models(0)).unwrap();
  assert.equal(entry.info.sha256.toHex(), DEFAULT_MODEL.sha256);
  assert.equal(entry.info.cid.toUtf8(), DEFAULT_MODEL.cid);
  assert.equal(entry.info.sizeBytes.toBigInt(), DEFAULT_MODEL.size);
  assert.equal(entry.info.profile.flashAttention.isTrue, false);
  assert.equal(entry.status.toString(), 'Active');
  assert.equal((await api.query.modelRegistry.modelBySha256(DEFAULT_MODEL.sha256)).unwrap().toNumber(), 0);
});

test('nodes register with a held bond; bad registrations fail with their own error and change nothing', DEADLINE, async () => {
  const { events } = await sendOk(
    register(alice, ed.addFromUri('//Alice//unused-inference-key').publicKey, 10_000n * UNIT), alice,
  );
  const registered = events.find(({ event }) => api.events.nodeRegistry.NodeRegistered.is(event));
  assert.ok(registered, 'NodeRegistered event');
  assert.equal(registered.event.data.bond.toBigInt(), 10_000n * UNIT);
  const holds = await api.query.balances.holds(alice.address);
  assert.deepEqual(holds.map((h) => [JSON.stringify(h.id.toJSON()), h.amount.toBigInt()]),
    [['{"nodeRegistry":"NodeBond"}', 10_000n * UNIT]]);
  const record = (await api.query.nodeRegistry.nodes(alice.address)).unwrap();
  assert.equal(record.capabilities.cpuCores.toNumber(), 2);
  assert.deepEqual(record.servedModels.map((m) => m.toNumber()), [0]);
  assert.equal(record.status.toString(), 'Active');

  // Dave's node signs with the keystore's ed25519 //Alice key: the node will heartbeat for it.
  await sendOk(register(dave, ed.addFromUri('//Alice').publicKey, 2n * MIN_BOND), dave);
  await sendOk(register(bob, ed.addFromUri('//Bob').publicKey, MIN_BOND), bob);
  await sendOk(register(charlie, ed.addFromUri('//Charlie').publicKey, MIN_BOND), charlie);
  assert.equal((await api.query.nodeRegistry.totalVotingUnits()).toNumber(), 10 + 2 + 1 + 1);

  const aliceReserved = await reserved(alice);
  const eveReserved = await reserved(eve);
  const cases = [
    [register(alice, ed.addFromUri('//Alice//other').publicKey, MIN_BOND), alice, 'nodeRegistry.AlreadyRegistered'],
    [register(eve, ed.addFromUri('//Eve').publicKey, MIN_BOND - 1n), eve, 'nodeRegistry.BondTooLow'],
    [register(eve, ed.addFromUri('//Bob').publicKey, MIN_BOND), eve, 'nodeRegistry.InferenceKeyInUse'],
    [api.tx.nodeRegistry.register(capabilities(2), [7], [], ed.addFromUri('//Eve').publicKey, MIN_BOND), eve, 'nodeRegistry.UnknownModel'],
    [api.tx.nodeRegistry.register(capabilities(2), [0], [`/dns/${'a'.repeat(200)}`], ed.addFromUri('//Eve').publicKey, MIN_BOND), eve, 'nodeRegistry.EndpointTooLong'],
    [api.tx.nodeRegistry.register(capabilities(2), [0], ['/ip4/1', '/ip4/2', '/ip4/3', '/ip4/4', '/ip4/5'], ed.addFromUri('//Eve').publicKey, MIN_BOND), eve, 'nodeRegistry.TooManyEndpoints'],
    [register(eve, ed.addFromUri('//Eve').publicKey, 2_000_000n * UNIT), eve, 'nodeRegistry.InsufficientBalance'],
  ];
  for (const [tx, signer, expected] of cases) {
    const { error } = await send(tx, signer);
    assert.equal(error, expected);
  }
  assert.equal(await reserved(alice), aliceReserved);
  assert.equal(await reserved(eve), eveReserved);
  assert.ok((await api.query.nodeRegistry.nodes(eve.address)).isNone);
});

test('the off-chain worker heartbeats for its key; silent nodes go offline and lose reputation', DEADLINE, async () => {
  const period = (await api.query.system.number()).toNumber() / HEARTBEAT_PERIOD;
  const heartbeat = await waitForEvent(
    (e) => api.events.nodeRegistry.HeartbeatReceived.is(e) && e.data.node.eq(dave.address),
    "Dave's heartbeat",
  );
  assert.ok(heartbeat.data.period.toNumber() >= Math.floor(period));

  const offline = await waitForEvent(
    (e) => api.events.nodeRegistry.NodeOffline.is(e) && e.data.node.eq(bob.address),
    'Bob going offline',
  );
  assert.ok(offline);
  assert.equal((await api.query.nodeRegistry.nodes(bob.address)).unwrap().status.toString(), 'Offline');
  assert.equal((await api.query.nodeRegistry.nodes(dave.address)).unwrap().status.toString(), 'Active');
  assert.equal((await api.query.nodeRegistry.nodes(alice.address)).unwrap().status.toString(), 'Active');

  // One missed period = one failure unit: (0 + 1) / (0 + 1 + 2) = 1/3.
  const bobScore = (await api.call.reputationApi.score(bob.address)).unwrap().toNumber();
  assert.ok(bobScore <= 333_333_334, `Bob's score ${bobScore}`);
  assert.ok((await api.call.reputationApi.score(alice.address)).isNone, 'no evidence about Alice yet');
  const top = await api.call.reputationApi.topNodes(10);
  assert.ok(top.length >= 1 && top.every(([, s], i) => i === 0 || s.toNumber() <= top[i - 1][1].toNumber()));
});

test('referenda: whitelist a second model, fail a quorum, ban through the emergency track', DEADLINE, async () => {
  const whitelist = api.tx.modelRegistry.whitelistModel(GEMMA);
  const other = api.tx.modelRegistry.whitelistModel({ ...GEMMA, name: 'no quorum', sha256: `0x${'11'.repeat(32)}` });
  const ban = api.tx.nodeRegistry.ban(bob.address);
  const bobBond = (await api.query.nodeRegistry.nodes(bob.address)).unwrap().bond.toBigInt();
  const bobFree = (await api.query.system.account(bob.address)).data.free.toBigInt();

  const rWhitelist = await propose(whitelist, { Governance: 'ModelWhitelist' }, eve);
  const rQuorum = await propose(other, { Governance: 'ModelWhitelist' }, eve);
  const rBan = await propose(ban, { Governance: 'Emergency' }, eve);

  // Eve runs no node: her vote does not count.
  assert.equal((await send(api.tx.governance.vote(rWhitelist, 'Aye'), eve)).error, 'governance.NotAVoter');

  const waits = {
    whitelisted: waitForEvent((e) => api.events.modelRegistry.ModelWhitelisted.is(e), 'ModelWhitelisted'),
    banned: waitForEvent((e) => api.events.nodeRegistry.NodeBanned.is(e), 'NodeBanned'),
    rejected: waitForEvent(
      (e) => (api.events.referenda.Rejected.is(e) || api.events.referenda.TimedOut.is(e))
        && e.data.index.toNumber() === rQuorum,
      'the no-quorum referendum to end',
    ),
  };

  // Alice (10 units) and Dave (2 units) carry the whitelist and the ban; Charlie alone backs the
  // other proposal: at most 0.5 × 1 of 14 units, below the track's 20% support floor.
  const weights = {};
  for (const [voter, poll] of [[alice, rWhitelist], [dave, rWhitelist], [alice, rBan], [charlie, rQuorum]]) {
    const { events, blockHash } = await sendOk(api.tx.governance.vote(poll, 'Aye'), voter);
    const voted = events.find(({ event }) => api.events.governance.Voted.is(event));
    const units = { [alice.address]: 10n, [dave.address]: 2n, [charlie.address]: 1n }[voter.address];
    // The score as of the vote's block (offline reports may lower it in later blocks).
    const at = await api.at(blockHash);
    const score = (await at.call.reputationApi.score(voter.address)).unwrapOr(api.createType('Perbill', 500_000_000));
    // weight = score (parts per billion) × voting units.
    assert.equal(voted.event.data.weight.toBigInt(), score.toBigInt() * units);
    weights[poll] = (weights[poll] || 0n) + voted.event.data.weight.toBigInt();
    // The referendum's tally, as of the vote's block, holds exactly the weights voted so far.
    const info = (await at.query.referenda.referendumInfoFor(poll)).unwrap();
    if (info.isOngoing) assert.equal(info.asOngoing.tally.ayes.toBigInt(), weights[poll]);
  }

  const whitelisted = await waits.whitelisted;
  assert.equal(whitelisted.data.sha256.toHex(), GEMMA.sha256);
  const id = whitelisted.data.id.toNumber();
  const entry = (await api.query.modelRegistry.models(id)).unwrap();
  assert.equal(entry.info.cid.toUtf8(), GEMMA.cid);
  assert.equal(entry.status.toString(), 'Active');
  assert.ok((await api.query.referenda.referendumInfoFor(rWhitelist)).unwrap().isApproved);
  // Voting on a closed referendum fails.
  assert.equal((await send(api.tx.governance.vote(rWhitelist, 'Nay'), charlie)).error, 'governance.NotOngoing');

  const banned = await waits.banned;
  const slashed = banned.data.slashed.toBigInt();
  const released = banned.data.released.toBigInt();
  assert.equal(slashed, bobBond / 10n);
  assert.equal(slashed + released, bobBond);
  assert.ok((await api.query.nodeRegistry.nodes(bob.address)).isNone);
  assert.equal((await api.query.balances.holds(bob.address)).length, 0);
  assert.equal((await api.query.system.account(bob.address)).data.free.toBigInt(), bobFree + released);

  await waits.rejected;
  assert.ok((await api.query.modelRegistry.modelBySha256(`0x${'11'.repeat(32)}`)).isNone);
});
