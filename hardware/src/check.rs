//! A machine against a tier: one [`Check`] per requirement, each pass, fail or unknown, and a
//! verdict. An unknown measurement never passes.

use crate::{
	probe::{Machine, Vendor},
	spec::{Requirements, Tier},
	Measured,
};
use serde::Serialize;
use std::fmt;

/// The outcome of one requirement, or of a whole tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
	/// Measured and good enough.
	Pass,
	/// Measured and short of the minimum.
	Fail,
	/// Could not be measured here.
	Unknown,
}

impl Status {
	/// The process exit status of a verdict: 0 pass, 1 fail, 2 could not be decided.
	pub fn exit_code(self) -> i32 {
		match self {
			Status::Pass => 0,
			Status::Fail => 1,
			Status::Unknown => 2,
		}
	}
}

/// Whether a failed requirement fails the tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
	/// Fails the tier.
	Required,
	/// Reported only.
	Recommended,
}

/// One requirement checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
	/// The requirement's key in `spec.toml`.
	pub requirement: &'static str,
	/// Required or recommended.
	pub level: Level,
	/// The minimum, in words (`>= 32 GiB`).
	pub wanted: String,
	/// What was measured (`24 GiB`), or `unknown`.
	pub measured: String,
	/// The outcome.
	pub status: Status,
	/// Why, when it did not pass (or what was measured on).
	pub reason: String,
}

/// The short inference benchmark's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Benchmark {
	/// The model's name.
	pub model: String,
	/// Threads per generation.
	pub threads: u32,
	/// Prompt tokens processed per second.
	pub prompt_tokens_per_second: f64,
	/// Tokens generated per second.
	pub generation_tokens_per_second: f64,
	/// Tokens generated per run.
	pub tokens: u32,
}

/// A machine checked against one tier.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
	/// The tier's name.
	pub tier: String,
	/// Fail if a required check failed, else unknown if one is unknown, else pass.
	pub verdict: Status,
	/// Every requirement, required ones first.
	pub checks: Vec<Check>,
	/// What was measured.
	pub machine: Machine,
	/// The benchmark, if it ran.
	pub benchmark: Measured<Benchmark>,
}

/// Checks `machine` (and the `benchmark` run on it) against `tier`.
pub fn check(machine: Machine, benchmark: Measured<Benchmark>, tier: &Tier) -> Report {
	let mut checks = requirements(&machine, &benchmark, &tier.required, Level::Required);
	checks.extend(requirements(
		&machine,
		&benchmark,
		&tier.recommended,
		Level::Recommended,
	));
	let required = checks.iter().filter(|c| c.level == Level::Required);
	let verdict = if required.clone().any(|c| c.status == Status::Fail) {
		Status::Fail
	} else if required.clone().any(|c| c.status == Status::Unknown) {
		Status::Unknown
	} else {
		Status::Pass
	};
	Report {
		tier: tier.name.clone(),
		verdict,
		checks,
		machine,
		benchmark,
	}
}

/// A check of a measured number against a minimum.
fn at_least<T: PartialOrd + fmt::Display>(
	requirement: &'static str,
	level: Level,
	wanted: T,
	measured: &Measured<T>,
	unit: &str,
) -> Check {
	let wanted_text = format!(">= {wanted}{unit}");
	match measured {
		Measured::Known { value } => Check {
			requirement,
			level,
			wanted: wanted_text,
			measured: format!("{value}{unit}"),
			status: if *value >= wanted {
				Status::Pass
			} else {
				Status::Fail
			},
			reason: String::new(),
		},
		Measured::Unknown { reason } => unknown(requirement, level, wanted_text, reason),
	}
}

fn unknown(requirement: &'static str, level: Level, wanted: String, reason: &str) -> Check {
	Check {
		requirement,
		level,
		wanted,
		measured: "unknown".into(),
		status: Status::Unknown,
		reason: reason.into(),
	}
}

fn is(requirement: &'static str, level: Level, wanted: bool, measured: &Measured<bool>) -> Check {
	let words = |b: bool| if b { "yes" } else { "no" };
	match measured {
		Measured::Known { value } => Check {
			requirement,
			level,
			wanted: words(wanted).into(),
			measured: words(*value).into(),
			status: if *value == wanted {
				Status::Pass
			} else {
				Status::Fail
			},
			reason: String::new(),
		},
		Measured::Unknown { reason } => unknown(requirement, level, words(wanted).into(), reason),
	}
}

fn requirements(
	m: &Machine,
	bench: &Measured<Benchmark>,
	r: &Requirements,
	level: Level,
) -> Vec<Check> {
	let mut out = Vec::new();
	if let Some(n) = r.logical_cpus {
		out.push(at_least("logical_cpus", level, n, &m.cpu.logical_cpus, ""));
	}
	if let Some(n) = r.physical_cores {
		out.push(at_least(
			"physical_cores",
			level,
			n,
			&m.cpu.physical_cores,
			"",
		));
	}
	if let Some(n) = r.x86_64_level {
		let mut c = at_least("x86_64_level", level, n, &m.cpu.x86_64_level, "");
		c.wanted = format!(">= x86-64-v{n}");
		if let Measured::Known { value } = &m.cpu.x86_64_level {
			c.measured = format!("x86-64-v{value}");
		}
		if let (Status::Fail, Measured::Known { value: flags }) = (c.status, &m.cpu.flags) {
			let missing: Vec<&str> = crate::cpu::level_flags(n)
				.filter(|f| !flags.contains(*f))
				.collect();
			c.reason = format!(
				"missing {}; the engine is compiled for this level, so the node could not run \
				 its determinism class",
				missing.join(" ")
			);
		}
		out.push(c);
	}
	if let Some(wanted) = &r.cpu_flags {
		out.push(match &m.cpu.flags {
			Measured::Known { value: flags } => {
				let missing: Vec<&str> = wanted
					.iter()
					.map(String::as_str)
					.filter(|f| !flags.contains(*f))
					.collect();
				Check {
					requirement: "cpu_flags",
					level,
					wanted: wanted.join(" "),
					measured: if missing.is_empty() {
						"all present".into()
					} else {
						"missing".into()
					},
					status: if missing.is_empty() {
						Status::Pass
					} else {
						Status::Fail
					},
					reason: if missing.is_empty() {
						String::new()
					} else {
						format!("missing {}", missing.join(" "))
					},
				}
			},
			Measured::Unknown { reason } => unknown("cpu_flags", level, wanted.join(" "), reason),
		});
	}
	if let Some(gib) = r.memory_gib {
		// MemTotal is what the kernel has left after its own reservations, a little under the
		// installed size; 5% slack keeps a 32 GiB machine a 32 GiB machine.
		let mib = m.memory_mib.as_ref().map(|mib| *mib as f64 / 1024.0 / 0.95);
		let mut c = at_least("memory_gib", level, f64::from(gib), &mib, " GiB");
		c.wanted = format!(">= {gib} GiB");
		if let Measured::Known { value } = &m.memory_mib {
			c.measured = format!("{:.1} GiB", *value as f64 / 1024.0);
		}
		out.push(c);
	}
	let largest_disk = m.disks.as_ref().and_then_known(|disks| {
		disks
			.iter()
			.max_by_key(|d| d.size_bytes)
			.cloned()
			.ok_or_else(|| {
				"no block device is visible (a container without /sys/block?)".to_owned()
			})
	});
	if let Some(gb) = r.disk_gb {
		let size = largest_disk.as_ref().map(|d| d.size_bytes / 1_000_000_000);
		let mut c = at_least("disk_gb", level, u64::from(gb), &size, " GB");
		if let Measured::Known { value } = &largest_disk {
			c.reason = format!("largest disk: {}", value.name);
		}
		out.push(c);
	}
	if let Some(ssd) = r.ssd {
		let solid = largest_disk
			.as_ref()
			.and_then_known(|d| d.rotational.clone().map(|rot| !rot).into_result());
		out.push(is("ssd", level, ssd, &solid));
	}
	if let Some(mbps) = r.nic_mbps {
		out.push(match &m.network {
			Measured::Known { value: nics } if nics.is_empty() => unknown(
				"nic_mbps",
				level,
				format!(">= {mbps} Mb/s"),
				"no physical network interface is visible",
			),
			Measured::Known { value: nics } => {
				let fastest = nics
					.iter()
					.filter_map(|n| n.speed_mbps.value().copied())
					.max();
				let unknown_nics: Vec<&str> = nics
					.iter()
					.filter(|n| n.speed_mbps.value().is_none())
					.map(|n| n.name.as_str())
					.collect();
				match fastest {
					Some(speed) if speed >= mbps => {
						at_least("nic_mbps", level, mbps, &Measured::known(speed), " Mb/s")
					},
					// A NIC whose speed is unknown might be the fast one.
					_ if !unknown_nics.is_empty() => unknown(
						"nic_mbps",
						level,
						format!(">= {mbps} Mb/s"),
						&format!(
							"link speed unknown on {} (link down, or a virtual NIC)",
							unknown_nics.join(", ")
						),
					),
					Some(speed) => {
						at_least("nic_mbps", level, mbps, &Measured::known(speed), " Mb/s")
					},
					None => unknown("nic_mbps", level, format!(">= {mbps} Mb/s"), "no link"),
				}
			},
			Measured::Unknown { reason } => {
				unknown("nic_mbps", level, format!(">= {mbps} Mb/s"), reason)
			},
		});
	}
	if let Some(gib) = r.accelerator_memory_gib {
		out.push(accelerator(m, gib, r.accelerator_vendors.as_deref(), level));
	}
	if let Some(coreboot) = r.coreboot {
		out.push(is("coreboot", level, coreboot, &m.firmware.coreboot));
	}
	if let Some(rt) = r.realtime_kernel {
		out.push(is("realtime_kernel", level, rt, &m.kernel.realtime));
	}
	if let Some(tps) = r.generation_tokens_per_second {
		let speed = bench.as_ref().map(|b| b.generation_tokens_per_second);
		let mut c = at_least("generation_tokens_per_second", level, tps, &speed, " tok/s");
		if let Measured::Known { value } = bench {
			c.measured = format!("{:.1} tok/s", value.generation_tokens_per_second);
			c.reason = format!("{} on {} thread(s)", value.model, value.threads);
		}
		out.push(c);
	}
	out
}

fn accelerator(m: &Machine, gib: u32, vendors: Option<&[Vendor]>, level: Level) -> Check {
	let wanted = match vendors {
		Some(v) => format!(
			">= {gib} GiB ({})",
			v.iter()
				.map(|v| format!("{v:?}").to_lowercase())
				.collect::<Vec<_>>()
				.join(" or ")
		),
		None => format!(">= {gib} GiB"),
	};
	let all = match &m.accelerators {
		Measured::Known { value } => value,
		Measured::Unknown { reason } => {
			return unknown("accelerator_memory_gib", level, wanted, reason)
		},
	};
	let eligible: Vec<_> = all
		.iter()
		.filter(|a| vendors.is_none_or(|v| v.contains(&a.vendor)))
		.collect();
	let largest = eligible
		.iter()
		.filter_map(|a| a.memory_mib.value().copied())
		.max();
	let pass = largest.is_some_and(|mib| mib >= u64::from(gib) << 10);
	let measured = largest.map_or_else(
		|| "none".into(),
		|mib| format!("{:.1} GiB", mib as f64 / 1024.0),
	);
	if pass {
		return Check {
			requirement: "accelerator_memory_gib",
			level,
			wanted,
			measured,
			status: Status::Pass,
			reason: String::new(),
		};
	}
	// A GPU whose memory could not be read might be the big one.
	if let Some(a) = eligible.iter().find(|a| a.memory_mib.value().is_none()) {
		let reason = match &a.memory_mib {
			Measured::Unknown { reason } => format!("{}: {reason}", a.address),
			Measured::Known { .. } => String::new(),
		};
		return unknown("accelerator_memory_gib", level, wanted, &reason);
	}
	Check {
		requirement: "accelerator_memory_gib",
		level,
		wanted,
		measured,
		status: Status::Fail,
		reason: if eligible.is_empty() {
			"no accelerator of an accepted vendor on the PCI bus".into()
		} else {
			String::new()
		},
	}
}

impl fmt::Display for Report {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let word = |s: Status| match s {
			Status::Pass => "pass",
			Status::Fail => "FAIL",
			Status::Unknown => "unknown",
		};
		writeln!(
			f,
			"hardware check, tier `{}`: {}",
			self.tier,
			word(self.verdict).to_uppercase()
		)?;
		for c in &self.checks {
			let level = match c.level {
				Level::Required => "required",
				Level::Recommended => "recommended",
			};
			write!(
				f,
				"  {:<8} {:<12} {:<30} {:<22} {}",
				word(c.status),
				level,
				c.requirement,
				c.wanted,
				c.measured
			)?;
			if !c.reason.is_empty() {
				write!(f, "  ({})", c.reason)?;
			}
			writeln!(f)?;
		}
		match self.verdict {
			Status::Pass => writeln!(f, "the machine meets the `{}` tier", self.tier),
			Status::Fail => writeln!(f, "the machine does not meet the `{}` tier", self.tier),
			Status::Unknown => writeln!(
				f,
				"nothing failed, but the lines marked unknown could not be measured here: \
				 check them by hand before relying on the `{}` tier",
				self.tier
			),
		}
	}
}
