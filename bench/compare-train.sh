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
masking=src/Experiments/bin/Release/net10.0/linux-x64/masking
# Masking keeps freed native memory in the process (Training/NativeAllocator.cs); glibc's environment variables
# give PyTorch the same allocator settings, so the ratio is shown both against stock PyTorch and on equal terms.
same_malloc=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647)
ours=$("$masking" bench train "${shape[@]}" 2>/dev/null)
ours_system=$(MASKING_MALLOC=system "$masking" bench train "${shape[@]}" 2>/dev/null)
theirs=$(/usr/bin/python3 bench/train_step_torch.py "${shape[@]}" 2>/dev/null)
theirs_same=$("${same_malloc[@]}" /usr/bin/python3 bench/train_step_torch.py "${shape[@]}" 2>/dev/null)
value() { echo "$1" | sed -n "s/^$2=//p"; }
line() {
    printf '%-44s target_tokens_per_second=%s achieved_gflops=%s matmul_peak_gflops=%s peak_rss_mib=%s\n' "$1" \
        "$(value "$2" target_tokens_per_second)" "$(value "$2" achieved_gflops)" "$(value "$2" matmul_peak_gflops)" "$(value "$2" peak_rss_mib)"
}
ratio() {
    awk -v o="$(value "$2" target_tokens_per_second)" -v t="$(value "$3" target_tokens_per_second)" \
        -v go="$(value "$2" achieved_gflops)" -v po="$(value "$2" matmul_peak_gflops)" \
        -v gt="$(value "$3" achieved_gflops)" -v pt="$(value "$3" matmul_peak_gflops)" -v what="$1" \
        'BEGIN { printf "%-44s ratio = %.2fx; fraction of matmul peak: %.0f%% vs %.0f%%\n", what, o / t, 100 * go / po, 100 * gt / pt }'
}
echo "shape: $preset, batch $batch, source $source, target $target, vocab $vocab, $threads threads"
line "masking (TorchSharp):" "$ours"
line "masking, glibc's default allocator:" "$ours_system"
line "pytorch:" "$theirs"
line "pytorch, masking's allocator settings:" "$theirs_same"
ratio "masking / pytorch:" "$ours" "$theirs"
ratio "masking / pytorch, same allocator settings:" "$ours" "$theirs_same"
ratio "masking / masking with glibc's defaults:" "$ours" "$ours_system"
