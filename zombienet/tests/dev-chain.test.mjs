// The dev chain, driven by Polkadot.js exactly as a user would: metadata, a transfer that must
// land with the exact amount, a transfer that must fail without moving funds, and the metrics
// that monitoring relies on.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { startNode } from './lib/node.mjs';
import { dispatchErrorName, submit } from './lib/tx.mjs';

// A stalled chain must fail the suite, not hang CI: every test and hook has a deadline.
const DEADLINE = { timeout: 120_000 };

let node;
let api;
let alice;
let bob;

before(async () => {
  node = await startNode(['--dev', '--tmp'], { name: 'dev' });
  api = await node.api();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
}, { timeout: 180_000 });

after(async () => {
  if (node) await node.stop();
});

/** Signs and sends `tx`, resolves with { blockHash, events } once its block is finalized. */
function sendAndFinalize(tx, signer) {
  return submit(tx, signer, { finalized: true });
}

async function freeAt(blockHash, who) {
  const at = await api.at(blockHash);
  const account = await at.query.system.account(who);
  return account.data.free.toBigInt();
}

test('metadata is v15 or later and has the standard transaction extensions', DEADLINE, async () => {
  assert.ok(api.runtimeMetadata.version >= 15, `metadata version ${api.runtimeMetadata.version}`);
  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const pallet of ['System', 'Timestamp', 'Aura', 'Grandpa', 'Balances', 'TransactionPayment']) {
    assert.ok(pallets.includes(pallet), `pallet ${pallet} missing from ${pallets}`);
  }
  assert.ok(!pallets.includes('Sudo'), 'there must be no sudo pallet');
  const extensions = api.registry.signedExtensions;
  for (const ext of ['CheckNonce', 'CheckMortality', 'ChargeTransactionPayment', 'CheckMetadataHash']) {
    assert.ok(extensions.includes(ext), `extension ${ext} missing from ${extensions}`);
  }
  assert.equal(api.runtimeVersion.specName.toString(), 'cognitive-internet');
  const props = await api.rpc.system.properties();
  assert.equal(props.tokenSymbol.unwrap()[0].toString(), 'COG');
});

test('transferKeepAlive moves exactly the amount to Bob and is finalized', DEADLINE, async () => {
  const amount = 1_234_567_890_123n;
  const { blockHash, events } = await sendAndFinalize(
    api.tx.balances.transferKeepAlive(bob.address, amount), alice,
  );
  const names = events.map(({ event }) => `${event.section}.${event.method}`);
  assert.ok(names.includes('system.ExtrinsicSuccess'), `events: ${names}`);
  const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event));
  assert.ok(transfer, 'a Balances.Transfer event');
  assert.equal(transfer.event.data.amount.toBigInt(), amount);

  const header = await api.rpc.chain.getHeader(blockHash);
  const before = await freeAt(header.parentHash, bob.address);
  const after = await freeAt(blockHash, bob.address);
  assert.equal(after - before, amount);

  const finalized = await api.rpc.chain.getFinalizedHead();
  const finalizedNumber = (await api.rpc.chain.getHeader(finalized)).number.toNumber();
  assert.ok(finalizedNumber >= header.number.toNumber(), 'the transfer block is finalized');
});

test('a transfer larger than the balance fails with a dispatch error and moves nothing', DEADLINE, async () => {
  const aliceFree = (await api.query.system.account(alice.address)).data.free.toBigInt();
  const { blockHash, events } = await sendAndFinalize(
    api.tx.balances.transferKeepAlive(bob.address, aliceFree * 2n), alice,
  );
  const reason = dispatchErrorName(api, events);
  assert.ok(reason, `expected ExtrinsicFailed, got ${events.map(({ event }) => event.method)}`);
  assert.ok(['Token.FundsUnavailable', 'balances.InsufficientBalance'].includes(reason), `reason: ${reason}`);
  assert.ok(!events.some(({ event }) => api.events.balances.Transfer.is(event)), 'no transfer event');

  const header = await api.rpc.chain.getHeader(blockHash);
  const bobBefore = await freeAt(header.parentHash, bob.address);
  const bobAfter = await freeAt(blockHash, bob.address);
  assert.equal(bobAfter, bobBefore, "Bob's balance is unchanged");
  // Alice pays the fee for the failed call, and nothing else.
  const feePaid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
  assert.ok(feePaid, 'a TransactionFeePaid event');
  const aliceBefore = await freeAt(header.parentHash, alice.address);
  const aliceAfter = await freeAt(blockHash, alice.address);
  assert.equal(aliceBefore - aliceAfter, feePaid.event.data.actualFee.toBigInt());
});

test('Prometheus exposes process start time and best/finalized block heights', DEADLINE, async () => {
  const text = await (await fetch(`http://127.0.0.1:${node.prometheusPort}/metrics`)).text();
  assert.match(text, /^substrate_process_start_time_seconds\b/m);
  assert.match(text, /^substrate_block_height\{status="best"[^}]*\} \d+/m);
  assert.match(text, /^substrate_block_height\{status="finalized"[^}]*\} \d+/m);
});
