#!/usr/bin/env bash
# What the monitoring stack and its checks need on Debian: Prometheus and promtool (the
# `prometheus` package), python3. Run as root; scripts/setup.sh calls it.
set -euo pipefail
need=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# Debian's package starts a Prometheus service on :9090 where systemd runs; the monitoring
# stack starts its own on loopback, so that one is not needed.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
	systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
echo "monitoring deps: $(prometheus --version 2>&1 | head -n1)"
