#!/usr/bin/env bash
# Training throughput, Masking (TorchSharp) vs the same model and step in PyTorch (tests/parity/bart_reference.py
# via bench/train_step_torch.py), with the same threads and shapes, one after the other; each also reports its
# matmul peak and its peak resident memory.
#   bash bench/compare-train.sh [threads] [preset] [batch] [source] [target] [vocab] [seconds] [warmup]
#   bash bench/compare-train.sh 2 tiny                            # batch 32, source 64, target 64, vocab 8000
#   bash bench/compare-train.sh 2 bart-base 8 128 32 50265 60 1   # the bart-base shape (about 10 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
preset=${2:-tiny}
batch=${3:-32}
source=${4:-64}
target=${5:-64}
vocab=${6:-8000}
seconds=${7:-10}
warmup=${8:-3}
shape=(--preset "$preset" --threads "$threads" --batch-size "$batch" --source-length "$source" --target-length "$target"
       --vocab "$vocab" --seconds "$seconds" --warmup-steps "$warmup" --peak)
dotnet build src/Experiments -c Release -nologo -v quiet >/dev/null
ours=$(src/Experiments/bin/Release/net10.0/linux-x64/masking bench train "${shape[@]}" 2>/dev/null)
theirs=$(/usr/bin/python3 bench/train_step_torch.py "${shape[@]}" 2>/dev/null)
value() { echo "$1" | sed -n "s/^$2=//p"; }
o=$(value "$ours" target_tokens_per_second); t=$(value "$theirs" target_tokens_per_second)
echo "shape: $preset, batch $batch, source $source, target $target, vocab $vocab, $threads threads"
echo "masking (TorchSharp): target_tokens_per_second=$o achieved_gflops=$(value "$ours" achieved_gflops) matmul_peak_gflops=$(value "$ours" matmul_peak_gflops) peak_rss_mib=$(value "$ours" peak_rss_mib)"
echo "pytorch:              target_tokens_per_second=$t achieved_gflops=$(value "$theirs" achieved_gflops) matmul_peak_gflops=$(value "$theirs" matmul_peak_gflops) peak_rss_mib=$(value "$theirs" peak_rss_mib)"
awk -v o="$o" -v t="$t" -v go="$(value "$ours" achieved_gflops)" -v po="$(value "$ours" matmul_peak_gflops)" \
    -v gt="$(value "$theirs" achieved_gflops)" -v pt="$(value "$theirs" matmul_peak_gflops)" \
    'BEGIN { printf "ratio (masking / pytorch) = %.2fx; fraction of matmul peak: masking %.0f%%, pytorch %.0f%%\n", o / t, 100 * go / po, 100 * gt / pt }'
