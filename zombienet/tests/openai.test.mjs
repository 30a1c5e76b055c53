// The OpenAI-compatible API of a dev node (`--openai-port`), driven by the official `openai`
// Python package, unmodified (tests/openai/client.py): a chat completion, the same request
// streamed, a completion, `models.list()`, and an unknown model; every receipt is checked
// with PyNaCl, an ed25519 implementation independent of the node's. Then what the SDK does not
// exercise: unknown routes, malformed and oversized bodies, refused options, a prompt too long.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import OpenAI from 'openai';
import { freePort, startNode } from './lib/node.mjs';

const require = createRequire(import.meta.url);
const { checkGenerateResult } = require('../lib/proof.cjs');
const { SMOLLM2 } = require('../lib/chain.cjs');

const CLIENT = {
  deps: new URL('./openai/deps.sh', import.meta.url).pathname,
  llamaServer: new URL('./openai/llama-server.sh', import.meta.url).pathname,
  script: new URL('./openai/client.py', import.meta.url).pathname,
};
const MODEL = 'SmolLM2-135M-Instruct-Q4_1';
const DEADLINE = { timeout: 300_000 };

/** The model name under which the node relays to llama.cpp's own server. */
const REMOTE = 'smollm2-remote';

let node;
let base;
let remotePort;
let remote;

before(async () => {
  const port = await freePort();
  remotePort = await freePort();
  node = await startNode(['--dev', '--tmp', '--openai-port', String(port),
    '--openai-remote', `${REMOTE}=SmolLM2@http://127.0.0.1:${remotePort}/v1`,
    '--openai-remote-max-concurrent', '1'], { name: 'openai' });
  base = `http://127.0.0.1:${port}/v1`;
}, { timeout: 240_000 });

after(async () => {
  if (node) await node.stop();
  if (remote && remote.exitCode === null) remote.kill('SIGKILL');
});

const post = (path, body) => fetch(`${base}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

test('the official openai package chats, streams, completes and lists models; receipts verify', DEADLINE, () => {
  const lib = execFileSync('bash', [CLIENT.deps], { encoding: 'utf8' }).trim();
  const out = execFileSync('python3', [CLIENT.script, base, MODEL],
    { encoding: 'utf8', env: { ...process.env, PYTHONPATH: lib } });
  const findings = JSON.parse(out);
  assert.ok(findings.models.includes(MODEL));
  assert.match(findings.chat, /Paris/);
  assert.equal(findings.unknown_model, 404);
});

test('the official openai npm package streams a chat; the receipt of the last chunk verifies', DEADLINE, async () => {
  const client = new OpenAI({ baseURL: base, apiKey: 'unused' });
  const request = { model: MODEL, messages: [{ role: 'user', content: 'Name three colours.' }], temperature: 0, max_tokens: 24 };
  const whole = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({ ...request, stream: true });
  let text = '';
  const finishing = [];
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      if (choice.finish_reason) finishing.push(chunk);
    }
  }
  assert.ok(text.length > 0);
  assert.equal(text, whole.choices[0].message.content, 'greedy: the stream adds up to the whole answer');
  assert.equal(finishing.length, 1);
  const { receipt } = finishing[0];
  assert.deepEqual(checkGenerateResult(receipt, receipt.maxTokens), []);
  assert.equal(receipt.text, text);
  assert.deepEqual(checkGenerateResult(whole.receipt, whole.receipt.maxTokens), []);
  assert.equal(receipt.proof.outputHash, whole.receipt.proof.outputHash, 'the same tokens, the same output hash');
});

test('a stop sequence ends the answer before it; the receipt names it and verifies', DEADLINE, async () => {
  const client = new OpenAI({ baseURL: base, apiKey: 'unused' });
  const request = { model: MODEL, messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 16 };
  const whole = (await client.chat.completions.create(request)).choices[0].message.content;
  const at = whole.indexOf('Paris');
  assert.ok(at > 0, `the greedy answer names Paris: ${whole}`);
  const cut = await client.chat.completions.create({ ...request, stop: ['Paris', '\n\n'] });
  assert.equal(cut.choices[0].message.content, whole.slice(0, at));
  assert.equal(cut.choices[0].finish_reason, 'stop');
  assert.equal(cut.receipt.finishReason, 'stopSequence');
  assert.deepEqual(cut.receipt.stop, ['Paris', '\n\n']);
  assert.deepEqual(checkGenerateResult(cut.receipt, cut.receipt.maxTokens), []);
  // Streamed, no chunk shows any of the sequence.
  let text = '';
  for await (const chunk of await client.chat.completions.create({ ...request, stop: 'Paris', stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, whole.slice(0, at));
  // The receipt's requestHash binds the sequences: the same receipt read without them fails.
  assert.notDeepEqual(checkGenerateResult({ ...cut.receipt, stop: [] }, cut.receipt.maxTokens), []);
});

test('a remote back end (llama.cpp\'s llama-server on the same GGUF) is relayed and marked not deterministic', { timeout: 600_000 }, async () => {
  // The server binary: built once from the llama.cpp that PyPI's llama-cpp-python vendors.
  const bin = execFileSync('bash', [CLIENT.llamaServer], { encoding: 'utf8', timeout: 3_000_000 }).trim();
  const store = process.env.COGNITIVE_MODEL_STORE || join(homedir(), '.local', 'share', 'cognitive-internet', 'models');
  remote = spawn(bin, ['-m', join(store, `${SMOLLM2.slice(2)}.gguf`), '--host', '127.0.0.1',
    '--port', String(remotePort), '-t', '2', '-c', '2048', '-np', '1', '--no-webui'], { stdio: 'ignore' });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${remotePort}/health`).then((r) => r.ok, () => false);
    if (up) break;
    assert.ok(Date.now() < deadline && remote.exitCode === null, 'llama-server came up');
    await new Promise((r) => setTimeout(r, 500));
  }

  const client = new OpenAI({ baseURL: base, apiKey: 'unused' });
  const models = (await client.models.list()).data;
  assert.deepEqual(models.filter((m) => m.id === REMOTE).map((m) => [m.owned_by, m.deterministic]), [['remote', false]]);
  assert.ok(models.some((m) => m.id === MODEL && m.deterministic === true));

  const request = { model: REMOTE, messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 24 };
  // The relay passes the request through: greedy, the answer is the one llama-server gives when
  // asked directly (its rendering of the chat need not be the embedded engine's).
  const direct = await (await fetch(`http://127.0.0.1:${remotePort}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...request, model: 'SmolLM2' }),
  })).json();
  const answer = direct.choices[0].message.content;
  assert.ok(answer.length > 0);
  const { data: chat, response } = await client.chat.completions.create(request).withResponse();
  assert.equal(chat.choices[0].message.content, answer, 'the back end\'s own answer, relayed');
  assert.equal(chat.model, REMOTE);
  assert.deepEqual(chat.backend, { kind: 'remote', deterministic: false });
  assert.equal(chat.receipt, undefined, 'the node signs nothing it did not compute');
  assert.equal(response.headers.get('x-cognitive-deterministic'), 'false');
  assert.equal(response.headers.get('x-cognitive-backend'), 'remote');
  const local = await client.chat.completions.create({ ...request, model: MODEL }).withResponse();
  assert.equal(local.response.headers.get('x-cognitive-deterministic'), 'true');

  // Streamed through the relay, chunk by chunk.
  let text = '';
  for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, answer);
  const completion = await client.completions.create({ model: REMOTE, prompt: 'The capital of France is', max_tokens: 8, temperature: 0 });
  assert.ok(completion.choices[0].text.length > 0);

  // The back end's bound (--openai-remote-max-concurrent 1): a second request while one is in
  // flight is shed with 503 instead of queueing behind it.
  const long = post('/chat/completions', { ...request, max_tokens: 200, messages: [{ role: 'user', content: 'Write a long story about a lighthouse.' }] });
  await new Promise((r) => setTimeout(r, 300));
  const shed = await post('/chat/completions', request);
  assert.equal(shed.status, 503);
  assert.equal((await shed.json()).error.code, 'overloaded');
  assert.equal((await long).status, 200);

  // A back end that is gone: 502, an OpenAI-shaped error; the local model still answers.
  remote.kill('SIGKILL');
  await new Promise((r) => remote.once('exit', r));
  const gone = await post('/chat/completions', request);
  assert.equal(gone.status, 502);
  assert.equal((await gone.json()).error.code, 'backend_unavailable');
  assert.match((await client.chat.completions.create({ ...request, model: MODEL })).choices[0].message.content, /Paris/);
});

test('bad requests get OpenAI-shaped errors', DEADLINE, async () => {
  const error = async (r) => ({ status: r.status, ...(await r.json()).error });
  const route = await error(await fetch(`${base}/nothing`));
  assert.equal(route.status, 404);
  assert.equal(route.code, 'unknown_url');
  const json = await error(await post('/chat/completions', '{"model": '));
  assert.equal(json.status, 400);
  assert.equal(json.code, 'invalid_json');
  // Oversized: the node reads the rest of the body before its 413, so the client (which
  // writes the whole body first) gets the answer, not a reset; once failed one try in five.
  for (let i = 0; i < 5; i++) {
    const big = await error(await post('/completions', { model: MODEL, prompt: 'x'.repeat(2 << 20) }));
    assert.deepEqual([big.status, big.code], [413, 'request_too_large']);
  }
  const n = await error(await post('/chat/completions', { model: MODEL, n: 3, messages: [{ role: 'user', content: 'hi' }] }));
  assert.deepEqual([n.status, n.type, n.param], [400, 'invalid_request_error', 'n']);
  const hot = await error(await post('/chat/completions', { model: MODEL, temperature: 3, messages: [{ role: 'user', content: 'hi' }] }));
  assert.equal(hot.param, 'temperature');
  const stops = await error(await post('/chat/completions', { model: MODEL, stop: ['a', 'b', 'c', 'd', 'e'], messages: [{ role: 'user', content: 'hi' }] }));
  assert.deepEqual([stops.status, stops.param], [400, 'stop']);
  const long = await error(await post('/completions', { model: MODEL, prompt: 'x'.repeat(9000) }));
  assert.equal(long.code, 'context_length_exceeded');
});
