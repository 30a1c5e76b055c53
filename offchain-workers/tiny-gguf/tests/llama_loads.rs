//! Loads the generated model with llama.cpp (through llama-cpp-2), tokenizes, and generates.
//!
//! Everything is in one test function: `LlamaBackend::init` may be called only once per process.

use llama_cpp_2::{
	context::params::LlamaContextParams,
	llama_backend::LlamaBackend,
	llama_batch::LlamaBatch,
	model::{params::LlamaModelParams, LlamaModel},
	sampling::LlamaSampler,
	token::LlamaToken,
};
use std::{num::NonZeroU32, path::PathBuf};
use tiny_gguf::{
	byte_token_id, is_output_token, write_tiny_model, TinyModelSpec, BOS_ID, N_VOCAB, SPACE_ID,
};

const N_GEN: usize = 16;

/// A unique path in the system temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
	fn new(tag: &str) -> Self {
		let nanos = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map(|d| d.as_nanos())
			.unwrap_or(0);
		let name = format!("tiny-gguf-{tag}-{}-{nanos}.gguf", std::process::id());
		Self(std::env::temp_dir().join(name))
	}
}

impl Drop for TempFile {
	fn drop(&mut self) {
		let _ = std::fs::remove_file(&self.0);
	}
}

/// Decodes `prompt` in a fresh context and greedily generates `N_GEN` tokens.
fn generate(backend: &LlamaBackend, model: &LlamaModel, prompt: &[LlamaToken]) -> Vec<i32> {
	let params = LlamaContextParams::default()
		.with_n_ctx(NonZeroU32::new(256))
		.with_n_batch(256)
		.with_n_threads(2)
		.with_n_threads_batch(2)
		.with_flash_attention_policy(llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED);
	let mut ctx = model.new_context(backend, params).expect("new context");
	let mut batch = LlamaBatch::new(256, 1);
	let last = prompt.len() - 1;
	for (i, t) in prompt.iter().enumerate() {
		batch.add(*t, i as i32, &[0], i == last).expect("batch add");
	}
	ctx.decode(&mut batch).expect("decode prompt");
	let mut sampler = LlamaSampler::greedy();
	let mut out = Vec::new();
	let start = batch.n_tokens();
	for pos in start..start + N_GEN as i32 {
		let tok = sampler.sample(&ctx, batch.n_tokens() - 1);
		out.push(tok.0);
		batch.clear();
		batch.add(tok, pos, &[0], true).expect("batch add");
		ctx.decode(&mut batch).expect("decode");
	}
	out
}

#[test]
fn llama_cpp_loads_tokenizes_and_generates() {
	let file = TempFile::new("default");
	write_tiny_model(&file.0, &TinyModelSpec::default()).expect("write model");
	let file_b = TempFile::new("seed7");
	write_tiny_model(
		&file_b.0,
		&TinyModelSpec {
			seed: 7,
			..Default::default()
		},
	)
	.expect("write model");

	let mut backend = LlamaBackend::init().expect("backend");
	backend.void_logs();
	let model = LlamaModel::load_from_file(&backend, &file.0, &LlamaModelParams::default())
		.expect("llama.cpp loads the generated model");
	assert_eq!(model.n_vocab(), N_VOCAB as i32);
	assert_eq!(model.n_embd(), 64);

	// Tokenize: BOS, then one byte token per character, and ▁ for the space.
	let text = "hello world";
	let tokens = model.vocab().tokenize(text.as_bytes(), true, false);
	let ids: Vec<i32> = tokens.iter().map(|t| t.0).collect();
	let mut expected = vec![BOS_ID];
	expected.extend(text.bytes().map(|b| {
		if b == b' ' {
			SPACE_ID
		} else {
			byte_token_id(b)
		}
	}));
	assert_eq!(ids, expected, "tokenization of {text:?}");
	assert_eq!(ids.len(), 12);

	// Detokenize round-trips the text (BOS renders as nothing without `special`).
	let detok: Vec<u8> = tokens
		.iter()
		.flat_map(|t| model.vocab().token_to_piece(*t, false, None))
		.collect();
	assert_eq!(String::from_utf8_lossy(&detok), text);

	let gen_a = generate(&backend, &model, &tokens);
	let gen_b = generate(&backend, &model, &tokens);
	let pieces: Vec<u8> = gen_a
		.iter()
		.flat_map(|t| model.vocab().token_to_piece(LlamaToken(*t), false, None))
		.collect();
	let distinct: std::collections::BTreeSet<i32> = gen_a.iter().copied().collect();
	eprintln!(
		"greedy ids {gen_a:?} ({} distinct), text {:?}",
		distinct.len(),
		String::from_utf8_lossy(&pieces)
	);
	assert_eq!(gen_a.len(), N_GEN);
	assert!(
		distinct.len() > 1,
		"greedy output is a single repeated token: {gen_a:?}"
	);
	assert_eq!(
		gen_a, gen_b,
		"two fresh contexts give different greedy output"
	);
	assert!(
		gen_a.iter().all(|t| is_output_token(*t)),
		"non-ASCII token in {gen_a:?}"
	);
	assert!(std::str::from_utf8(&pieces).is_ok());

	// A different seed gives a different model, hence (almost surely) different output.
	let model_b = LlamaModel::load_from_file(&backend, &file_b.0, &LlamaModelParams::default())
		.expect("load seed-7 model");
	let gen_c = generate(&backend, &model_b, &tokens);
	eprintln!("seed 7 greedy ids {gen_c:?}");
	assert_ne!(gen_a, gen_c);
}
