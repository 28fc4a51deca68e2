#!/bin/bash
# bench/mask.sh: masking throughput of `kiln debug mask` with 100 secrets
# (each also registered as JSON and base64 forms) against `sed` replacing 3
# fixed strings, on the same generated log text. Prints MB/s side by side and
# the ratio. Data lives in a temp dir that is removed at exit.
set -eu
KILN=${KILN:-$(cd "$(dirname "$0")/.." && pwd)/build/kiln}
SIZE_MB=${MASK_BENCH_MB:-256}
dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-mask.XXXXXX")
trap 'rm -rf "$dir"' EXIT

python3 - "$dir" "$SIZE_MB" <<'PY'
import random, sys
d, mb = sys.argv[1], int(sys.argv[2])
r = random.Random(42)
alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
secrets = ["".join(r.choice(alnum) for _ in range(r.randint(16, 40))) for _ in range(100)]
open(d + "/secrets", "w").write("\n".join(secrets) + "\n")
words = ("npm WARN deprecated package installing dependencies compiling src/main.c "
         "ok PASS FAIL test_case_001 build step=3 exit=0 Downloading https://registry "
         "2026-11-23T09:41:02Z [info] [debug] resolving node_modules/.bin/tsc").split()
lines = []
for i in range(20000):
    n = r.randint(4, 18)
    line = " ".join(r.choice(words) for _ in range(n))
    if i % 500 == 0:
        line += " token=" + r.choice(secrets)
    lines.append(line)
chunk = ("\n".join(lines) + "\n").encode()
with open(d + "/log", "wb") as f:
    total = 0
    while total < mb << 20:
        f.write(chunk)
        total += len(chunk)
PY
bytes=$(stat -c %s "$dir/log")
s1=$(sed -n 1p "$dir/secrets"); s2=$(sed -n 2p "$dir/secrets"); s3=$(sed -n 3p "$dir/secrets")
cat "$dir/log" >/dev/null # warm the page cache

best() { # best wall time of 3 runs of "$@", in seconds
	local b=
	for _ in 1 2 3; do
		local t0 t1
		t0=$(date +%s.%N)
		"$@"
		t1=$(date +%s.%N)
		b=$(echo "$t0 $t1 ${b:-}" | awk '{d=$2-$1; if ($3=="" || d<$3) print d; else print $3}')
	done
	echo "$b"
}
run_kiln() { "$KILN" debug mask --secrets-file "$dir/secrets" <"$dir/log" >/dev/null; }
run_sed() { sed -e "s/$s1/***/g" -e "s/$s2/***/g" -e "s/$s3/***/g" <"$dir/log" >/dev/null; }

tk=$(best run_kiln)
ts=$(best run_sed)
"$KILN" debug mask --secrets-file "$dir/secrets" <"$dir/log" >"$dir/out.kiln"
leaks=0
while read -r s; do
	if grep -qF -- "$s" "$dir/out.kiln"; then leaks=$((leaks + 1)); fi
done <"$dir/secrets"
awk -v b="$bytes" -v tk="$tk" -v ts="$ts" -v leaks="$leaks" 'BEGIN {
	mk = b / tk / 1e6; ms = b / ts / 1e6
	printf "mask: %d MB of log text, 1 core each\n", b / 1e6
	printf "  %-40s %8.0f MB/s  (%.2fs)\n", "kiln debug mask, 100 secrets + forms", mk, tk
	printf "  %-40s %8.0f MB/s  (%.2fs)\n", "sed, 3 fixed strings", ms, ts
	printf "  ratio kiln/sed: %.1fx   secrets leaked: %d\n", mk / ms, leaks
}'
[ "$leaks" = 0 ]
