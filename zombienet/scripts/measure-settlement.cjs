// Benchmark (not a test): submission-to-settlement time of proof-of-inference jobs with R = 3
// on the real SmolLM2 model, on the 3-validator network. Jobs are submitted one after another;
// for each, the time from handing the signed transaction to the node until Alice imports the
// block that settles it, and the number of blocks in between. Baseline, measured in the same
// run: the same prompt and token budget answered directly by `inference_generate` on one node
// (inference alone, no consensus).
//
// Run it with scripts/bench-settlement.sh; SETTLEMENT_JOBS (default 10) sets the number of jobs,
// SETTLEMENT_TOKENS (default 64) the token budget of each. It also prints the mean block time
// over the run (the chain's own timestamps), which is what the slot duration delivers.
'use strict';

const c = require('./common.cjs');

const { assert } = c;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Resolves with the arrival time of the first new best head at which `jobId` is settled. */
function settlement(api, jobId) {
  return new Promise((resolve, reject) => {
    let unsub;
    let busy = false;
    const timer = setTimeout(() => { if (unsub) unsub(); reject(new Error(`job ${jobId} did not settle`)); }, 300_000);
    api.rpc.chain.subscribeNewHeads(async (header) => {
      const t = Date.now();
      if (busy) return;
      busy = true;
      try {
        const at = await api.at(header.hash);
        const view = (await at.call.proofOfInferenceApi.job(jobId)).unwrapOr(null);
        if (view && !view.status.isPending) {
          clearTimeout(timer);
          if (unsub) unsub();
          resolve({ t, view });
        }
      } catch (e) {
        reject(e);
      } finally {
        busy = false;
      }
    }).then((u) => { unsub = u; }, reject);
  });
}

/**
 * Where a job's blocks went: for each block from inclusion to settlement, its offset, how many
 * slots passed since the previous block (more than 1: an empty slot), its BABE author, and whose
 * commits and reveals it carried. Explains the jobs that take more blocks than the usual path.
 */
async function timeline(api, view, names) {
  const from = view.submittedAt.toNumber();
  const to = view.settledAt.unwrap().toNumber();
  const events = await c.eventsBetween(api, from, to);
  const parts = [];
  let prevSlot = null;
  for (let n = from; n <= to; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const header = await api.rpc.chain.getHeader(hash);
    const pre = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
    const raw = pre ? pre.asPreRuntime[1].toU8a(true) : null;
    const slot = raw ? Number(Buffer.from(raw.slice(5, 13)).readBigUInt64LE()) : null;
    const author = raw ? names[(raw[1] | (raw[2] << 8)) >>> 0] ?? `#${raw[1]}` : '?';
    const who = (kind) => events.filter((e) => e.number === n && e.event.method === kind
      && e.event.data.jobId.toNumber() === view.jobId.toNumber())
      .map((e) => names.byAddress[e.event.data.node.toString()] ?? 'other');
    const gap = prevSlot === null || slot === null ? '' : slot - prevSlot > 1 ? ` gap${slot - prevSlot - 1}` : '';
    prevSlot = slot;
    const commits = who('Committed');
    const reveals = who('Revealed');
    parts.push(`+${n - from}[${author}${gap}${commits.length ? ` C:${commits.join(',')}` : ''}`
      + `${reveals.length ? ` R:${reveals.join(',')}` : ''}]`);
  }
  return parts.join(' ');
}

async function run(nodeName, networkInfo) {
  return c.check('submission-to-settlement time (R = 3, SmolLM2)', async () => {
    const jobs = Number(process.env.SETTLEMENT_JOBS || 10);
    const maxTokens = Number(process.env.SETTLEMENT_TOKENS || 64);
    const wsUri = networkInfo.nodesByName[nodeName].wsUri;
    const api = await c.connect(wsUri);
    const ferdie = c.account('ferdie');
    for (const name of c.VALIDATORS) await c.waitReady(api, c.account(name).address);
    // BABE authority index → name (through each validator's session key), and account → name.
    const babeKeys = {};
    for (const n of c.VALIDATORS) {
      const keys = await api.query.session.nextKeys(c.account(n).address);
      if (keys.isSome) babeKeys[keys.unwrap().babe.toString()] = n;
    }
    const names = (await api.query.babe.authorities()).map(([k]) => babeKeys[k.toString()] ?? 'other');
    names.byAddress = Object.fromEntries(c.VALIDATORS.map((n) => [c.account(n).address, n]));
    const seconds = [];
    const blocks = [];
    const direct = [];
    const chainTime = async () => {
      const header = await api.rpc.chain.getHeader();
      const now = await (await api.at(header.hash)).query.timestamp.now();
      return { number: header.number.toNumber(), ms: now.toNumber() };
    };
    const first = await chainTime();
    for (let i = 0; i < jobs; i += 1) {
      const prompt = c.chatPrompt(`Write one sentence about the number ${i + 1}.`);
      const t0 = Date.now();
      const job = await c.submitJob(api, ferdie, { prompt, maxTokens, replication: 3 });
      const { t, view } = await settlement(api, job.jobId);
      assert.ok(view.status.isCompleted, `job ${job.jobId} settled as ${view.status.type}`);
      const s = (t - t0) / 1000;
      const b = view.settledAt.unwrap().toNumber() - view.submittedAt.toNumber();
      seconds.push(s);
      blocks.push(b);

      const g0 = Date.now();
      const { error } = await c.rpc(wsUri, 'inference_generate', [{ model: c.SMOLLM2, prompt, maxTokens }], 120_000);
      assert.equal(error, undefined, JSON.stringify(error));
      direct.push((Date.now() - g0) / 1000);
      c.log(`job ${job.jobId}: settled after ${s.toFixed(1)} s, ${b} blocks; direct inference_generate ${direct.at(-1).toFixed(2)} s`);
      c.log(`  ${await timeline(api, view, names)}`);
    }
    const last = await chainTime();
    const blockTime = (last.ms - first.ms) / (last.number - first.number) / 1000;
    console.log(`SETTLEMENT jobs=${jobs} R=3 model=SmolLM2-135M-Instruct-Q4_1 max_tokens=${maxTokens}`);
    console.log(`SETTLEMENT mean block time over the run: ${blockTime.toFixed(2)} s `
      + `(blocks #${first.number}..#${last.number})`);
    console.log(`SETTLEMENT median submission→settlement: ${median(seconds).toFixed(1)} s `
      + `(min ${Math.min(...seconds).toFixed(1)}, max ${Math.max(...seconds).toFixed(1)}), median ${median(blocks)} blocks`);
    console.log(`SETTLEMENT baseline, median direct inference_generate on one node: ${median(direct).toFixed(2)} s`);
  });
}

module.exports = { run };
