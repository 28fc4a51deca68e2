#!/usr/bin/env python3
"""conformance.py KILN TESTDATA_DIR: run GitHub's published expression test
data (actions/languageservices expressions/testdata/*.json) through
`kiln expr --jsonl` and print TAP, one test per file. An expected error
passes when kiln fails with a message that starts with the expected text
(the data truncates some messages); an expected value must match in kind
and value."""
import json, math, os, subprocess, sys

KIND = {"Null": "Null", "Boolean": "Boolean", "Number": "Number", "String": "String",
        "Array": "Array", "Object": "Object"}


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    return a == b


def main():
    kiln, tdir = sys.argv[1], sys.argv[2]
    files = sorted(f for f in os.listdir(tdir) if f.endswith(".json"))
    cases = []
    for f in files:
        with open(os.path.join(tdir, f), encoding="utf-8") as fh:
            data = json.load(fh)
        for name, lst in data.items():
            for i, c in enumerate(lst):
                cases.append((f, "%s[%d]" % (name, i), c))
    lines = "".join(json.dumps({"expr": c["expr"], "ctx": c.get("contexts") or {}}) + "\n"
                    for _, _, c in cases)
    out = subprocess.run([kiln, "expr", "--jsonl"], input=lines.encode(), capture_output=True,
                         check=False)
    got = out.stdout.decode().splitlines()
    if out.returncode != 0 or len(got) != len(cases):
        print("1..1\nnot ok 1 - kiln expr --jsonl exited %d with %d lines for %d inputs"
              % (out.returncode, len(got), len(cases)))
        sys.stderr.write(out.stderr.decode())
        return 1
    fails = {}
    passed = 0
    for (f, name, c), line in zip(cases, got):
        r = json.loads(line)
        why = None
        if "err" in c:
            want = c["err"]["value"]
            if r["ok"]:
                why = "expected error %r, got %s %r" % (want, r["kind"], r["value"])
            elif not r["error"].startswith(want):
                why = "expected error %r, got error %r" % (want, r["error"])
        else:
            want = c["result"]
            if not r["ok"]:
                why = "expected %s %r, got error %r" % (want["kind"], want["value"], r["error"])
            elif r["kind"] != KIND[want["kind"]] or not same(r["value"], want["value"]):
                why = "expected %s %r, got %s %r" % (want["kind"], want["value"], r["kind"],
                                                      r["value"])
        if why:
            fails.setdefault(f, []).append("%s: %r: %s" % (name, c["expr"][:200], why))
        else:
            passed += 1
    print("1..%d" % len(files))
    for n, f in enumerate(files, 1):
        if f in fails:
            print("not ok %d - %s" % (n, f))
            for m in fails[f]:
                print("#   " + m.replace("\n", "\\n"))
        else:
            print("ok %d - %s" % (n, f))
    print("# conformance: %d/%d cases pass" % (passed, len(cases)))
    return 1 if fails else 0


sys.exit(main())
