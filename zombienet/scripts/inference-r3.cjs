// Inference suite: a job with R = 3 on the real SmolLM2 model. All three validators run it in
// their off-chain workers, commit and reveal the same hash, the job settles as Completed, the
// fee is split among them (held through the challenge window, then paid to their free
// balances), their reputations rise, and
// `inference_jobResult` on each node returns the same text, whose hash matches the chain.
// Then a sampled job (temperature 0.7, top-p 0.95): the chain fixes its seed, and the
// three validators draw the same tokens and agree too; and beside it a chat job (messages, not
// a prompt), which each validator renders with the model's own chat template, whose sha256 the
// whitelist records, and on which all three agree.
'use strict';

const c = require('./common.cjs');

const { assert } = c;

async function run(nodeName, networkInfo) {
  return c.check('a job with R = 3 settles on three agreeing validators', async () => {
    const uris = Object.fromEntries(c.VALIDATORS.map((n) => [n, networkInfo.nodesByName[n].wsUri]));
    const api = await c.connect(uris[nodeName]);
    const validators = c.VALIDATORS.map((n) => c.account(n).address);
    const ferdie = c.account('ferdie');
    for (const who of validators) await c.waitReady(api, who);
    const params = await api.query.proofOfInference.params();

    const prompt = c.chatPrompt('Name the largest planet in the solar system.');
    const job = await c.submitJob(api, ferdie, {
      prompt,
      maxTokens: 24,
      replication: 3,
    });
    // The fee pays every assignee for the prompt and the output: R × (base + price × work).
    assert.equal(job.fee, c.jobFee(params, Buffer.byteLength(prompt), 24, 3), 'fee = R × (base + price × (prompt bytes + max tokens))');
    assert.deepEqual([...job.assignees].sort(), [...validators].sort(), 'all three validators assigned');
    const submittedAt = await c.blockNumber(api, job.blockHash);
    c.log(`job ${job.jobId} in block #${submittedAt}, fee ${job.fee} plancks, assignees ${c.VALIDATORS.join(', ')}`);

    const view = await c.settled(api, job.jobId);
    assert.ok(view.status.isCompleted, `job settled as ${view.status.type}`);
    const chainHash = view.status.asCompleted.resultHash.toHex();
    for (const a of view.assignees) {
      assert.equal(a.revealed.unwrap().toHex(), chainHash, `${a.node} revealed the agreed hash`);
    }

    // The settlement's events: three reveals of one hash, then JobCompleted with the shares,
    // held until the challenge window closes.
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    const events = (await c.eventsBetween(api, submittedAt, best))
      .filter(({ event }) => event.data.jobId && event.data.jobId.toNumber() === job.jobId);
    const revealed = events.filter(({ event }) => event.method === 'Revealed');
    assert.equal(revealed.length, 3, 'three Revealed events');
    assert.ok(revealed.every(({ event }) => event.data.resultHash.toHex() === chainHash));
    const completed = events.find(({ event }) => event.method === 'JobCompleted');
    assert.ok(completed, 'JobCompleted event');
    const settledAt = completed.number;
    const shares = new Map(completed.event.data.shares.map(([who, amount]) => [who.toString(), amount.toBigInt()]));
    assert.deepEqual([...shares.keys()].sort(), [...validators].sort(), 'a share for each validator');
    const amounts = [...shares.values()];
    assert.equal(amounts.reduce((a, b) => a + b, 0n), job.fee, 'the whole fee is shared');
    for (const amount of amounts) {
      assert.ok(amount >= job.fee / 3n && amount - job.fee / 3n < 3n, `an equal share (${amount})`);
    }
    const releaseAt = completed.event.data.releaseAt.unwrap().toNumber();
    assert.equal(releaseAt, settledAt + params.challengePeriod.toNumber(), 'held for the challenge window');
    assert.equal(view.challengeableUntil.unwrap().toNumber(), releaseAt, 'challengeable until then');
    const verified = await c.verifyJob(api, job.jobId, Object.values(uris));
    assert.ok(verified.verified && verified.challengeable, `a client verifies it: ${JSON.stringify(verified)}`);

    // Reputation from the state just before settlement to just after it.
    const before = await api.at(await api.rpc.chain.getBlockHash(settledAt - 1));
    const after = await api.at(await api.rpc.chain.getBlockHash(settledAt));
    for (const who of validators) {
      const s0 = await c.score(before, who);
      const s1 = await c.score(after, who);
      assert.ok(s1 > s0, `${who}'s reputation rose (${s0} → ${s1} ppb)`);
      c.log(`${who}: reputation ${s0} → ${s1} ppb`);
    }

    // Every node kept the output; all agree and hash to the chain's result.
    const texts = [];
    for (const name of c.VALIDATORS) {
      const { result, error } = await c.rpc(uris[name], 'inference_jobResult', [job.jobId]);
      assert.equal(error, undefined, `${name}: ${JSON.stringify(error)}`);
      assert.equal(c.resultHash(api, job.jobId, c.SMOLLM2, result.promptTokenIds, result.outputTokenIds),
        chainHash, `${name}'s tokens hash to the on-chain result`);
      assert.equal(result.matchesChain, true, `${name}: matchesChain`);
      texts.push(result.text);
    }
    assert.ok(texts[0].length > 0, 'non-empty output');
    assert.ok(texts.every((t) => t === texts[0]), 'the same text on every node');
    c.log(`settled in block #${settledAt} (${settledAt - submittedAt} blocks after submission): ${JSON.stringify(texts[0])}`);

    // A sampled job, submitted once the greedy one settled: it cannot settle, let alone be
    // paid, in the greedy job's release block, so the balance check below sees one payout.
    const sampled = await c.submitJob(api, ferdie, {
      prompt: c.chatPrompt('Describe the colour of the sky in one sentence.'),
      maxTokens: 24,
      replication: 3,
      sampling: { Sampled: { temperatureMilli: 700, topPPpm: 950_000 } },
    });
    // A chat job beside it: messages, rendered by each node with the model's own template.
    const messages = [
      { role: 'system', content: 'You answer in one short sentence.' },
      { role: 'user', content: 'What is the capital of France?' },
    ];
    const chat = await c.submitJob(api, ferdie, { prompt: messages, maxTokens: 24, replication: 3 });

    // The window closes: FeeReleased pays each validator its share into its free balance.
    await c.until(`block #${releaseAt}`, async () =>
      (await api.rpc.chain.getHeader()).number.toNumber() >= releaseAt || null, 120_000);
    const released = (await c.eventsBetween(api, releaseAt, releaseAt))
      .find(({ event }) => event.method === 'FeeReleased' && event.data.jobId.toNumber() === job.jobId);
    assert.ok(released, 'FeeReleased at the end of the window');
    const paid = new Map(released.event.data.paid.map(([who, amount]) => [who.toString(), amount.toBigInt()]));
    assert.deepEqual(paid, shares, 'paid the announced shares');
    const beforeRelease = await api.at(await api.rpc.chain.getBlockHash(releaseAt - 1));
    const afterRelease = await api.at(await api.rpc.chain.getBlockHash(releaseAt));
    for (const who of validators) {
      const free0 = (await beforeRelease.query.system.account(who)).data.free.toBigInt();
      const free1 = (await afterRelease.query.system.account(who)).data.free.toBigInt();
      assert.equal(free1 - free0, paid.get(who), `${who}'s free balance grew by its share`);
    }
    /** Waits for `jobId` to settle and checks that all three assignees revealed the agreed hash
     * and serve tokens that hash to it; returns the job's view. */
    async function agreed(jobId, label) {
      const view = await c.settled(api, jobId);
      assert.ok(view.status.isCompleted, `${label} job settled as ${view.status.type}`);
      const hash = view.status.asCompleted.resultHash.toHex();
      assert.equal(view.assignees.length, 3);
      for (const a of view.assignees) {
        assert.equal(a.revealed.unwrap().toHex(), hash, `${a.node} revealed the ${label} job's hash`);
      }
      for (const name of c.VALIDATORS) {
        const { result, error } = await c.rpc(uris[name], 'inference_jobResult', [jobId]);
        assert.equal(error, undefined, `${name}: ${JSON.stringify(error)}`);
        assert.equal(c.resultHash(api, jobId, c.SMOLLM2, result.promptTokenIds, result.outputTokenIds),
          hash, `${name}'s ${label} tokens hash to the on-chain result`);
        if (name === c.VALIDATORS[0]) c.log(`${label} job ${jobId}: ${JSON.stringify(result.text)}`);
      }
      return view;
    }

    const sView = await agreed(sampled.jobId, 'sampled');
    c.log(`sampled job ${sampled.jobId} (seed ${sView.sampling.asSampled.seed}) agreed by 3 of 3`);

    // The chat job: the view names the template of the model's whitelist entry (the GGUF's),
    // the fee counts the template's allowance, and all three agree on the rendered prompt.
    const cView = await agreed(chat.jobId, 'chat');
    assert.ok(cView.format.isChat, `the chat job's format is ${cView.format.type}`);
    assert.equal(cView.format.asChat.templateSha256.toHex(), `0x${c.modelFacts('smollm2').profile.chatTemplateSha256}`,
      'rendered with the template the whitelist records');
    assert.equal(chat.fee, c.jobFee(params, c.billedPromptLen(api, messages), 24, 3), 'chat fee = R × (base + price × (billed length + max tokens))');
  });

}

module.exports = { run };
