// The OpenAI-compatible API of a dev node (`--openai-port`), driven by the official `openai`
// Python package, unmodified (tests/openai/client.py): a chat completion, the same request
// streamed, a completion, `models.list()`, and an unknown model; every receipt is checked
// with PyNaCl, an ed25519 implementation independent of the node's. Then what the SDK does not
// exercise: unknown routes, malformed and oversized bodies, refused options, a prompt too long.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import OpenAI from 'openai';
import { freePort, startNode } from './lib/node.mjs';

const { checkGenerateResult } = createRequire(import.meta.url)('../lib/proof.cjs');

const CLIENT = {
  deps: new URL('./openai/deps.sh', import.meta.url).pathname,
  script: new URL('./openai/client.py', import.meta.url).pathname,
};
const MODEL = 'SmolLM2-135M-Instruct-Q4_1';
const DEADLINE = { timeout: 300_000 };

let node;
let base;

before(async () => {
  const port = await freePort();
  node = await startNode(['--dev', '--tmp', '--openai-port', String(port)], { name: 'openai' });
  base = `http://127.0.0.1:${port}/v1`;
}, { timeout: 240_000 });

after(async () => {
  if (node) await node.stop();
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

test('bad requests get OpenAI-shaped errors', DEADLINE, async () => {
  const error = async (r) => ({ status: r.status, ...(await r.json()).error });
  const route = await error(await fetch(`${base}/nothing`));
  assert.equal(route.status, 404);
  assert.equal(route.code, 'unknown_url');
  const json = await error(await post('/chat/completions', '{"model": '));
  assert.equal(json.status, 400);
  assert.equal(json.code, 'invalid_json');
  const big = await error(await post('/completions', { model: MODEL, prompt: 'x'.repeat(2 << 20) }));
  assert.equal(big.status, 413);
  const n = await error(await post('/chat/completions', { model: MODEL, n: 3, messages: [{ role: 'user', content: 'hi' }] }));
  assert.deepEqual([n.status, n.type, n.param], [400, 'invalid_request_error', 'n']);
  const hot = await error(await post('/chat/completions', { model: MODEL, temperature: 3, messages: [{ role: 'user', content: 'hi' }] }));
  assert.equal(hot.param, 'temperature');
  const stops = await error(await post('/chat/completions', { model: MODEL, stop: ['a', 'b', 'c', 'd', 'e'], messages: [{ role: 'user', content: 'hi' }] }));
  assert.deepEqual([stops.status, stops.param], [400, 'stop']);
  const long = await error(await post('/completions', { model: MODEL, prompt: 'x'.repeat(9000) }));
  assert.equal(long.code, 'context_length_exceeded');
});
