//! The checker on fixture machines (copies of `/proc` and `/sys` in tests/fixtures) and on the
//! machine the tests run on.

use cognitive_hardware::{check, Benchmark, Capabilities, Measured, Probe, Spec, Status, Vendor};
use std::path::Path;

fn fixture(name: &str) -> Probe {
	Probe::at(
		Path::new(env!("CARGO_MANIFEST_DIR"))
			.join("tests/fixtures")
			.join(name),
	)
}

fn bench(tps: f64) -> Measured<Benchmark> {
	Measured::known(Benchmark {
		model: "SmolLM2-135M-Instruct-Q4_1".into(),
		threads: 8,
		prompt_tokens_per_second: 10.0 * tps,
		generation_tokens_per_second: tps,
		tokens: 64,
	})
}

fn status_of(report: &cognitive_hardware::Report, requirement: &str) -> Status {
	report
		.checks
		.iter()
		.find(|c| c.requirement == requirement)
		.unwrap_or_else(|| panic!("no {requirement} check in {report}"))
		.status
}

#[test]
fn the_prototype_machine_meets_the_prototype_tier() {
	let spec = Spec::builtin().expect("spec");
	let machine = fixture("prototype-machine").machine();
	assert_eq!(machine.cpu.logical_cpus, Measured::known(8));
	assert_eq!(machine.cpu.physical_cores, Measured::known(4));
	assert_eq!(machine.cpu.x86_64_level, Measured::known(3));
	assert_eq!(machine.firmware.coreboot, Measured::known(true));
	assert_eq!(machine.kernel.realtime, Measured::known(true));
	let disks = machine.disks.value().expect("disks");
	assert_eq!(disks.len(), 1, "loop devices are not disks: {disks:?}");

	let report = check(machine, bench(55.0), spec.tier("prototype").expect("tier"));
	assert_eq!(report.verdict, Status::Pass, "{report}");
	for c in &report.checks {
		assert_eq!(c.status, Status::Pass, "{report}");
	}
	// The 10 GbE port is found although the on-board NIC does not report a speed.
	assert_eq!(status_of(&report, "nic_mbps"), Status::Pass);
	assert_eq!(status_of(&report, "accelerator_memory_gib"), Status::Pass);
}

#[test]
fn the_benchmark_decides_and_its_absence_is_unknown_not_pass() {
	let spec = Spec::builtin().expect("spec");
	let tier = spec.tier("prototype").expect("tier");
	let slow = check(fixture("prototype-machine").machine(), bench(12.0), tier);
	assert_eq!(slow.verdict, Status::Fail, "{slow}");
	assert_eq!(
		status_of(&slow, "generation_tokens_per_second"),
		Status::Fail
	);

	let skipped = check(
		fixture("prototype-machine").machine(),
		Measured::unknown("--no-bench"),
		tier,
	);
	assert_eq!(skipped.verdict, Status::Unknown, "{skipped}");
	assert_eq!(skipped.verdict.exit_code(), 2);
}

#[test]
fn the_prototype_machine_is_short_of_production() {
	let spec = Spec::builtin().expect("spec");
	let report = check(
		fixture("prototype-machine").machine(),
		bench(55.0),
		spec.tier("production").expect("tier"),
	);
	assert_eq!(report.verdict, Status::Fail, "{report}");
	assert_eq!(report.verdict.exit_code(), 1);
	for failed in [
		"logical_cpus",
		"physical_cores",
		"memory_gib",
		"disk_gb",
		"accelerator_memory_gib",
	] {
		assert_eq!(
			status_of(&report, failed),
			Status::Fail,
			"{failed}: {report}"
		);
	}
	assert_eq!(status_of(&report, "x86_64_level"), Status::Pass);
}

#[test]
fn an_old_desktop_fails_even_development_and_says_which_flags_it_lacks() {
	let spec = Spec::builtin().expect("spec");
	let machine = fixture("old-desktop").machine();
	assert_eq!(machine.cpu.x86_64_level, Measured::known(2));
	assert_eq!(machine.kernel.realtime, Measured::known(false));
	assert_eq!(machine.firmware.coreboot, Measured::known(false));
	assert_eq!(machine.accelerators, Measured::known(vec![]));

	let report = check(
		machine.clone(),
		bench(30.0),
		spec.tier("development").expect("tier"),
	);
	assert_eq!(report.verdict, Status::Fail, "{report}");
	let level = report
		.checks
		.iter()
		.find(|c| c.requirement == "x86_64_level")
		.expect("level");
	assert!(
		level.reason.contains("avx2") && level.reason.contains("fma"),
		"{}",
		level.reason
	);
	assert!(
		!level.reason.contains("avx "),
		"AVX is there: {}",
		level.reason
	);
	// A spinning disk is only a recommendation at this tier.
	assert_eq!(status_of(&report, "ssd"), Status::Fail);

	let prototype = check(machine, bench(30.0), spec.tier("prototype").expect("tier"));
	for failed in [
		"memory_gib",
		"ssd",
		"nic_mbps",
		"generation_tokens_per_second",
	] {
		assert_eq!(
			status_of(&prototype, failed),
			Status::Fail,
			"{failed}: {prototype}"
		);
	}
	assert_eq!(
		status_of(&prototype, "disk_gb"),
		Status::Pass,
		"1 TB is enough"
	);

	// The JSON a script reads.
	let json = serde_json::to_value(&prototype).expect("json");
	assert_eq!(json["verdict"], "fail");
	assert_eq!(json["tier"], "prototype");
	assert_eq!(json["machine"]["memory_mib"]["state"], "known");
	assert_eq!(json["machine"]["memory_mib"]["value"], 15932);
}

#[test]
fn capabilities_come_from_what_was_measured() {
	let caps = Capabilities::measure(&fixture("prototype-machine").machine()).expect("caps");
	assert_eq!(caps.cpu_cores, 8);
	assert_eq!(caps.ram_mib, 32053);
	// The AMD card's 16 GiB; the integrated Intel GPU shares system memory.
	assert_eq!(caps.gpu_memory_mib, 16384);
	assert_eq!(caps.accelerator_vendors, vec![Vendor::Amd]);

	let caps = Capabilities::measure(&fixture("old-desktop").machine()).expect("caps");
	assert_eq!((caps.cpu_cores, caps.gpu_memory_mib), (4, 0));

	// A machine whose memory cannot be read gets no declaration rather than a guess.
	let empty = tempdir();
	let err = Capabilities::measure(&Probe::at(&empty).machine()).unwrap_err();
	assert!(err.contains("CPUs") || err.contains("memory"), "{err}");
	std::fs::remove_dir_all(&empty).ok();
}

#[test]
fn a_machine_with_nothing_readable_is_unknown_everywhere_never_pass() {
	let spec = Spec::builtin().expect("spec");
	let empty = tempdir();
	let report = check(
		Probe::at(&empty).machine(),
		Measured::unknown("no model"),
		spec.tier("production").expect("tier"),
	);
	std::fs::remove_dir_all(&empty).ok();
	assert_eq!(report.verdict, Status::Unknown, "{report}");
	assert!(
		report.checks.iter().all(|c| c.status == Status::Unknown),
		"{report}"
	);
}

/// This machine: whatever it is, the CPU and memory are readable without root, and firmware
/// facts are known exactly when the kernel exposes DMI (virtual machines such as the project's
/// CI machines have none, and must be reported unknown, not pass).
#[test]
fn the_machine_the_tests_run_on() {
	let machine = Probe::system().machine();
	assert!(
		machine.cpu.logical_cpus.value().is_some_and(|n| *n >= 1),
		"{machine:?}"
	);
	assert!(
		machine.memory_mib.value().is_some_and(|m| *m > 0),
		"{machine:?}"
	);
	let has_dmi = Path::new("/sys/class/dmi/id/bios_vendor").exists();
	assert_eq!(
		machine.firmware.coreboot.value().is_some(),
		has_dmi,
		"{:?}",
		machine.firmware
	);
	let json = serde_json::to_value(&machine).expect("json");
	if !has_dmi {
		assert_eq!(json["firmware"]["system"]["state"], "unknown");
		assert!(json["firmware"]["system"]["reason"]
			.as_str()
			.is_some_and(|r| r.contains("DMI")));
	}
}

fn tempdir() -> std::path::PathBuf {
	let dir = std::env::temp_dir().join(format!(
		"hw-empty-{}-{:?}",
		std::process::id(),
		std::thread::current().id()
	));
	std::fs::create_dir_all(&dir).expect("temp dir");
	dir
}
