//! Property test of request parsing (audit item 11): random and mutated JSON through the same
//! steps a call takes before it reaches the engine or the chain. Nothing may panic, and every
//! rejection must carry one of the documented codes (`-32602` for parameters that do not
//! deserialize, 4000–4019 otherwise).
//!
//! `FUZZ_CASES` sets the number of cases per target (default 2 000), `FUZZ_SEED` the seed, so a
//! failure can be replayed; a failing case is printed with its input.

use super::{
	auth::{self, ChainJob, JobPhase},
	error::Error,
	server::{
		prepare,
		tests::{resolve, LIMITS, PROFILE},
	},
	types::{hex0x, GenerateParams, JobResultAuth},
};
use inference_primitives::fuzz::{Campaign, Rng};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Map, Value};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::AccountId32;
use std::collections::BTreeMap;

const DEFAULT_CASES: u64 = 2_000;
const DEFAULT_SEED: u64 = 0x5eed_c0de_1234_5678;

/// Cases per harness (`FUZZ_CASES`).
fn cases() -> u64 {
	Campaign::from_env(DEFAULT_CASES, DEFAULT_SEED).cases
}

/// The generator's seed (`FUZZ_SEED`).
fn seed() -> u64 {
	Campaign::from_env(DEFAULT_CASES, DEFAULT_SEED).first_seed
}

const KEYS: &[&str] = &[
	"model",
	"prompt",
	"messages",
	"maxTokens",
	"deterministic",
	"temperature",
	"seed",
	"role",
	"content",
	"signature",
	"sr25519",
	"ed25519",
	"max_tokens",
	"",
	"__proto__",
];

fn string(rng: &mut Rng) -> String {
	match rng.index(9) {
		0 => String::new(),
		1 => "m".into(),
		2 => format!("0x{}", "01".repeat(32)),
		3 => "x".repeat(rng.index(200)),
		4 => "€😀\u{0}\"\\\u{7f}\u{feff}"
			.chars()
			.cycle()
			.take(rng.index(80))
			.collect(),
		5 => format!(
			"0x{}",
			hex::encode(
				(0..rng.index(70))
					.map(|_| rng.next_u64() as u8)
					.collect::<Vec<_>>()
			)
		),
		6 => rng
			.pick(&["user", "system", "assistant", "tool", "USER"])
			.into(),
		7 => "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(),
		_ => (0..rng.index(40))
			.map(|_| char::from_u32(rng.index(0x3000) as u32).unwrap_or('?'))
			.collect(),
	}
}

fn number(rng: &mut Rng) -> Value {
	match rng.index(10) {
		0 => json!(0),
		1 => json!(1),
		2 => json!(-1),
		3 => json!(u32::MAX),
		4 => json!(u64::from(u32::MAX) + 1),
		5 => json!(i64::MIN),
		6 => json!(u64::MAX),
		7 => json!(0.5),
		8 => json!(-1.0e308),
		_ => json!(rng.index(1024)),
	}
}

fn value(rng: &mut Rng, depth: usize) -> Value {
	let kinds = if depth == 0 { 4 } else { 6 };
	match rng.index(kinds) {
		0 => Value::Null,
		1 => Value::Bool(rng.chance(50)),
		2 => number(rng),
		3 => Value::String(string(rng)),
		4 => Value::Array((0..rng.index(4)).map(|_| value(rng, depth - 1)).collect()),
		_ => Value::Object(
			(0..rng.index(5))
				.map(|_| (rng.pick(KEYS).to_string(), value(rng, depth - 1)))
				.collect(),
		),
	}
}

fn message(rng: &mut Rng) -> Value {
	let mut m = Map::new();
	if rng.chance(90) {
		m.insert("role".into(), Value::String(string(rng)));
	}
	if rng.chance(90) {
		m.insert("content".into(), Value::String(string(rng)));
	}
	if rng.chance(10) {
		m.insert(rng.pick(KEYS).into(), value(rng, 1));
	}
	Value::Object(m)
}

/// A valid request with a few random changes: most inputs then get past deserialization and
/// exercise the validation in `prepare`.
fn mutated_params(rng: &mut Rng) -> Value {
	let mut params = json!({"model": "m", "prompt": "hi", "maxTokens": 4});
	let Value::Object(map) = &mut params else {
		unreachable!("an object literal")
	};
	for _ in 0..1 + rng.index(4) {
		let key = rng.pick(KEYS).to_string();
		match rng.index(6) {
			0 => {
				map.remove(&key);
			},
			1 => {
				map.insert(key, value(rng, 2));
			},
			2 => {
				map.insert(
					"messages".into(),
					Value::Array((0..rng.index(4)).map(|_| message(rng)).collect()),
				);
				if rng.chance(70) {
					map.remove("prompt");
				}
			},
			3 => {
				map.insert("maxTokens".into(), number(rng));
			},
			4 => {
				map.insert("model".into(), Value::String(string(rng)));
			},
			_ => {
				map.insert("prompt".into(), Value::String(string(rng)));
			},
		}
	}
	params
}

/// Removes, inserts or replaces characters of `text`: mostly broken JSON.
fn mutated_text(rng: &mut Rng, text: &str) -> String {
	let mut chars: Vec<char> = text.chars().collect();
	for _ in 0..1 + rng.index(3) {
		let at = rng.index(chars.len() + 1);
		let c = rng.pick(&[
			'{', '}', '[', ']', '"', ',', ':', '\\', '0', 'e', '-', '€', ' ',
		]);
		match rng.index(3) {
			0 if at < chars.len() => {
				chars.remove(at);
			},
			1 if at < chars.len() => chars[at] = c,
			_ => chars.insert(at, c),
		}
	}
	chars.into_iter().collect()
}

fn documented(code: i32) -> bool {
	code == jsonrpsee::types::error::ErrorCode::InvalidParams.code()
		|| Error::documented_codes().contains(&code)
}

/// How the cases of one target ended: accepted, or refused with each code.
#[derive(Default)]
struct Tally {
	accepted: usize,
	refused: BTreeMap<i32, usize>,
}

impl Tally {
	/// Runs `case`, turning a panic or an undocumented code into a failure that shows the
	/// input.
	fn run(&mut self, input: &str, case: impl FnOnce() -> Result<(), i32>) {
		match std::panic::catch_unwind(std::panic::AssertUnwindSafe(case)) {
			Ok(Ok(())) => self.accepted += 1,
			Ok(Err(code)) => {
				assert!(
					documented(code),
					"undocumented code {code} for input {input}"
				);
				*self.refused.entry(code).or_default() += 1;
			},
			Err(_) => panic!("panicked on input {input}"),
		}
	}

	/// Prints the tally (`cargo test -- --nocapture` shows it) and checks that the generator
	/// reached the success path too, not only refusals.
	fn finish(self, target: &str) {
		eprintln!(
			"{target}: {} accepted, refused by code {:?}",
			self.accepted, self.refused
		);
		if cases() >= 200 {
			assert!(self.accepted > 0, "{target}: no case was accepted");
		}
	}
}

fn code(e: ErrorObjectOwned) -> i32 {
	e.code()
}

/// The first parameter as the generated server code parses it.
fn generate_case(text: &str, clock: u64) -> Result<(), i32> {
	let params: GenerateParams = Params::new(Some(text)).sequence().next().map_err(code)?;
	let prepared = prepare(params, &LIMITS, resolve, PROFILE, clock).map_err(|e| e.code())?;
	// What passed must be within the limits the engine is promised.
	let request = &prepared.request;
	assert!(request.max_tokens >= 1 && request.max_tokens <= LIMITS.max_tokens);
	let bytes = match &request.input {
		inference_engine::Input::Text(t) => t.len(),
		inference_engine::Input::Chat { messages: m, .. } => {
			assert!(!m.is_empty());
			m.iter().map(|m| m.role.len() + m.content.len()).sum()
		},
	};
	assert!(bytes <= LIMITS.max_prompt_bytes);
	assert_eq!(request.profile, PROFILE);
	Ok(())
}

#[test]
fn fuzz_generate_params() {
	let mut rng = Rng::new(seed());
	let mut tally = Tally::default();
	for _ in 0..cases() {
		let input = match rng.index(3) {
			0 => value(&mut rng, 3),
			_ => mutated_params(&mut rng),
		};
		let mut text = Value::Array(vec![input]).to_string();
		if rng.chance(20) {
			text = mutated_text(&mut rng, &text);
		}
		let clock = rng.next_u64();
		tally.run(&text, || generate_case(&text, clock));
	}
	tally.finish("inference_generate params");
}

const GENESIS: [u8; 32] = [7; 32];
const NODE: [u8; 32] = [9; 32];

fn owner() -> sr25519::Pair {
	sr25519::Pair::from_string("//FuzzOwner", None).expect("dev seed")
}

/// A plausible or random `auth` value.
fn auth_value(rng: &mut Rng, owner: &sr25519::Pair, job_id: u64) -> Value {
	match rng.index(4) {
		0 => value(rng, 2),
		1 => {
			let scheme = rng.pick(&["sr25519", "ed25519", "ecdsa"]);
			let signature = string(rng);
			json!({ "signature": { scheme: signature } })
		},
		_ => {
			let payload = auth::job_result_auth_payload(&GENESIS, job_id, &NODE);
			let mut hex = hex0x(&owner.sign(&payload).0);
			if rng.chance(50) {
				// Flip one hex digit (never the `0x`).
				let at = 2 + rng.index(hex.len() - 2);
				let flipped = if &hex[at..=at] == "0" { "1" } else { "0" };
				hex.replace_range(at..=at, flipped);
			}
			json!({ "signature": { "sr25519": hex } })
		},
	}
}

/// `inference_jobResult(jobId, auth?, at?)`'s parameters as the generated server code parses
/// them, then the authorization check.
fn job_result_case(text: &str, owner: &AccountId32, rng_bits: u64) -> Result<(), i32> {
	let params = Params::new(Some(text));
	let mut seq = params.sequence();
	let job_id: u64 = seq.next().map_err(code)?;
	let auth: Option<JobResultAuth> = seq.optional_next().map_err(code)?;
	let _at: Option<H256> = seq.optional_next().map_err(code)?;
	let digest = [1u8; 32];
	let stored = if rng_bits & 1 == 0 {
		[1u8; 32]
	} else {
		[2u8; 32]
	};
	let chain = ChainJob {
		phase: if rng_bits & 2 == 0 {
			JobPhase::Pending
		} else {
			JobPhase::Settled
		},
		digest: &digest,
		owner,
		pending_at_best: rng_bits & 4 == 0,
	};
	let node = (rng_bits & 8 == 0).then_some(&NODE);
	auth::check_job_access(job_id, &chain, &stored, auth.as_ref(), &GENESIS, node)
		.map_err(|e| e.code())?;
	if let Some(auth) = &auth {
		// An authorization `check_job_access` did not need must still be checkable, and fail
		// only as "bad auth".
		if let Err(e) = auth::verify_job_result_auth(auth, owner, &GENESIS, job_id, &NODE) {
			assert_eq!(e.code(), super::error::codes::BAD_AUTH);
		}
	}
	Ok(())
}

#[test]
fn fuzz_job_result_params() {
	let mut rng = Rng::new(seed() ^ 0x0b5e_55ed);
	let owner_pair = owner();
	let owner = AccountId32::from(owner_pair.public().0);
	let mut tally = Tally::default();
	for _ in 0..cases() {
		let job_id = if rng.chance(70) {
			rng.index(4) as u64
		} else {
			rng.next_u64()
		};
		let mut params = vec![if rng.chance(85) {
			json!(job_id)
		} else {
			value(&mut rng, 1)
		}];
		if rng.chance(80) {
			params.push(if rng.chance(15) {
				Value::Null
			} else {
				auth_value(&mut rng, &owner_pair, job_id)
			});
			if rng.chance(50) {
				params.push(match rng.index(3) {
					0 => json!(hex0x(&[rng.next_u64() as u8; 32])),
					1 => Value::Null,
					_ => value(&mut rng, 1),
				});
			}
		}
		let mut text = Value::Array(params).to_string();
		if rng.chance(10) {
			text = mutated_text(&mut rng, &text);
		}
		let bits = rng.next_u64();
		tally.run(&text, || job_result_case(&text, &owner, bits));
	}
	tally.finish("inference_jobResult params");
}

#[test]
fn fuzz_accounts() {
	let mut rng = Rng::new(seed() ^ 0xacc0);
	let mut tally = Tally::default();
	for _ in 0..cases() {
		let text = string(&mut rng);
		tally.run(&text, || {
			auth::parse_account(&text).map(|_| ()).map_err(|e| e.code())
		});
	}
	tally.finish("inference_keyOwnershipProof account");
}
