//! # Cognitive Internet hardware checker
//!
//! What a machine has, read from `/proc` and `/sys` without root ([`probe`], [`cpu`]), checked
//! against a tier of the hardware specification `hardware/spec.toml` ([`spec`], [`check`]).
//! `cognitive-node hardware check` prints the result (and runs a short inference benchmark, which
//! needs the engine and so lives in the node); `cognitive-node hardware capabilities` turns the
//! same measurements into the node registry's capability declaration ([`Capabilities`]).
//!
//! Every figure is a [`Measured`]: either a value read from the machine or unknown with the
//! reason. Unknown never passes a requirement: a virtual machine without DMI tables, or a NIC
//! that does not report its speed, is reported as such.

pub mod check;
pub mod cpu;
pub mod probe;
pub mod spec;

pub use check::{check, Benchmark, Check, Level, Report, Status};
pub use probe::{Machine, Probe, Vendor};
pub use spec::{Spec, Tier};

use serde::Serialize;

/// A measured value, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "state")]
pub enum Measured<T> {
	/// Read from the machine.
	Known {
		/// The value.
		value: T,
	},
	/// Could not be read.
	Unknown {
		/// Why.
		reason: String,
	},
}

impl<T> Measured<T> {
	/// A value read from the machine.
	pub fn known(value: T) -> Self {
		Measured::Known { value }
	}

	/// No value, because of `reason`.
	pub fn unknown(reason: &str) -> Self {
		Measured::Unknown {
			reason: reason.to_owned(),
		}
	}

	/// The value, if known.
	pub fn value(&self) -> Option<&T> {
		match self {
			Measured::Known { value } => Some(value),
			Measured::Unknown { .. } => None,
		}
	}

	/// Borrows the value.
	pub fn as_ref(&self) -> Measured<&T> {
		match self {
			Measured::Known { value } => Measured::Known { value },
			Measured::Unknown { reason } => Measured::Unknown {
				reason: reason.clone(),
			},
		}
	}

	/// Maps a known value.
	pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Measured<U> {
		match self {
			Measured::Known { value } => Measured::Known { value: f(value) },
			Measured::Unknown { reason } => Measured::Unknown { reason },
		}
	}

	/// Maps a known value to another measurement that may itself be unknown.
	pub fn and_then_known<U>(self, f: impl FnOnce(T) -> Result<U, String>) -> Measured<U> {
		match self {
			Measured::Known { value } => match f(value) {
				Ok(value) => Measured::Known { value },
				Err(reason) => Measured::Unknown { reason },
			},
			Measured::Unknown { reason } => Measured::Unknown { reason },
		}
	}

	/// The value, or the reason as the error.
	pub fn into_result(self) -> Result<T, String> {
		match self {
			Measured::Known { value } => Ok(value),
			Measured::Unknown { reason } => Err(reason),
		}
	}
}

/// What a node declares on chain about its hardware (`nodeRegistry.register` and
/// `update_capabilities`), from measurements instead of an operator's typing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
	/// Logical CPUs.
	pub cpu_cores: u16,
	/// Memory in MiB (`MemTotal`).
	pub ram_mib: u32,
	/// Memory of the accelerators whose memory was measured, added up, in MiB.
	pub gpu_memory_mib: u32,
	/// Vendors of those accelerators, without repeats.
	pub accelerator_vendors: Vec<Vendor>,
}

impl Capabilities {
	/// The declaration a machine supports. Fails when the CPU count or memory could not be
	/// measured: a guessed figure is what this replaces. Accelerators whose memory is unknown
	/// are left out, so nothing is overstated.
	pub fn measure(machine: &Machine) -> Result<Self, String> {
		let cpus = machine
			.cpu
			.logical_cpus
			.clone()
			.into_result()
			.map_err(|why| format!("cannot count the CPUs: {why}"))?;
		let mib = machine
			.memory_mib
			.clone()
			.into_result()
			.map_err(|why| format!("cannot measure the memory: {why}"))?;
		let mut gpu_memory_mib = 0u64;
		let mut accelerator_vendors = Vec::new();
		if let Measured::Known { value } = &machine.accelerators {
			for a in value {
				if let (Some(mib), Vendor::Nvidia | Vendor::Amd) = (a.memory_mib.value(), a.vendor)
				{
					gpu_memory_mib += mib;
					if !accelerator_vendors.contains(&a.vendor) {
						accelerator_vendors.push(a.vendor);
					}
				}
			}
		}
		Ok(Capabilities {
			cpu_cores: u16::try_from(cpus).unwrap_or(u16::MAX),
			ram_mib: u32::try_from(mib).unwrap_or(u32::MAX),
			gpu_memory_mib: u32::try_from(gpu_memory_mib).unwrap_or(u32::MAX),
			accelerator_vendors,
		})
	}
}
