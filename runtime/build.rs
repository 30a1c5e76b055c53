//! Builds the WASM blob of the runtime (embedded in the native crate as `WASM_BINARY`).
//!
//! The blob must be the same whatever directory the repository is checked out in: the committed
//! chain specifications contain it, and a test compares them with what the node generates. Rust
//! embeds source paths in panic locations, so the checkout directory is remapped to a fixed name.

#[cfg(feature = "std")]
fn builder() -> substrate_wasm_builder::WasmBuilder {
	// Read at run time, not with `env!`: cargo reuses a compiled build script when the checkout
	// moves (it does not track `CARGO_*` variables), and a compile-time path would then point
	// at a directory that may no longer exist.
	let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from)
	else {
		return substrate_wasm_builder::WasmBuilder::init_with_defaults();
	};
	let Some(workspace_root) = manifest_dir.parent() else {
		return substrate_wasm_builder::WasmBuilder::init_with_defaults();
	};
	// The target directory lives outside the clone (see scripts/lib.sh), where the builder cannot
	// find the workspace's Cargo.lock by walking up from OUT_DIR. Without this hint it would
	// resolve the runtime's dependencies afresh, to versions other than the locked ones.
	std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace_root);
	substrate_wasm_builder::WasmBuilder::init_with_defaults().append_to_rust_flags(format!(
		"--remap-path-prefix={}=/cognitive-internet",
		workspace_root.display()
	))
}

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	// The token symbol and decimals are part of the metadata hash that offline signers check.
	builder().enable_metadata_hash("COG", 12).build();
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	builder().build();
}

/// When this crate is itself being compiled to WASM there is nothing to build.
#[cfg(not(feature = "std"))]
fn main() {}
