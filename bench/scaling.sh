#!/usr/bin/env bash
# How work grows with the size of one input, side by side in one run: a policy spec nested deeper and deeper
# (up to the limit of 64) or mixing more and more policies, and one input line of growing length through
# `masking mask`. Prints seconds per size and the ratio to the previous size (2.0 when linear in a doubling).
#   bash bench/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Experiments -c Release -nologo -v quiet >/dev/null
masking=src/Experiments/bin/Release/net10.0/linux-x64/masking
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "one short line" > "$tmp/short.txt"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'; }
startup=$(seconds "$masking" mask --policy rand --input "$tmp/short.txt" --annotator rules)
echo "start-up (mask of one short line): ${startup} s; figures below are net of it"

report() { # label, sizes..., then a function of the size that runs the command
    local label=$1 run=$2; shift 2
    local previous=""
    for n in "$@"; do
        local t; t=$(seconds $run "$n")
        local net; net=$(awk -v t="$t" -v s="$startup" 'BEGIN { x = t - s; printf "%.3f", (x < 0.001 ? 0.001 : x) }')
        local ratio=""; [ -n "$previous" ] && ratio=$(awk -v a="$net" -v b="$previous" 'BEGIN { printf "  x%.2f", a / b }')
        echo "$label $n: ${net} s$ratio"
        previous=$net
    done
}

nested() { local spec="rand"; for ((i = 0; i < $1; i++)); do spec="mix($spec:1)"; done; "$masking" mask --policy "$spec" --input "$tmp/short.txt" --annotator rules; }
wide() { local spec; spec="mix($(yes 'rand:1' | head -n "$1" | paste -sd,))"; "$masking" mask --policy "$spec" --input "$tmp/short.txt" --annotator rules; }
write_line() { python3 -c "import sys; print(' '.join(['Ada met Charles in London in 1833.'] * int(sys.argv[1])))" "$1" > "$tmp/line.txt"; }
line() { write_line "$1"; "$masking" mask --policy ssm --input "$tmp/line.txt" --annotator "${ANNOTATOR:-ner}"; }
# Many short <mask> runs to build and decode: the cost per run must not grow with the line.
line_rand() { write_line "$1"; "$masking" mask --policy rand:target=full --input "$tmp/line.txt" --annotator rules; }

report "nested spec, depth" nested 16 32 64
report "mix of N policies" wide 1000 2000 4000 8000
# 34 characters a sentence: 4,000 sentences are 136 KB, 24,000 are 816 KB (under the 1 MiB line limit).
report "one line (ssm), sentences" line 3000 6000 12000 24000
report "one line (rand), sentences" line_rand 3000 6000 12000 24000
