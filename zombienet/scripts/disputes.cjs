// Disputes (run after the byzantine script, on its network): five registered nodes — the three
// validators and two nodes driven by this script (Dave, registered by the byzantine script,
// and Eve, with inference keys only the script holds; nothing in the node binary is special for
// this test).
//
// 1. A wrong majority: an R = 3 job assigned to Dave, Eve and one validator. Dave and Eve
//    commit to and reveal the same made-up hash; the job settles on it and the honest
//    validator is slashed as the minority. The owner challenges; the two other validators are
//    drawn as auditors, re-execute the job in their off-chain workers and reveal the true
//    hash: the audit overturns the job, Dave and Eve lose the audit slash (paid to the
//    challenger and the auditors), the owner gets the whole fee back.
// 2. A frivolous challenge: an honest job (Dave and Eve answer honestly whenever drawn,
//    re-executing the job on a validator's engine over `inference_generate`) is challenged by
//    its owner; the auditors confirm it and share the deposit.
//
// Prints the time from challenge to verdict (blocks and seconds) for docs/verification.md.
'use strict';

const { randomAsHex } = require('@polkadot/util-crypto');
const c = require('./common.cjs');
const { ScriptedNode, answerHonestly } = require('./scripted-node.cjs');

const { assert } = c;

/** Events of `section` about `jobId` from block `from` to the best block. */
async function jobEvents(api, from, jobId) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  return (await c.eventsBetween(api, from, best))
    .filter(({ event }) => event.data.jobId && event.data.jobId.toNumber() === jobId);
}

/** Waits for the audit of `jobId` to conclude; returns the job's view. */
async function verdict(api, jobId) {
  return c.until(`the audit of job ${jobId} to conclude`, async () => {
    const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrap();
    return view.audit.isSome && view.audit.unwrap().verdict.isSome ? view : null;
  }, 240_000, 2000);
}

/** Submits the owner's challenge of `jobId`; returns `{ auditors, block, at }`. */
async function challenge(api, owner, jobId) {
  const at = Date.now();
  const { events, blockHash } = await c.sendOk(api, api.tx.proofOfInference.challenge(jobId), owner);
  const ev = events.find(({ event }) => api.events.proofOfInference.Challenged.is(event));
  assert.ok(ev, 'Challenged event');
  return {
    auditors: ev.event.data.auditors.map((a) => a.toString()),
    deposit: ev.event.data.deposit.toBigInt(),
    block: await c.blockNumber(api, blockHash),
    at,
  };
}

async function run(nodeName, networkInfo) {
  return c.check('a wrong majority is overturned on challenge; a frivolous challenge loses its deposit', async () => {
    const uris = Object.fromEntries(c.VALIDATORS.map((n) => [n, networkInfo.nodesByName[n].wsUri]));
    const wsUri = uris[nodeName];
    const api = await c.connect(wsUri);
    const ferdie = c.account('ferdie');
    const validators = c.VALIDATORS.map((n) => c.account(n).address);
    const params = await api.query.proofOfInference.params();
    const auditSlash = BigInt(params.auditSlashFraction.toNumber());
    assert.equal(params.auditors.toNumber(), 2, 'two auditors: five nodes minus three assignees');

    const dave = new ScriptedNode(api, wsUri, 'dave');
    const eve = new ScriptedNode(api, wsUri, 'eve');
    await c.assertPreambleMatchesNode(api, wsUri, 1);
    for (const node of [dave, eve]) await node.register();
    for (const who of validators) await c.waitReady(api, who);
    const stops = [dave.keepAlive(), eve.keepAlive()];
    let targeting = false;
    const both = (r) => r.round === 'assignment'
      && [dave, eve].every((n) => r.members.some((m) => m.node.toString() === n.address));
    // While the script looks for a job assigned to both, it drives that one itself.
    const stopAnswering = answerHonestly(api, uris.bob, [dave, eve], (id, r) => targeting && both(r));
    try {
      for (const node of [dave, eve]) {
        await node.heartbeat();
        await c.waitReady(api, node.address);
      }

      // Warm-up: two R = 5 jobs (every node assigned) that Dave and Eve answer honestly. They
      // earn the verified work that makes them as likely to be drawn as the validators (a
      // newcomer is drawn at a tenth of the weight), and the five equal reveals show that a
      // re-execution over `inference_generate` equals the chain lane's.
      for (let i = 0; i < 2; i += 1) {
        const warm = await c.submitJob(api, ferdie, {
          prompt: c.chatPrompt(`Write a sentence about rivers (${i}).`), maxTokens: 100, replication: 5,
        });
        const view = await c.settled(api, warm.jobId);
        assert.ok(view.status.isCompleted, `warm-up job settled as ${view.status.type}`);
        const hashes = new Set(view.assignees.map((a) => a.revealed.unwrapOr(null)?.toHex()));
        assert.equal(hashes.size, 1, `all five revealed one hash: ${[...hashes]}`);
      }

      // 1. A job whose majority is Dave and Eve (assignment is random: submit until it is),
      // settled on their wrong hash. One the automatic audit picked cannot be challenged: its
      // audit is left to conclude, and another job is tried.
      let job = null;
      let settled = null;
      let honest = null;
      let wrong = null;
      for (let attempt = 0; attempt < 3 && !settled; attempt += 1) {
        targeting = true;
        job = null;
        for (let i = 0; i < 20 && !job; i += 1) {
          const j = await c.submitJob(api, ferdie, {
            prompt: c.chatPrompt(`Name a planet of the solar system (${attempt}, ${i}).`), maxTokens: 12, replication: 3,
          });
          if (j.assignees.includes(dave.address) && j.assignees.includes(eve.address)) job = j;
          else await c.settled(api, j.jobId);
        }
        assert.ok(job, 'a job assigned to Dave and Eve within 20 submissions');
        honest = job.assignees.find((a) => validators.includes(a));
        c.log(`job ${job.jobId}: Dave, Eve and ${honest}`);
        wrong = randomAsHex(32);
        for (const node of [dave, eve]) {
          const sent = await node.commit(job.jobId, wrong);
          assert.equal(sent.error, undefined, `${node.name}'s commit: ${JSON.stringify(sent.error)}`);
        }
        await c.until(`job ${job.jobId} to enter its reveal phase`, async () => {
          const v = (await api.call.proofOfInferenceApi.job(job.jobId)).unwrap();
          return v.assignees.every((a) => a.commitment.isSome);
        }, 120_000, 1000);
        for (const node of [dave, eve]) {
          const sent = await node.reveal(job.jobId, wrong);
          assert.equal(sent.error, undefined, `${node.name}'s reveal: ${JSON.stringify(sent.error)}`);
        }
        const view = await c.settled(api, job.jobId);
        targeting = false;
        assert.ok(view.status.isCompleted, `settled as ${view.status.type}`);
        assert.equal(view.status.asCompleted.resultHash.toHex(), wrong, 'the wrong majority settled the job');
        if (view.audit.isSome) {
          c.log(`job ${job.jobId} drew an automatic audit; waiting for it, then another job`);
          await verdict(api, job.jobId);
        } else {
          settled = view;
        }
      }
      assert.ok(settled, 'a wrongly settled job without an automatic audit within 3 attempts');
      const from = await c.blockNumber(api, job.blockHash);
      const truth = settled.assignees.find((a) => a.node.toString() === honest).revealed.unwrap().toHex();
      const bonds0 = {};
      for (const node of [dave, eve]) {
        bonds0[node.name] = (await api.query.nodeRegistry.nodes(node.address)).unwrap().bond.toBigInt();
      }

      const upheld = await challenge(api, ferdie, job.jobId);
      assert.deepEqual([...upheld.auditors].sort(), validators.filter((v) => v !== honest).sort(),
        'the two validators that did not run the job audit it');
      const overturned = await verdict(api, job.jobId);
      const upheldSeconds = (Date.now() - upheld.at) / 1000;
      const audit = overturned.audit.unwrap();
      assert.ok(audit.verdict.unwrap().isOverturned, `verdict ${audit.verdict.unwrap().type}`);
      assert.equal(audit.verdict.unwrap().asOverturned.auditedHash.toHex(), truth, 'the auditors found the honest hash');
      assert.ok(overturned.status.isOverturned, `job status ${overturned.status.type}`);
      const events = await jobEvents(api, from, job.jobId);
      const concluded = events.find(({ event }) => event.method === 'AuditConcluded');
      assert.equal(concluded.event.data.refunded.toBigInt(), job.fee, 'the owner got the whole fee back');
      const slashes = events.filter(({ event }) => event.method === 'NodeSlashed' && event.data.reason.isOverturned);
      assert.deepEqual(slashes.map(({ event }) => event.data.node.toString()).sort(), [dave.address, eve.address].sort());
      for (const node of [dave, eve]) {
        const bond = (await api.query.nodeRegistry.nodes(node.address)).unwrap().bond.toBigInt();
        const expected = bonds0[node.name] - (bonds0[node.name] * auditSlash) / 1_000_000_000n;
        assert.equal(bond, expected, `${node.name} lost the audit slash of its bond`);
      }
      const rewarded = concluded.event.data.rewarded.map(([w]) => w.toString());
      assert.ok(rewarded.includes(ferdie.address), 'the challenger is rewarded from the slash');
      assert.equal(overturned.feeHeld.isTrue, false, 'nothing held any more');
      // A client that trusts only the chain now verifies the job against the auditors' hash.
      const checked = await c.verifyJob(api, job.jobId, Object.values(uris));
      assert.ok(checked.verified, `verified against the corrected answer: ${JSON.stringify(checked)}`);
      assert.equal(checked.chainHash, truth);
      assert.equal(checked.challengeable, false, 'an audited job cannot be challenged again');
      const upheldBlocks = concluded.number - upheld.block;
      c.log(`challenge upheld: ${upheldBlocks} blocks (${upheldSeconds.toFixed(1)} s) from challenge to verdict; Dave and Eve slashed`);

      // 2. An honest job, challenged for nothing (one the automatic audit did not pick).
      let honestJob = null;
      for (let i = 0; i < 5 && !honestJob; i += 1) {
        const j = await c.submitJob(api, ferdie, {
          prompt: c.chatPrompt(`What colour is grass? (${i})`), maxTokens: 12, replication: 3,
        });
        const v = await c.settled(api, j.jobId);
        assert.ok(v.status.isCompleted, `honest job settled as ${v.status.type}`);
        if (v.audit.isNone && v.challengeableUntil.isSome) honestJob = j;
      }
      assert.ok(honestJob, 'an honest job without an automatic audit');
      const rejected = await challenge(api, ferdie, honestJob.jobId);
      const confirmed = await verdict(api, honestJob.jobId);
      const rejectedSeconds = (Date.now() - rejected.at) / 1000;
      assert.ok(confirmed.audit.unwrap().verdict.unwrap().isConfirmed, 'the auditors confirm the result');
      const hEvents = await jobEvents(api, rejected.block, honestJob.jobId);
      const hConcluded = hEvents.find(({ event }) => event.method === 'AuditConcluded');
      const shares = hConcluded.event.data.rewarded.map(([w, b]) => [w.toString(), b.toBigInt()]);
      assert.deepEqual(shares.map(([w]) => w).sort(), [...rejected.auditors].sort(), 'the deposit goes to the auditors');
      assert.equal(shares.reduce((s, [, b]) => s + b, 0n), rejected.deposit, 'all of it');
      c.log(`challenge rejected: ${hConcluded.number - rejected.block} blocks (${rejectedSeconds.toFixed(1)} s) from challenge to verdict; deposit ${rejected.deposit} plancks to the auditors`);
    } finally {
      stops.forEach((stop) => stop());
      await stopAnswering();
    }
  });
}

module.exports = { run };
