// Byzantine suite: a fourth node, Dave, registers with an inference key that only this script
// holds (no running node has it, and nothing in the node binary is special for this test). The
// script drives Dave's side of the protocol with hand-built general transactions signed by that
// key, exactly as a modified node would send them.
//
// Job A (R = 4): Dave commits to and reveals a wrong result hash. The three honest validators
// agree, the job settles on their hash, Dave is slashed (part of his bond is burnt) and his
// reputation falls.
// Job B (R = 4): Dave commits a copy of Alice's commitment, waits for Alice's reveal and replays
// her result hash and salt as his own reveal. The pool rejects it (the commitment binds Alice's
// account, so it cannot open for Dave); the honest majority settles the job without him, and
// his unopened commitment costs him what a wrong result costs.
'use strict';

const { randomAsHex } = require('@polkadot/util-crypto');
const { hexToU8a, compactFromU8a } = require('@polkadot/util');
const c = require('./common.cjs');
const { ScriptedNode } = require('./scripted-node.cjs');

const { assert } = c;

/** Custom validity code of `authorize_reveal` for a reveal that does not open the commitment. */
const INVALID_REVEAL_MISMATCH = 14;

/** The `(result_hash, salt)` of `node`'s reveal of `jobId`, read from the raw block bodies. */
async function revealInBlocks(api, wsUri, from, jobId, node) {
  const index = api.tx.proofOfInference.reveal.callIndex;
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  for (let n = from; n <= best; n += 1) {
    const hash = (await api.rpc.chain.getBlockHash(n)).toHex();
    const { result } = await c.rpc(wsUri, 'chain_getBlock', [hash]);
    for (const hex of result.block.extrinsics) {
      const raw = hexToU8a(hex);
      const [offset] = compactFromU8a(raw);
      const callBytes = raw.subarray(offset + c.PREAMBLE_LEN);
      if (raw[offset] !== 0x45 || callBytes[0] !== index[0] || callBytes[1] !== index[1]) continue;
      const call = api.createType('Call', callBytes);
      const r = call.args[0];
      if (r.jobId.toNumber() === jobId && r.node.toString() === node) {
        return { resultHash: r.resultHash.toHex(), salt: r.salt.toHex(), block: n };
      }
    }
  }
  return null;
}

/** `who`'s count of wrong results in its reputation record just before and just after block `n`. */
async function wrongAround(api, who, n) {
  const wrong = async (at) => {
    const r = await at.query.reputation.reputations(who);
    return r.isSome ? r.unwrap().wrong.toNumber() : 0;
  };
  const before = await api.at(await api.rpc.chain.getBlockHash(n - 1));
  const after = await api.at(await api.rpc.chain.getBlockHash(n));
  return [await wrong(before), await wrong(after)];
}

async function run(nodeName, networkInfo) {
  return c.check('a wrong node is outvoted and slashed; a copied reveal is rejected', async () => {
    const wsUri = networkInfo.nodesByName[nodeName].wsUri;
    const api = await c.connect(wsUri);
    const daveNode = new ScriptedNode(api, wsUri, 'dave');
    const dave = daveNode.account;
    const ferdie = c.account('ferdie');
    const alice = c.account('alice').address;

    // The hand-built transaction format equals what the nodes' own off-chain workers send.
    const hbBlock = await c.assertPreambleMatchesNode(api, wsUri, 1);
    c.log(`general-transaction layout checked against the heartbeat in block #${hbBlock}`);

    await daveNode.register();
    for (const name of c.VALIDATORS) await c.waitReady(api, c.account(name).address);
    // Keep Dave alive for the rest of the test, as a node's off-chain worker would.
    const stopBeating = daveNode.keepAlive();
    try {
      await daveNode.heartbeat();
      await c.waitReady(api, dave.address);
      const bond0 = (await api.query.nodeRegistry.nodes(dave.address)).unwrap().bond.toBigInt();

      const prompt = c.chatPrompt('What is the boiling point of water at sea level?');
      const jobA = await c.submitJob(api, ferdie, { prompt, maxTokens: 16, replication: 4 });
      const jobB = await c.submitJob(api, ferdie, { prompt: c.chatPrompt('Name a primary colour.'), maxTokens: 16, replication: 4 });
      const from = await c.blockNumber(api, jobA.blockHash);
      for (const job of [jobA, jobB]) {
        assert.ok(job.assignees.includes(dave.address), `Dave is assigned job ${job.jobId}`);
      }

      // Job A: a wrong hash, committed and revealed properly.
      const wrong = randomAsHex(32);
      const committed = await daveNode.commit(jobA.jobId, wrong);
      assert.equal(committed.error, undefined, `Dave's commit: ${JSON.stringify(committed.error)}`);
      await c.until('job A to enter its reveal phase', async () => {
        const v = (await api.call.proofOfInferenceApi.job(jobA.jobId)).unwrap();
        return v.assignees.every((a) => a.commitment.isSome);
      }, 120_000);
      const revealed = await daveNode.reveal(jobA.jobId, wrong);
      assert.equal(revealed.error, undefined, `Dave's reveal: ${JSON.stringify(revealed.error)}`);

      // Job B: copy Alice's commitment, then her reveal.
      const aliceCommitment = await c.until("Alice's commitment to job B", async () => {
        const v = (await api.call.proofOfInferenceApi.job(jobB.jobId)).unwrap();
        const a = v.assignees.find((x) => x.node.toString() === alice);
        return a && a.commitment.isSome ? a.commitment.unwrap().toHex() : null;
      }, 120_000, 1000);
      const copied = await daveNode.commitRaw(jobB.jobId, aliceCommitment);
      assert.equal(copied.error, undefined, `the copied commitment itself is accepted: ${JSON.stringify(copied.error)}`);
      const aliceReveal = await c.until("Alice's reveal of job B", () => revealInBlocks(api, wsUri, from, jobB.jobId, alice), 150_000, 3000);
      // Replayed only once the block with Alice's reveal (and so Dave's copied commitment) is
      // final: on a fork without Dave's commitment, the pool would hold the replay back as an
      // early reveal waiting for it, rather than judge it against the commitment.
      await c.until(`block #${aliceReveal.block} to be final`, async () => (await c.heights(api)).fin >= aliceReveal.block, 120_000, 1000);
      const replay = await daveNode.reveal(jobB.jobId, aliceReveal.resultHash, aliceReveal.salt);
      assert.ok(replay.error, 'the replayed reveal is refused');
      assert.match(`${replay.error.message} ${JSON.stringify(replay.error.data)}`, new RegExp(`Custom error: ${INVALID_REVEAL_MISMATCH}`),
        `refused as a reveal that does not open the commitment: ${JSON.stringify(replay.error)}`);
      c.log(`Dave's replay of Alice's reveal was refused: ${replay.error.message} (${JSON.stringify(replay.error.data)})`);

      // Job A settles on the honest hash; Dave is slashed and loses reputation.
      const viewA = await c.settled(api, jobA.jobId);
      assert.ok(viewA.status.isCompleted, `job A settled as ${viewA.status.type}`);
      const agreed = viewA.status.asCompleted.resultHash.toHex();
      assert.notEqual(agreed, wrong);
      for (const a of viewA.assignees) {
        const expected = a.node.toString() === dave.address ? wrong : agreed;
        assert.equal(a.revealed.unwrap().toHex(), expected);
      }
      const best = (await api.rpc.chain.getHeader()).number.toNumber();
      const evA = (await c.eventsBetween(api, from, best))
        .filter(({ event }) => event.data.jobId && event.data.jobId.toNumber() === jobA.jobId);
      const slashed = evA.find(({ event }) => event.method === 'NodeSlashed');
      assert.ok(slashed && slashed.event.data.node.toString() === dave.address, 'NodeSlashed for Dave');
      assert.ok(slashed.event.data.reason.isContradicted, 'slashed for contradicting the majority');
      const amount = slashed.event.data.amount.toBigInt();
      const fraction = (await api.query.proofOfInference.params()).slashFraction.toNumber();
      assert.equal(amount, (bond0 * BigInt(fraction)) / 1_000_000_000n, 'the slash fraction of the bond');
      const completedA = evA.find(({ event }) => event.method === 'JobCompleted');
      const paidA = completedA.event.data.shares.map(([w]) => w.toString());
      assert.equal(paidA.length, 3);
      assert.ok(!paidA.includes(dave.address), 'Dave is not paid');
      const bond1 = (await api.query.nodeRegistry.nodes(dave.address)).unwrap().bond.toBigInt();
      assert.equal(bond1, bond0 - amount, 'the bond shrank by the slash');
      const held = (await api.query.balances.holds(dave.address)).reduce((s, h) => s + h.amount.toBigInt(), 0n);
      assert.equal(held, bond1, 'the hold matches the bond');
      const [wrong0, wrong1] = await wrongAround(api, dave.address, completedA.number);
      assert.equal(wrong1, wrong0 + 1, `a wrong result on Dave's record (${wrong0} → ${wrong1})`);
      c.log(`job A: Dave slashed ${amount} plancks (bond ${bond0} → ${bond1}), wrong results ${wrong0} → ${wrong1}`);

      // Job B settles on the honest majority; Dave never revealed and is not paid.
      const viewB = await c.settled(api, jobB.jobId);
      assert.ok(viewB.status.isCompleted, `job B settled as ${viewB.status.type}`);
      const daveB = viewB.assignees.find((a) => a.node.toString() === dave.address);
      assert.ok(daveB.revealed.isNone, "Dave's copied reveal never landed");
      const honestB = viewB.assignees.filter((a) => a.node.toString() !== dave.address);
      assert.ok(honestB.every((a) => a.revealed.unwrap().toHex() === viewB.status.asCompleted.resultHash.toHex()));
      const bestB = (await api.rpc.chain.getHeader()).number.toNumber();
      const evB = (await c.eventsBetween(api, from, bestB))
        .filter(({ event }) => event.data.jobId && event.data.jobId.toNumber() === jobB.jobId);
      const completedB = evB.find(({ event }) => event.method === 'JobCompleted');
      assert.ok(!completedB.event.data.shares.some(([w]) => w.toString() === dave.address), 'Dave is not paid');
      // Committing and never opening the commitment costs what a wrong result costs.
      const slashedB = evB.find(({ event }) => event.method === 'NodeSlashed' && event.data.node.toString() === dave.address);
      assert.ok(slashedB && slashedB.event.data.reason.isUnopened, 'Dave slashed for his unopened commitment');
      const [wrong2, wrong3] = await wrongAround(api, dave.address, completedB.number);
      assert.equal(wrong3, wrong2 + 1, `another wrong result on Dave's record (${wrong2} → ${wrong3})`);
      c.log(`job B: settled on the honest hash without Dave; Dave slashed ${slashedB.event.data.amount.toBigInt()} plancks for the unopened commitment`);
    } finally {
      stopBeating();
    }
  });
}

module.exports = { run };
