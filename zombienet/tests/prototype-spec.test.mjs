// The prototype network's chain spec (docs/operator.md, "The prototype network"):
//
// 1. The committed chain-specs/prototype.json and prototype-raw.json are what
//    scripts/gen-prototype-spec.sh makes from chain-specs/prototype-machines.json (everything
//    but the runtime blob, whose bytes depend on the build directory; its version is checked by
//    node/tests/chain_specs.rs).
// 2. The whole path works on three machines (three real nodes on this one, each with its own
//    base path and port): scripts/prototype-machine.sh prepares each machine's keys, the
//    generator turns their entries into a spec, and the nodes started on nothing but that spec
//    (no --bootnodes, no dev keys) find each other through its boot nodes, all three author
//    blocks in BABE, and GRANDPA finalizes. Genesis holds what the machines file says: the three
//    validators, their inference nodes and their endowments.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeAddress } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import chain from '../lib/chain.cjs';
import { freePort, nodeBinary, startNode } from './lib/node.mjs';

const root = resolve(new URL('../..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'prototype-spec-'));
const nodes = [];
after(async () => {
  for (const n of nodes) await n.stop();
  rmSync(work, { recursive: true, force: true });
});

function generate(machines, outDir) {
  return execFileSync('bash', [join(root, 'scripts/gen-prototype-spec.sh'), '--machines', machines, '--out-dir', outDir], {
    env: { ...process.env, COGNITIVE_NODE: nodeBinary() },
  }).toString();
}

const read = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** A spec without its runtime blob (plain or raw). */
function withoutCode(spec) {
  const copy = structuredClone(spec);
  if (copy.genesis.raw) delete copy.genesis.raw.top['0x3a636f6465'];
  else delete copy.genesis.runtimeGenesis.code;
  return copy;
}

test('the committed prototype spec is what its machines file generates', () => {
  const out = join(work, 'committed');
  generate(join(root, 'chain-specs/prototype-machines.json'), out);
  for (const file of ['prototype.json', 'prototype-raw.json']) {
    assert.deepEqual(withoutCode(read(join(root, 'chain-specs', file))), withoutCode(read(join(out, file))),
      `chain-specs/${file} is stale: run scripts/gen-prototype-spec.sh`);
  }
  const spec = read(join(root, 'chain-specs/prototype.json'));
  const machines = read(join(root, 'chain-specs/prototype-machines.json')).machines;
  assert.deepEqual(spec.bootNodes, machines.map((m) => `${m.address}/p2p/${m.peerId}`));
  const { patch } = spec.genesis.runtimeGenesis;
  assert.deepEqual(patch.validatorSet.validators, machines.map((m) => m.account));
  // No development account (Alice's, say) keeps a key or a balance in the prototype.
  const alice = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
  assert.ok(!JSON.stringify(patch).includes(alice), 'no development key in the prototype genesis');
});

test('a machines file with a bad entry is refused with the reason', () => {
  const good = read(join(root, 'chain-specs/prototype-machines.json'));
  const cases = [
    [(d) => { d.machines[1].sessionKeys.babe = 'not-an-address'; }, /machines\[1\]\.sessionKeys\.babe: not an SS58 address/],
    [(d) => { d.machines[2].peerId = '12D3KooWshort'; }, /machines\[2\]: bad peer id/],
    [(d) => { d.machines[1].account = d.machines[0].account; }, /share an operator account/],
    [(d) => { d.machines = []; }, /lists no machine/],
  ];
  for (const [spoil, reason] of cases) {
    const doc = structuredClone(good);
    spoil(doc);
    const file = join(work, 'bad-machines.json');
    writeFileSync(file, JSON.stringify(doc));
    assert.throws(() => execFileSync('node', [join(root, 'scripts/prototype/gen-spec.cjs'), '--machines', file,
      '--out-dir', join(work, 'bad'), '--node', nodeBinary()], { stdio: 'pipe' }),
    (e) => reason.test(e.stderr.toString()), `refused: ${reason}`);
  }
});

test('three machines prepared by prototype-machine.sh run the generated spec', { timeout: 300_000 }, async () => {
  const names = ['proto-a', 'proto-b', 'proto-c'];
  const ports = [];
  for (const _ of names) ports.push(await freePort());
  const machines = names.map((name, i) => {
    const base = join(work, name);
    const out = execFileSync('bash', [join(root, 'scripts/prototype-machine.sh'), '--name', name,
      '--address', `/ip4/127.0.0.1/tcp/${ports[i]}`, '--base-path', base], {
      env: { ...process.env, COGNITIVE_NODE: nodeBinary() },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    return { ...JSON.parse(out), base };
  });
  const endowed = '5HpG9w8EBLe5XCrbczpwq5TSXvedjrBGCwqxK1iQ7qUsSWFc'; // //Ferdie: an extra endowment
  const machinesFile = join(work, 'machines.json');
  writeFileSync(machinesFile, JSON.stringify({
    validatorEndowment: 100_000,
    endowments: [{ account: endowed, cog: 5_000, why: 'a user account' }],
    machines: machines.map(({ base, ...m }) => m),
  }));
  generate(machinesFile, join(work, 'spec'));
  const rawSpec = join(work, 'spec', 'prototype-raw.json');

  for (const [i, m] of machines.entries()) {
    nodes.push(await startNode(['--chain', rawSpec, '--base-path', m.base, '--validator', '--name', m.name,
      '--no-inference-rpc', '--inference-threads', '1', '--model-p2p-port', '0', '--model-p2p-listen', '127.0.0.1'],
    { name: m.name, p2pPort: ports[i] }));
  }
  const api = await nodes[0].api();

  // The boot nodes of the spec alone connect them.
  await chain.until('each machine to see the other two', async () => {
    const peers = await Promise.all(nodes.map(async (n) => (await chain.rpc(n.wsUrl, 'system_health')).result.peers));
    return peers.every((p) => p === 2);
  }, 60_000, 1000);

  // Genesis is the machines file's.
  const accounts = machines.map((m) => m.account);
  assert.deepEqual((await api.query.session.validators()).map(String), accounts);
  for (const m of machines) {
    const keys = (await api.query.session.nextKeys(m.account)).unwrap();
    const hex = (ss58) => u8aToHex(decodeAddress(ss58));
    assert.equal(keys.babe.toHex(), hex(m.sessionKeys.babe));
    assert.equal(keys.grandpa.toHex(), hex(m.sessionKeys.grandpa));
    const node = (await api.query.nodeRegistry.nodes(m.account)).unwrap();
    assert.equal(node.inferenceKey.toHex(), hex(m.sessionKeys.inference));
  }
  const free = (await api.query.system.account(endowed)).data.free.toBigInt();
  assert.equal(free, 5_000n * chain.UNIT, 'the extra endowment');
  const dev = (await api.query.system.account('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY')).data.free.toBigInt();
  assert.equal(dev, 0n, 'no development account is endowed');

  // All three author (BABE claims by index into the genesis set) and GRANDPA finalizes.
  const authors = new Set();
  let next = 1;
  await chain.until('blocks by all three machines and finality past them', async () => {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    for (; next <= best; next += 1) {
      const claim = await chain.babeAuthorIndex(api, await api.rpc.chain.getBlockHash(next));
      if (claim) authors.add(claim.index);
    }
    const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    return authors.size === 3 && finalized >= 5;
  }, 180_000, 3000);
});
