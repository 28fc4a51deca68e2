#!/usr/bin/env python3
"""
mutate.py OUTDIR DIR...: write 600 mutated workflows (fixed seed) made from
the .yml files in DIRs (for conformance cases, their workflow part) into
OUTDIR, to check that the loader never crashes on broken input.
"""
import os, random, re, sys
rng = random.Random(1234)
srcs = []
for d in sys.argv[2:]:
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if f.endswith(".yml"):
                t = open(os.path.join(d, f), "rb").read()
                parts = re.split(rb"(?m)^---[ \t]*\n", t)
                srcs.append(parts[1] if len(parts) >= 3 else t)
ops = ["truncate", "dropline", "flip", "indent", "dupline", "junk", "swap"]
n = 0
for i in range(600):
    t = bytearray(rng.choice(srcs))
    op = ops[i % len(ops)]
    lines = t.split(b"\n")
    if op == "truncate" and len(t) > 1:
        t = t[:rng.randrange(len(t))]
    elif op == "dropline" and len(lines) > 1:
        del lines[rng.randrange(len(lines))]; t = b"\n".join(lines)
    elif op == "flip" and t:
        for _ in range(3):
            t[rng.randrange(len(t))] = rng.choice(b"{}[]:-&*!|>'\"#%@ \t\n$\x00\xff")
    elif op == "indent" and lines:
        k = rng.randrange(len(lines)); lines[k] = b" " * rng.randrange(1, 5) + lines[k]; t = b"\n".join(lines)
    elif op == "dupline" and lines:
        k = rng.randrange(len(lines)); lines.insert(k, lines[k]); t = b"\n".join(lines)
    elif op == "junk":
        k = rng.randrange(len(t) + 1); t[k:k] = bytes(rng.randrange(256) for _ in range(8))
    elif op == "swap" and len(lines) > 2:
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines)); lines[a], lines[b] = lines[b], lines[a]; t = b"\n".join(lines)
    open(os.path.join(sys.argv[1], "m%04d.yml" % i), "wb").write(bytes(t))
    n += 1
print("# %d mutations from %d workflows" % (n, len(srcs)))
