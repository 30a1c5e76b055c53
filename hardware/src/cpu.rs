//! The CPU as `/proc/cpuinfo` describes it: model, logical CPUs, physical cores, feature flags
//! and the x86-64 microarchitecture level those flags reach.
//!
//! The flags are the kernel's view: a feature the kernel does not enable (AVX without OS support
//! for saving its registers, for instance) is absent, which is what a program can actually use.

use crate::Measured;
use serde::Serialize;
use std::collections::BTreeSet;

/// What the machine's CPU offers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cpu {
	/// Model name of the first CPU (`model name`).
	pub model: Measured<String>,
	/// Logical CPUs (hardware threads) the kernel runs on.
	pub logical_cpus: Measured<u32>,
	/// Physical cores: distinct (`physical id`, `core id`) pairs.
	pub physical_cores: Measured<u32>,
	/// The x86-64 microarchitecture level (1 to 4) every logical CPU reaches.
	pub x86_64_level: Measured<u8>,
	/// Feature flags common to every logical CPU.
	pub flags: Measured<BTreeSet<String>>,
	/// Whether the kernel runs under a hypervisor (the `hypervisor` flag).
	pub virtualized: Measured<bool>,
}

/// The `/proc/cpuinfo` flags each x86-64 level adds to the one below, as the x86-64 psABI
/// defines the levels (kernel flag names: `pni` is SSE3, `abm` carries LZCNT).
pub const X86_64_LEVELS: [(u8, &[&str]); 4] = [
	(
		1,
		&[
			"lm", "cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2",
		],
	),
	(
		2,
		&[
			"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3",
		],
	),
	(
		3,
		&[
			"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave",
		],
	),
	(
		4,
		&["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
	),
];

/// The highest x86-64 level whose flags (and those of every level below) are all in `flags`;
/// 0 when even the baseline is incomplete.
pub fn x86_64_level(flags: &BTreeSet<String>) -> u8 {
	let mut level = 0;
	for (n, needed) in X86_64_LEVELS {
		if needed.iter().all(|f| flags.contains(*f)) {
			level = n;
		} else {
			break;
		}
	}
	level
}

/// The flags of `level` and every level below it, for a report of what is missing.
pub fn level_flags(level: u8) -> impl Iterator<Item = &'static str> {
	X86_64_LEVELS
		.into_iter()
		.filter(move |(n, _)| *n <= level)
		.flat_map(|(_, flags)| flags.iter().copied())
}

/// Parses the text of `/proc/cpuinfo` (`None` when the file could not be read, with why).
pub fn parse(cpuinfo: Result<String, String>) -> Cpu {
	let text = match cpuinfo {
		Ok(text) => text,
		Err(why) => {
			return Cpu {
				model: Measured::unknown(&why),
				logical_cpus: Measured::unknown(&why),
				physical_cores: Measured::unknown(&why),
				x86_64_level: Measured::unknown(&why),
				flags: Measured::unknown(&why),
				virtualized: Measured::unknown(&why),
			};
		},
	};
	// One block per logical CPU, separated by blank lines.
	let blocks: Vec<Vec<(&str, &str)>> = text
		.split("\n\n")
		.map(|block| {
			block
				.lines()
				.filter_map(|line| line.split_once(':'))
				.map(|(k, v)| (k.trim(), v.trim()))
				.collect::<Vec<_>>()
		})
		.filter(|fields| fields.iter().any(|(k, _)| *k == "processor"))
		.collect();
	let field = |block: &[(&str, &str)], key: &str| -> Option<String> {
		block
			.iter()
			.find(|(k, _)| *k == key)
			.map(|(_, v)| v.to_string())
	};

	let logical_cpus = if blocks.is_empty() {
		Measured::unknown("/proc/cpuinfo lists no processor")
	} else {
		Measured::known(blocks.len() as u32)
	};
	let model = blocks
		.first()
		.and_then(|b| field(b, "model name"))
		.map_or_else(
			|| Measured::unknown("/proc/cpuinfo has no `model name`"),
			Measured::known,
		);

	let mut cores = BTreeSet::new();
	let mut every_block_has_ids = !blocks.is_empty();
	for block in &blocks {
		match (field(block, "physical id"), field(block, "core id")) {
			(Some(package), Some(core)) => {
				cores.insert((package, core));
			},
			_ => every_block_has_ids = false,
		}
	}
	let physical_cores = if every_block_has_ids {
		Measured::known(cores.len() as u32)
	} else {
		Measured::unknown("/proc/cpuinfo has no `physical id`/`core id` topology")
	};

	// The flags every logical CPU has: a program may be scheduled on any of them.
	let mut common: Option<BTreeSet<String>> = None;
	for block in &blocks {
		let Some(line) = field(block, "flags") else {
			common = None;
			break;
		};
		let set: BTreeSet<String> = line.split_whitespace().map(str::to_owned).collect();
		common = Some(match common {
			None => set,
			Some(prev) => prev.intersection(&set).cloned().collect(),
		});
	}
	let (flags, x86_64_level, virtualized) = match common {
		Some(flags) => {
			let level = if flags.contains("lm") {
				Measured::known(x86_64_level(&flags))
			} else {
				Measured::unknown("not an x86-64 CPU (no `lm` flag)")
			};
			let virtualized = Measured::known(flags.contains("hypervisor"));
			(Measured::known(flags), level, virtualized)
		},
		None => {
			let why = "/proc/cpuinfo has no x86 `flags` line";
			(
				Measured::unknown(why),
				Measured::unknown(why),
				Measured::unknown(why),
			)
		},
	};
	Cpu {
		model,
		logical_cpus,
		physical_cores,
		x86_64_level,
		flags,
		virtualized,
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn flags(level: u8) -> BTreeSet<String> {
		level_flags(level).map(str::to_owned).collect()
	}

	#[test]
	fn each_level_needs_all_its_flags_and_those_below() {
		for level in 1..=4 {
			assert_eq!(x86_64_level(&flags(level)), level);
		}
		let mut no_fma = flags(4);
		no_fma.remove("fma");
		assert_eq!(
			x86_64_level(&no_fma),
			2,
			"AVX-512 without FMA is still only v2"
		);
		assert_eq!(x86_64_level(&BTreeSet::new()), 0);
	}

	#[test]
	fn a_flag_missing_on_one_cpu_is_missing() {
		let all = level_flags(3).collect::<Vec<_>>().join(" ");
		let partial = level_flags(2).collect::<Vec<_>>().join(" ");
		let text = format!(
			"processor\t: 0\nphysical id\t: 0\ncore id\t: 0\nflags\t: {all}\n\n\
			 processor\t: 1\nphysical id\t: 0\ncore id\t: 0\nflags\t: {partial}\n"
		);
		let cpu = parse(Ok(text));
		assert_eq!(cpu.logical_cpus, Measured::known(2));
		assert_eq!(
			cpu.physical_cores,
			Measured::known(1),
			"two threads of one core"
		);
		assert_eq!(cpu.x86_64_level, Measured::known(2));
		assert_eq!(cpu.virtualized, Measured::known(false));
	}

	#[test]
	fn an_unreadable_or_foreign_cpuinfo_is_unknown_not_zero() {
		let cpu = parse(Err("cannot read /proc/cpuinfo: denied".into()));
		assert!(cpu.logical_cpus.value().is_none());
		assert!(cpu.x86_64_level.value().is_none());

		// aarch64's /proc/cpuinfo: processors, no x86 flags or topology.
		let cpu = parse(Ok(
			"processor\t: 0\nFeatures\t: fp asimd\n\nprocessor\t: 1\n".into(),
		));
		assert_eq!(cpu.logical_cpus, Measured::known(2));
		assert!(cpu.physical_cores.value().is_none());
		assert!(cpu.x86_64_level.value().is_none());
	}
}
