// Check (b) of os/compose/test-compose.sh: a job with R = 3 on SmolLM2 (model 0), submitted by
// ferdie through alice's RPC port, is assigned to all three validators and settles as Completed,
// every assignee having revealed the same result hash. Uses the project's Polkadot.js helpers
// (zombienet/scripts/common.cjs, with zombienet/node_modules).
//
//   node os/compose/check-job.cjs ws://127.0.0.1:19944 ws://127.0.0.1:19945 ws://127.0.0.1:19946
//
// Prints one JSON line with the timings and exits 0, or prints the reason and exits 1.
'use strict';

const c = require('../../zombienet/scripts/common.cjs');

const { assert } = c;

async function main() {
  const uris = process.argv.slice(2);
  if (uris.length !== 3) throw new Error('usage: check-job.cjs WS_ALICE WS_BOB WS_CHARLIE');
  const t0 = Date.now();
  const api = await c.connect(uris[0]);
  const validators = c.VALIDATORS.map((n) => c.account(n).address);
  // Each validator's off-chain worker has declared the model ready (its heartbeat reached the chain).
  for (const who of validators) await c.waitReady(api, who, 0, 300_000);
  const readyS = (Date.now() - t0) / 1000;

  const prompt = c.chatPrompt('Name the largest planet in the solar system.');
  const tSubmit = Date.now();
  const job = await c.submitJob(api, c.account('ferdie'), { model: 0, prompt, maxTokens: 24, replication: 3 });
  assert.deepEqual([...job.assignees].sort(), [...validators].sort(), 'all three validators assigned');
  const submittedAt = await c.blockNumber(api, job.blockHash);
  console.error(`job ${job.jobId} in block #${submittedAt}, assignees ${c.VALIDATORS.join(', ')}`);

  const view = await c.settled(api, job.jobId, 300_000);
  const settleS = (Date.now() - tSubmit) / 1000;
  assert.ok(view.status.isCompleted, `job settled as ${view.status.type}, not Completed`);
  const chainHash = view.status.asCompleted.resultHash.toHex();
  assert.equal(view.assignees.length, 3, 'three assignees in the settled job');
  for (const a of view.assignees) {
    assert.ok(a.revealed.isSome, `${a.node} revealed`);
    assert.equal(a.revealed.unwrap().toHex(), chainHash, `${a.node} revealed the agreed hash`);
  }

  // The other two nodes see the same settled job (they follow the same chain).
  for (const uri of uris.slice(1)) {
    const other = await c.connect(uri);
    const v = await c.until(`job ${job.jobId} settled on ${uri}`, async () => {
      const o = (await other.call.proofOfInferenceApi.job(job.jobId)).unwrapOr(null);
      return o && o.status.isCompleted ? o : null;
    }, 60_000, 1000);
    assert.equal(v.status.asCompleted.resultHash.toHex(), chainHash, `${uri} agrees on the result hash`);
  }

  console.log(JSON.stringify({
    jobId: job.jobId,
    submittedAtBlock: submittedAt,
    status: view.status.type,
    resultHash: chainHash,
    assignees: view.assignees.map((a) => a.node.toString()),
    validatorsReadyS: readyS,
    submitToSettledS: settleS,
  }));
}

main().then(
  async () => { process.exit(0); },
  (e) => { console.error(`check-job: FAILED: ${e && e.stack ? e.stack : e}`); process.exit(1); },
);
