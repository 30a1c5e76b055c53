//! Chat jobs as validators run them: the off-chain worker hands the host the chain's stored
//! messages and the template hash of the model's whitelist entry; the engine renders them with
//! the model file's own chat template only if its sha256 is that one.
//!
//! Runs on the real SmolLM2-135M-Instruct from the model store (`scripts/install-models.sh`) and
//! on the generated tiny model, which has no template.

use inference_engine::{
	chat_template_sha256, engine_class, Engine, EngineConfig, GenerateRequest, Input, JobHost,
	ModelHash, ModelStore, Sampling,
};
use inference_primitives::{
	job_digest, ChatRole, ChatTurn, ExecutionProfile, HostJobStatus, InferenceHost, JobFailure,
	JobOutput, JobPrompt, JobRequest, JobSampling, PromptFormat,
};
use std::{sync::Arc, time::Duration};

mod common;

const PROFILE: ExecutionProfile = ExecutionProfile {
	n_ctx: 512,
	n_batch: 512,
	n_ubatch: 512,
};

fn messages() -> Vec<ChatTurn> {
	let turn = |role, text: &str| ChatTurn {
		role,
		content: text.as_bytes().to_vec(),
	};
	vec![
		turn(ChatRole::System, "You answer in one short sentence."),
		turn(ChatRole::User, "What is the capital of France?"),
	]
}

/// The job as the off-chain worker builds it from a chat job on chain.
fn chat_job(model: ModelHash, template_sha256: [u8; 32]) -> JobRequest {
	let format = PromptFormat::Chat { template_sha256 };
	let prompt = JobPrompt::Chat(messages()).stored_bytes();
	JobRequest {
		job_id: 3,
		job_digest: job_digest(
			3,
			&0u64,
			&model,
			&PROFILE,
			&format,
			&prompt,
			16,
			&JobSampling::Greedy,
			&1u32,
		),
		model_sha256: model,
		format,
		prompt,
		max_tokens: 16,
		sampling: JobSampling::Greedy,
		profile: PROFILE,
		class: engine_class(),
		expires_at_ms: u64::MAX / 2,
	}
}

fn run(host: &JobHost, job: &JobRequest) -> HostJobStatus {
	loop {
		match host.poll_job(job.clone()) {
			HostJobStatus::Queued | HostJobStatus::Running => {
				std::thread::sleep(Duration::from_millis(5))
			},
			other => return other,
		}
	}
}

fn engine(store: &std::path::Path, threads: i32) -> Arc<Engine> {
	let store = ModelStore::open(store).expect("store");
	let config = EngineConfig {
		threads,
		..Default::default()
	};
	Arc::new(Engine::new(store, config).expect("engine"))
}

#[test]
fn smollm2_chat_job_renders_the_recorded_template_identically() {
	let (store_dir, model) = common::smollm2_in_store();
	// The hash the whitelist records is the file's.
	let recorded = common::smollm2_fact(&["profile", "chatTemplateSha256"]);
	let file = ModelStore::open(&store_dir)
		.expect("store")
		.file_path(&model);
	let actual = chat_template_sha256(&file)
		.expect("reads the file")
		.expect("has a template");
	assert_eq!(hex::encode(actual), recorded);

	// Run through the job host with one and two engine threads: the same tokens.
	let job = chat_job(model, actual);
	let outputs: Vec<JobOutput> = [1, 2]
		.into_iter()
		.map(
			|threads| match run(&JobHost::new(engine(&store_dir, threads), 2), &job) {
				HostJobStatus::Done(output) => output,
				other => panic!("the chat job failed with {threads} thread(s): {other:?}"),
			},
		)
		.collect();
	assert_eq!(outputs[0], outputs[1]);
	assert!(!outputs[0].output_tokens.is_empty());

	// The prompt the model read is the ChatML rendering of the messages, assistant turn open.
	let chatml = "<|im_start|>system\nYou answer in one short sentence.<|im_end|>\n\
	              <|im_start|>user\nWhat is the capital of France?<|im_end|>\n\
	              <|im_start|>assistant\n";
	let direct = engine(&store_dir, 2)
		.generate_blocking(GenerateRequest {
			model,
			input: Input::Text(chatml.into()),
			max_tokens: 16,
			profile: PROFILE,
			sampling: Sampling::Greedy,
			stop: Vec::new(),
		})
		.expect("generate");
	assert_eq!(outputs[0].prompt_tokens, direct.prompt_tokens);
	assert_eq!(outputs[0].output_tokens, direct.output_tokens);
	println!(
		"chat job answer: {:?}",
		String::from_utf8_lossy(&outputs[0].text)
	);

	// A job naming another template is refused, not rendered differently.
	let mut other = actual;
	other[0] ^= 1;
	let refused = run(
		&JobHost::new(engine(&store_dir, 1), 2),
		&chat_job(model, other),
	);
	assert!(
		matches!(refused, HostJobStatus::Failed(JobFailure::ChatTemplate(_))),
		"{refused:?}"
	);
}

#[test]
fn a_model_without_a_template_refuses_chat_jobs() {
	let dir = std::env::temp_dir().join(format!("chat-jobs-tiny-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let store = ModelStore::open(dir.join("store")).expect("store");
	let file = dir.join("tiny.gguf");
	tiny_gguf::write_tiny_model(&file, &Default::default()).expect("tiny model");
	assert_eq!(chat_template_sha256(&file).expect("reads the file"), None);
	let model = store
		.import(&file, "tiny", None)
		.expect("import")
		.hash()
		.expect("hash");
	let host = JobHost::new(engine(&dir.join("store"), 1), 2);
	let refused = run(&host, &chat_job(model, [0; 32]));
	assert!(
		matches!(refused, HostJobStatus::Failed(JobFailure::ChatTemplate(_))),
		"{refused:?}"
	);
	// Stored bytes that are not messages are refused the same way.
	let mut garbled = chat_job(model, [0; 32]);
	garbled.prompt = vec![0xff; 7];
	garbled.job_digest[0] ^= 1;
	assert!(matches!(
		run(&host, &garbled),
		HostJobStatus::Failed(JobFailure::ChatTemplate(_))
	));
	let _ = std::fs::remove_dir_all(&dir);
}
