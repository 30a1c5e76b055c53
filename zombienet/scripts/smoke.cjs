// Smoke: on the node this line names, best and finalized heights both grow, the node sees the
// other two validators as peers, its engine has loaded the default model from the store, and
// its off-chain worker told the chain so (the registry shows it ready for model 0, so it takes
// jobs).
'use strict';

const c = require('./common.cjs');

async function run(nodeName, networkInfo) {
  return c.check(`${nodeName}: heights grow, peers, default model loaded`, async () => {
    const { wsUri } = networkInfo.nodesByName[nodeName];
    const api = await c.connect(wsUri);
    const first = await c.heights(api);
    const second = await c.until('both heights to grow', async () => {
      const h = await c.heights(api);
      return h.best > first.best && h.fin > first.fin ? h : null;
    }, 60_000);
    const peers = (await api.rpc.system.health()).peers.toNumber();
    c.log(`${nodeName}: best #${first.best} → #${second.best}, finalized #${first.fin} → #${second.fin}, ${peers} peers`);
    c.assert.ok(peers >= 2, `${nodeName} has ${peers} peers`);
    // The node loads the store's models in the background at start.
    const model = await c.until('SmolLM2 to be loaded', async () => {
      const { result } = await c.rpc(wsUri, 'inference_models');
      return (result || []).find((m) => m.sha256 === c.SMOLLM2 && m.loaded);
    }, 60_000);
    c.log(`${nodeName}: ${model.name} loaded`);
    await c.waitReady(api, c.account(nodeName).address, 0, 60_000);
    c.log(`${nodeName}: the registry shows its engine ready for model 0`);
  });
}

module.exports = { run };
