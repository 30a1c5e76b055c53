// A node driven by a test script instead of a running node binary: it registers with an
// inference key only the script holds and sends the same general transactions a node's
// off-chain worker sends (heartbeats, commits, reveals), built by hand. Nothing in the node
// binary knows about it. The byzantine and disputes suites use it to act the way a modified
// node would.
'use strict';

const { randomAsHex } = require('@polkadot/util-crypto');
const c = require('./common.cjs');

class ScriptedNode {
  /** `name` is a dev account (`dave`, `eve`, …) whose `//Name` ed25519 key is its inference key. */
  constructor(api, wsUri, name) {
    this.api = api;
    this.wsUri = wsUri;
    this.name = name;
    this.account = c.account(name);
    this.address = this.account.address;
    this.key = c.inferenceKey(name);
    this.salts = new Map();
  }

  /** Registers the node with `bond` (the minimum by default), unless it is registered. */
  async register(bond) {
    if ((await this.api.query.nodeRegistry.nodes(this.address)).isSome) return;
    const amount = bond ?? this.api.consts.nodeRegistry.minBond.toBigInt();
    await c.sendOk(this.api, c.registerTx(this.api, this.address, this.key,
      { bond: amount, endpoints: ['/ip4/127.0.0.1/tcp/30399'] }), this.account);
  }

  /** Sends a heartbeat for the current period, ready for `models` (ignored when one landed). */
  async heartbeat(models = [0]) {
    const api = this.api;
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    const period = Math.floor((best + 1) / api.consts.nodeRegistry.heartbeatPeriod.toNumber());
    const hb = { node: this.address, period, readyModels: models };
    const signature = c.signPayload(api, this.key, c.CONTEXT.heartbeat, '(AccountId32, u32, Vec<u32>)',
      [hb.node, hb.period, hb.readyModels]);
    return c.submitGeneral(this.wsUri, api.tx.nodeRegistry.heartbeat(hb, signature).method);
  }

  /** Keeps the node alive and ready, as an off-chain worker would; returns the stop function. */
  keepAlive(intervalMs = 6000) {
    const timer = setInterval(() => { this.heartbeat().catch(() => {}); }, intervalMs);
    return () => clearInterval(timer);
  }

  /** Commits to `resultHash` for `jobId` with a fresh salt (remembered for the reveal). */
  async commit(jobId, resultHash) {
    const salt = randomAsHex(32);
    this.salts.set(jobId, salt);
    return this.commitRaw(jobId, c.commitment(this.api, resultHash, salt, this.address));
  }

  /** Commits `commitmentHex` as it is (to copy another node's commitment, say). */
  async commitRaw(jobId, commitmentHex) {
    const api = this.api;
    // A commit names the job's digest, so it cannot land on another fork's job of the same id.
    const jobDigest = (await api.call.proofOfInferenceApi.job(jobId)).unwrap().digest.toHex();
    const payload = { jobId, jobDigest, node: this.address, commitment: commitmentHex };
    const signature = c.signPayload(api, this.key, c.CONTEXT.commit, '(u64, [u8; 32], AccountId32, [u8; 32])',
      [jobId, jobDigest, this.address, commitmentHex]);
    return c.submitGeneral(this.wsUri, api.tx.proofOfInference.commit(payload, signature).method);
  }

  /** Reveals `resultHash` for `jobId` with the salt of its commit (or `salt`). */
  async reveal(jobId, resultHash, salt) {
    const api = this.api;
    const s = salt ?? this.salts.get(jobId);
    const payload = { jobId, node: this.address, resultHash, salt: s };
    const signature = c.signPayload(api, this.key, c.CONTEXT.reveal, '(u64, AccountId32, [u8; 32], [u8; 32])',
      [jobId, this.address, resultHash, s]);
    return c.submitGeneral(this.wsUri, api.tx.proofOfInference.reveal(payload, signature).method);
  }

  /**
   * The round of `jobId` this node is a member of now — `{ round: 'assignment' | 'audit', me,
   * members, commitDeadline, view }` — or null.
   */
  async round(jobId) {
    const view = (await this.api.call.proofOfInferenceApi.job(jobId)).unwrapOr(null);
    if (!view) return null;
    const find = (members) => members.find((m) => m.node.toString() === this.address);
    if (view.status.isPending) {
      const me = find(view.assignees);
      return me ? { round: 'assignment', me, members: view.assignees, commitDeadline: view.commitDeadline.toNumber(), view } : null;
    }
    if (view.audit.isSome && view.audit.unwrap().verdict.isNone) {
      const audit = view.audit.unwrap();
      const me = find(audit.auditors);
      return me ? { round: 'audit', me, members: audit.auditors, commitDeadline: audit.commitDeadline.toNumber(), view } : null;
    }
    return null;
  }
}

/**
 * The honest result hash of `jobId`, re-executed on the engine of the node behind `rpcUri`:
 * `inference_generate` with the job's prompt and `max_tokens`, deterministic (greedy, the
 * model's fixed context settings), hashed like a chain result.
 */
async function reexecute(api, rpcUri, jobId) {
  const view = (await api.call.proofOfInferenceApi.job(jobId)).unwrap();
  const stored = view.prompt.toU8a(true);
  // A text job's bytes are its prompt; a chat job's are its SCALE-encoded messages, which the
  // engine renders with the model's template as it does for the chain.
  const input = view.format.isChat
    ? { messages: api.createType('Vec<(u8, Bytes)>', stored).map(([role, content]) => ({
      role: ['system', 'user', 'assistant'][role.toNumber()], content: content.toUtf8() })) }
    : { prompt: Buffer.from(stored).toString('utf8') };
  const { result, error } = await c.rpc(rpcUri, 'inference_generate', [{
    model: view.modelSha256.toHex(), ...input, maxTokens: view.maxTokens.toNumber(), deterministic: true,
  }], 120_000);
  if (error) throw new Error(`re-execution of job ${jobId}: ${JSON.stringify(error)}`);
  return c.resultHash(api, jobId, view.modelSha256.toHex(), result.promptTokenIds, result.tokenIds);
}

/** Whether the round's reveals may begin: every member committed or its deadline passed. */
async function commitPhaseOver(api, r) {
  if (r.members.every((m) => m.commitment.isSome)) return true;
  return (await api.rpc.chain.getHeader()).number.toNumber() >= r.commitDeadline;
}

/**
 * Makes `nodes` answer every greedy job and audit (text or chat) they are drawn for honestly — re-executing
 * it on `rpcUri`'s engine, committing, and revealing once the round's commit phase is over —
 * except the rounds for which `skip(jobId, round)` is true (which the script drives itself).
 * Returns the stop function.
 */
function answerHonestly(api, rpcUri, nodes, skip = () => false) {
  let stopped = false;
  const done = new Set();
  const loop = async () => {
    while (!stopped) {
      for (const node of nodes) {
        const pending = await api.call.proofOfInferenceApi.pendingJobs(node.address).catch(() => []);
        for (const id of pending.map((x) => x.toNumber())) {
          const r = await node.round(id).catch(() => null);
          if (!r || skip(id, r)) continue;
          const key = `${node.name}/${id}/${r.round}`;
          try {
            if (r.me.commitment.isNone && !done.has(`${key}/commit`)) {
              node.honest = node.honest ?? new Map();
              const hash = await reexecute(api, rpcUri, id);
              node.honest.set(key, hash);
              const sent = await node.commit(id, hash);
              if (!sent.error) done.add(`${key}/commit`);
            } else if (r.me.commitment.isSome && r.me.revealed.isNone && !done.has(`${key}/reveal`)
              && node.honest && node.honest.has(key) && await commitPhaseOver(api, r)) {
              const sent = await node.reveal(id, node.honest.get(key));
              if (!sent.error) done.add(`${key}/reveal`);
            }
          } catch (e) {
            c.log(`${node.name}, job ${id}: ${e.message}`);
          }
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  };
  const running = loop();
  return async () => { stopped = true; await running; };
}

module.exports = { ScriptedNode, reexecute, answerHonestly };
