#!/usr/bin/env python3
"""
Run GitHub's workflow-parser reader cases (actions/languageservices
testdata/reader/*.yml) against `kiln debug workflow --json`.

Each case: options, `---`, the workflow, [`---`, a referenced workflow's
name, `---`, its text]..., `---`, the expected JSON. Error cases must give
an error at every expected line:col (GitHub reports expression errors at
the start of the scalar, hence --github-positions). Valid cases must load
and match GitHub's jobs, needs, if:, steps (ids, if:, run/uses, ...),
strategy/matrix, runs-on and the other job keys listed in JOB_KEYS.

usage: parser.py KILN READER_DIR WORKDIR  -> prints TAP-ish lines and a
summary; exit 1 when a case fails that is neither in skipped-tests.txt nor
in EXCEPTIONS.
"""
import json
import math
import os
import re
import subprocess
import sys

# Cases kiln does not pass, each with the reason. Keep this list short and honest.
EXCEPTIONS = {
    "background-steps.yml": "background/wait/wait-all/cancel steps are an experimental GitHub feature (option experimental-features) kiln does not run; kiln refuses those keys",
}

# Cases GitHub's skipped-tests.txt lists that kiln must pass all the same
# (a failure here is a failure, not a skip).
REQUIRED = {
    "insert.yml",  # ${{ insert }} as a mapping key (skipped upstream for the TypeScript parser only)
}

# reasons applied by pattern (whole families of cases)
def family_exception(name, opts, nrefs):
    if nrefs and name.startswith("errors-"):
        return "error comes from the called reusable workflow; kiln records uses/with/secrets but does not load called workflows"
    for o in ("max-file-size", "max-depth", "max-result-size", "max-job-limit",
              "max-nested-reusable-workflows-depth"):
        if o in opts:
            return "test sets the parser option '%s'; kiln's limits are fixed" % o
    return None

JOB_KEYS = ["id", "name", "needs", "if", "strategy", "runs-on", "env", "outputs",
            "timeout-minutes", "continue-on-error", "concurrency", "environment",
            "container", "services"]
STEP_KEYS = ["id", "if", "name", "run", "uses", "continue-on-error", "timeout-minutes",
             "env", "with", "working-directory", "shell"]


def split_case(text):
    parts = re.split(r"^---[ \t]*$\n?", text, flags=re.M)
    opts, wf, rest = parts[0], parts[1], parts[2:]
    # the separator's line break is not part of the workflow (GitHub's
    # harness splits on "\n---"): a final block scalar has no trailing \n
    if wf.endswith("\n"):
        wf = wf[:-1]
    expected = rest[-1]
    refs = rest[:-1]
    return opts, wf, len(refs) // 2, expected


def norm(v):
    """normalise a template token for comparison"""
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return int(v)
    if isinstance(v, float):
        return round(v, 12)
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("file", "line", "col"):
                continue
            out[k] = norm(x)
        if out.get("type") == 2 and "map" in out:
            out["map"] = [{"Key": norm(e["Key"]), "Value": norm(e["Value"])} for e in out["map"]]
        return out
    return v


def loose(v):
    """scalars as the strings GitHub coerces them to in string-typed keys"""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(norm(v))
    if isinstance(v, list):
        return [loose(x) for x in v]
    if isinstance(v, dict):
        return {k: loose(x) if k not in ("type",) else x for k, x in v.items()}
    return v


def same(key, e, g):
    e, g = norm(e), norm(g)
    if key == "needs":
        return (e or []) == (g or [])
    if key == "strategy":  # matrix values keep their types
        return e == g
    return loose(e) == loose(g)


def compare_job(ej, kj, where, problems):
    reusable = "ref" in ej or "jobs" in ej
    keys = ["id", "name", "needs", "if"] if reusable else JOB_KEYS
    for k in keys:
        e, g = ej.get(k), kj.get(k)
        if not same(k, e, g):
            problems.append("%s.%s: expected %s, got %s" % (where, k, json.dumps(e), json.dumps(g)))
    if reusable:
        return
    es, ks = ej.get("steps") or [], kj.get("steps") or []
    if len(es) != len(ks):
        problems.append("%s.steps: expected %d steps, got %d" % (where, len(es), len(ks)))
        return
    for i, (a, b) in enumerate(zip(es, ks)):
        for k in STEP_KEYS:
            e, g = a.get(k), b.get(k)
            if not same(k, e, g):
                problems.append("%s.steps[%d].%s: expected %s, got %s" %
                                (where, i, k, json.dumps(e), json.dumps(g)))


def expected_positions(expected, wfname):
    out = []
    for err in expected["errors"]:
        msg = err.get("Message", "")
        m = re.match(r"(.*?) \(Line: (\d+), Col: (\d+)\): ", msg)
        if m:
            if m.group(1).endswith("/" + wfname) or m.group(1) == wfname:
                out.append((int(m.group(2)), int(m.group(3)), msg))
            continue
        m = re.search(r"on line (\d+) and column (\d+)", msg)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), msg))
    return out


def run_case(kiln, path, work):
    name = os.path.basename(path)
    text = open(path, encoding="utf-8").read()
    opts, wf, nrefs, expected_text = split_case(text)
    expected = json.loads(expected_text)
    wfpath = os.path.join(work, name)
    with open(wfpath, "w", encoding="utf-8") as f:
        f.write(wf)
    p = subprocess.run([kiln, "debug", "workflow", "--json", "--github-positions", wfpath],
                       capture_output=True, timeout=60)
    if p.returncode not in (0, 2):
        return "crash", ["kiln exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-500:])], opts, nrefs
    try:
        got = json.loads(p.stdout.decode("utf-8"))
    except ValueError as e:
        return "fail", ["kiln printed no JSON: %s" % e], opts, nrefs
    problems = []
    if "errors" in expected:
        if p.returncode != 2 or "errors" not in got:
            return "fail", ["expected errors, kiln loaded the workflow"], opts, nrefs
        have = {(e["line"], e["col"]) for e in got["errors"]}
        for line, col, msg in expected_positions(expected, name):
            if (line, col) not in have:
                problems.append("no error at %d:%d (%s); kiln: %s" %
                                (line, col, msg, "; ".join("%d:%d %s" % (e["line"], e["col"], e["message"]) for e in got["errors"])))
        return ("pass" if not problems else "fail"), problems, opts, nrefs
    if "errors" in got:
        return "fail", ["unexpected error: " + "; ".join("%d:%d %s" % (e["line"], e["col"], e["message"]) for e in got["errors"])], opts, nrefs
    ej, kj = expected.get("jobs", []), got.get("jobs", [])
    if [j.get("id") for j in ej] != [j.get("id") for j in kj]:
        return "fail", ["jobs: expected %s, got %s" % ([j.get("id") for j in ej], [j.get("id") for j in kj])], opts, nrefs
    for a, b in zip(ej, kj):
        compare_job(a, b, "jobs." + a.get("id", "?"), problems)
    return ("pass" if not problems else "fail"), problems, opts, nrefs


def main():
    kiln, reader, work = sys.argv[1:4]
    skipped = set()
    skip_file = os.path.join(os.path.dirname(reader.rstrip("/")), "skipped-tests.txt")
    if os.path.exists(skip_file):
        skipped = {l.strip() for l in open(skip_file) if l.strip() and not l.startswith("#")}
    cases = sorted(f for f in os.listdir(reader) if f.endswith(".yml"))
    counts = {"pass": 0, "fail": 0, "skip": 0, "exception": 0}
    bad = 0
    for i, name in enumerate(cases, 1):
        status, problems, opts, nrefs = run_case(kiln, os.path.join(reader, name), work)
        if status == "crash":
            counts["fail"] += 1
            bad += 1
            print("not ok %d - %s (CRASH)" % (i, name))
        elif status == "pass":
            counts["pass"] += 1
            print("ok %d - %s" % (i, name))
            continue
        elif name in skipped and name not in REQUIRED:
            counts["skip"] += 1
            print("ok %d - %s # skip listed in skipped-tests.txt" % (i, name))
        elif name in EXCEPTIONS or family_exception(name, opts, nrefs):
            counts["exception"] += 1
            print("ok %d - %s # skip exception: %s" % (i, name, EXCEPTIONS.get(name) or family_exception(name, opts, nrefs)))
        else:
            counts["fail"] += 1
            bad += 1
            print("not ok %d - %s" % (i, name))
        for pr in problems[:6]:
            print("#   " + pr)
    print("# conformance (workflow parser): %d cases: %d passed, %d failed, %d skipped (skipped-tests.txt), %d exceptions"
          % (len(cases), counts["pass"], counts["fail"], counts["skip"], counts["exception"]))
    print("1..%d" % len(cases))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
