// Governance suite: the three validators first earn their votes with verified work (a job with
// R = 3: governance weighs a vote by reputation from verified work, and a node without any has
// no weight). A referendum on the model-whitelist track then proposes Gemma 3 270M as a second
// model; Eve, who runs no node, cannot vote; the validators vote Aye; it passes and is enacted,
// and Gemma is whitelisted, Active, with its CID. model-distribution.cjs then brings the file
// to the nodes that lack it and runs jobs on it.
'use strict';

const { blake2AsHex } = require('@polkadot/util-crypto');
const c = require('./common.cjs');
const { GEMMA } = require('../lib/models.cjs');

const { assert } = c;


/** Notes the preimage of `call`, submits it on `origin`'s track and places the decision deposit. */
async function propose(api, call, origin, submitter) {
  const encoded = call.method.toHex();
  const hash = blake2AsHex(encoded);
  await c.sendOk(api, api.tx.preimage.notePreimage(encoded), submitter);
  const { events } = await c.sendOk(api, api.tx.referenda.submit(
    origin, { Lookup: { hash, len: (encoded.length - 2) / 2 } }, { After: 1 },
  ), submitter);
  const submitted = events.find(({ event }) => api.events.referenda.Submitted.is(event));
  const index = submitted.event.data.index.toNumber();
  await c.sendOk(api, api.tx.referenda.placeDecisionDeposit(index), submitter);
  return index;
}

async function run(nodeName, networkInfo) {
  return c.check('a referendum of the validators whitelists a second model', async () => {
    const uri = (n) => networkInfo.nodesByName[n].wsUri;
    const api = await c.connect(uri(nodeName));
    const eve = c.account('eve');
    const ferdie = c.account('ferdie');
    assert.ok((await api.query.modelRegistry.modelBySha256(GEMMA.sha256)).isNone, 'Gemma not whitelisted yet');
    assert.equal((await api.query.nodeRegistry.totalVotingUnits()).toNumber(), 3, 'three genesis nodes vote');

    // Before any verified work the validators have no voting weight.
    const validators = c.VALIDATORS.map((n) => c.account(n).address);
    for (const who of validators) await c.waitReady(api, who);
    const work = await c.submitJob(api, ferdie, {
      prompt: c.chatPrompt('What is a referendum?'), maxTokens: 24, replication: 3,
    });
    const workView = await c.settled(api, work.jobId);
    assert.ok(workView.status.isCompleted, `the work job settled as ${workView.status.type}`);
    for (const who of validators) {
      assert.ok(await c.score(api, who) > 0, `${who} earned a reputation from verified work`);
    }
    // A node votes only in polls that open `minVotingAge` blocks after it registered (genesis).
    const minAge = (await api.query.governance.rules()).minVotingAge.toNumber();
    await c.until(`block ${minAge + 1}`, async () => (await api.rpc.chain.getHeader()).number.toNumber() > minAge, 120_000);

    const t0 = Date.now();
    const index = await propose(api, api.tx.modelRegistry.whitelistModel(GEMMA), { Governance: 'ModelWhitelist' }, eve);
    // Eve runs no node, so she has no vote.
    const eveVote = await c.submit(api.tx.governance.vote(index, 'Aye'), eve);
    assert.equal(c.dispatchErrorName(api, eveVote.events), 'governance.NotAVoter');
    for (const name of c.VALIDATORS) {
      const { events } = await c.sendOk(api, api.tx.governance.vote(index, 'Aye'), c.account(name));
      const voted = events.find(({ event }) => api.events.governance.Voted.is(event));
      c.log(`${name} voted Aye with weight ${voted.event.data.weight.toBigInt()}`);
    }
    const id = await c.until('the referendum to pass and be enacted', async () => {
      const entry = await api.query.modelRegistry.modelBySha256(GEMMA.sha256);
      return entry.isSome ? entry.unwrap().toNumber() + 1 : null;
    }, 300_000, 3000) - 1;
    assert.ok((await api.query.referenda.referendumInfoFor(index)).unwrap().isApproved, 'referendum approved');
    const entry = (await api.query.modelRegistry.models(id)).unwrap();
    assert.equal(entry.info.cid.toUtf8(), GEMMA.cid);
    assert.equal(entry.status.toString(), 'Active');
    c.log(`referendum ${index} passed and whitelisted Gemma as model ${id} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });
}

module.exports = { run };
