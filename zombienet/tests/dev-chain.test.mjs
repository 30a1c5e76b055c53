// The dev chain, driven by Polkadot.js exactly as a user would: metadata, a transfer that must
// land with the exact amount, a transfer that must fail without moving funds, consensus state
// (the session's validators, BABE's randomness and epochs) and the validator-candidate calls,
// all with no custom types, and the metrics that monitoring relies on.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
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
  for (const pallet of ['System', 'Timestamp', 'Babe', 'Grandpa', 'Session', 'ValidatorSet', 'Offences', 'Balances', 'TransactionPayment']) {
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

test('consensus state reads with no custom types: session validators, keys, BABE randomness and epoch', DEADLINE, async () => {
  assert.deepEqual((await api.query.session.validators()).map((v) => v.toString()), [alice.address]);
  const keys = (await api.query.session.nextKeys(alice.address)).unwrap();
  assert.equal(keys.babe.toHex(), u8aToHex(alice.publicKey), 'Alice\'s BABE key is her sr25519 key');
  const randomness = await api.query.babe.randomness();
  assert.equal(randomness.length, 32);
  const epoch = await api.call.babeApi.currentEpoch();
  assert.deepEqual(epoch.authorities.map(([id]) => id.toHex()), [u8aToHex(alice.publicKey)]);
  const config = await api.call.babeApi.configuration();
  assert.equal(config.slotDuration.toNumber(), 3000);
  assert.equal(config.epochLength.toNumber(), 20);
  assert.equal(config.allowedSlots.toString(), 'PrimaryAndSecondaryVRFSlots');
  // Every block carries a VRF output (primary or secondary VRF claim), the randomness of job
  // assignment.
  const vrf = await api.query.babe.authorVrfRandomness();
  assert.ok(vrf.isSome, 'the latest block\'s VRF output');
  const params = await api.query.validatorSet.parameters();
  assert.equal(params.maxValidators.toNumber(), 32);
});

test('validator candidacy from Polkadot.js: refusals with their own error, opt out and back in', DEADLINE, async () => {
  assert.ok((await api.query.validatorSet.candidates(alice.address)).isSome, 'Alice is a genesis candidate');
  let r = await submit(api.tx.validatorSet.optIn(), bob);
  assert.equal(dispatchErrorName(api, r.events), 'validatorSet.NotRegistered');
  r = await submit(api.tx.validatorSet.optIn(), alice);
  assert.equal(dispatchErrorName(api, r.events), 'validatorSet.AlreadyCandidate');
  r = await submit(api.tx.validatorSet.optOut(), alice);
  assert.equal(dispatchErrorName(api, r.events), null);
  assert.ok(r.events.some(({ event }) => api.events.validatorSet.CandidateRemoved.is(event)
    && event.data.reason.isOptedOut));
  r = await submit(api.tx.validatorSet.optIn(), alice);
  assert.equal(dispatchErrorName(api, r.events), null);
  assert.ok(r.events.some(({ event }) => api.events.validatorSet.CandidateAdded.is(event)));
  // Only governance sets the parameters.
  r = await submit(api.tx.validatorSet.setParameters({ maxValidators: 1, equivocationSlash: 0 }), alice);
  assert.equal(dispatchErrorName(api, r.events), 'BadOrigin');
  // The set never empties: Alice still validates.
  assert.deepEqual((await api.query.session.validators()).map((v) => v.toString()), [alice.address]);
});

test('Prometheus exposes process start time and best/finalized block heights', DEADLINE, async () => {
  const text = await (await fetch(`http://127.0.0.1:${node.prometheusPort}/metrics`)).text();
  assert.match(text, /^substrate_process_start_time_seconds\b/m);
  assert.match(text, /^substrate_block_height\{status="best"[^}]*\} \d+/m);
  assert.match(text, /^substrate_block_height\{status="finalized"[^}]*\} \d+/m);
});
