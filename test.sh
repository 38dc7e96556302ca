#!/usr/bin/env bash
# Builds everything and runs every test: the xunit suites (F# core, C# façade and CLI) and the
# compose-policy script. Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet tool restore >/dev/null || { echo "dotnet tool restore failed"; echo "0 passed, 1 failed"; exit 1; }
if ! dotnet build Masking.sln -c Release -nologo -v quiet; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

status=0
for project in tests/Core.Tests tests/Experiments.Tests; do
    name=$(basename "$project")
    dotnet test "$project" -c Release --no-build -nologo \
        --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
done

passed=0
failed=0
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    # Only test results count: the run summary carries an outcome attribute too.
    p=$(grep -o '<UnitTestResult [^>]*outcome="Passed"' "$trx" | wc -l)
    f=$(grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | wc -l)
    passed=$((passed + p))
    failed=$((failed + f))
done

echo "== F# formatting (Fantomas defaults; fix with: dotnet fantomas src/Core tests/Core.Tests scripts)"
for dir in src/Core tests/Core.Tests scripts; do
    if dotnet fantomas --check "$dir" >/dev/null 2>&1; then
        passed=$((passed + 1))
    else
        echo "not formatted: $dir"
        failed=$((failed + 1))
        status=1
    fi
done

echo "== scripts/compose-policy.fsx"
if dotnet fsi scripts/compose-policy.fsx; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    status=1
fi

if [ "$passed" -eq 0 ]; then
    echo "no test ran"
    status=1
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
