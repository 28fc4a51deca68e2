// diff.mjs KILN: the differential test. Runs the hand-written edge cases
// (edge-cases.txt) and ORACLE_N (default 6000) seeded random expressions
// (ORACLE_SEED) through `KILN expr --jsonl` and through @actions/expressions,
// compares error-vs-value, kind and value (as JSON), and prints TAP. The
// known differences (known-differences.txt) are asserted to still differ
// in the documented way, so the list cannot go stale.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluate } from "./oracle.mjs";
import { generator } from "./gen.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const kiln = process.argv[2];
const ctxText = JSON.stringify(JSON.parse(readFileSync(join(here, "ctx.json"), "utf8")));
const seed = Number(process.env.ORACLE_SEED || 20261123);
const count = Number(process.env.ORACLE_N || 6000);

function lines(file) {
  return readFileSync(join(here, file), "utf8").split("\n").filter(l => l.length && !l.startsWith("#"));
}

function runKiln(items) {
  const input = items.map(it => JSON.stringify({ expr: it.expr, ctx: JSON.parse(it.ctx) })).join("\n") + "\n";
  const p = spawnSync(kiln, ["expr", "--jsonl"], { input, maxBuffer: 1 << 30 });
  if (p.status !== 0) throw new Error(`kiln expr --jsonl exited ${p.status}: ${p.stderr}`);
  const out = p.stdout.toString().split("\n").filter(l => l.length);
  if (out.length !== items.length) throw new Error(`kiln answered ${out.length} lines for ${items.length}`);
  return out.map(l => JSON.parse(l));
}

function show(r) {
  return r.ok ? `${r.kind} ${r.number ?? r.value}` : `error: ${r.error}`;
}

function compare(name, items) {
  const k = runKiln(items);
  const bad = [];
  let errors = 0;
  items.forEach((it, i) => {
    const o = evaluate(it.expr, it.ctx);
    const kv = k[i];
    const kvValue = kv.ok ? JSON.stringify(kv.value) : undefined;
    if (!o.ok) errors++;
    const same = o.ok === kv.ok &&
      (!o.ok || (o.kind === kv.kind && o.value === kvValue && o.number === kv.number));
    if (!same) bad.push(`${JSON.stringify(it.expr)}: kiln ${show({ ...kv, value: kvValue })} / oracle ${show(o)}`);
  });
  return { name, n: items.length, bad, errors };
}

let t = 0, failed = 0;
function report(r) {
  t++;
  const ok = r.bad.length === 0;
  if (!ok) failed++;
  console.log(`${ok ? "ok" : "not ok"} ${t} - ${r.name}: ${r.n - r.bad.length}/${r.n} agree (${r.errors} are errors on both sides)`);
  for (const b of r.bad.slice(0, 30)) console.log(`#   ${b}`);
}

console.log("1..3");
const edge = lines("edge-cases.txt").map(expr => ({ expr, ctx: ctxText }));
report(compare("hand-written edge cases", edge));

const next = generator(seed);
const rand = [];
for (let i = 0; i < count; i++) rand.push({ expr: next(), ctx: ctxText });
report(compare(`random expressions (seed ${seed})`, rand));

// known differences: `expr <TAB> kiln's value as JSON or "error"`
const known = lines("known-differences.txt").map(l => {
  const [expr, want] = l.split("\t");
  return { expr, want, ctx: ctxText };
});
const kk = runKiln(known);
const stale = [];
known.forEach((it, i) => {
  const o = evaluate(it.expr, it.ctx);
  const kv = kk[i];
  const kivalue = kv.ok ? JSON.stringify(kv.value) : "error";
  const ovalue = o.ok ? o.value : "error";
  if (kivalue !== it.want) stale.push(`${it.expr}: kiln gives ${kivalue}, documented ${it.want}`);
  else if (ovalue === kivalue) stale.push(`${it.expr}: the oracle now agrees (${ovalue}); drop the entry`);
});
t++;
if (stale.length) failed++;
console.log(`${stale.length ? "not ok" : "ok"} ${t} - ${known.length} documented differences still hold`);
for (const s of stale) console.log(`#   ${s}`);
process.exit(failed ? 1 : 0);
