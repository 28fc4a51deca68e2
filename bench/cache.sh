#!/bin/bash
# bench/cache.sh: `kiln cache save` / `restore` of a generated tree (default
# 300 MB in 20k files, mixed text and binary) against `tar | zstd -T0` and
# `zstd -d | tar -x` on the same tree, plus a restore onto the unchanged tree.
# Prints times side by side and ratios (peer time / kiln time: >1 is faster),
# medians of CACHE_BENCH_REPS (3) interleaved rounds. Each round saves
# into a fresh cache (a blob already there is kept, not written again).
# CACHE_BENCH_KILN_B=/path/to/other/kiln also runs that binary in every
# round, right after kiln, for an A/B of two builds on the same tree.
# All data lives in a temp dir removed at exit.
set -eu
KILN=${KILN:-$(cd "$(dirname "$0")/.." && pwd)/build/kiln}
MB=${CACHE_BENCH_MB:-300}
FILES=${CACHE_BENCH_FILES:-20000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-cache.XXXXXX")
trap 'rm -rf "$dir"' EXIT
KILN_B=${CACHE_BENCH_KILN_B:-}

python3 - "$dir/src/tree" "$MB" "$FILES" <<'PY'
import os, random, sys
root, mb, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(7)
avg = (mb << 20) // n
words = [("".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 10)))).encode()
         for _ in range(2000)]
text = b" ".join(r.choice(words) for _ in range(400000))
noise = os.urandom(4 << 20)
for i in range(n):
    d = os.path.join(root, "pkg%03d" % (i % 200), "sub%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    size = max(1, int(r.expovariate(1 / avg)))
    size = min(size, 4 << 20)
    if i % 4 == 0:   # a quarter of the files are incompressible
        o = r.randrange(0, len(noise) - size) if size < len(noise) else 0
        data = noise[o:o + size]
    else:
        o = r.randrange(0, max(1, len(text) - size))
        data = text[o:o + size]
    with open(os.path.join(d, "f%05d.dat" % i), "wb") as f:
        f.write(data)
PY
bytes=$(du -sb "$dir/src/tree" | cut -f1)
nfiles=$(find "$dir/src/tree" -type f | wc -l)

t() { # "wall cpu" seconds of "$@" (cpu: user + sys of the process tree)
	/usr/bin/time -f "%e %U %S" -o "$dir/time" "$@" >/dev/null 2>&1
	awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$dir/time"
}
sync
# REPS interleaved rounds (peer save, kiln save, peer restore, kiln
# restore), medians: one round moves by +-40% on a shared machine
REPS=${CACHE_BENCH_REPS:-3}
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ps=() pc=() pd=() ks=() kc=() pr=() prc=() kr=() krc=() bs=() bc=() br=() brc=()
# one step each; a round runs peer, kiln, B and the next B, kiln, peer
# (saves, then restores), so no side always follows the others' writeback
s_peer() {
	read -r a b < <(t sh -c "tar -cf - -C '$dir/src' tree | zstd -q -T0 -f -o '$dir/peer.tzst'")
	ps+=("$a") pc+=("$b")
	# the same, durable (fsync'd before it is used)
	read -r a b < <(t sh -c "tar -cf - -C '$dir/src' tree | zstd -q -T0 -f -o '$dir/peer.tzst' && sync '$dir/peer.tzst'")
	pd+=("$a")
}
s_kiln() {
	read -r a b < <(KILN_HOME="$dir/kh" t "$KILN" cache save "bench-key-$i" tree -C "$dir/src")
	ks+=("$a") kc+=("$b")
}
s_b() {
	[ -n "$KILN_B" ] || return 0
	read -r a b < <(KILN_HOME="$dir/kh-b" t "$KILN_B" cache save "bench-key-$i" tree -C "$dir/src")
	bs+=("$a") bc+=("$b")
}
r_peer() {
	read -r a b < <(t sh -c "zstd -q -d -c '$dir/peer.tzst' | tar -xf - -C '$dir/peer-out'")
	pr+=("$a") prc+=("$b")
}
r_kiln() {
	read -r a b < <(KILN_HOME="$dir/kh" t "$KILN" cache restore "bench-key-$i" tree -C "$dir/kiln-out")
	kr+=("$a") krc+=("$b")
}
r_b() {
	[ -n "$KILN_B" ] || return 0
	read -r a b < <(KILN_HOME="$dir/kh-b" t "$KILN_B" cache restore "bench-key-$i" tree -C "$dir/b-out")
	br+=("$a") brc+=("$b")
}
for i in $(seq "$REPS"); do
	rm -rf "$dir/peer-out" "$dir/kiln-out" "$dir/b-out" "$dir/peer.tzst" "$dir/kh" "$dir/kh-b"
	mkdir -p "$dir/peer-out" "$dir/kiln-out" "$dir/b-out"
	if [ $((i % 2)) = 1 ]; then
		s_peer; s_kiln; s_b; r_peer; r_kiln; r_b
	else
		s_b; s_kiln; s_peer; r_b; r_kiln; r_peer
	fi
done
export KILN_HOME="$dir/kh"
peer_save=$(med "${ps[@]}") peer_save_cpu=$(med "${pc[@]}") peer_dsave=$(med "${pd[@]}")
kiln_save=$(med "${ks[@]}") kiln_save_cpu=$(med "${kc[@]}")
peer_restore=$(med "${pr[@]}") peer_restore_cpu=$(med "${prc[@]}")
kiln_restore=$(med "${kr[@]}") kiln_restore_cpu=$(med "${krc[@]}")
read -r kiln_again kiln_again_cpu < <(t "$KILN" cache restore "bench-key-$REPS" tree -C "$dir/kiln-out")
diff -r "$dir/src/tree" "$dir/kiln-out/tree" >/dev/null || { echo "restored tree differs"; exit 1; }
[ -z "$KILN_B" ] || diff -r "$dir/src/tree" "$dir/b-out/tree" >/dev/null || { echo "B: restored tree differs"; exit 1; }
peer_size=$(stat -c %s "$dir/peer.tzst")
kiln_size=$(du -cb "$KILN_HOME"/cache/blobs/*.tzst | tail -1 | cut -f1) # the last round's blob

awk -v pd="$peer_dsave" -v reps="$REPS" -v b="$bytes" -v n="$nfiles" -v ps="$peer_save" -v ks="$kiln_save" -v pr="$peer_restore" \
    -v kr="$kiln_restore" -v ka="$kiln_again" -v pz="$peer_size" -v kz="$kiln_size" \
    -v psc="$peer_save_cpu" -v ksc="$kiln_save_cpu" -v prc="$peer_restore_cpu" -v krc="$kiln_restore_cpu" 'BEGIN {
	printf "cache: %d MB in %d files, medians of %d interleaved rounds\n", b / 1e6, n, reps
	printf "  %-34s %7.2fs   %-28s %7.2fs   ratio %.2fx\n", "kiln cache save", ks, "tar | zstd -T0", ps, ps / ks
	printf "  %-34s %7.2fs   %-28s %7.2fs   ratio %.2fx\n", "kiln cache save", ks, "tar | zstd -T0 && sync FILE", pd, pd / ks
	printf "  %-34s %7.2fs   %-28s %7.2fs   ratio %.2fx\n", "kiln cache restore (empty dir)", kr, "zstd -d | tar -x", pr, pr / kr
	printf "  %-34s %7.2fs   %-28s %7.2fs   ratio %.1fx\n", "kiln cache restore (unchanged)", ka, "zstd -d | tar -x", pr, pr / ka
	printf "  cpu seconds: save kiln %.2f peer %.2f (ratio %.2fx), restore kiln %.2f peer %.2f (ratio %.2fx)\n", ksc, psc, psc / ksc, krc, prc, prc / krc
	printf "  compressed: kiln %d MB, peer %d MB\n", kz / 1e6, pz / 1e6
}'
if [ -n "$KILN_B" ]; then
	awk -v ps="$peer_save" -v pr="$peer_restore" -v ks="$kiln_save" -v kr="$kiln_restore" \
	    -v bs="$(med "${bs[@]}")" -v bc="$(med "${bc[@]}")" -v br="$(med "${br[@]}")" -v brc="$(med "${brc[@]}")" \
	    -v ksc="$kiln_save_cpu" -v krc="$kiln_restore_cpu" -v b="$KILN_B" 'BEGIN {
	printf "B (%s), same rounds:\n", b
	printf "  save    B %7.2fs (cpu %.2f)  kiln %7.2fs (cpu %.2f)  peer/B %.2fx  B/kiln %.2fx\n", bs, bc, ks, ksc, ps / bs, bs / ks
	printf "  restore B %7.2fs (cpu %.2f)  kiln %7.2fs (cpu %.2f)  peer/B %.2fx  B/kiln %.2fx\n", br, brc, kr, krc, pr / br, br / kr
	}'
fi
