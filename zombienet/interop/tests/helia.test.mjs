// The node's model transfer against Helia (IPFS in JavaScript) over bitswap on loopback, both
// directions: the same CID on both sides, and the same sha256 at the end.
//
// COGNITIVE_NODE names the node binary (scripts/test.sh sets it).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'

const here = dirname(fileURLToPath(import.meta.url))
const NODE_BIN = process.env.COGNITIVE_NODE
assert.ok(NODE_BIN, 'set COGNITIVE_NODE to the cognitive-node binary')
const heliaPeer = join(here, '..', 'helia-peer.mjs')
const polyfill = join(here, '..', 'polyfill.mjs')

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

// A file the store accepts (GGUF magic): `mib` MiB and a bit, so `mib` + 1 leaves under one root node.
function sampleModel (mib = 5) {
  const dir = mkdtempSync(join(tmpdir(), 'helia-interop-'))
  const bytes = Buffer.concat([Buffer.from('GGUF'), randomBytes(mib * 1024 * 1024 + 123)])
  const file = join(dir, 'sample.gguf')
  writeFileSync(file, bytes)
  return { dir, file, bytes, sha: sha256(bytes) }
}

// Starts a long-running process and resolves with the first stdout line matching `pattern`.
async function startUntil (cmd, args, pattern, timeoutMs = 30_000) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} from ${cmd}: ${out}${err}`)), timeoutMs)
    child.stdout.on('data', (d) => {
      out += d
      const match = out.split('\n').find((l) => pattern.test(l))
      if (match) { clearTimeout(timer); resolve(match) }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited with ${code}: ${out}${err}`)) })
  })
  return { child, line }
}

async function stop (child) {
  if (child.exitCode === null) {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

test('the node fetches a file Helia imported, by Helia\'s CID, and stores it with the right sha256', async () => {
  // Large enough that the node's receive windows grow: Helia's yamux sends frames as large as
  // the window it is granted, and a frame over 1 MiB once closed the connection (the node now
  // caps its windows at 1 MiB; see yamux_config in model-transfer).
  const model = sampleModel(48)
  const helia = await startUntil(process.execPath, ['--import', polyfill, heliaPeer, 'serve', model.file], /^\{/)
  try {
    const { cid, addrs } = JSON.parse(helia.line)
    // Helia's CID is the one the node computes for the same bytes.
    const importStore = join(model.dir, 'import-store')
    const imported = execFileSync(NODE_BIN, ['model', 'import', model.file, '--name', 'sample', '--model-store', importStore]).toString()
    assert.match(imported, new RegExp(`cid ${cid}\\b`))

    const store = join(model.dir, 'fetch-store')
    const out = execFileSync(NODE_BIN, [
      'model', 'fetch', '--cid', cid, '--sha256', model.sha, '--name', 'from-helia',
      '--from', addrs[0], '--quiet', '--model-store', store
    ], { timeout: 120_000 }).toString()
    assert.match(out, /^fetched from-helia/m)
    const listed = execFileSync(NODE_BIN, ['model', 'ls', '--model-store', store]).toString()
    assert.match(listed, new RegExp(`from-helia\\tsha256 ${model.sha}\\tcid ${cid}\\t${model.bytes.length} bytes`))
    assert.equal(sha256(readFileSync(join(store, `${model.sha}.gguf`))), model.sha)
  } finally {
    await stop(helia.child)
  }
})

test('Helia fetches a model the node serves, by the CID the node computed', async () => {
  const model = sampleModel()
  const store = join(model.dir, 'store')
  const imported = execFileSync(NODE_BIN, ['model', 'import', model.file, '--name', 'sample', '--model-store', store]).toString()
  const cid = imported.match(/cid (\S+)/)[1]
  const node = await startUntil(NODE_BIN, ['model', 'serve', '--listen', '/ip4/127.0.0.1/tcp/0', '--model-store', store], /^listening on /)
  try {
    const addr = node.line.replace('listening on ', '').trim()
    const out = join(model.dir, 'from-node.bin')
    const result = JSON.parse(execFileSync(process.execPath, ['--import', polyfill, heliaPeer, 'fetch', cid, addr, out], { timeout: 120_000 }).toString())
    assert.equal(result.bytes, model.bytes.length)
    assert.equal(sha256(readFileSync(out)), model.sha)
  } finally {
    await stop(node.child)
  }
})

test('a fetch from a peer that lacks the CID fails cleanly and leaves the store empty', async () => {
  const model = sampleModel()
  const other = sampleModel()
  // Helia serves another file; the node asks it for ours.
  const helia = await startUntil(process.execPath, ['--import', polyfill, heliaPeer, 'serve', other.file], /^\{/)
  try {
    const { addrs } = JSON.parse(helia.line)
    const store = join(model.dir, 'store')
    const imported = execFileSync(NODE_BIN, ['model', 'import', model.file, '--name', 'x', '--model-store', join(model.dir, 'ref')]).toString()
    const cid = imported.match(/cid (\S+)/)[1]
    let failed = null
    try {
      execFileSync(NODE_BIN, ['model', 'fetch', '--cid', cid, '--sha256', model.sha, '--from', addrs[0], '--quiet', '--model-store', store],
        { timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (e) {
      failed = e
    }
    assert.ok(failed, 'the fetch must fail')
    assert.match(failed.stderr.toString(), /no provider left/)
    const listed = execFileSync(NODE_BIN, ['model', 'ls', '--model-store', store]).toString()
    assert.equal(listed.trim(), '')
  } finally {
    await stop(helia.child)
  }
})
