// Starts a real `cognitive-node` process for a test and stops it again, also when the test fails.
//
// Every socket the node opens is on 127.0.0.1: RPC, the inference RPC port and Prometheus bind
// to loopback by default, the p2p listener is given an explicit loopback address, and mDNS and
// telemetry are off. Every port is a free one, so that nodes never collide on a default.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createWriteStream, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);

/** Path of the node binary: $COGNITIVE_NODE, else the release build in the shared target dir. */
export function nodeBinary() {
  const fromEnv = process.env.COGNITIVE_NODE;
  const targetDir = process.env.CARGO_TARGET_DIR
    || join(process.env.HOME || '/root', '.cache/cognitive-internet/target');
  const candidates = [fromEnv, join(targetDir, 'release/cognitive-node'), join(repoRoot, 'target/release/cognitive-node')];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) {
    throw new Error(`cognitive-node binary not found (looked at ${candidates.filter(Boolean).join(', ')}); build it with scripts/build.sh`);
  }
  return found;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const running = new Set();
function killAll() {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
// A crashed or interrupted test run must not leave nodes behind.
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

/**
 * Starts `cognitive-node` with `args` plus loopback-only network flags and waits until its RPC
 * answers. `p2pPort` fixes the p2p port (for a node whose address is in a chain spec), else a
 * free one is taken. Returns { pid, rpcPort, inferencePort (null with --no-inference-rpc),
 * prometheusPort, logPath, api(), stop() }.
 */
export async function startNode(args, { name = 'node', timeoutMs = 120_000, p2pPort: fixedP2p } = {}) {
  const rpcPort = await freePort();
  const p2pPort = fixedP2p || await freePort();
  const prometheusPort = await freePort();
  const inferencePort = args.includes('--no-inference-rpc') ? null : await freePort();
  const logDir = process.env.E2E_LOG_DIR || mkdtempSync(join(tmpdir(), 'cognitive-e2e-'));
  const logPath = join(logDir, `${name}.log`);
  const log = createWriteStream(logPath);
  const fullArgs = [
    ...args,
    '--rpc-port', String(rpcPort),
    '--prometheus-port', String(prometheusPort),
    ...(inferencePort ? ['--inference-rpc-port', String(inferencePort)] : []),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-mdns',
    '--no-telemetry',
  ];
  const child = spawn(nodeBinary(), fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  const exitPromise = new Promise((res) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    running.delete(child);
    res(exited);
  }));

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} exited early (${JSON.stringify(exited)}); see ${logPath}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name}: RPC did not answer within ${timeoutMs} ms; see ${logPath}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${rpcPort}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'system_health', params: [] }),
      });
      if (r.ok) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }

  const apis = [];
  return {
    pid: child.pid,
    rpcPort,
    inferencePort,
    prometheusPort,
    logPath,
    wsUrl: `ws://127.0.0.1:${rpcPort}`,
    async api() {
      const api = await ApiPromise.create({ provider: new WsProvider(`ws://127.0.0.1:${rpcPort}`), noInitWarn: true });
      apis.push(api);
      return api;
    },
    /** SIGKILL, as a crash or a pulled plug: no shutdown at all (`stop` still closes the log). */
    async kill() {
      for (const api of apis) await api.disconnect().catch(() => {});
      if (!exited) {
        child.kill('SIGKILL');
        await exitPromise;
      }
      return exited;
    },
    async stop() {
      for (const api of apis) await api.disconnect().catch(() => {});
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exitPromise;
        clearTimeout(timer);
      }
      log.end();
      return exited;
    },
  };
}
