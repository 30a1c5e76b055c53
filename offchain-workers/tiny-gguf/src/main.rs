//! `gen-tiny-gguf OUTPUT_PATH [--seed N]`: writes the default tiny random llama model (with the
//! given seed) to OUTPUT_PATH and prints its size and SHA-256.

use std::{path::PathBuf, process::ExitCode};
use tiny_gguf::{tiny_model_bytes, TinyModelSpec};

const USAGE: &str = "usage: gen-tiny-gguf OUTPUT_PATH [--seed N]";

fn parse_args(args: &[String]) -> Result<(PathBuf, TinyModelSpec), String> {
	let mut path = None;
	let mut spec = TinyModelSpec::default();
	let mut it = args.iter();
	while let Some(arg) = it.next() {
		match arg.as_str() {
			"--seed" => {
				let v = it.next().ok_or("--seed needs a value")?;
				spec.seed = v.parse().map_err(|e| format!("bad --seed {v:?}: {e}"))?;
			},
			"-h" | "--help" => return Err(String::new()),
			s if s.starts_with('-') => return Err(format!("unknown option {s}")),
			s if path.is_none() => path = Some(PathBuf::from(s)),
			s => return Err(format!("unexpected argument {s}")),
		}
	}
	Ok((path.ok_or("missing OUTPUT_PATH")?, spec))
}

fn main() -> ExitCode {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let (path, spec) = match parse_args(&args) {
		Ok(v) => v,
		Err(e) => {
			if !e.is_empty() {
				eprintln!("error: {e}");
			}
			eprintln!("{USAGE}");
			return ExitCode::from(2);
		},
	};
	let bytes = tiny_model_bytes(&spec);
	if let Err(e) = std::fs::write(&path, &bytes) {
		eprintln!("error: writing {}: {e}", path.display());
		return ExitCode::FAILURE;
	}
	println!(
		"wrote {} ({} bytes, seed {})",
		path.display(),
		bytes.len(),
		spec.seed
	);
	println!("sha256 {}", hex(&sha256(&bytes)));
	ExitCode::SUCCESS
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `data` (the same crate the engine's model store hashes with).
fn sha256(data: &[u8]) -> [u8; 32] {
	use sha2::Digest;
	sha2::Sha256::digest(data).into()
}
