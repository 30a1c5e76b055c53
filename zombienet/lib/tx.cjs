// Submitting transactions the way a wallet does, waiting for inclusion or finality. Shared by
// the Polkadot.js tests (tests/, ESM, through tests/lib/tx.mjs) and the zombienet js-scripts
// (scripts/, CommonJS, which zombienet loads with `require`).
'use strict';

/**
 * Signs and sends `tx` with `signer`; resolves once it is in a block (or, with
 * `{ finalized: true }`, once that block is finalized) with { blockHash, events }. Rejects when
 * the pool drops or rejects the transaction.
 */
function submit(tx, signer, { finalized = false } = {}) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, (result) => {
      const done = finalized ? result.status.isFinalized : result.status.isInBlock;
      if (result.isError) {
        reject(new Error(`transaction failed in the pool: ${result.status.type}`));
        if (unsub) unsub();
      } else if (done) {
        const blockHash = finalized ? result.status.asFinalized : result.status.asInBlock;
        resolve({ blockHash, events: result.events });
        if (unsub) unsub();
      }
    }).then((u) => { unsub = u; }, reject);
  });
}

/** `section.Name` of the `ExtrinsicFailed` among `events`, or null when the call succeeded. */
function dispatchErrorName(api, events) {
  const failed = events.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
  if (!failed) return null;
  const { dispatchError } = failed.event.data;
  if (dispatchError.isModule) {
    const meta = api.registry.findMetaError(dispatchError.asModule);
    return `${meta.section}.${meta.name}`;
  }
  return dispatchError.type + (dispatchError.isToken ? `.${dispatchError.asToken.type}` : '');
}

module.exports = { submit, dispatchErrorName };
