//! JSON-RPC methods of the `inference` namespace (docs/rpc.md documents each one):
//! `inference_generate`, `inference_subscribeGenerate`, `inference_models`,
//! `inference_nodeInfo`, `inference_jobResult` and `inference_keyOwnershipProof` (unsafe).
//!
//! Laid out like polkadot-sdk's RPC crates:
//!
//! - [`api`]: the `#[rpc(server)]` trait;
//! - [`types`]: request and response types (JSON, camelCase) and the hex helpers;
//! - [`error`]: [`Error`] and its stable codes;
//! - [`server`]: the implementation, [`InferenceRpc`];
//! - [`limits`]: who may generate and how much (per client address, per connection), and the
//!   guard that cancels a generation whose caller left;
//! - [`auth`]: the signed statements (the owner's authorization to read a pending job's output,
//!   the key ownership proof);
//! - [`port`]: the dedicated inference port, where callers are known by address.
//!
//! The same module is served twice: on Substrate's RPC port (where generation needs unsafe
//! methods to be allowed) and on the inference port (public, limited per address). Each server
//! gets its own [`InferenceRpc`].

pub mod api;
pub mod auth;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod limits;
pub mod port;
pub mod server;
pub mod types;

pub use api::InferenceApiServer;
pub use server::{InferenceRpc, RpcDeps};
