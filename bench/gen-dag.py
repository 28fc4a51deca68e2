#!/usr/bin/env python3
"""
gen-dag.py: write one layered DAG of N trivial jobs in four equivalent forms,
for bench/sched.sh.

    gen-dag.py -n N -o DIR [--layers L] [--seed S] [--fanin-max K]

The graph: L layers (default 10), the N jobs spread evenly over them; every
job of layer k > 0 needs between 1 and K (default 3) distinct jobs of layer
k - 1, picked by a seeded splitmix64 generator (so the same N, L, S, K give the
same graph on any machine and any Python 3). Every job does the same work:
one `bash --noprofile --norc -eo pipefail` running `true`.

Written under DIR:
  gha/.github/workflows/dag.yml   a GitHub Actions workflow, one `run: true` step per job
  ninja/build.ninja               one edge per job, the needs as implicit inputs
  make/Makefile                   one phony target per job, the needs as prerequisites
  gitlab/.gitlab-ci.yml           one stage per layer, the needs as `needs:`
  graph.txt                       "job: need need ..." one line per job (for checks)

The directories are not git repositories: the caller runs `git init` where a
tool wants one. Prints "jobs=N layers=L edges=E" on stdout.
"""
import argparse
import os
import sys

MASK64 = (1 << 64) - 1
WORK = "bash --noprofile --norc -eo pipefail -c true"


class SplitMix64:
    """Tiny, fully specified PRNG: reproducible independently of Python's random."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform-enough integer in [0, n) for small n."""
        return self.next() % n


def build_graph(n, layers, seed, fanin_max):
    """Return (layer_of_job list of lists of names, needs dict name -> [names])."""
    layers = max(1, min(layers, n))
    rng = SplitMix64(seed)
    per, extra = divmod(n, layers)
    width = len(str(n - 1))
    names, needs, idx = [], {}, 0
    for k in range(layers):
        count = per + (1 if k < extra else 0)
        layer = []
        for _ in range(count):
            name = "j%0*d" % (width, idx)
            idx += 1
            if k == 0:
                needs[name] = []
            else:
                prev = names[k - 1]
                want = 1 + rng.below(min(fanin_max, len(prev)))
                picked = []
                while len(picked) < want:
                    cand = prev[rng.below(len(prev))]
                    if cand not in picked:
                        picked.append(cand)
                needs[name] = sorted(picked)
            layer.append(name)
        names.append(layer)
    return names, needs


def write(path, text):
    """Write a file atomically (temp + rename), creating its directory."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def gha(layers, needs):
    out = ["name: dag", "on: push", "jobs:"]
    for layer in layers:
        for j in layer:
            out.append("  %s:" % j)
            out.append("    runs-on: ubuntu-latest")
            if needs[j]:
                out.append("    needs: [%s]" % ", ".join(needs[j]))
            out.append("    steps:")
            out.append("      - run: \"true\"")
    return "\n".join(out) + "\n"


def ninja(layers, needs):
    # outputs are never created, so every edge is dirty on every run: each
    # invocation runs all N commands, like kiln and make do.
    out = ["rule t", "  command = " + WORK, ""]
    for layer in layers:
        for j in layer:
            dep = (" | " + " ".join(needs[j])) if needs[j] else ""
            out.append("build %s: t%s" % (j, dep))
    return "\n".join(out) + "\n"


def makefile(layers, needs):
    # no shell metacharacters in the recipe: GNU make execs bash directly
    # (no /bin/sh in between), which is the fork/exec floor we compare to.
    alljobs = [j for layer in layers for j in layer]
    out = [".SUFFIXES:", "MAKEFLAGS += -r -R", ".PHONY: all " + " ".join(alljobs),
           "all: " + " ".join(alljobs), ""]
    for j in alljobs:
        out.append("%s: %s" % (j, " ".join(needs[j])) if needs[j] else "%s:" % j)
        out.append("\t@" + WORK)
    return "\n".join(out) + "\n"


def gitlab(layers, needs):
    out = ["stages: [%s]" % ", ".join("l%d" % k for k in range(len(layers))), ""]
    for k, layer in enumerate(layers):
        for j in layer:
            out.append("%s:" % j)
            out.append("  stage: l%d" % k)
            out.append("  needs: [%s]" % ", ".join(needs[j]))
            out.append("  script: [\"true\"]")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="write a layered DAG of trivial jobs")
    ap.add_argument("-n", type=int, required=True, help="number of jobs")
    ap.add_argument("-o", required=True, help="output directory")
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fanin-max", type=int, default=3)
    a = ap.parse_args()
    if a.n < 1 or a.layers < 1 or a.fanin_max < 1:
        print("gen-dag.py: -n, --layers and --fanin-max must be >= 1", file=sys.stderr)
        return 2
    layers, needs = build_graph(a.n, a.layers, a.seed, a.fanin_max)
    write(os.path.join(a.o, "gha/.github/workflows/dag.yml"), gha(layers, needs))
    write(os.path.join(a.o, "ninja/build.ninja"), ninja(layers, needs))
    write(os.path.join(a.o, "make/Makefile"), makefile(layers, needs))
    write(os.path.join(a.o, "gitlab/.gitlab-ci.yml"), gitlab(layers, needs))
    write(os.path.join(a.o, "graph.txt"),
          "".join("%s: %s\n" % (j, " ".join(needs[j])) for layer in layers for j in layer))
    edges = sum(len(v) for v in needs.values())
    print("jobs=%d layers=%d edges=%d" % (a.n, len(layers), edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
