//! The OpenAI-compatible HTTP API (`--openai-port`, off unless given): `POST
//! /v1/chat/completions` (with `stream: true` as server-sent events), `POST /v1/completions`
//! and `GET /v1/models`, for the `openai` SDKs and every client built on them.
//!
//! It is a second front end of the node's public generation path ([`http`]): requests are
//! translated into the `inference_*` methods' parameters ([`convert`]), validated and limited
//! the same way, run on the engine's public lane (on-chain jobs keep their own workers and
//! queue), and answered in OpenAI's shapes ([`wire`]) with the node's signed receipt. What it
//! cannot answer itself (a model it does not serve, a full queue) goes to the best peer that
//! serves the model ([`balance`], over the registry's view of the network in [`peers`]).

pub mod balance;
pub mod convert;
pub mod http;
pub mod peers;
pub mod remote;
pub mod wire;

pub use http::{serve, Gateway};
