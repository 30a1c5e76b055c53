//! `cognitive-node hardware …`: this machine against a tier of `hardware/spec.toml` (with a
//! short inference benchmark on the network's genesis model), and the node registry's capability
//! declaration made from the same measurements, so an operator sends what the machine has
//! rather than what they typed.

use crate::model_cmd::StoreArgs;
use codec::Encode;
use cognitive_hardware::{Benchmark, Capabilities, Machine, Measured, Probe, Spec, Vendor};
use pallet_node_registry::Accelerator;
use serde::Serialize;
use std::path::PathBuf;

/// `cognitive-node hardware`.
#[derive(Debug, clap::Subcommand)]
pub enum HardwareCmd {
	/// Check this machine against a tier of the hardware specification: pass, fail or unknown
	/// per requirement with the measured value, then a short inference benchmark. Exit status 0
	/// when the tier is met, 1 when a requirement fails, 2 when nothing fails but something
	/// could not be measured.
	Check {
		/// The tier: development, prototype or production.
		#[arg(long, default_value = "development")]
		tier: String,
		/// Print the report as JSON (the measurements included).
		#[arg(long)]
		json: bool,
		/// Read `proc/` and `sys/` below this directory instead of the running system (a copy
		/// taken on another machine). Runs no benchmark.
		#[arg(long, value_name = "DIR")]
		root: Option<PathBuf>,
		/// Check against this specification file instead of the one built into the node.
		#[arg(long, value_name = "FILE")]
		spec: Option<PathBuf>,
		/// Skip the inference benchmark (its requirement is then reported unknown).
		#[arg(long)]
		no_bench: bool,
		/// Where the benchmark's model is.
		#[clap(flatten)]
		store: StoreArgs,
	},
	/// Print the capabilities this machine supports, as `nodeRegistry.register` and
	/// `nodeRegistry.updateCapabilities` take them, and the SCALE-encoded `updateCapabilities`
	/// call (paste it into Polkadot.js Apps, Developer → Extrinsics → Decode).
	Capabilities {
		/// Print JSON instead of text.
		#[arg(long)]
		json: bool,
		/// Read `proc/` and `sys/` below this directory instead of the running system.
		#[arg(long, value_name = "DIR")]
		root: Option<PathBuf>,
	},
}

impl HardwareCmd {
	/// Runs the command; returns the process exit status.
	pub fn run(&self) -> Result<i32, String> {
		match self {
			HardwareCmd::Check {
				tier,
				json,
				root,
				spec,
				no_bench,
				store,
			} => {
				let spec = match spec {
					Some(path) => Spec::parse(
						&std::fs::read_to_string(path)
							.map_err(|e| format!("cannot read {}: {e}", path.display()))?,
					)?,
					None => Spec::builtin()?,
				};
				let tier = spec.tier(tier)?;
				let machine = probe(root.as_ref()).machine();
				let benchmark = if *no_bench {
					Measured::unknown("skipped (--no-bench)")
				} else if root.is_some() {
					Measured::unknown("not run: --root reads another machine's files")
				} else {
					if !json {
						eprintln!(
							"benchmarking {} ({} tokens, greedy)...",
							spec.benchmark.model, spec.benchmark.tokens
						);
					}
					bench(&spec, &machine, store)
						.map_or_else(|e| Measured::Unknown { reason: e }, Measured::known)
				};
				let report = cognitive_hardware::check(machine, benchmark, tier);
				if *json {
					println!("{}", to_json(&report)?);
				} else {
					print!("{report}");
				}
				Ok(report.verdict.exit_code())
			},
			HardwareCmd::Capabilities { json, root } => {
				let measured = Capabilities::measure(&probe(root.as_ref()).machine())?;
				let view = CapabilitiesView::from(&measured);
				let call = cognitive_runtime::RuntimeCall::NodeRegistry(
					pallet_node_registry::Call::update_capabilities {
						capabilities: on_chain(&measured)?,
					},
				);
				let call_hex = format!("0x{}", hex::encode(call.encode()));
				if *json {
					println!(
						"{}",
						to_json(
							&serde_json::json!({ "capabilities": view, "updateCapabilitiesCall": call_hex })
						)?
					);
				} else {
					println!(
						"capabilities (as nodeRegistry.register and updateCapabilities take them):"
					);
					println!("{}", to_json(&view)?);
					println!("nodeRegistry.updateCapabilities call: {call_hex}");
				}
				Ok(0)
			},
		}
	}
}

/// This machine's capabilities, measured on first use and kept: the hardware does not change
/// under a running node, and NVIDIA's memory figure costs a process start.
pub fn measured_once() -> &'static Option<CapabilitiesView> {
	static MEASURED: std::sync::OnceLock<Option<CapabilitiesView>> = std::sync::OnceLock::new();
	MEASURED.get_or_init(|| {
		Capabilities::measure(&Probe::system().machine())
			.map(|c| CapabilitiesView::from(&c))
			.map_err(|e| log::warn!(target: "inference", "cannot measure this machine: {e}"))
			.ok()
	})
}

fn probe(root: Option<&PathBuf>) -> Probe {
	root.map_or_else(Probe::system, Probe::at)
}

fn to_json(value: &impl Serialize) -> Result<String, String> {
	serde_json::to_string_pretty(value).map_err(|e| format!("cannot print JSON: {e}"))
}

/// The capability declaration as Polkadot.js writes it (camelCase fields, enum variants by
/// name), also reported by `inference_nodeInfo`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesView {
	/// Logical CPUs.
	pub cpu_cores: u16,
	/// Memory in MiB.
	pub ram_mib: u32,
	/// Accelerator memory in MiB.
	pub gpu_memory_mib: u32,
	/// `Cpu`, then `Cuda` for NVIDIA and `Rocm` for AMD accelerators whose memory was measured.
	pub accelerators: Vec<&'static str>,
	/// Model formats the engine loads.
	pub model_formats: Vec<&'static str>,
	/// This build's determinism class.
	pub class: crate::inference::rpc::types::EngineClassView,
}

fn accelerators(measured: &Capabilities) -> Vec<(Accelerator, &'static str)> {
	// The CPU always: it is the deterministic path every on-chain job runs on.
	let mut out = vec![(Accelerator::Cpu, "Cpu")];
	for vendor in &measured.accelerator_vendors {
		match vendor {
			Vendor::Nvidia => out.push((Accelerator::Cuda, "Cuda")),
			Vendor::Amd => out.push((Accelerator::Rocm, "Rocm")),
			Vendor::Intel | Vendor::Other => {},
		}
	}
	out
}

impl From<&Capabilities> for CapabilitiesView {
	fn from(c: &Capabilities) -> Self {
		CapabilitiesView {
			cpu_cores: c.cpu_cores,
			ram_mib: c.ram_mib,
			gpu_memory_mib: c.gpu_memory_mib,
			accelerators: accelerators(c).into_iter().map(|(_, name)| name).collect(),
			model_formats: vec!["Gguf"],
			class: crate::inference::rpc::types::EngineClassView::of_this_build(),
		}
	}
}

/// The runtime's `Capabilities` for these measurements and this build's engine class.
pub fn on_chain(c: &Capabilities) -> Result<pallet_node_registry::Capabilities, String> {
	let class = inference_engine::engine_class();
	let text = |bytes: Vec<u8>| {
		pallet_model_registry::ShortText::try_from(bytes)
			.map_err(|_| "engine class text longer than the chain allows".to_string())
	};
	Ok(pallet_node_registry::Capabilities {
		cpu_cores: c.cpu_cores,
		ram_mib: c.ram_mib,
		gpu_memory_mib: c.gpu_memory_mib,
		accelerators: accelerators(c)
			.into_iter()
			.map(|(a, _)| a)
			.collect::<Vec<_>>()
			.try_into()
			.map_err(|_| "more accelerator kinds than the chain allows")?,
		model_formats: vec![pallet_model_registry::ModelFormat::Gguf]
			.try_into()
			.map_err(|_| "more model formats than the chain allows")?,
		class: pallet_model_registry::DeterminismClass {
			engine: text(class.engine)?,
			engine_version: text(class.engine_version)?,
			cpu_target: text(class.cpu_target)?,
		},
	})
}

/// The benchmark of the specification: its model from the store, greedy, on every logical CPU,
/// one unmeasured run first (page cache, allocator, thread pool), then one measured run
/// (`cognitive-node bench` runs the same on every model).
fn bench(spec: &Spec, machine: &Machine, store: &StoreArgs) -> Result<Benchmark, String> {
	let (_, model) = cognitive_runtime::genesis_config_presets::known_models()
		.into_iter()
		.find(|(_, m)| m.name.as_slice() == spec.benchmark.model.as_bytes())
		.ok_or_else(|| {
			format!(
				"the benchmark model {} is not one of the network's models",
				spec.benchmark.model
			)
		})?;
	let store = store.open()?;
	let stored = store.resolve(&hex::encode(model.sha256)).map_err(|e| {
		format!(
			"the benchmark model {} is not in the model store ({e}); install it with \
			 scripts/install-models.sh or `cognitive-node model import`",
			spec.benchmark.model
		)
	})?;
	let threads = machine
		.cpu
		.logical_cpus
		.value()
		.copied()
		.unwrap_or(1)
		.max(1);
	let done = crate::bench_cmd::measure(
		&store,
		&stored,
		&spec.benchmark.prompt,
		spec.benchmark.tokens,
		threads as i32,
		1,
	)?;
	// A model that stops early (end of sequence) leaves too few tokens to time.
	if done.generation_tokens < (spec.benchmark.tokens as usize).div_ceil(2) {
		return Err(format!(
			"the model stopped after {} of {} tokens: too few to measure (change the \
			 benchmark prompt)",
			done.generation_tokens, spec.benchmark.tokens
		));
	}
	Ok(Benchmark {
		model: spec.benchmark.model.clone(),
		threads,
		prompt_tokens_per_second: done.prompt_tokens_per_second,
		generation_tokens_per_second: done.generation_tokens_per_second,
		tokens: done.generation_tokens as u32,
	})
}
