# shellcheck shell=bash
# Shared settings of the project's scripts. Source it; do not run it.

# shellcheck disable=SC2034
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One persistent target directory outside the clone, shared by developers and CI, so that a
# fresh clone reuses the previous build instead of recompiling polkadot-sdk from scratch.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cognitive-internet/target}"
NODE_BIN="$CARGO_TARGET_DIR/release/cognitive-node"
# rustup's cargo and rustc (scripts/setup.sh installs rustup into $CARGO_HOME/bin) ahead of any
# other, as rustup's own `~/.cargo/env` does, also in a shell that has not read that file yet:
# right after setup installed rustup, `scripts/test.sh` and `scripts/dev.sh` go on to build.
case ":$PATH:" in
*":${CARGO_HOME:-$HOME/.cargo}/bin:"*) ;;
*) export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" ;;
esac

# Runs a phase and prints how long it took: `phase NAME command args...`.
phase() {
	local name="$1"
	shift
	local start=$SECONDS
	echo "==> $name"
	local status=0
	"$@" || status=$?
	echo "==> $name: $((SECONDS - start)) s (exit $status)"
	return $status
}

# `sudo` when not root and available, so the scripts work both as root and as a user.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "need root to run: $*" >&2
		return 1
	fi
}
