//! Deterministic generator of a tiny, random-weight, llama-architecture GGUF model.
//!
//! The file is written by hand in GGUF version 3 (see `ggml/include/gguf.h` in llama.cpp) with
//! every tensor in F32, so llama.cpp loads it without any quantisation code involved. The weights
//! come from a seeded SplitMix64 generator: the same [`TinyModelSpec`] always gives the same bytes,
//! on every platform.
//!
//! The model is meaningless as a language model but exercises the whole llama.cpp path of an
//! inference engine (load, tokenize, decode, sample, detokenize) in milliseconds, with a file of
//! about 0.4 MiB instead of hundreds of megabytes of real weights.
//!
//! # Vocabulary
//!
//! A SentencePiece-style ("llama" tokenizer model) byte vocabulary of [`N_VOCAB`] tokens:
//!
//! | id | text | type |
//! |----|------|------|
//! | 0 | `<unk>` | unknown |
//! | 1 | `<s>` (BOS) | control |
//! | 2 | `</s>` (EOS) | control |
//! | 3 ..= 258 | `<0x00>` ..= `<0xFF>` | byte |
//! | 259 | `▁` (U+2581, SentencePiece's escaped space) | normal |
//!
//! The `▁` token is there because llama.cpp's SPM tokenizer always rewrites `' '` as `▁` before
//! tokenizing. With bytes only, a space would come out as the three byte tokens of `▁`'s UTF-8
//! encoding, and those detokenize to `▁`, not to a space: text would not round-trip. With the
//! `▁` token a space is one token and detokenizes back to `' '`.
//! `tokenizer.ggml.add_space_prefix` is `false`, so no space is prepended to the prompt: the text
//! `"hi there"` tokenizes to `[BOS, 'h', 'i', ▁, 't', 'h', 'e', 'r', 'e']`.
//!
//! # Output restriction
//!
//! The rows of `output.weight` (the LM head) for every token other than the printable ASCII bytes
//! (0x20 ..= 0x7E), `'\n'` and `▁` are zero, so those tokens always get the logit 0 while the
//! allowed ones get random logits whose maximum is positive. Greedy decoding therefore only
//! produces printable ASCII text, never `<unk>`, BOS or EOS: generation always runs to the token
//! limit, and the generated text is valid UTF-8.

#![warn(missing_docs)]

use std::{io, path::Path};

/// Number of tokens in the vocabulary: `<unk>`, `<s>`, `</s>`, 256 byte tokens and `▁`.
pub const N_VOCAB: u32 = 260;
/// Id of the unknown token `<unk>`.
pub const UNK_ID: i32 = 0;
/// Id of the beginning-of-sequence token `<s>`.
pub const BOS_ID: i32 = 1;
/// Id of the end-of-sequence token `</s>`.
pub const EOS_ID: i32 = 2;
/// Id of the SentencePiece space token `▁` (U+2581).
pub const SPACE_ID: i32 = 259;
/// Alignment of the tensor data (the `general.alignment` key).
pub const ALIGNMENT: usize = 32;

/// Id of the byte token `<0xXX>` for `byte`.
pub const fn byte_token_id(byte: u8) -> i32 {
	3 + byte as i32
}

/// Whether the generated model's LM head can select `token` (see the crate docs): printable
/// ASCII bytes, `'\n'` and `▁`.
pub fn is_output_token(token: i32) -> bool {
	if token == SPACE_ID {
		return true;
	}
	if !(byte_token_id(0)..=byte_token_id(255)).contains(&token) {
		return false;
	}
	let byte = (token - byte_token_id(0)) as u8;
	byte == b'\n' || (0x20..=0x7e).contains(&byte)
}

/// Shape and seed of the generated model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TinyModelSpec {
	/// Seed of the weight generator; different seeds give different weights.
	pub seed: u64,
	/// Number of transformer blocks (`llama.block_count`).
	pub n_layer: u32,
	/// Embedding width (`llama.embedding_length`); a multiple of `n_head`.
	pub n_embd: u32,
	/// Number of attention (query) heads (`llama.attention.head_count`).
	pub n_head: u32,
	/// Number of key/value heads (`llama.attention.head_count_kv`); divides `n_head`.
	pub n_head_kv: u32,
	/// Hidden width of the SwiGLU feed-forward network (`llama.feed_forward_length`).
	pub n_ff: u32,
	/// Training context length (`llama.context_length`).
	pub n_ctx: u32,
}

impl Default for TinyModelSpec {
	/// Seed 42, 2 layers, width 64, 4 query heads sharing 2 key/value heads (grouped-query
	/// attention), feed-forward width 128, context 2048.
	fn default() -> Self {
		Self {
			seed: 42,
			n_layer: 2,
			n_embd: 64,
			n_head: 4,
			n_head_kv: 2,
			n_ff: 128,
			n_ctx: 2048,
		}
	}
}

impl TinyModelSpec {
	/// Width of one attention head, `n_embd / n_head` (also the RoPE dimension count).
	pub fn head_dim(&self) -> u32 {
		self.n_embd / self.n_head.max(1)
	}

	/// Checks that llama.cpp can build a llama graph for this shape: every size non-zero,
	/// `n_embd` a multiple of `n_head`, an even head width (RoPE rotates pairs), and `n_head` a
	/// multiple of `n_head_kv`.
	pub fn validate(&self) -> Result<(), String> {
		let sizes = [
			("n_layer", self.n_layer),
			("n_embd", self.n_embd),
			("n_head", self.n_head),
			("n_head_kv", self.n_head_kv),
			("n_ff", self.n_ff),
			("n_ctx", self.n_ctx),
		];
		if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
			return Err(format!("{name} must be non-zero"));
		}
		if !self.n_embd.is_multiple_of(self.n_head) {
			return Err(format!(
				"n_embd {} is not a multiple of n_head {}",
				self.n_embd, self.n_head
			));
		}
		if !self.head_dim().is_multiple_of(2) {
			return Err(format!(
				"head width {} must be even for RoPE",
				self.head_dim()
			));
		}
		if !self.n_head.is_multiple_of(self.n_head_kv) {
			return Err(format!(
				"n_head {} is not a multiple of n_head_kv {}",
				self.n_head, self.n_head_kv
			));
		}
		if self.n_layer > 512 {
			return Err(format!(
				"n_layer {} exceeds llama.cpp's limit of 512",
				self.n_layer
			));
		}
		Ok(())
	}
}

/// Writes the model of `spec` to `path` (creating or truncating it).
///
/// Fails with [`io::ErrorKind::InvalidInput`] if the spec is invalid (see
/// [`TinyModelSpec::validate`]), or with the error of the write.
pub fn write_tiny_model(path: &Path, spec: &TinyModelSpec) -> io::Result<()> {
	spec.validate()
		.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
	std::fs::write(path, tiny_model_bytes(spec))
}

/// The complete GGUF file of the model of `spec`; identical specs give identical bytes.
///
/// # Panics
///
/// If the spec is invalid (see [`TinyModelSpec::validate`]).
pub fn tiny_model_bytes(spec: &TinyModelSpec) -> Vec<u8> {
	if let Err(e) = spec.validate() {
		panic!("invalid TinyModelSpec: {e}");
	}
	let metadata = metadata(spec);
	let tensors = tensors(spec);

	let mut out = Vec::new();
	// Header: magic, version, tensor count (i64), KV count (i64).
	out.extend_from_slice(b"GGUF");
	put_u32(&mut out, 3);
	put_u64(&mut out, tensors.len() as u64);
	put_u64(&mut out, metadata.len() as u64);

	for (key, value) in &metadata {
		put_str(&mut out, key);
		value.write(&mut out);
	}

	// Tensor infos: name, n_dims (u32), dims (i64, ne0 first), type (i32), offset (u64) relative
	// to the start of the data section. llama.cpp requires each offset to be exactly the padded
	// end of the previous tensor.
	let mut offset = 0u64;
	for t in &tensors {
		put_str(&mut out, &t.name);
		put_u32(&mut out, t.dims.len() as u32);
		for d in &t.dims {
			put_u64(&mut out, *d);
		}
		put_u32(&mut out, GGML_TYPE_F32);
		put_u64(&mut out, offset);
		offset += padded(t.data.len() * 4) as u64;
	}

	// Data section, aligned relative to the start of the file; each tensor padded with zeros.
	pad(&mut out);
	for t in &tensors {
		for v in &t.data {
			out.extend_from_slice(&v.to_le_bytes());
		}
		pad(&mut out);
	}
	out
}

const GGML_TYPE_F32: u32 = 0;

// GGUF value types (`enum gguf_type`).
const GGUF_TYPE_UINT32: u32 = 4;
const GGUF_TYPE_INT32: u32 = 5;
const GGUF_TYPE_FLOAT32: u32 = 6;
const GGUF_TYPE_BOOL: u32 = 7;
const GGUF_TYPE_STRING: u32 = 8;
const GGUF_TYPE_ARRAY: u32 = 9;

// llama.cpp token types (`enum llama_token_type`).
const TOKEN_TYPE_NORMAL: i32 = 1;
const TOKEN_TYPE_UNKNOWN: i32 = 2;
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_BYTE: i32 = 6;

/// A metadata value, in the subset of GGUF types this crate writes.
enum Value {
	Str(String),
	U32(u32),
	F32(f32),
	Bool(bool),
	StrArray(Vec<String>),
	F32Array(Vec<f32>),
	I32Array(Vec<i32>),
}

impl Value {
	/// Writes the value type and the value (a KV pair without its key).
	fn write(&self, out: &mut Vec<u8>) {
		match self {
			Value::Str(s) => {
				put_u32(out, GGUF_TYPE_STRING);
				put_str(out, s);
			},
			Value::U32(v) => {
				put_u32(out, GGUF_TYPE_UINT32);
				put_u32(out, *v);
			},
			Value::F32(v) => {
				put_u32(out, GGUF_TYPE_FLOAT32);
				out.extend_from_slice(&v.to_le_bytes());
			},
			Value::Bool(v) => {
				put_u32(out, GGUF_TYPE_BOOL);
				out.push(u8::from(*v));
			},
			Value::StrArray(items) => {
				put_array_header(out, GGUF_TYPE_STRING, items.len());
				for s in items {
					put_str(out, s);
				}
			},
			Value::F32Array(items) => {
				put_array_header(out, GGUF_TYPE_FLOAT32, items.len());
				for v in items {
					out.extend_from_slice(&v.to_le_bytes());
				}
			},
			Value::I32Array(items) => {
				put_array_header(out, GGUF_TYPE_INT32, items.len());
				for v in items {
					out.extend_from_slice(&v.to_le_bytes());
				}
			},
		}
	}
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
	out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
	out.extend_from_slice(&v.to_le_bytes());
}

/// A GGUF string: u64 byte length, then the UTF-8 bytes without a terminator.
fn put_str(out: &mut Vec<u8>, s: &str) {
	put_u64(out, s.len() as u64);
	out.extend_from_slice(s.as_bytes());
}

fn put_array_header(out: &mut Vec<u8>, elem_type: u32, len: usize) {
	put_u32(out, GGUF_TYPE_ARRAY);
	put_u32(out, elem_type);
	put_u64(out, len as u64);
}

fn padded(n: usize) -> usize {
	n.div_ceil(ALIGNMENT) * ALIGNMENT
}

fn pad(out: &mut Vec<u8>) {
	out.resize(padded(out.len()), 0);
}

/// The vocabulary: texts, scores and token types (see the crate docs).
fn vocab() -> (Vec<String>, Vec<f32>, Vec<i32>) {
	let mut tokens = vec!["<unk>".to_string(), "<s>".to_string(), "</s>".to_string()];
	let mut types = vec![TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL];
	for b in 0..=255u8 {
		tokens.push(format!("<0x{b:02X}>"));
		types.push(TOKEN_TYPE_BYTE);
	}
	tokens.push("\u{2581}".to_string());
	types.push(TOKEN_TYPE_NORMAL);
	// Scores only rank SentencePiece merges; with no multi-character tokens none ever happen.
	let mut scores = vec![0.0f32; tokens.len()];
	scores[SPACE_ID as usize] = -1.0;
	debug_assert_eq!(tokens.len(), N_VOCAB as usize);
	(tokens, scores, types)
}

fn metadata(spec: &TinyModelSpec) -> Vec<(&'static str, Value)> {
	let (tokens, scores, types) = vocab();
	vec![
		("general.architecture", Value::Str("llama".into())),
		("general.name", Value::Str("tiny-gguf random llama".into())),
		(
			"general.description",
			Value::Str(format!(
				"random weights from tiny-gguf, seed {}; not a language model",
				spec.seed
			)),
		),
		("general.alignment", Value::U32(ALIGNMENT as u32)),
		// LLAMA_FTYPE_ALL_F32
		("general.file_type", Value::U32(0)),
		("llama.vocab_size", Value::U32(N_VOCAB)),
		("llama.context_length", Value::U32(spec.n_ctx)),
		("llama.embedding_length", Value::U32(spec.n_embd)),
		("llama.block_count", Value::U32(spec.n_layer)),
		("llama.feed_forward_length", Value::U32(spec.n_ff)),
		("llama.attention.head_count", Value::U32(spec.n_head)),
		("llama.attention.head_count_kv", Value::U32(spec.n_head_kv)),
		("llama.rope.dimension_count", Value::U32(spec.head_dim())),
		("llama.rope.freq_base", Value::F32(10_000.0)),
		("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
		("tokenizer.ggml.model", Value::Str("llama".into())),
		("tokenizer.ggml.tokens", Value::StrArray(tokens)),
		("tokenizer.ggml.scores", Value::F32Array(scores)),
		("tokenizer.ggml.token_type", Value::I32Array(types)),
		("tokenizer.ggml.bos_token_id", Value::U32(BOS_ID as u32)),
		("tokenizer.ggml.eos_token_id", Value::U32(EOS_ID as u32)),
		("tokenizer.ggml.unknown_token_id", Value::U32(UNK_ID as u32)),
		("tokenizer.ggml.add_bos_token", Value::Bool(true)),
		("tokenizer.ggml.add_eos_token", Value::Bool(false)),
		("tokenizer.ggml.add_space_prefix", Value::Bool(false)),
	]
}

/// One F32 tensor: name, dims (ne0 first, the contiguous dimension) and data.
struct Tensor {
	name: String,
	dims: Vec<u64>,
	data: Vec<f32>,
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for random weights.
struct SplitMix64(u64);

impl SplitMix64 {
	fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	/// Uniform in [-1, 1), computed exactly (24 random bits), so identical on every platform.
	fn next_signed_unit(&mut self) -> f32 {
		let bits = (self.next_u64() >> 40) as u32; // 24 bits
		(bits as f32) * (2.0 / (1u32 << 24) as f32) - 1.0
	}
}

fn tensors(spec: &TinyModelSpec) -> Vec<Tensor> {
	let mut rng = SplitMix64(spec.seed);
	let n_embd = spec.n_embd as u64;
	let n_vocab = N_VOCAB as u64;
	let n_q = (spec.n_head * spec.head_dim()) as u64;
	let n_kv = (spec.n_head_kv * spec.head_dim()) as u64;
	let n_ff = spec.n_ff as u64;

	// A matrix [ne0, ne1] multiplies vectors of length ne0 (its fan-in): entries uniform in
	// ±scale/sqrt(ne0) keep the activations at a similar size from layer to layer.
	let mut random = |name: String, dims: Vec<u64>, scale: f32| {
		let n: u64 = dims.iter().product();
		let s = scale / (dims[0] as f32).sqrt();
		let data = (0..n).map(|_| rng.next_signed_unit() * s).collect();
		Tensor { name, dims, data }
	};
	let ones = |name: String, n: u64| Tensor {
		name,
		dims: vec![n],
		data: vec![1.0; n as usize],
	};

	let mut out = Vec::new();
	// Embeddings of unit-ish size (the fan-in scaling does not apply to a lookup table).
	out.push(random(
		"token_embd.weight".into(),
		vec![n_embd, n_vocab],
		(n_embd as f32).sqrt(),
	));
	out.push(ones("output_norm.weight".into(), n_embd));
	// LM head, scaled up so that the logits spread over a few units and greedy choices are clear.
	let mut output = random("output.weight".into(), vec![n_embd, n_vocab], 4.0);
	for (token, row) in output.data.chunks_mut(n_embd as usize).enumerate() {
		if !is_output_token(token as i32) {
			row.fill(0.0);
		}
	}
	out.push(output);
	for i in 0..spec.n_layer {
		out.push(ones(format!("blk.{i}.attn_norm.weight"), n_embd));
		out.push(random(
			format!("blk.{i}.attn_q.weight"),
			vec![n_embd, n_q],
			1.0,
		));
		out.push(random(
			format!("blk.{i}.attn_k.weight"),
			vec![n_embd, n_kv],
			1.0,
		));
		out.push(random(
			format!("blk.{i}.attn_v.weight"),
			vec![n_embd, n_kv],
			1.0,
		));
		out.push(random(
			format!("blk.{i}.attn_output.weight"),
			vec![n_q, n_embd],
			1.0,
		));
		out.push(ones(format!("blk.{i}.ffn_norm.weight"), n_embd));
		out.push(random(
			format!("blk.{i}.ffn_gate.weight"),
			vec![n_embd, n_ff],
			1.0,
		));
		out.push(random(
			format!("blk.{i}.ffn_up.weight"),
			vec![n_embd, n_ff],
			1.0,
		));
		out.push(random(
			format!("blk.{i}.ffn_down.weight"),
			vec![n_ff, n_embd],
			1.0,
		));
	}
	out
}

#[cfg(test)]
mod tests {
	use super::*;

	fn u32_at(b: &[u8], at: usize) -> u32 {
		u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
	}

	fn u64_at(b: &[u8], at: usize) -> u64 {
		u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
	}

	#[test]
	fn same_spec_same_bytes() {
		let spec = TinyModelSpec::default();
		assert_eq!(tiny_model_bytes(&spec), tiny_model_bytes(&spec.clone()));
	}

	#[test]
	fn different_seeds_differ() {
		let a = tiny_model_bytes(&TinyModelSpec::default());
		let b = tiny_model_bytes(&TinyModelSpec {
			seed: 43,
			..Default::default()
		});
		assert_eq!(a.len(), b.len());
		assert_ne!(a, b);
	}

	#[test]
	fn header_and_layout() {
		let spec = TinyModelSpec::default();
		let b = tiny_model_bytes(&spec);
		assert_eq!(&b[0..4], b"GGUF");
		assert_eq!(u32_at(&b, 4), 3);
		assert_eq!(u64_at(&b, 8), 3 + 9 * spec.n_layer as u64);
		assert_eq!(u64_at(&b, 16), metadata(&spec).len() as u64);
		assert_eq!(b.len() % ALIGNMENT, 0);

		// The data section is the padded sum of the tensors, at the end of the file.
		let ts = tensors(&spec);
		let data: usize = ts.iter().map(|t| padded(t.data.len() * 4)).sum();
		let data_start = b.len() - data;
		assert_eq!(data_start % ALIGNMENT, 0);
		// The first tensor (token_embd) starts the data section.
		assert_eq!(&b[data_start..data_start + 4], &ts[0].data[0].to_le_bytes());
		// Shapes llama.cpp expects for a llama model with this spec.
		let q = &ts[4];
		assert_eq!(q.name, "blk.0.attn_q.weight");
		assert_eq!(q.dims, vec![64, 64]);
		let k = &ts[5];
		assert_eq!(k.name, "blk.0.attn_k.weight");
		assert_eq!(k.dims, vec![64, 32]);
	}

	#[test]
	fn weights_are_small_and_varied() {
		let ts = tensors(&TinyModelSpec::default());
		let q = &ts[4].data;
		let bound = 1.0 / 8.0; // 1/sqrt(64)
		assert!(q.iter().all(|v| v.abs() <= bound));
		let mean = q.iter().sum::<f32>() / q.len() as f32;
		assert!(mean.abs() < 0.01, "mean {mean}");
		assert!(q.iter().any(|v| *v > bound * 0.9) && q.iter().any(|v| *v < -bound * 0.9));
	}

	#[test]
	fn output_rows_of_disallowed_tokens_are_zero() {
		let ts = tensors(&TinyModelSpec::default());
		let output = &ts[2];
		assert_eq!(output.name, "output.weight");
		for (token, row) in output.data.chunks(64).enumerate() {
			let zero = row.iter().all(|v| *v == 0.0);
			assert_eq!(zero, !is_output_token(token as i32), "token {token}");
		}
		assert!(is_output_token(byte_token_id(b'a')));
		assert!(!is_output_token(EOS_ID));
		assert!(!is_output_token(byte_token_id(0x80)));
	}

	#[test]
	fn invalid_specs_are_rejected() {
		let bad = TinyModelSpec {
			n_head: 3,
			..Default::default()
		};
		assert!(bad.validate().is_err());
		let bad = TinyModelSpec {
			n_head_kv: 3,
			..Default::default()
		};
		assert!(bad.validate().is_err());
		let bad = TinyModelSpec {
			n_layer: 0,
			..Default::default()
		};
		assert!(bad.validate().is_err());
		let path = std::env::temp_dir().join("tiny-gguf-never-written.gguf");
		let err = write_tiny_model(&path, &bad).unwrap_err();
		assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
	}
}
