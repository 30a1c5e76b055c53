// What exporting job traces costs on-chain jobs, in one run (scripts/bench-traces.sh): two dev
// nodes, each its own chain with Alice's node serving SmolLM2; one exports its job traces to an
// OTLP receiver (zombienet/lib/otlp/receiver.py, --otlp-endpoint), the other does not. Bob
// submits the same greedy job (R = 1) to each in turn, JOBS times, each after the previous one
// ran (so the two engines never share the cores); each job's generation speed, as its engine
// measured it, is read from the node's own metrics (the growth of the
// `cognitive_inference_generation_tokens_per_second` histogram's sum, lane chain, by that job),
// and the receiver must hold the traced node's spans.
//
// The engines' worker threads (`inference-*`) of both nodes run on one CPU (TRACE_BENCH_CPU,
// default the last one) and every other thread of the nodes, this client and the receiver on
// the others: so the two engines generate on the same core, alone, and the exporter runs where
// it would on a machine with a core to spare. Left to the kernel (TRACE_BENCH_CPU=none), single
// passes of 20 jobs moved by ±3 %.
//
//   node zombienet/bench/trace-cost.mjs [JOBS]     (default 8; COGNITIVE_NODE names the binary)
//
// The last line is the pass as JSON (`pass {...}`): per-job speeds of both nodes.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Keyring } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startNode, freePort } from '../tests/lib/node.mjs';
import c from '../scripts/common.cjs';

const chain = c;

const REPO = resolve(new URL('../..', import.meta.url).pathname);
const JOBS = Number(process.argv[2] || 8);
const PROMPT = '<|im_start|>user\nExplain what a blockchain validator does.<|im_end|>\n<|im_start|>assistant\n';

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('lane="chain"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The CPU the nodes run on, and the CPUs left for the rest; null where nothing is pinned. */
function placement() {
  const cpus = availableParallelism();
  const wanted = process.env.TRACE_BENCH_CPU ?? String(cpus - 1);
  if (wanted === 'none' || cpus < 2) return null;
  const node = Number(wanted);
  assert.ok(Number.isInteger(node) && node >= 0 && node < cpus, `TRACE_BENCH_CPU=${wanted}: not a CPU of 0..${cpus - 1}`);
  const rest = [...Array(cpus).keys()].filter((c) => c !== node).join(',');
  return { node: String(node), rest };
}

/** Pins the threads `tids` (threads they start later inherit it) to `cpus`. */
function pin(tids, cpus) {
  for (const tid of tids) {
    execFileSync('taskset', ['--cpu-list', '--pid', cpus, String(tid)], { stdio: 'ignore' });
  }
}

/** Puts the engine's worker threads of the node `pid` on `cpu.node` and its others on `cpu.rest`. */
function place(pid, cpu) {
  const tids = readdirSync(`/proc/${pid}/task`);
  const workers = tids.filter((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith('inference-'));
  assert.ok(workers.length > 0, `node ${pid} has no inference-* thread`);
  pin(tids.filter((tid) => !workers.includes(tid)), cpu.rest);
  pin(workers, cpu.node);
}

const cpu = placement();
if (cpu) pin([process.pid], cpu.rest);
await cryptoWaitReady();
const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
const receiverPort = await freePort();
const lib = execFileSync('bash', [join(REPO, 'zombienet/lib/otlp/deps.sh')], { encoding: 'utf8' }).trim();
const receiver = spawn('python3', [join(REPO, 'zombienet/lib/otlp/receiver.py'), '--port', String(receiverPort)],
  { stdio: 'ignore', env: { ...process.env, PYTHONPATH: lib } });
const common = ['--dev', '--tmp', '--no-inference-rpc', '--inference-threads', '1'];
// TRACE_BENCH_ON_FIRST=1 starts the traced node first (the order the processes start in can
// weigh more than what is measured).
const nodes = {};
for (const which of process.env.TRACE_BENCH_ON_FIRST === '1' ? ['on', 'off'] : ['off', 'on']) {
  const args = which === 'on' ? [...common, '--otlp-endpoint', `http://127.0.0.1:${receiverPort}`] : common;
  nodes[which] = await startNode(args, { name: `traces-${which}` });
  if (cpu) place(nodes[which].pid, cpu);
}
console.log(`placement: ${cpu ? `the engines' workers on CPU ${cpu.node}, all else on ${cpu.rest}` : 'not pinned'}`);
try {
  const apis = { off: await nodes.off.api(), on: await nodes.on.api() };
  for (const which of ['off', 'on']) {
    await chain.waitReady(apis[which], new Keyring({ type: 'sr25519' }).addFromUri('//Alice').address);
  }
  const jobs = { off: [], on: [] };
  // Each job's speed: what it added to the histogram's sum (one generation per job).
  const speeds = { off: [], on: [] };
  const sums = { off: 0, on: 0 };
  for (let i = 0; i < JOBS; i += 1) {
    for (const which of i % 2 ? ['on', 'off'] : ['off', 'on']) {
      const api = apis[which];
      const r = await c.sendOk(api, api.tx.proofOfInference.submitJob(0, chain.jobPrompt(PROMPT), 64, 1, 'Greedy'), bob);
      const ev = r.events.find(({ event }) => api.events.proofOfInference.JobSubmitted.is(event));
      jobs[which].push({ id: ev.event.data.jobId.toNumber() });
      // One generation at a time on the machine: wait for this one before the next job, so
      // the two engines never share the cores.
      const port = nodes[which].prometheusPort;
      await chain.until(`job ${i} to run on ${which}`, async () => (
        await metric(port, 'cognitive_inference_generation_tokens_per_second_count')) > i, 120_000, 200);
      const sum = await metric(port, 'cognitive_inference_generation_tokens_per_second_sum');
      speeds[which].push(sum - sums[which]);
      sums[which] = sum;
    }
  }
  // Every job settles (the traced node's last spans, `settled`, come from its settlement).
  for (const which of ['off', 'on']) {
    for (const job of jobs[which]) {
      await chain.until(`job ${job.id} on ${which}`, async () => {
        const view = (await apis[which].call.proofOfInferenceApi.job(job.id)).unwrap();
        return view.status.isCompleted;
      }, 300_000, 500);
    }
  }
  const figures = {};
  for (const which of ['off', 'on']) {
    const port = nodes[which].prometheusPort;
    const sum = await metric(port, 'cognitive_inference_generation_tokens_per_second_sum');
    const count = await metric(port, 'cognitive_inference_generation_tokens_per_second_count');
    assert.ok(count >= JOBS, `${which}: ${count} chain generations for ${JOBS} jobs`);
    figures[which] = { mean: sum / count, count };
  }
  // The traced node's spans reached the receiver (its first job's generation among them).
  await chain.until('the traced node\'s spans', async () => {
    const spans = await (await fetch(`http://127.0.0.1:${receiverPort}/spans`)).json();
    return spans.filter((s) => s.name === 'generation').length >= JOBS;
  }, 60_000, 1000);
  const spans = await (await fetch(`http://127.0.0.1:${receiverPort}/spans`)).json();
  console.log(`receiver: ${spans.length} spans from the traced node (${JOBS} jobs)`);
  console.log(`${'node'.padEnd(30)} ${'chain jobs'.padStart(10)} ${'gen tok/s (mean)'.padStart(17)}`);
  for (const [which, label] of [['off', 'traces off'], ['on', 'traces on (--otlp-endpoint)']]) {
    console.log(`${label.padEnd(30)} ${String(figures[which].count).padStart(10)} ${figures[which].mean.toFixed(2).padStart(17)}`);
  }
  const diff = (figures.on.mean / figures.off.mean - 1) * 100;
  console.log(`generation speed, traces on vs off: ${diff >= 0 ? '+' : ''}${diff.toFixed(2)} % (means of ${JOBS} jobs each)`);
  console.log(`pass ${JSON.stringify({ onFirst: process.env.TRACE_BENCH_ON_FIRST === '1', pinned: cpu?.node ?? null, off: speeds.off, on: speeds.on })}`);
} finally {
  for (const node of Object.values(nodes)) await node.stop();
  receiver.kill();
}
process.exit(0);
