//! Reads the machine from a file-system root: `/proc` and `/sys` of the running system, or a
//! copy of them (the tests' fixture trees). Nothing here needs root, and nothing guesses: what a
//! file does not say is [`Measured::Unknown`] with the reason.

use crate::{cpu, Measured};
use serde::Serialize;
use std::{
	fs,
	path::{Path, PathBuf},
	process::Command,
};

/// Everything the checker knows about a machine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Machine {
	/// The CPU (`/proc/cpuinfo`).
	pub cpu: cpu::Cpu,
	/// Total memory in MiB (`/proc/meminfo` `MemTotal`).
	pub memory_mib: Measured<u64>,
	/// Block devices that can hold data (`/sys/block`, without loop, RAM and device-mapper
	/// devices).
	pub disks: Measured<Vec<Disk>>,
	/// Physical network interfaces (`/sys/class/net/*` with a `device`).
	pub network: Measured<Vec<Nic>>,
	/// Display, 3D and processing accelerators on the PCI bus (`/sys/bus/pci/devices`).
	pub accelerators: Measured<Vec<Accelerator>>,
	/// Firmware and board identity (`/sys/class/dmi/id`).
	pub firmware: Firmware,
	/// The running kernel (`/proc/sys/kernel/osrelease`, `/sys/kernel/realtime`).
	pub kernel: Kernel,
}

/// A block device.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Disk {
	/// Kernel name (`nvme0n1`, `sda`, `vda`).
	pub name: String,
	/// Capacity in bytes.
	pub size_bytes: u64,
	/// Whether it is a spinning disk (`queue/rotational`).
	pub rotational: Measured<bool>,
}

/// A physical network interface.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Nic {
	/// Interface name.
	pub name: String,
	/// Kernel driver (`ixgbe`, `virtio_net`).
	pub driver: Measured<String>,
	/// Negotiated link speed in Mb/s; unknown when the link is down or the driver does not say
	/// (virtual NICs report -1).
	pub speed_mbps: Measured<u32>,
}

/// Who made an accelerator, from its PCI vendor id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
	/// 0x10de.
	Nvidia,
	/// 0x1002.
	Amd,
	/// 0x8086.
	Intel,
	/// Any other vendor.
	Other,
}

/// A GPU or other accelerator on the PCI bus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Accelerator {
	/// PCI address (`0000:01:00.0`).
	pub address: String,
	/// Vendor.
	pub vendor: Vendor,
	/// PCI class code (`0x030000` VGA, `0x030200` 3D, `0x120000` processing accelerator).
	pub class: String,
	/// Dedicated memory in MiB: amdgpu's `mem_info_vram_total`, NVIDIA's from `nvidia-smi`.
	pub memory_mib: Measured<u64>,
}

/// Firmware and board identity from DMI (SMBIOS). Virtual machines often have none.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Firmware {
	/// `sys_vendor product_name`.
	pub system: Measured<String>,
	/// `board_vendor board_name`.
	pub board: Measured<String>,
	/// `bios_vendor bios_version`.
	pub bios: Measured<String>,
	/// Whether the firmware is coreboot (Libreboot is a coreboot distribution; coreboot sets the
	/// SMBIOS BIOS vendor to "coreboot").
	pub coreboot: Measured<bool>,
}

/// The running kernel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Kernel {
	/// Release string.
	pub release: Measured<String>,
	/// Whether it is a PREEMPT_RT kernel (`/sys/kernel/realtime` is 1).
	pub realtime: Measured<bool>,
}

/// Reads a machine below `root`.
#[derive(Clone, Debug)]
pub struct Probe {
	root: PathBuf,
	/// Whether `root` is the running system, where commands (`nvidia-smi`) may be run.
	live: bool,
}

impl Probe {
	/// The running system.
	pub fn system() -> Self {
		Self {
			root: PathBuf::from("/"),
			live: true,
		}
	}

	/// A copy of `/proc` and `/sys` below `root` (tests, or a report about another machine's
	/// files). No command is run.
	pub fn at(root: impl Into<PathBuf>) -> Self {
		Self {
			root: root.into(),
			live: false,
		}
	}

	fn path(&self, rel: &str) -> PathBuf {
		self.root.join(rel.trim_start_matches('/'))
	}

	fn read(&self, rel: &str) -> Result<String, String> {
		let path = self.path(rel);
		fs::read_to_string(&path).map_err(|e| format!("cannot read {rel}: {e}"))
	}

	fn read_trimmed(&self, path: &Path) -> Option<String> {
		fs::read_to_string(path)
			.ok()
			.map(|s| s.trim().to_owned())
			.filter(|s| !s.is_empty())
	}

	fn entries(&self, rel: &str) -> Result<Vec<(String, PathBuf)>, String> {
		let dir = self.path(rel);
		let mut out: Vec<(String, PathBuf)> = fs::read_dir(&dir)
			.map_err(|e| format!("cannot list {rel}: {e}"))?
			.filter_map(Result::ok)
			.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
			.collect();
		out.sort();
		Ok(out)
	}

	/// Reads everything.
	pub fn machine(&self) -> Machine {
		Machine {
			cpu: cpu::parse(self.read("proc/cpuinfo")),
			memory_mib: self.memory_mib(),
			disks: self.disks(),
			network: self.network(),
			accelerators: self.accelerators(),
			firmware: self.firmware(),
			kernel: self.kernel(),
		}
	}

	fn memory_mib(&self) -> Measured<u64> {
		let text = match self.read("proc/meminfo") {
			Ok(text) => text,
			Err(why) => return Measured::Unknown { reason: why },
		};
		text.lines()
			.find_map(|line| line.strip_prefix("MemTotal:"))
			.and_then(|rest| rest.trim().strip_suffix("kB"))
			.and_then(|kib| kib.trim().parse::<u64>().ok())
			.map_or_else(
				|| Measured::unknown("/proc/meminfo has no `MemTotal: N kB` line"),
				|kib| Measured::known(kib / 1024),
			)
	}

	fn disks(&self) -> Measured<Vec<Disk>> {
		// Devices that hold no data of their own, or only while the machine runs.
		const SKIP: [&str; 6] = ["loop", "ram", "zram", "dm-", "md", "sr"];
		let entries = match self.entries("sys/block") {
			Ok(entries) => entries,
			Err(why) => return Measured::Unknown { reason: why },
		};
		let disks = entries
			.into_iter()
			.filter(|(name, _)| !SKIP.iter().any(|p| name.starts_with(p)))
			.filter_map(|(name, dir)| {
				// `size` counts 512-byte sectors whatever the device's own sector size.
				let sectors: u64 = self.read_trimmed(&dir.join("size"))?.parse().ok()?;
				let rotational = match self.read_trimmed(&dir.join("queue/rotational")).as_deref() {
					Some("1") => Measured::known(true),
					Some("0") => Measured::known(false),
					_ => Measured::unknown("no queue/rotational"),
				};
				Some(Disk {
					name,
					size_bytes: sectors * 512,
					rotational,
				})
			})
			.filter(|d| d.size_bytes > 0)
			.collect();
		Measured::known(disks)
	}

	fn network(&self) -> Measured<Vec<Nic>> {
		let entries = match self.entries("sys/class/net") {
			Ok(entries) => entries,
			Err(why) => return Measured::Unknown { reason: why },
		};
		let nics = entries
			.into_iter()
			// Physical interfaces (and virtual machines' virtio NICs) have a `device`; bridges,
			// veths, tunnels and `lo` do not.
			.filter(|(_, dir)| dir.join("device").exists())
			.map(|(name, dir)| {
				let driver = fs::read_link(dir.join("device/driver"))
					.ok()
					.and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
					.map_or_else(|| Measured::unknown("no driver bound"), Measured::known);
				let speed_mbps = match self.read_trimmed(&dir.join("speed")) {
					Some(s) => match s.parse::<i64>() {
						Ok(n) if n > 0 => Measured::known(n as u32),
						_ => Measured::unknown(
							"the driver reports no link speed (link down, or a virtual NIC)",
						),
					},
					None => Measured::unknown("no link speed (link down?)"),
				};
				Nic { name, driver, speed_mbps }
			})
			.collect();
		Measured::known(nics)
	}

	fn accelerators(&self) -> Measured<Vec<Accelerator>> {
		let entries = match self.entries("sys/bus/pci/devices") {
			Ok(entries) => entries,
			Err(why) => return Measured::Unknown { reason: why },
		};
		let mut nvidia_memory = None;
		let mut found = Vec::new();
		for (address, dir) in entries {
			let Some(class) = self.read_trimmed(&dir.join("class")) else {
				continue;
			};
			// 0x03: display controllers (VGA, 3D, other); 0x12: processing accelerators.
			if !(class.starts_with("0x03") || class.starts_with("0x12")) {
				continue;
			}
			let vendor = match self.read_trimmed(&dir.join("vendor")).as_deref() {
				Some("0x10de") => Vendor::Nvidia,
				Some("0x1002") => Vendor::Amd,
				Some("0x8086") => Vendor::Intel,
				_ => Vendor::Other,
			};
			let memory_mib = match vendor {
				Vendor::Amd => self
					.read_trimmed(&dir.join("mem_info_vram_total"))
					.and_then(|b| b.parse::<u64>().ok())
					.map_or_else(
						|| Measured::unknown("amdgpu does not report mem_info_vram_total"),
						|bytes| Measured::known(bytes >> 20),
					),
				Vendor::Nvidia => {
					let all = nvidia_memory.get_or_insert_with(|| self.nvidia_smi_memory());
					all.iter()
						.find(|(bus, _)| bus.eq_ignore_ascii_case(&address))
						.map_or_else(
							|| Measured::unknown("nvidia-smi did not report this GPU"),
							|(_, mib)| Measured::known(*mib),
						)
				},
				// Integrated GPUs share system memory.
				Vendor::Intel | Vendor::Other => {
					Measured::unknown("no dedicated memory figure for this vendor")
				},
			};
			found.push(Accelerator {
				address,
				vendor,
				class,
				memory_mib,
			});
		}
		Measured::known(found)
	}

	/// `(PCI address, MiB)` of every NVIDIA GPU, from `nvidia-smi` (the driver exposes no
	/// memory size in `/sys`). Empty off the live system or without the tool.
	fn nvidia_smi_memory(&self) -> Vec<(String, u64)> {
		if !self.live {
			return Vec::new();
		}
		let Ok(out) = Command::new("nvidia-smi")
			.args([
				"--query-gpu=pci.bus_id,memory.total",
				"--format=csv,noheader,nounits",
			])
			.output()
		else {
			return Vec::new();
		};
		String::from_utf8_lossy(&out.stdout)
			.lines()
			.filter_map(|line| {
				let (bus, mib) = line.split_once(',')?;
				// nvidia-smi prints an 8-digit domain (`00000000:01:00.0`); sysfs uses 4.
				let bus = bus.trim();
				let bus = bus.get(bus.len().saturating_sub(12)..).unwrap_or(bus);
				Some((bus.to_owned(), mib.trim().parse().ok()?))
			})
			.collect()
	}

	fn firmware(&self) -> Firmware {
		let dmi = self.path("sys/class/dmi/id");
		if !dmi.is_dir() {
			let why =
				"no DMI/SMBIOS tables (/sys/class/dmi/id is absent; usual in virtual machines)";
			return Firmware {
				system: Measured::unknown(why),
				board: Measured::unknown(why),
				bios: Measured::unknown(why),
				coreboot: Measured::unknown(why),
			};
		}
		let pair = |a: &str, b: &str| {
			let parts: Vec<String> = [a, b]
				.iter()
				.filter_map(|f| self.read_trimmed(&dmi.join(f)))
				.collect();
			if parts.is_empty() {
				Measured::unknown(&format!("DMI has no {a} or {b}"))
			} else {
				Measured::known(parts.join(" "))
			}
		};
		let coreboot = match self.read_trimmed(&dmi.join("bios_vendor")) {
			Some(vendor) => Measured::known(vendor.to_ascii_lowercase().contains("coreboot")),
			None => Measured::unknown("DMI has no bios_vendor"),
		};
		Firmware {
			system: pair("sys_vendor", "product_name"),
			board: pair("board_vendor", "board_name"),
			bios: pair("bios_vendor", "bios_version"),
			coreboot,
		}
	}

	fn kernel(&self) -> Kernel {
		let release = self.read("proc/sys/kernel/osrelease").map_or_else(
			|why| Measured::Unknown { reason: why },
			|s| Measured::known(s.trim().to_owned()),
		);
		// Only PREEMPT_RT kernels have the file.
		let realtime = match self
			.read_trimmed(&self.path("sys/kernel/realtime"))
			.as_deref()
		{
			Some("1") => Measured::known(true),
			_ if self.path("sys/kernel").is_dir() => Measured::known(false),
			_ => Measured::unknown("cannot read /sys/kernel"),
		};
		Kernel { release, realtime }
	}
}
