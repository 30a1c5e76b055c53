# shellcheck shell=bash
# Helpers shared by the image's scripts (sourced, not run).

# The value of --FLAG in NODE_ARGS ("--flag value" or "--flag=value"), or $2 when absent.
node_arg() {
	local flag="$1" default="${2-}" prev="" a
	# shellcheck disable=SC2086  # NODE_ARGS is a space-separated list by design (as in systemd)
	for a in ${NODE_ARGS-}; do
		if [ "$prev" = "$flag" ]; then printf '%s\n' "$a"; return 0; fi
		case "$a" in "$flag"=*) printf '%s\n' "${a#*=}"; return 0 ;; esac
		prev="$a"
	done
	printf '%s\n' "$default"
}

# Whether NODE_ARGS contains the flag.
node_has() {
	local a
	# shellcheck disable=SC2086
	for a in ${NODE_ARGS-}; do [ "$a" = "$1" ] && return 0; done
	return 1
}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
