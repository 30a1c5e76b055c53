//! Commit and reveal checks: signatures, phases, copying, replay across chains.

use super::*;
use codec::Encode;
use frame_support::{assert_noop, pallet_prelude::InvalidTransaction};
use sp_runtime::DispatchError;

#[test]
fn copied_commitment_cannot_be_opened() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		let (a, b, c) = (nodes[0], nodes[1], nodes[2]);
		commit_as(id, a, hash(1));
		// B copies A's commitment from the chain.
		let copied = job(id).assignees[0].commitment.unwrap();
		submit_authorized(commit_call_with(id, b, copied, b));
		commit_as(id, c, hash(1));
		reveal_as(id, a, hash(1));
		// B copies A's reveal too: the commitment binds A's account, so it does not open.
		let copy = reveal_call_with(id, b, hash(1), salt(a), b);
		assert_eq!(
			authorize(&copy),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_REVEAL_MISMATCH).into())
		);
		assert_noop!(dispatch_authorized(copy), Error::<Test>::RevealMismatch);
		reveal_as(id, c, hash(1));
		run_to(job(id).reveal_deadline);
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		// B committed and never opened its commitment: slashed like a wrong result.
		assert_eq!(record(b).wrong, 1);
		assert_eq!(bond(b), 900);
		check();
	});
}

#[test]
fn reveal_checks() {
	new_test_ext().execute_with(|| {
		register_nodes(4);
		let id = submit(3);
		let nodes = assignees(id);
		let outsider = (1..=4).find(|n| !nodes.contains(n)).unwrap();
		commit_as(id, nodes[0], hash(1));
		commit_as(id, nodes[1], hash(1));
		// Reveal before the commit phase ends.
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(1))),
			Error::<Test>::CommitPhaseOpen
		);
		run_to(job(id).commit_deadline);
		// Reveal without a commit.
		let uncommitted = reveal_call(id, nodes[2], hash(1));
		assert_eq!(
			authorize(&uncommitted),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_NO_COMMIT).into())
		);
		assert_noop!(dispatch_authorized(uncommitted), Error::<Test>::NoCommit);
		// Wrong salt, wrong hash.
		let wrong_salt = reveal_call_with(id, nodes[0], hash(1), [0; 32], nodes[0]);
		assert_eq!(
			authorize(&wrong_salt),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_REVEAL_MISMATCH).into())
		);
		assert_noop!(
			dispatch_authorized(wrong_salt),
			Error::<Test>::RevealMismatch
		);
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(2))),
			Error::<Test>::RevealMismatch
		);
		// Not assigned, unknown job, bad signature.
		assert_eq!(
			authorize(&reveal_call(id, outsider, hash(1))),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_NOT_ASSIGNED).into())
		);
		assert_eq!(
			authorize(&reveal_call(id + 1, nodes[0], hash(1))),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_UNKNOWN_JOB).into())
		);
		assert_eq!(
			authorize(&reveal_call_with(
				id,
				nodes[0],
				hash(1),
				salt(nodes[0]),
				outsider
			)),
			Err(InvalidTransaction::BadProof.into())
		);
		// A correct reveal lands once.
		reveal_as(id, nodes[0], hash(1));
		assert_eq!(
			authorize(&reveal_call(id, nodes[0], hash(1))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(1))),
			Error::<Test>::AlreadyRevealed
		);
		check();
	});
}

#[test]
fn commit_checks() {
	new_test_ext().execute_with(|| {
		register_nodes(4);
		let id = submit(3);
		let nodes = assignees(id);
		let outsider = (1..=4).find(|n| !nodes.contains(n)).unwrap();
		// A signature without the context and genesis hash does not authorise a commit.
		let c = inference_primitives::commitment(&hash(1), &salt(nodes[0]), &nodes[0]);
		let payload = CommitPayload {
			job_id: id,
			job_digest: job(id).digest(id),
			node: nodes[0],
			commitment: c,
		};
		let bare = pair(nodes[0]).sign(&payload.encode()).into();
		assert_eq!(
			authorize(&Call::commit {
				commit: payload.clone(),
				signature: bare
			}),
			Err(InvalidTransaction::BadProof.into())
		);
		// A reveal-context signature over the same bytes does not either.
		let wrong_context = pair(nodes[0])
			.sign(&inference_primitives::signing_payload(
				REVEAL_CONTEXT,
				&genesis(),
				&payload,
			))
			.into();
		assert_eq!(
			authorize(&Call::commit {
				commit: payload,
				signature: wrong_context
			}),
			Err(InvalidTransaction::BadProof.into())
		);
		assert_eq!(
			authorize(&commit_call_with(id, nodes[0], c, outsider)),
			Err(InvalidTransaction::BadProof.into())
		);
		assert_eq!(
			authorize(&commit_call(id, outsider, hash(1))),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_NOT_ASSIGNED).into())
		);
		assert_eq!(
			authorize(&commit_call(id + 7, nodes[0], hash(1))),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_UNKNOWN_JOB).into())
		);
		// Valid: one tag per (job, node), living until the commit deadline.
		let call = commit_call(id, nodes[0], hash(1));
		let (validity, _) = RuntimeCall::from(call.clone())
			.authorize(TransactionSource::External)
			.unwrap()
			.unwrap();
		assert_eq!(
			validity.provides,
			vec![crate::authorize::commit_tag(id, &nodes[0])]
		);
		assert_eq!(validity.longevity, COMMIT_PERIOD);
		assert_ok!(dispatch_authorized(call));
		assert!(events().contains(&Event::Committed {
			job_id: id,
			node: nodes[0]
		}));
		// A second commit is rejected by the pool and by the call.
		assert_eq!(
			authorize(&commit_call(id, nodes[0], hash(2))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(commit_call(id, nodes[0], hash(2))),
			Error::<Test>::AlreadyCommitted
		);
		// Other origins cannot call it.
		assert_noop!(
			ProofOfInference::commit(
				RuntimeOrigin::signed(nodes[1]),
				CommitPayload {
					job_id: id,
					job_digest: job(id).digest(id),
					node: nodes[1],
					commitment: c
				},
				pair(nodes[1]).sign(b"x").into()
			),
			DispatchError::BadOrigin
		);
		check();
	});
}

/// M-4: an operator who uses one key on a test network and on this chain cannot have its test
/// network commits and reveals replayed here: the signatures name another genesis hash.
#[test]
fn commits_and_reveals_signed_for_another_chain_are_rejected() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let node = assignees(id)[0];
		let other_chain = [7u8; 32];
		assert_ne!(other_chain, genesis());
		let commit = CommitPayload {
			job_id: id,
			job_digest: job(id).digest(id),
			node,
			commitment: inference_primitives::commitment(&hash(1), &salt(node), &node),
		};
		let foreign = pair(node)
			.sign(&commit_payload(&other_chain, &commit))
			.into();
		assert_eq!(
			authorize(&Call::commit {
				commit,
				signature: foreign
			}),
			Err(InvalidTransaction::BadProof.into())
		);
		commit_as(id, node, hash(1));
		run_to(job(id).commit_deadline);
		let reveal = RevealPayload {
			job_id: id,
			node,
			result_hash: hash(1),
			salt: salt(node),
		};
		let foreign = pair(node)
			.sign(&reveal_payload(&other_chain, &reveal))
			.into();
		assert_eq!(
			authorize(&Call::reveal {
				reveal,
				signature: foreign
			}),
			Err(InvalidTransaction::BadProof.into())
		);
		reveal_as(id, node, hash(1));
		check();
	});
}

/// A job id names different jobs on different forks (BABE forks whenever two authors claim a
/// slot). A node's commit for the job on a losing fork, still in the pool, must not land on the
/// winning fork's job of the same id: the node would hold no result that opens it, never reveal,
/// and the job would fail. The commit names the job's digest, and another digest is refused.
#[test]
fn a_commit_for_another_forks_job_of_the_same_id_is_refused() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let node = assignees(id)[0];
		let commitment = inference_primitives::commitment(&hash(1), &salt(node), &node);
		// The same id, another job: the digest the node computed on the other fork.
		let mut other_fork = job(id);
		other_fork.submitted_at += 1;
		let commit = CommitPayload {
			job_id: id,
			job_digest: other_fork.digest(id),
			node,
			commitment,
		};
		assert_ne!(commit.job_digest, job(id).digest(id));
		let signature: InferenceSignature =
			pair(node).sign(&commit_payload(&genesis(), &commit)).into();
		let call = Call::commit { commit, signature };
		assert_eq!(
			authorize(&call),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_WRONG_JOB).into())
		);
		assert_noop!(dispatch_authorized(call), Error::<Test>::WrongJob);
		// This fork's commit goes through.
		submit_authorized(commit_call_with(id, node, commitment, node));
		assert!(job(id).assignees[0].commitment.is_some());
		check();
	});
}

#[test]
fn an_early_reveal_waits_in_the_pool_for_the_commits_it_needs() {
	new_test_ext().execute_with(|| {
		register_nodes(4);
		let id = submit(3);
		let nodes = assignees(id);
		let outsider = (1..=4).find(|n| !nodes.contains(n)).unwrap();
		let tags: Vec<_> = nodes
			.iter()
			.map(|n| crate::authorize::commit_tag(id, n))
			.collect();
		// A commit provides the tag an early reveal waits for.
		let commit = validity(
			&commit_call(id, nodes[0], hash(1)),
			TransactionSource::External,
		)
		.unwrap();
		assert_eq!(commit.provides, vec![tags[0].clone()]);
		// Nothing committed yet (a peer that has not imported the block with the commits):
		// the reveal waits for all three, its own included.
		let reveal = reveal_call(id, nodes[0], hash(1));
		let early = validity(&reveal, TransactionSource::External).unwrap();
		assert_eq!(early.requires, tags);
		assert_eq!(
			early.provides,
			vec![crate::authorize::reveal_tag(id, &nodes[0])]
		);
		// A block may not carry it: the author would fail it and drop it from the pools.
		assert_eq!(
			validity(&reveal, TransactionSource::InBlock),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_NO_COMMIT).into())
		);
		// Its own commit in: it waits for the other two, and must open that commitment.
		commit_as(id, nodes[0], hash(1));
		assert_eq!(
			validity(&reveal, TransactionSource::External)
				.unwrap()
				.requires,
			tags[1..].to_vec()
		);
		assert_eq!(
			authorize(&reveal_call_with(
				id,
				nodes[0],
				hash(2),
				salt(nodes[0]),
				nodes[0]
			)),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_REVEAL_MISMATCH).into())
		);
		// Early reveals from a node that is not assigned, or with a bad signature, are refused.
		assert_eq!(
			authorize(&reveal_call(id, outsider, hash(1))),
			Err(InvalidTransaction::Custom(crate::authorize::INVALID_NOT_ASSIGNED).into())
		);
		assert_eq!(
			authorize(&reveal_call_with(
				id,
				nodes[1],
				hash(1),
				salt(nodes[1]),
				nodes[0]
			)),
			Err(InvalidTransaction::BadProof.into())
		);
		// All committed: valid outright, requiring nothing.
		commit_as(id, nodes[1], hash(1));
		commit_as(id, nodes[2], hash(1));
		assert!(validity(&reveal, TransactionSource::InBlock)
			.unwrap()
			.requires
			.is_empty());
		reveal_as(id, nodes[0], hash(1));
		check();
	});
}
