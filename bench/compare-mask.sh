#!/usr/bin/env bash
# Masking throughput, ours vs. HF-collator-style masking in PyTorch, side by side in one run on one core.
#   bash bench/compare-mask.sh [policy ...]        (default: rand orig)
# Needs Debian's PyTorch: apt-get install python3-torch libopenblas0-openmp python3-regex
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Experiments -c Release -nologo -v quiet >/dev/null
masking=src/Experiments/bin/Release/net10.0/linux-x64/masking
policies=("${@:-rand orig}")
[ $# -eq 0 ] && policies=(rand orig)

torch=$(taskset -c 0 /usr/bin/python3 bench/hf_collator_mask.py --threads 1 2>/dev/null | sed -n 's/^tokens_per_second=//p')
echo "pytorch hf-collator (no targets built): tokens_per_second=$torch"
for p in "${policies[@]}"; do
    ours=$(taskset -c 0 "$masking" bench mask --policy "$p" 2>/dev/null | sed -n 's/^tokens_per_second=//p')
    ratio=$(awk -v a="$ours" -v b="$torch" 'BEGIN { printf "%.2f", a / b }')
    echo "masking $p (source and target built): tokens_per_second=$ours  ratio=${ratio}x"
done
