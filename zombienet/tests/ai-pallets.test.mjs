// The AI pallets on a real dev node, driven by Polkadot.js as operators and voters would:
// the genesis model, node registration with a bond and a proof of key ownership, heartbeats sent
// by the node's own off-chain worker that report its engine ready, missed heartbeats, verified
// work earning reputation, and reputation-weighted referenda — one that whitelists a second
// model, one that fails its quorum, and an emergency ban that burns part of a bond — where fresh
// capital without verified work has no vote.
//
// Cast (dev chain, Alice authors every block; the node's keystore holds the dev keys of //Alice,
// and the test inserts the ed25519 //Bob and //Charlie keys as further `infr` keys, so this one
// node's off-chain worker runs three inference nodes):
// - Alice (registered at genesis, 1 000 COG), Bob (4 000 COG: no more weight than 1 000),
//   Charlie: nodes whose inference keys are the keystore's //Alice, //Bob, //Charlie: they
//   heartbeat, report their engine ready and run jobs (verified work, R = 3).
// - Dave: a node bonded with 2 000 COG whose inference key no running node holds: never ready,
//   never assigned, no verified work, no vote.
// - Eve: a node whose inference key no running node holds: she misses heartbeats.
// - Ferdie: submits jobs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { blake2AsHex } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import { startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';
import chain from '../lib/chain.cjs';

const { GEMMA, SMOLLM2, UNIT } = chain;
const MIN_BOND = 1_000n * UNIT;

const DEFAULT_MODEL = chain.modelFacts('smollm2');

// Whole referenda run here, each up to ~20 blocks of 3 s.
const DEADLINE = { timeout: 240_000 };

let node;
let api;
const sr = new Keyring({ type: 'sr25519', ss58Format: 42 });
const ed = new Keyring({ type: 'ed25519', ss58Format: 42 });
let alice; let bob; let charlie; let dave; let eve; let ferdie;

before(async () => {
  node = await startNode(['--dev', '--tmp'], { name: 'ai-pallets' });
  api = await node.api();
  [alice, bob, charlie, dave, eve, ferdie] = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie']
    .map((uri) => sr.addFromUri(uri));
  // More inference keys in this node's keystore (an operator would use author_rotateKeys).
  for (const seed of ['//Bob', '//Charlie']) {
    const { error } = await chain.rpc(node.wsUrl, 'author_insertKey',
      ['infr', seed, u8aToHex(ed.addFromUri(seed).publicKey)]);
    assert.equal(error, undefined, JSON.stringify(error));
  }
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

/** `nodeRegistry.register` for `who` with the inference key pair `key` (proof made here). */
function register(who, key, bond, opts = {}) {
  return chain.registerTx(api, who.address, key, { bond, ...opts });
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
  assert.equal(entry.info.sha256.toHex(), SMOLLM2);
  assert.equal(entry.info.name.toUtf8(), DEFAULT_MODEL.name);
  assert.equal(entry.info.cid.toUtf8(), DEFAULT_MODEL.cid);
  assert.equal(entry.info.sizeBytes.toNumber(), DEFAULT_MODEL.sizeBytes);
  assert.equal(entry.info.profile.flashAttention.isTrue, false);
  assert.equal(entry.status.toString(), 'Active');
  assert.equal((await api.query.modelRegistry.modelBySha256(SMOLLM2)).unwrap().toNumber(), 0);
});

test('nodes register with a held bond and a key proof; bad registrations fail with their own error and change nothing', DEADLINE, async () => {
  // Alice's node is registered at genesis with the inference key her node holds.
  const genesisNode = (await api.query.nodeRegistry.nodes(alice.address)).unwrap();
  assert.equal(genesisNode.inferenceKey.toHex(), u8aToHex(ed.addFromUri('//Alice').publicKey));
  assert.equal(genesisNode.bond.toBigInt(), MIN_BOND);
  assert.deepEqual(genesisNode.servedModels.map((m) => m.toNumber()), [0]);

  const daveKey = ed.addFromUri('//Dave//unused-inference-key');
  const { events } = await sendOk(register(dave, daveKey, 2n * MIN_BOND), dave);
  const registered = events.find(({ event }) => api.events.nodeRegistry.NodeRegistered.is(event));
  assert.ok(registered, 'NodeRegistered event');
  assert.equal(registered.event.data.bond.toBigInt(), 2n * MIN_BOND);
  const holds = await api.query.balances.holds(dave.address);
  assert.deepEqual(holds.map((h) => [JSON.stringify(h.id.toJSON()), h.amount.toBigInt()]),
    [['{"nodeRegistry":"NodeBond"}', 2n * MIN_BOND]]);
  const record = (await api.query.nodeRegistry.nodes(dave.address)).unwrap();
  assert.equal(record.capabilities.cpuCores.toNumber(), 2);
  assert.equal(record.capabilities.class.engineVersion.toUtf8(), DEFAULT_MODEL.profile.engineVersion);
  assert.deepEqual(record.servedModels.map((m) => m.toNumber()), [0]);
  assert.equal(record.status.toString(), 'Active');

  // Bob's and Charlie's nodes sign with keys this node's keystore holds.
  await sendOk(register(bob, ed.addFromUri('//Bob'), 4n * MIN_BOND), bob);
  await sendOk(register(charlie, ed.addFromUri('//Charlie'), MIN_BOND), charlie);
  await sendOk(register(eve, ed.addFromUri('//Eve'), MIN_BOND), eve);
  // One unit per node whatever the bond: voting weight comes only from verified work.
  assert.equal((await api.query.nodeRegistry.totalVotingUnits()).toNumber(), 5);

  const aliceReserved = await reserved(alice);
  const ferdieReserved = await reserved(ferdie);
  const ferdieKey = ed.addFromUri('//Ferdie');
  const caps = chain.capabilities(2);
  const proof = chain.keyOwnershipProof(api, ferdieKey, ferdie.address);
  const cases = [
    [register(alice, ed.addFromUri('//Alice//other'), MIN_BOND), alice, 'nodeRegistry.AlreadyRegistered'],
    // Alice's inference key is taken: nobody else can register it.
    [register(ferdie, ed.addFromUri('//Alice'), MIN_BOND), ferdie, 'nodeRegistry.InferenceKeyInUse'],
    [register(ferdie, ferdieKey, MIN_BOND - 1n), ferdie, 'nodeRegistry.BondTooLow'],
    // Bob's key with a proof Ferdie cannot make: Bob's proof names Bob's account.
    [api.tx.nodeRegistry.register(caps, [0], [], ed.addFromUri('//Bob').publicKey,
      chain.keyOwnershipProof(api, ed.addFromUri('//Bob'), bob.address), MIN_BOND), ferdie, 'nodeRegistry.InvalidKeyProof'],
    [api.tx.nodeRegistry.register(caps, [7], [], ferdieKey.publicKey, proof, MIN_BOND), ferdie, 'nodeRegistry.UnknownModel'],
    [api.tx.nodeRegistry.register(caps, [0], [`/dns/${'a'.repeat(200)}`], ferdieKey.publicKey, proof, MIN_BOND), ferdie, 'nodeRegistry.EndpointTooLong'],
    [api.tx.nodeRegistry.register(caps, [0], ['/ip4/1', '/ip4/2', '/ip4/3', '/ip4/4', '/ip4/5'], ferdieKey.publicKey, proof, MIN_BOND), ferdie, 'nodeRegistry.TooManyEndpoints'],
    [register(ferdie, ferdieKey, 2_000_000n * UNIT), ferdie, 'nodeRegistry.InsufficientBalance'],
  ];
  for (const [tx, signer, expected] of cases) {
    const { error } = await send(tx, signer);
    assert.equal(error, expected);
  }
  assert.equal(await reserved(alice), aliceReserved);
  assert.equal(await reserved(ferdie), ferdieReserved);
  assert.ok((await api.query.nodeRegistry.nodes(ferdie.address)).isNone);
});

test('the off-chain worker reports its engine ready; silent nodes go offline; nobody runs Dave\'s jobs', DEADLINE, async () => {
  // Each key in the keystore heartbeats with the models its engine is ready for.
  for (const who of [alice, bob, charlie]) await chain.waitReady(api, who.address);
  const offline = await waitForEvent(
    (e) => api.events.nodeRegistry.NodeOffline.is(e) && e.data.node.eq(eve.address),
    'Eve going offline',
  );
  assert.ok(offline);
  assert.equal((await api.query.nodeRegistry.nodes(eve.address)).unwrap().status.toString(), 'Offline');
  for (const who of [alice, bob, charlie]) {
    assert.equal((await api.query.nodeRegistry.nodes(who.address)).unwrap().status.toString(), 'Active');
  }
  // No engine reported ready for Dave's key: he takes no jobs.
  assert.equal((await api.query.nodeRegistry.nodes(dave.address)).unwrap().readyModels.length, 0);
  // A missed period is on Eve's record; without verified work her score is zero.
  const eveRecord = (await api.query.reputation.reputations(eve.address)).unwrap();
  assert.ok(eveRecord.offline.toNumber() >= 1);
  assert.equal((await api.call.reputationApi.score(eve.address)).unwrap().toNumber(), 0);
  const daveScore = await api.call.reputationApi.score(dave.address);
  assert.ok(daveScore.isNone || daveScore.unwrap().toNumber() === 0, 'no verified work by Dave');
});

test('verified work (R = 3) earns reputation; a job with fewer assignees earns none', DEADLINE, async () => {
  const prompt = '<|im_start|>user\nWhat does a validator do?<|im_end|>\n<|im_start|>assistant\n';
  for (let i = 0; i < 2; i += 1) {
    const { events } = await sendOk(api.tx.proofOfInference.submitJob(0, chain.jobPrompt(prompt), 100, 3, 'Greedy'), ferdie);
    const submitted = events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event));
    const assignees = submitted.event.data.assignees.map((a) => a.toString()).sort();
    assert.deepEqual(assignees, [alice, bob, charlie].map((k) => k.address).sort(), 'the three ready nodes');
    const jobId = submitted.event.data.jobId.toNumber();
    await chain.until(`job ${jobId} to settle`, async () => {
      const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrap();
      return view.status.isCompleted;
    }, 200_000, 3000);
  }
  for (const who of [alice, bob, charlie]) {
    const s = (await api.call.reputationApi.score(who.address)).unwrap().toNumber();
    assert.ok(s > 900_000_000, `score of ${who.address} after 200 verified units: ${s}`);
  }
  const top = await api.call.reputationApi.topNodes(10);
  assert.ok(top.length >= 3 && top.every(([, s], i) => i === 0 || s.toNumber() <= top[i - 1][1].toNumber()));
});

test('referenda: fresh capital has no vote; whitelist a second model, fail a root quorum, ban through the emergency track', { timeout: 420_000 }, async () => {
  // Polls opened now are old enough for the nodes registered at the start (one minute).
  const minAge = (await api.query.governance.rules()).minVotingAge.toNumber();
  const registeredAt = (await api.query.nodeRegistry.nodes(bob.address)).unwrap().registeredAt.toNumber();
  await chain.until('the voting age', async () => (await api.rpc.chain.getHeader()).number.toNumber() > registeredAt + minAge, 120_000);

  const whitelist = api.tx.modelRegistry.whitelistModel(GEMMA);
  const other = api.tx.system.remarkWithEvent('no quorum');
  const ban = api.tx.nodeRegistry.ban(eve.address);
  const eveBond = (await api.query.nodeRegistry.nodes(eve.address)).unwrap().bond.toBigInt();
  const eveFree = (await api.query.system.account(eve.address)).data.free.toBigInt();

  const rWhitelist = await propose(whitelist, { Governance: 'ModelWhitelist' }, ferdie);
  const rQuorum = await propose(other, { system: 'Root' }, ferdie);
  const rBan = await propose(ban, { Governance: 'Emergency' }, ferdie);

  // Ferdie runs no node: his vote does not count. Dave bonded capital but did no verified work.
  assert.equal((await send(api.tx.governance.vote(rWhitelist, 'Aye'), ferdie)).error, 'governance.NotAVoter');
  assert.equal((await send(api.tx.governance.vote(rWhitelist, 'Aye'), dave)).error, 'governance.NoVotingWeight');

  const waits = {
    whitelisted: waitForEvent((e) => api.events.modelRegistry.ModelWhitelisted.is(e), 'ModelWhitelisted'),
    banned: waitForEvent((e) => api.events.nodeRegistry.NodeBanned.is(e), 'NodeBanned'),
    rejected: waitForEvent(
      (e) => (api.events.referenda.Rejected.is(e) || api.events.referenda.TimedOut.is(e))
        && e.data.index.toNumber() === rQuorum,
      'the no-quorum referendum to end',
    ),
  };

  // Alice, Bob and Charlie carry the whitelist and the ban; Charlie alone backs the root
  // proposal: a third of the electorate's weight, below the root track's fixed 50% support.
  const weights = {};
  for (const [voter, poll] of [[alice, rWhitelist], [bob, rWhitelist], [charlie, rWhitelist],
    [alice, rBan], [bob, rBan], [charlie, rQuorum]]) {
    const { events, blockHash } = await sendOk(api.tx.governance.vote(poll, 'Aye'), voter);
    const voted = events.find(({ event }) => api.events.governance.Voted.is(event));
    const units = 1n;
    // The score as of the vote's block.
    const at = await api.at(blockHash);
    const score = (await at.call.reputationApi.score(voter.address)).unwrap();
    // weight = score (parts per billion) × voting units.
    assert.equal(voted.event.data.weight.toBigInt(), score.toBigInt() * units);
    weights[poll] = (weights[poll] || 0n) + voted.event.data.weight.toBigInt();
    // The referendum's tally, as of the vote's block, holds exactly the weights voted so far;
    // its electorate is the weight of the nodes that may vote (Dave and Eve have none).
    const info = (await at.query.referenda.referendumInfoFor(poll)).unwrap();
    if (info.isOngoing) {
      assert.equal(info.asOngoing.tally.ayes.toBigInt(), weights[poll]);
      assert.ok(info.asOngoing.tally.electorate.toBigInt() <= 3n * 1_000_000_000n);
    }
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
  assert.equal(slashed, eveBond / 10n);
  assert.equal(slashed + released, eveBond);
  assert.ok((await api.query.nodeRegistry.nodes(eve.address)).isNone);
  assert.equal((await api.query.balances.holds(eve.address)).length, 0);
  assert.equal((await api.query.system.account(eve.address)).data.free.toBigInt(), eveFree + released);

  await waits.rejected;
  assert.ok(!(await api.query.referenda.referendumInfoFor(rQuorum)).unwrap().isApproved);
});
