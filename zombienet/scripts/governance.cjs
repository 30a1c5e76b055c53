// Governance suite: the three validators first earn their votes with verified work (a job with
// R = 3: governance weighs a vote by reputation from verified work, and a node without any has
// no weight). A referendum on the model-whitelist track then proposes Gemma 3 270M as a second
// model; the validators vote Aye; it passes and is enacted. Charlie's node then declares the new
// model, its engine reports it ready, and a job on it is assigned to Charlie alone, run by its
// off-chain worker on the real Gemma file, and settles; `inference_jobResult` on Charlie hashes
// to the on-chain result.
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
  return c.check('a referendum whitelists a second model; a node serves a job on it', async () => {
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

    // Charlie's node declares the new model; only Charlie serves it, so a job with R = 1 on it is
    // Charlie's.
    const charlie = c.account('charlie');
    await c.sendOk(api, api.tx.nodeRegistry.setServedModels([0, id]), charlie);
    // Charlie's off-chain worker reports the new model ready (its file is in the store).
    await c.waitReady(api, charlie.address, id);
    const job = await c.submitJob(api, ferdie, {
      model: id,
      prompt: '<start_of_turn>user\nWhat colour is the sky on a clear day?<end_of_turn>\n<start_of_turn>model\n',
      maxTokens: 16,
      replication: 1,
    });
    assert.deepEqual(job.assignees, [charlie.address], 'the job went to the only node serving the model');
    const view = await c.settled(api, job.jobId);
    assert.ok(view.status.isCompleted, `job settled as ${view.status.type}`);
    assert.equal(view.modelSha256.toHex(), GEMMA.sha256);
    const chainHash = view.status.asCompleted.resultHash.toHex();
    const { result, error } = await c.rpc(uri('charlie'), 'inference_jobResult', [job.jobId]);
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(c.resultHash(api, job.jobId, GEMMA.sha256, result.promptTokenIds, result.outputTokenIds), chainHash);
    assert.equal(result.matchesChain, true);
    c.log(`job ${job.jobId} on Gemma settled on Charlie: ${JSON.stringify(result.text)}`);
  });
}

module.exports = { run };
