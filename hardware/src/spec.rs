//! The hardware specification (`hardware/spec.toml`): tiers, each with required and
//! recommended minimums. The file is compiled into the checker ([`Spec::builtin`]) so a node
//! binary checks against the specification it was built with; `--spec` reads another one.

use crate::probe::Vendor;
use serde::Deserialize;

/// The specification's text as built into this crate.
pub const BUILTIN: &str = include_str!("../spec.toml");

/// A parsed specification.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
	/// What the benchmark figure of the tiers means.
	pub benchmark: BenchmarkSpec,
	/// The tiers, weakest first.
	#[serde(rename = "tier")]
	pub tiers: Vec<Tier>,
}

/// The short inference benchmark the tiers' `generation_tokens_per_second` refers to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkSpec {
	/// The model, by its `name` in `runtime/models.json`.
	pub model: String,
	/// The prompt.
	pub prompt: String,
	/// Tokens generated per run (greedy).
	pub tokens: u32,
}

/// One tier.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
	/// `development`, `prototype`, `production`.
	pub name: String,
	/// What a machine of this tier is for.
	pub description: String,
	/// A machine that misses one of these fails the tier.
	pub required: Requirements,
	/// Missing one of these is reported, but the tier still passes.
	#[serde(default)]
	pub recommended: Requirements,
}

/// Minimums; an absent field is not checked.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
	/// Logical CPUs (hardware threads).
	pub logical_cpus: Option<u32>,
	/// Physical cores.
	pub physical_cores: Option<u32>,
	/// The x86-64 microarchitecture level (the engine's determinism class is built for one).
	pub x86_64_level: Option<u8>,
	/// Further `/proc/cpuinfo` flags.
	pub cpu_flags: Option<Vec<String>>,
	/// Memory in GiB.
	pub memory_gib: Option<u32>,
	/// Capacity of the largest disk in GB (10^9 bytes, as disks are sold).
	pub disk_gb: Option<u32>,
	/// Whether the largest disk must be solid-state.
	pub ssd: Option<bool>,
	/// Link speed of the fastest physical NIC in Mb/s.
	pub nic_mbps: Option<u32>,
	/// Memory of the largest accelerator in GiB.
	pub accelerator_memory_gib: Option<u32>,
	/// Accelerator vendors accepted for `accelerator_memory_gib`.
	pub accelerator_vendors: Option<Vec<Vendor>>,
	/// Whether the firmware must be coreboot (Libreboot).
	pub coreboot: Option<bool>,
	/// Whether the kernel must be PREEMPT_RT.
	pub realtime_kernel: Option<bool>,
	/// Generation speed of the benchmark in tokens per second.
	pub generation_tokens_per_second: Option<f64>,
}

impl<'de> Deserialize<'de> for Vendor {
	fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
		let name = String::deserialize(d)?;
		match name.as_str() {
			"nvidia" => Ok(Vendor::Nvidia),
			"amd" => Ok(Vendor::Amd),
			"intel" => Ok(Vendor::Intel),
			other => Err(serde::de::Error::custom(format!(
				"unknown accelerator vendor `{other}` (nvidia, amd, intel)"
			))),
		}
	}
}

impl Spec {
	/// Parses a specification.
	pub fn parse(text: &str) -> Result<Self, String> {
		let spec: Spec = toml::from_str(text).map_err(|e| format!("hardware spec: {e}"))?;
		if spec.tiers.is_empty() {
			return Err("hardware spec: no [[tier]]".into());
		}
		Ok(spec)
	}

	/// The specification built into this crate (`hardware/spec.toml`; a unit test parses it,
	/// so this fails only on a build whose tests were not run).
	pub fn builtin() -> Result<Self, String> {
		Self::parse(BUILTIN)
	}

	/// The tier called `name`.
	pub fn tier(&self, name: &str) -> Result<&Tier, String> {
		self.tiers.iter().find(|t| t.name == name).ok_or_else(|| {
			let names: Vec<&str> = self.tiers.iter().map(|t| t.name.as_str()).collect();
			format!(
				"no tier `{name}` in the hardware spec (tiers: {})",
				names.join(", ")
			)
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_builtin_spec_parses_and_its_tiers_grow() {
		let spec = Spec::parse(BUILTIN).expect("hardware/spec.toml parses");
		let names: Vec<&str> = spec.tiers.iter().map(|t| t.name.as_str()).collect();
		assert_eq!(names, ["development", "prototype", "production"]);
		// Every tier asks at least what the one below asks.
		for pair in spec.tiers.windows(2) {
			let (lo, hi) = (&pair[0].required, &pair[1].required);
			assert!(hi.logical_cpus >= lo.logical_cpus);
			assert!(hi.memory_gib >= lo.memory_gib);
			assert!(hi.disk_gb >= lo.disk_gb);
			assert!(hi.x86_64_level >= lo.x86_64_level);
			assert!(hi.generation_tokens_per_second >= lo.generation_tokens_per_second);
		}
	}

	#[test]
	fn a_misspelt_requirement_is_an_error_not_ignored() {
		let text = BUILTIN.replacen("memory_gib", "memroy_gib", 1);
		let err = Spec::parse(&text).unwrap_err();
		assert!(err.contains("memroy_gib"), "{err}");
		let spec = Spec::builtin().expect("parses");
		let err = spec.tier("datacenter").unwrap_err();
		assert!(err.contains("development, prototype, production"), "{err}");
	}
}
