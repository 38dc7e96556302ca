#!/usr/bin/env bash
# Builds everything and runs every test: the xunit suites (F# core, C# façade and CLI) and the
# compose-policy script. Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# Debian packages the tests use: Debian's PyTorch for the parity test against an independent implementation
# (tests/parity), with OpenBLAS so that its matmul is not 30x slower. Installed when missing and we are root;
# otherwise the parity tests are reported as skipped.
APT_PACKAGES=(python3-torch libopenblas0-openmp)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing ${missing[*]} (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
            echo "apt-get install ${missing[*]} failed: the tests that need them will be skipped"
    else
        echo "== not root: ${missing[*]} not installed, the tests that need them will be skipped"
    fi
fi

dotnet tool restore >/dev/null || { echo "dotnet tool restore failed"; echo "0 passed, 1 failed"; exit 1; }
if ! dotnet build Masking.sln -c Release -nologo -v quiet; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

status=0
crashed=0
for project in tests/Core.Tests tests/Experiments.Tests; do
    name=$(basename "$project")
    if ! dotnet test "$project" -c Release --no-build -nologo \
        --logger "trx;LogFileName=$name.trx" --results-directory "$results"; then
        status=1
        # A test host that died (a native crash) reports no failed test: count it as one, so the closing
        # line never says "0 failed" for a run that did not finish.
        if [ ! -f "$results/$name.trx" ] || ! grep -q '<UnitTestResult [^>]*outcome="Failed"' "$results/$name.trx"; then
            echo "== $name: the test run did not finish (test host crashed?)"
            crashed=$((crashed + 1))
        fi
    fi
done

passed=0
failed=0
skipped=0
skipped_lines=()
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    # Only test results count: the run summary carries an outcome attribute too.
    p=$(grep -o '<UnitTestResult [^>]*outcome="Passed"' "$trx" | wc -l)
    f=$(grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | wc -l)
    s=$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
done
failed=$((failed + crashed))

echo "== F# formatting (Fantomas defaults; fix with: for d in src/Core tests/Core.Tests scripts; do dotnet fantomas \$d; done)"
for dir in src/Core tests/Core.Tests scripts; do
    if dotnet fantomas --check "$dir" >/dev/null 2>&1; then
        passed=$((passed + 1))
    else
        echo "not formatted: $dir"
        failed=$((failed + 1))
        status=1
    fi
done

echo "== Slurm: the smoke grid on a real one-node Slurm (tests/slurm/grid-test.sh)"
if [ "${MASKING_SLURM_TEST:-}" = 1 ]; then
    if bash tests/slurm/grid-test.sh; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
else
    skipped=$((skipped + 1))
    skipped_lines+=("skipped: slurm grid: set MASKING_SLURM_TEST=1 to run it (as root; installs slurm-wlm and munge, see tests/slurm/README.md)")
fi

echo "== scripts/compose-policy.fsx"
if dotnet fsi scripts/compose-policy.fsx; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    status=1
fi

if [ "$skipped" -gt 0 ]; then
    echo "== skipped tests ($skipped), with their reasons"
    for line in "${skipped_lines[@]}"; do echo "$line"; done
    # The trx files name each skipped test and its reason (python3 reads the XML; without it, names only).
    command -v python3 >/dev/null 2>&1 || grep -ho '<UnitTestResult [^>]*outcome="NotExecuted"' "$results"/*.trx | sed 's/.*testName="\([^"]*\)".*/skipped: \1/'
    command -v python3 >/dev/null 2>&1 && python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for trx in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(trx).getroot().iterfind(".//t:UnitTestResult[@outcome='NotExecuted']", ns):
        reason = r.find(".//t:Message", ns)
        print(f"skipped: {r.get('testName')}: {reason.text.strip() if reason is not None and reason.text else 'no reason given'}")
PY
fi

if [ "$passed" -eq 0 ]; then
    echo "no test ran"
    status=1
fi
[ "$failed" -gt 0 ] && status=1
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
exit $status
