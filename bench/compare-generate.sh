#!/usr/bin/env bash
# Generation throughput side by side, one after the other with the same threads and shapes: Masking with its
# key/value cache, Masking without it (the decoder over the whole prefix at each step), and PyTorch with a cache
# of the same design (bench/generate_torch.py). Beam search, batched over examples and beams.
#   bash bench/compare-generate.sh [threads] [preset] [beam] [batch] [source] [max_length] [vocab]
#   bash bench/compare-generate.sh 2 tiny 4 16 64 32 8000
#   bash bench/compare-generate.sh 2 bart-base 4 16 64 32 50265     # about 5 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
preset=${2:-tiny}
beam=${3:-4}
batch=${4:-16}
source=${5:-64}
max_length=${6:-32}
vocab=${7:-8000}
shape=(--preset "$preset" --threads "$threads" --beam "$beam" --batch-size "$batch" --source-length "$source"
       --max-length "$max_length" --vocab "$vocab")
dotnet build src/Experiments -c Release -nologo -v quiet >/dev/null
masking=src/Experiments/bin/Release/net10.0/linux-x64/masking
value() { echo "$1" | sed -n "s/^$2=//p"; }
cached=$($masking bench generate "${shape[@]}" 2>/dev/null)
uncached=$($masking bench generate "${shape[@]}" --no-cache 2>/dev/null)
torch=$(/usr/bin/python3 bench/generate_torch.py "${shape[@]}" 2>/dev/null)
c=$(value "$cached" generated_tokens_per_second); u=$(value "$uncached" generated_tokens_per_second)
t=$(value "$torch" generated_tokens_per_second)
echo "shape: $preset, beam $beam, batch $batch, source $source, max_length $max_length, vocab $vocab, $threads threads"
echo "masking, cache:     generated_tokens_per_second=$c peak_rss_mib=$(value "$cached" peak_rss_mib)"
echo "masking, no cache:  generated_tokens_per_second=$u peak_rss_mib=$(value "$uncached" peak_rss_mib)"
echo "pytorch, cache:     generated_tokens_per_second=$t peak_rss_mib=$(value "$torch" peak_rss_mib)"
awk -v c="$c" -v u="$u" -v t="$t" 'BEGIN { printf "cache / no cache = %.2fx; masking / pytorch (both cached) = %.2fx\n", c / u, c / t }'
