#!/usr/bin/env bash
# Training throughput, Masking (TorchSharp) vs the same model and step in PyTorch, with the same threads,
# one after the other; each also measures its own matmul peak. Usage: bash bench/compare-train.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
dotnet build src/Experiments -c Release -nologo -v quiet >/dev/null
ours=$(src/Experiments/bin/Release/net10.0/linux-x64/masking bench train --preset tiny --threads "$threads" --peak 2>/dev/null)
theirs=$(/usr/bin/python3 bench/train_step_torch.py --preset tiny --threads "$threads" --peak 2>/dev/null)
value() { echo "$1" | sed -n "s/^$2=//p"; }
o=$(value "$ours" target_tokens_per_second); t=$(value "$theirs" target_tokens_per_second)
echo "masking (TorchSharp): target_tokens_per_second=$o achieved_gflops=$(value "$ours" achieved_gflops) matmul_peak_gflops=$(value "$ours" matmul_peak_gflops)"
echo "pytorch:              target_tokens_per_second=$t achieved_gflops=$(value "$theirs" achieved_gflops) matmul_peak_gflops=$(value "$theirs" matmul_peak_gflops)"
awk -v o="$o" -v t="$t" -v go="$(value "$ours" achieved_gflops)" -v po="$(value "$ours" matmul_peak_gflops)" \
    -v gt="$(value "$theirs" achieved_gflops)" -v pt="$(value "$theirs" matmul_peak_gflops)" \
    'BEGIN { printf "ratio (masking / pytorch) = %.2fx; fraction of matmul peak: masking %.0f%%, pytorch %.0f%%\n", o / t, 100 * go / po, 100 * gt / pt }'
