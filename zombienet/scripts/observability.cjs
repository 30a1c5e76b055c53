// Observability on the 3-validator network, with a real Prometheus (Debian's package) and an
// OTLP receiver built on OpenTelemetry's Python protocol classes (zombienet/lib/otlp), in steps
// around the suite's jobs (`args[0]` names the step):
//
// 1. `start`: starts the OTLP receiver on the port the nodes export their job traces to
//    (run-suites.sh picks it; network/local.toml passes it as --otlp-endpoint), writes a
//    Prometheus configuration scraping the three nodes' metrics endpoints every 2 s, with the
//    alert rules of os/monitoring/rules loaded, and starts Prometheus on a free loopback port
//    (both with their data under the network's directory, so run-suites.sh finds and kills them
//    should the suite fail before `stop`).
// 2. `check`, after the suite's jobs have settled: through Prometheus' HTTP API, for every
//    node, the proof-of-inference series equal what the chain's finalized events say (jobs
//    submitted and completed on the network, jobs assigned to the node, its commitments,
//    reveals and agreed settlements), the engine counted the node's chain jobs and their
//    token rates, the registry gauges show it active; the alert rules are loaded and none
//    fires; every cognitive_* series Prometheus holds is described in docs/observability.md.
//    Then the first job's trace, named by the job id alone, holds the spans of all three
//    assigned nodes: one root, three node spans, each with its assigned, queued, prompt,
//    generation, commit, reveal and settled children, every parent in the trace.
// 3. `stop`: stops Prometheus and the receiver.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const { blake2AsU8a } = require('@polkadot/util-crypto');
const { u8aConcat, u8aToHex, stringToU8a, bnToU8a } = require('@polkadot/util');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const c = require('./common.cjs');

const { assert } = c;
const REPO = path.resolve(__dirname, '../..');
const state = global.cognitiveObservability || (global.cognitiveObservability = {});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `host:port` of a node's metrics endpoint (zombienet gives the `/metrics` URL). */
function target(networkInfo, name) {
  return new URL(networkInfo.nodesByName[name].prometheusUri).host;
}

/** Starts the OTLP receiver on the port the nodes export to. */
async function startReceiver(networkInfo) {
  const port = Number(process.env.COGNITIVE_OTLP_PORT);
  assert.ok(port > 0, 'COGNITIVE_OTLP_PORT (set by run-suites.sh) names the receiver\'s port');
  const lib = execFileSync('bash', [path.join(REPO, 'zombienet/lib/otlp/deps.sh')], { encoding: 'utf8' }).trim();
  const log = fs.openSync(path.join(networkInfo.tmpDir, 'otlp-receiver.log'), 'a');
  state.receiver = spawn('python3', [path.join(REPO, 'zombienet/lib/otlp/receiver.py'), '--port', String(port),
    '--host', `127.0.0.1`], { stdio: ['ignore', log, log], env: { ...process.env, PYTHONPATH: lib } });
  state.spansUrl = `http://127.0.0.1:${port}/spans`;
  await c.until('the OTLP receiver to listen', async () => {
    const r = await fetch(state.spansUrl).catch(() => null);
    return r && r.ok;
  }, 30_000, 500);
}

async function start(networkInfo) {
  await startReceiver(networkInfo);
  const dir = path.join(networkInfo.tmpDir, 'prometheus');
  fs.mkdirSync(dir, { recursive: true });
  const config = [
    'global: { scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s }',
    `rule_files: [${JSON.stringify(path.join(REPO, 'os/monitoring/rules/cognitive-alerts.yml'))}]`,
    'scrape_configs:',
    '  - job_name: cognitive-node',
    '    static_configs:',
    ...c.VALIDATORS.map((n) => `      - { targets: ["${target(networkInfo, n)}"], labels: { node: ${n} } }`),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const log = fs.openSync(path.join(dir, 'prometheus.log'), 'a');
  state.prometheus = spawn('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', log, log] });
  state.api = `http://127.0.0.1:${port}/api/v1`;
  await c.until('Prometheus to be ready', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => null);
    return r && r.ok;
  }, 30_000, 500);
  await c.until('Prometheus to scrape all three nodes', async () => {
    const up = await query('up{job="cognitive-node"}');
    return up.length === 3 && up.every((s) => s.value === 1);
  }, 30_000, 1000);
  c.log(`Prometheus on 127.0.0.1:${port} scrapes ${c.VALIDATORS.map((n) => target(networkInfo, n)).join(', ')}`);
}

/** An instant query's samples: `{ labels, value }`. */
async function query(promql) {
  const r = await fetch(`${state.api}/query?query=${encodeURIComponent(promql)}`);
  const body = await r.json();
  assert.equal(body.status, 'success', `${promql}: ${JSON.stringify(body)}`);
  return body.data.result.map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
}

/** The value of `promql` for node `name` (0 when Prometheus has no such series). */
async function valueOf(promql, name) {
  const found = (await query(promql)).filter((s) => s.labels.node === name);
  assert.ok(found.length <= 1, `${promql} on ${name}: one series, got ${JSON.stringify(found)}`);
  return found.length ? found[0].value : 0;
}

/** Events of block `n` (cached: the suite reads finalized blocks only). */
async function eventsOf(api, n) {
  state.events = state.events || new Map();
  if (!state.events.has(n)) state.events.set(n, await c.eventsBetween(api, n, n));
  return state.events.get(n);
}

/** What the chain says up to finalized block `upTo`, from its proofOfInference events. */
async function chainFacts(api, upTo) {
  const facts = { submitted: 0, completed: 0, perNode: {} };
  for (const name of c.VALIDATORS) {
    facts.perNode[name] = { assigned: 0, committed: 0, revealed: 0, agreed: 0 };
  }
  const nameOf = new Map(c.VALIDATORS.map((n) => [c.account(n).address, n]));
  const node = (who) => facts.perNode[nameOf.get(who.toString())];
  for (let n = 1; n <= upTo; n += 1) {
    for (const { event } of await eventsOf(api, n)) {
      const d = event.data;
      if (event.method === 'JobSubmitted') {
        facts.submitted += 1;
        for (const who of d.assignees) if (node(who)) node(who).assigned += 1;
      } else if (event.method === 'Committed' && node(d.node)) {
        node(d.node).committed += 1;
      } else if (event.method === 'Revealed' && node(d.node)) {
        node(d.node).revealed += 1;
      } else if (event.method === 'JobCompleted') {
        facts.completed += 1;
        for (const [who] of d.shares) if (node(who)) node(who).agreed += 1;
      }
    }
  }
  return facts;
}

/** Node `name`'s proof-of-inference series in Prometheus, and the block they stand at. */
async function poiSeries(name) {
  return {
    block: await valueOf('cognitive_chain_metrics_block', name),
    submitted: await valueOf('cognitive_poi_network_jobs_total{event="submitted"}', name),
    completed: await valueOf('cognitive_poi_network_jobs_total{event="completed"}', name),
    assigned: await valueOf('cognitive_poi_jobs_assigned_total', name),
    committed: await valueOf('cognitive_poi_commits_total', name),
    revealed: await valueOf('cognitive_poi_reveals_total', name),
    agreed: await valueOf('cognitive_poi_jobs_settled_total{result="agreed"}', name),
  };
}

async function check(networkInfo) {
  const api = await c.connect(networkInfo.nodesByName.alice.wsUri);
  for (const name of c.VALIDATORS) {
    // Each series against the chain at the finalized block the node last read; a scrape can
    // fall between two counters of one block, so compare until a scrape agrees.
    let last;
    await c.until(`${name}'s series to match the chain`, async () => {
      const { block, ...counted } = await poiSeries(name);
      const facts = await chainFacts(api, block);
      const want = { submitted: facts.submitted, completed: facts.completed, ...facts.perNode[name] };
      last = { block, counted, want };
      return block > 0 && JSON.stringify(counted) === JSON.stringify(want);
    }, 60_000, 2000).catch((e) => {
      throw new Error(`${e.message}; last: ${JSON.stringify(last)}`);
    });
    assert.ok(last.want.completed >= 1, `jobs completed on chain by #${last.block}`);
    c.log(`${name} at #${last.block}: ${JSON.stringify(last.counted)}, as on chain`);
    const revealed = last.want.revealed;

    // The engine ran the node's chain jobs, and timed them.
    const chainOk = await valueOf('cognitive_inference_requests_total{source="chain",outcome="ok"}', name);
    assert.ok(chainOk >= revealed && chainOk > 0, `${name}: ${chainOk} chain generations for ${revealed} reveals`);
    const timed = await valueOf('cognitive_inference_generation_tokens_per_second_count{lane="chain"}', name);
    assert.ok(timed >= 1 && timed <= chainOk, `${name}: ${timed} generation speeds of ${chainOk} chain jobs`);
    const tps = await valueOf('histogram_quantile(0.5, cognitive_inference_generation_tokens_per_second_bucket{lane="chain"})', name);
    assert.ok(tps > 0, `${name}: median generation speed ${tps} tokens/s`);
    const loaded = await valueOf('cognitive_inference_models_loaded', name);
    assert.ok(loaded >= 1, `${name}: ${loaded} models loaded`);
    assert.equal(await valueOf('cognitive_registry_registered', name), 1, `${name} registered`);
    assert.equal(await valueOf('cognitive_registry_status{status="active"}', name), 1, `${name} active on chain`);
    c.log(`${name}: ${chainOk} chain generations, median ${tps.toFixed(1)} tokens/s, ${loaded} model(s) loaded`);
  }

  // The alert rules are loaded, and a healthy network fires none.
  const rules = await (await fetch(`${state.api}/rules`)).json();
  const alerts = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.type === 'alerting');
  assert.ok(alerts.length >= 9, `${alerts.length} alert rules loaded`);
  const firing = alerts.filter((r) => r.state === 'firing').map((r) => r.name);
  assert.deepEqual(firing, [], 'no alert fires on the healthy network');

  // Every cognitive_* metric the nodes export is documented.
  const names = (await (await fetch(`${state.api}/label/__name__/values`)).json()).data
    .filter((n) => n.startsWith('cognitive_'))
    .map((n) => n.replace(/_(bucket|sum|count)$/, ''));
  const docs = fs.readFileSync(path.join(REPO, 'docs/observability.md'), 'utf8');
  const undocumented = [...new Set(names)].filter((n) => !docs.includes(`\`${n}\``));
  assert.deepEqual(undocumented, [], 'every exported cognitive_* metric is in docs/observability.md');
  c.log(`${new Set(names).size} cognitive_* metrics in Prometheus, all documented; ${alerts.length} alert rules, none firing`);

  await checkTrace(api, 0);
}

/** The trace id of job `jobId`, as docs/observability.md defines it (and every node derives). */
function traceId(genesis, jobId) {
  const data = u8aConcat(stringToU8a('cognitive-internet/job-trace/v1'), genesis, bnToU8a(jobId, { bitLength: 64 }));
  return u8aToHex(blake2AsU8a(data, 128), undefined, false);
}

/** Job `jobId`'s trace at the receiver holds the spans of all three assigned nodes. */
async function checkTrace(api, jobId) {
  const trace = traceId(api.genesisHash.toU8a(), jobId);
  const NODE_CHILDREN = ['assigned', 'queued', 'prompt', 'generation', 'commit', 'reveal', 'settled'];
  let spans = [];
  // Spans leave a node within a second of the finalized block that ends them.
  await c.until(`job ${jobId}'s trace to be complete`, async () => {
    spans = (await (await fetch(state.spansUrl)).json()).filter((s) => s.traceId === trace);
    return spans.filter((s) => s.name === 'node').length === 3 && spans.some((s) => s.name === 'job')
      && spans.filter((s) => s.name === 'settled').length === 3
      && spans.filter((s) => s.name === 'generation').length === 3;
  }, 60_000, 1000).catch((e) => {
    throw new Error(`${e.message}: ${spans.length} spans: ${spans.map((s) => `${s.name}@${s.instance}`).join(' ')}`);
  });
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => s.name === 'job');
  assert.equal(roots.length, 1, 'one root span');
  const [root] = roots;
  assert.equal(root.parentSpanId, '', 'the root has no parent');
  assert.equal(root.attributes['job.result'], 'completed');
  const nodes = spans.filter((s) => s.name === 'node');
  const accounts = nodes.map((s) => s.attributes['node.account']).sort();
  assert.deepEqual(accounts, c.VALIDATORS.map((n) => c.account(n).address).sort(), 'a node span per assigned validator');
  assert.deepEqual(nodes.map((s) => s.instance).sort(), [...c.VALIDATORS].sort(), 'each sent by its own node');
  for (const node of nodes) {
    assert.equal(node.parentSpanId, root.spanId, `${node.instance}'s node span hangs from the root`);
    const children = spans.filter((s) => s.parentSpanId === node.spanId).map((s) => s.name).sort();
    assert.deepEqual(children, [...NODE_CHILDREN].sort(), `${node.instance}'s spans`);
  }
  for (const s of spans) {
    if (s !== root) assert.ok(byId.has(s.parentSpanId), `${s.name}@${s.instance}: its parent is in the trace`);
    assert.ok(Number(s.endTimeUnixNano) >= Number(s.startTimeUnixNano), `${s.name}: ends after it starts`);
  }
  assert.ok(spans.some((s) => s.name === 'submitted' && s.parentSpanId === root.spanId), 'the submission');
  const ms = (Number(root.endTimeUnixNano) - Number(root.startTimeUnixNano)) / 1e6;
  c.log(`job ${jobId}'s trace ${trace}: ${spans.length} spans from ${nodes.length} nodes under one root (${ms.toFixed(0)} ms from submission to settlement)`);
}

async function stop() {
  for (const key of ['prometheus', 'receiver']) {
    if (state[key]) {
      state[key].kill('SIGTERM');
      state[key] = null;
    }
  }
}

async function run(nodeName, networkInfo, args) {
  const step = (args && args[0]) || '';
  const steps = { start, check, stop };
  if (!steps[step]) throw new Error(`unknown observability step "${step}"`);
  try {
    return await c.check(`observability: ${step}`, () => steps[step](networkInfo));
  } catch (e) {
    await stop();
    throw e;
  }
}

module.exports = { run };
