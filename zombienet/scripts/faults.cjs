// Faults suite, in three steps around the zndsl's fault commands (`args[0]` names the step):
//
// 1. `before-kill`: start an observer on Alice (every best and finalized head she announces,
//    with the time), check Charlie's keys and models, and submit a job with R = 3. The suite
//    then SIGKILLs Charlie mid-job (`charlie: restart after N seconds`).
// 2. `after-restart`: while Charlie was down Alice kept authoring (BABE needs only the slot's
//    author) but finality stalled (GRANDPA with three equal voters needs all three); the job
//    settled at its reveal deadline on Alice's and Bob's agreeing reveals, without Charlie.
//    Charlie restarted on the same base path with its keystore, database and model store
//    intact, catches up, finality resumes, his heartbeat makes him Active again (the outage is
//    longer than a heartbeat period), and a new job with R = 3 is served by all three.
// 3. `before-pause`, then `bob: pause` / `bob: resume` (SIGSTOP, SIGCONT, 45 s apart, about five
//    blocks at two thirds of the slots), then `after-resume`:
//    Alice kept authoring while Bob was frozen and finality stalled again; Bob catches up to
//    Alice's chain (same block hashes) and finality moves on. Last, no finalized block seen
//    during the whole suite was ever reverted: each is still the canonical block of its height
//    on every node.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const c = require('./common.cjs');

const { assert } = c;

/** State shared by the three steps (zombienet runs them in one process, one after another). */
const state = global.cognitiveFaults || (global.cognitiveFaults = {
  finalized: new Map(), // number → hash, every finalized head Alice announced
  events: [], // { t, kind: 'best' | 'finalized', number }
});

async function startObserver(wsUri) {
  if (state.api) return;
  state.api = await c.connect(wsUri, { keep: true });
  state.unsubs = [
    await state.api.rpc.chain.subscribeNewHeads((h) => {
      state.events.push({ t: Date.now(), kind: 'best', number: h.number.toNumber() });
    }),
    await state.api.rpc.chain.subscribeFinalizedHeads((h) => {
      state.finalized.set(h.number.toNumber(), h.hash.toHex());
      state.events.push({ t: Date.now(), kind: 'finalized', number: h.number.toNumber() });
    }),
  ];
}

async function stopObserver() {
  for (const u of state.unsubs || []) u();
  if (state.api) await state.api.disconnect().catch(() => {});
  state.api = null;
}

/** Highest block number of `kind` the observer saw in the time window `[from, to]`. */
function highest(kind, from, to) {
  return state.events.filter((e) => e.kind === kind && e.t >= from && e.t <= to)
    .reduce((m, e) => Math.max(m, e.number), -1);
}

async function hasKeys(wsUri, name) {
  const keys = {
    infr: c.inferenceKey(name).publicKey,
    gran: c.inferenceKey(name).publicKey,
    babe: c.account(name).publicKey,
  };
  for (const [type, pk] of Object.entries(keys)) {
    const { result, error } = await c.rpc(wsUri, 'author_hasKey', [`0x${Buffer.from(pk).toString('hex')}`, type]);
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(result, true, `${name}'s keystore holds its ${type} key`);
  }
}

async function servesSmolLM2(wsUri, name) {
  const { result, error } = await c.rpc(wsUri, 'inference_models');
  assert.equal(error, undefined, JSON.stringify(error));
  assert.ok(result.some((m) => m.sha256 === c.SMOLLM2), `${name}'s model store has SmolLM2: ${JSON.stringify(result)}`);
}

async function beforeKill(networkInfo) {
  const uri = (n) => networkInfo.nodesByName[n].wsUri;
  await startObserver(uri('alice'));
  const api = await c.connect(uri('alice'));
  const charlie = await c.connect(uri('charlie'));
  await hasKeys(uri('charlie'), 'charlie');
  await servesSmolLM2(uri('charlie'), 'charlie');
  state.charlieBefore = await c.heights(charlie);
  for (const name of c.VALIDATORS) await c.waitReady(api, c.account(name).address);
  state.job = await c.submitJob(api, c.account('ferdie'), {
    prompt: c.chatPrompt('Give one word that rhymes with cat.'), maxTokens: 24, replication: 3,
  });
  assert.equal(state.job.assignees.length, 3);
  state.killedAt = Date.now();
  c.log(`job ${state.job.jobId} submitted; Charlie at best #${state.charlieBefore.best}, finalized #${state.charlieBefore.fin}; killing Charlie now`);
}

async function afterRestart(networkInfo) {
  const restartedAt = Date.now();
  const uri = (n) => networkInfo.nodesByName[n].wsUri;
  const api = await c.connect(uri('alice'));
  const [alice, bob, charlieAcc] = c.VALIDATORS.map((n) => c.account(n).address);

  // While Charlie was down. GRANDPA needs Charlie's precommit, and Charlie never saw a block
  // authored more than a slot after the kill: no such block may be finalized until he is back,
  // while Alice and Bob keep authoring on top of it.
  const bound = highest('best', 0, state.killedAt + c.sessionTiming(api).slotMs);
  const finDuring = highest('finalized', state.killedAt, restartedAt);
  const bestDuring = highest('best', state.killedAt, restartedAt);
  c.log(`Charlie down ${((restartedAt - state.killedAt) / 1000).toFixed(0)} s: best #${bound} → #${bestDuring}, `
    + `highest finalized announced while down #${finDuring} (bound #${bound})`);
  assert.ok(bestDuring >= bound + 5, 'blocks kept coming without Charlie');
  assert.ok(finDuring <= bound, 'nothing Charlie could not vote for was finalized: finality stalled');

  // The job settled on Alice's and Bob's reveals while Charlie could not reveal.
  const view = await c.settled(api, state.job.jobId, 180_000);
  assert.ok(view.status.isCompleted, `job settled as ${view.status.type}`);
  const agreed = view.status.asCompleted.resultHash.toHex();
  const revealed = view.assignees.filter((a) => a.revealed.isSome);
  assert.deepEqual(revealed.map((a) => a.node.toString()).sort(), [alice, bob].sort(), 'Alice and Bob revealed');
  assert.ok(revealed.every((a) => a.revealed.unwrap().toHex() === agreed));
  const charlieSlot = view.assignees.find((a) => a.node.toString() === charlieAcc);
  assert.ok(charlieSlot.revealed.isNone, 'Charlie did not');
  const settledAt = view.settledAt.unwrap().toNumber();
  assert.equal(settledAt, view.revealDeadline.toNumber(), 'settled at the reveal deadline');
  const events = await c.eventsBetween(api, settledAt, settledAt);
  const completed = events.find(({ event }) => event.method === 'JobCompleted');
  assert.deepEqual(completed.event.data.shares.map(([w]) => w.toString()).sort(), [alice, bob].sort(), 'only Alice and Bob paid');
  // Killed after committing, Charlie never opened his commitment: that costs what a wrong
  // result costs (a slash). Killed before committing, he only missed the job.
  const slashed = events.find(({ event }) => event.method === 'NodeSlashed' && event.data.node.toString() === charlieAcc);
  if (charlieSlot.commitment.isSome) {
    assert.ok(slashed && slashed.event.data.reason.isUnopened, 'Charlie slashed for an unopened commitment');
  } else {
    assert.ok(!slashed, 'Charlie not slashed for missing a job he never committed to');
  }
  c.log(`Charlie ${charlieSlot.commitment.isSome ? 'had committed and was slashed' : 'had not committed'}`);
  assert.ok(highest('best', 0, restartedAt) >= settledAt, 'settled before Charlie came back');
  c.log(`job ${state.job.jobId} settled in block #${settledAt} on 2 of 3 agreeing reveals`);

  // Charlie came back with its keys, its database and its models (once its RPC server is up:
  // the restarted node loads its models first).
  await c.rpcUp(uri('charlie'), 'Charlie');
  await hasKeys(uri('charlie'), 'charlie');
  await servesSmolLM2(uri('charlie'), 'charlie');
  const log = fs.readFileSync(path.join(networkInfo.tmpDir, 'charlie.log'), 'utf8');
  const known = [...log.matchAll(/Highest known block at #(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(known.length, 2, `two starts in Charlie's log (${known})`);
  assert.ok(known[1] >= state.charlieBefore.fin && known[1] > 0,
    `the restarted node opened its database at #${known[1]} (finalized #${state.charlieBefore.fin} before the kill)`);
  assert.equal((log.match(/Initializing Genesis block/g) || []).length, 1, 'genesis initialised only on the first start');
  c.log(`Charlie reopened its database at #${known[1]}`);

  // Finality resumes and Charlie catches up.
  const charlie = await c.connect(uri('charlie'));
  const resumed = await c.until('finality to resume', async () => {
    const h = await c.heights(api);
    return h.fin > bound ? h : null;
  }, 120_000);
  await c.until('Charlie to catch up', async () => (await c.heights(charlie)).best >= resumed.best, 60_000);
  c.log(`finality resumed: finalized #${resumed.fin}, past #${bound}`);

  // Down for more than a heartbeat period, Charlie may have been marked Offline (then no job is
  // assigned to him); his off-chain worker's next heartbeat makes him Active again.
  const status = async () => (await api.query.nodeRegistry.nodes(charlieAcc)).unwrap().status.type;
  const statusAfterRestart = await status();
  await c.until('Charlie to be Active again', async () => (await status()) === 'Active', 120_000);
  await c.waitReady(api, charlieAcc);
  c.log(`Charlie's registry status after the restart: ${statusAfterRestart}, now Active`);

  // A new job is served by all three again.
  const job = await c.submitJob(api, c.account('ferdie'), {
    prompt: c.chatPrompt('Say hello.'), maxTokens: 12, replication: 3,
  });
  const after = await c.settled(api, job.jobId);
  assert.ok(after.status.isCompleted, `job settled as ${after.status.type}`);
  assert.ok(after.assignees.every((a) => a.revealed.isSome), 'all three revealed, Charlie included');
}

async function beforePause(networkInfo) {
  const api = await c.connect(networkInfo.nodesByName.alice.wsUri);
  const bob = await c.connect(networkInfo.nodesByName.bob.wsUri);
  state.bobAtPause = await c.heights(bob);
  state.pausedAt = Date.now();
  c.log(`pausing Bob at best #${state.bobAtPause.best}, finalized #${state.bobAtPause.fin}; Alice at #${(await c.heights(api)).best}`);
}

async function afterResume(networkInfo, pauseSeconds) {
  const uri = (n) => networkInfo.nodesByName[n].wsUri;
  const api = await c.connect(uri('alice'));
  const bob = await c.connect(uri('bob'));

  // While Bob was frozen: Alice went on authoring; nothing Bob could not have voted for (authored
  // more than a slot after SIGSTOP) was finalized. The window is the zndsl's sleep between
  // SIGSTOP and SIGCONT (passed in), not "until this step started": zombienet starts this step
  // some time after SIGCONT, and by then Bob's first votes may already have finalized blocks
  // (the CI failure of 2026-12-05).
  const pauseMs = Number(pauseSeconds) * 1000;
  assert.ok(pauseMs > 0, `after-resume needs the pause in seconds, got "${pauseSeconds}"`);
  const resumedAt = state.pausedAt + pauseMs;
  const bound = highest('best', 0, state.pausedAt + c.sessionTiming(api).slotMs);
  const aliceBest = highest('best', state.pausedAt, resumedAt);
  const finDuring = highest('finalized', state.pausedAt, resumedAt);
  const seen = state.events.filter((e) => e.kind === 'finalized' && e.t >= state.pausedAt - 20_000)
    .map((e) => `#${e.number}@${((e.t - state.pausedAt) / 1000).toFixed(1)}s`).join(' ');
  c.log(`finalized heads announced around the pause (time from SIGSTOP): ${seen || 'none'}`);
  assert.ok(aliceBest >= bound + 2, `Alice authored while Bob was frozen (#${bound} → #${aliceBest})`);
  assert.ok(finDuring <= bound, `finality stalled while Bob was frozen (bound #${bound}, finalized #${finDuring})`);

  // Bob catches up to Alice's chain, and finality moves on.
  const target = await c.heights(api);
  const caught = await c.until('Bob to catch up after SIGCONT', async () => {
    const h = await c.heights(bob);
    return h.best >= target.best ? h : null;
  }, 90_000);
  // The newest blocks may still sit on competing forks (BABE lets two authors claim one slot,
  // and Bob authors again as soon as he is resumed). Once both nodes have finalized the height
  // Alice had reached, they must hold the same block there; finality has then moved past the
  // bound too.
  await c.until('finality past that height on Alice and Bob', async () => (await c.heights(api)).fin >= target.best
    && (await c.heights(bob)).fin >= target.best, 120_000);
  assert.equal((await bob.rpc.chain.getBlockHash(target.best)).toHex(), (await api.rpc.chain.getBlockHash(target.best)).toHex(),
    'Bob has Alice\'s blocks');
  c.log(`Bob was frozen at #${state.bobAtPause.best} while Alice reached #${aliceBest} (finalized held at or below #${bound}); `
    + `Bob caught up to #${caught.best}`);

  // No finalized block was reverted, on any node.
  assert.ok(state.finalized.size > 5, `observed ${state.finalized.size} finalized heads`);
  for (const name of c.VALIDATORS) {
    const node = await c.connect(uri(name));
    for (const [n, hash] of state.finalized) {
      assert.equal((await node.rpc.chain.getBlockHash(n)).toHex(), hash, `${name}: finalized #${n} is still canonical`);
    }
  }
  c.log(`${state.finalized.size} finalized heads seen during the suite are canonical on all three nodes`);
  await stopObserver();
}

async function run(nodeName, networkInfo, args) {
  const step = (args && args[0]) || '';
  const steps = {
    'before-kill': beforeKill,
    'after-restart': afterRestart,
    'before-pause': beforePause,
    'after-resume': afterResume,
  };
  if (!steps[step]) throw new Error(`unknown faults step "${step}"`);
  try {
    return await c.check(`faults: ${step}`, () => steps[step](networkInfo, ...args.slice(1)));
  } catch (e) {
    await stopObserver();
    throw e;
  }
}

module.exports = { run };
