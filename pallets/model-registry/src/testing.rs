//! Sample data for tests and benchmarks, here and in pallets that depend on this one.

use crate::*;

/// A valid description whose sha256 is derived from `seed`.
pub fn sample_model(seed: u32) -> ModelInfo {
	let mut sha256 = [0u8; 32];
	sha256[..4].copy_from_slice(&seed.to_le_bytes());
	let text = |s: &[u8]| ShortText::truncate_from(s.to_vec());
	ModelInfo {
		// Longest allowed name: the benchmark measures the biggest entry.
		name: ShortText::truncate_from([b'n'; 64].to_vec()),
		cid: CidText::truncate_from([b'b'; 128].to_vec()),
		sha256,
		size_bytes: 98_362_432,
		format: ModelFormat::Gguf,
		architecture: text(b"llama"),
		quantization: text(b"Q4_1"),
		license: text(b"Apache-2.0"),
		profile: DeterminismProfile {
			engine: text(b"llama.cpp"),
			engine_version: text(b"llama-cpp-2 0.1.160"),
			cpu_target: text(b"x86-64-v3"),
			n_ctx: 2048,
			n_batch: 512,
			n_ubatch: 512,
			flash_attention: false,
			sampler: Sampler::Greedy,
			chat_template: Some([7; 32]),
		},
	}
}
