// An independent verifier of the proofs `inference_generate` returns (format version 2), written
// from the documented layout (docs/rpc.md) with Polkadot.js hashing and Node's own ed25519,
// sharing no code with the node. The Rust side pins the same layout in
// offchain-workers/engine/src/proof.rs.
'use strict';

const { createPublicKey, verify } = require('node:crypto');
const { blake2AsU8a } = require('@polkadot/util-crypto');
const { compactToU8a, u8aConcat, u8aToHex, hexToU8a, stringToU8a } = require('@polkadot/util');

/** The 37-byte domain tag that starts every version 2 proof message. */
const PROOF_CONTEXT = 'cognitive-internet/inference-proof/v2';
/** Length of a version 2 proof message in bytes. */
const PROOF_MESSAGE_LEN = 209;

function u32le(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** The bits of `x` rounded to an IEEE-754 single, as Rust's `f32::to_bits`. */
function f32Bits(x) {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, x, true);
  return b.getUint32(0, true);
}

/** `x` (a number or a BigInt below 2^64) as u64 little endian. */
function u64le(x) {
  const b = new DataView(new ArrayBuffer(8));
  b.setBigUint64(0, BigInt(x), true);
  return new Uint8Array(b.buffer);
}

/** SCALE `Vec<u32>`: compact length, then each value as u32 little endian. */
function vecU32(values) {
  return u8aConcat(compactToU8a(values.length), ...values.map(u32le));
}

/**
 * `request_hash = blake2_256(SCALE((prompt bytes, max_tokens u32, sampling, profile)))`, where
 * `sampling` is `null` for greedy decoding (index 0) or `{ temperature, topP, seed }` (index 2:
 * the temperature and top-p as f32 bits, the seed as u64; index 1 is retired) and `profile` is
 * `{ nCtx, nBatch, nUbatch }`. Stop sequences, if any, are a fifth element: SCALE
 * `Vec<Vec<u8>>` (a compact count, then each as compact length and UTF-8 bytes).
 */
function requestHash(prompt, maxTokens, sampling, profile, stop = []) {
  const bytes = stringToU8a(prompt);
  const samplingBytes = sampling
    ? u8aConcat(new Uint8Array([2]), u32le(f32Bits(sampling.temperature)), u32le(f32Bits(sampling.topP)),
      u64le(sampling.seed))
    : new Uint8Array([0]);
  const stopBytes = stop.length === 0 ? new Uint8Array() : u8aConcat(compactToU8a(stop.length),
    ...stop.map((s) => { const b = stringToU8a(s); return u8aConcat(compactToU8a(b.length), b); }));
  return blake2AsU8a(u8aConcat(compactToU8a(bytes.length), bytes, u32le(maxTokens), samplingBytes,
    u32le(profile.nCtx), u32le(profile.nBatch), u32le(profile.nUbatch), stopBytes), 256);
}

/** `output_hash = blake2_256(SCALE((prompt token ids, output token ids)))`. */
function outputHash(promptIds, outputIds) {
  return blake2AsU8a(u8aConcat(vecU32(promptIds), vecU32(outputIds)), 256);
}

/** The signed bytes of a proof, rebuilt from its fields (never taken from `proof.message`). */
function proofMessage(proof) {
  const message = u8aConcat(stringToU8a(PROOF_CONTEXT), hexToU8a(proof.genesisHash),
    hexToU8a(proof.blockHash), u32le(proof.blockNumber), hexToU8a(proof.modelSha256),
    hexToU8a(proof.requestHash), hexToU8a(proof.outputHash), u64le(proof.timestampMs));
  if (message.length !== PROOF_MESSAGE_LEN) throw new Error(`proof message is ${message.length} bytes`);
  return message;
}

/** Strict-enough ed25519 verification with OpenSSL (SPKI DER: a fixed prefix and the key). */
function ed25519Verify(publicKeyHex, message, signatureHex) {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hexToU8a(publicKeyHex))]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return verify(null, Buffer.from(message), key, Buffer.from(hexToU8a(signatureHex)));
}

/**
 * Checks a `GenerateResult` against the request it answers (`maxTokens` as asked) and returns
 * the list of what is wrong (empty: the proof holds). It recomputes both hashes from the
 * response's prompt, token ids, sampling and profile, rebuilds the message and verifies the
 * signature; whether `genesisHash`/`blockHash` are the caller's chain is the caller's check.
 */
function checkGenerateResult(result, maxTokens) {
  const problems = [];
  const { proof } = result;
  if (!proof) return ['no proof'];
  if (proof.version !== 2) problems.push(`version ${proof.version}`);
  if (proof.modelSha256 !== result.model.sha256) problems.push('model differs');
  const sampling = result.temperature === null
    ? null
    : { temperature: result.temperature, topP: result.topP, seed: result.seed };
  if (u8aToHex(requestHash(result.prompt, maxTokens, sampling, result.profile, result.stop ?? [])) !== proof.requestHash) {
    problems.push('requestHash does not match the prompt, maxTokens, sampling, profile and stop sequences');
  }
  if (u8aToHex(outputHash(result.promptTokenIds, result.tokenIds)) !== proof.outputHash) {
    problems.push('outputHash does not match the token ids');
  }
  const message = proofMessage(proof);
  if (u8aToHex(message) !== proof.message) problems.push('message differs from the rebuilt one');
  if (!ed25519Verify(proof.publicKey, message, proof.signature)) problems.push('bad signature');
  return problems;
}

module.exports = {
  PROOF_CONTEXT,
  PROOF_MESSAGE_LEN,
  requestHash,
  outputHash,
  proofMessage,
  ed25519Verify,
  checkGenerateResult,
};
