// expr-bench.mjs CTX ROUNDS < expressions: the JS side of bench/expr.sh,
// doing exactly what `kiln expr --bench` does with @actions/expressions:
// ROUNDS of lex+parse+evaluate per expression, then ROUNDS of evaluating
// pre-parsed ASTs. Prints "<mode> <evaluations> <ns per evaluation>".
import { readFileSync } from "node:fs";
import { Lexer, Parser, Evaluator, data } from "@actions/expressions";

const [ctxFile, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const ctx = JSON.parse(readFileSync(ctxFile, "utf8"), data.reviver);
const names = ctx.pairs().map(p => p.key);
const src = readFileSync(0, "utf8").split("\n").filter(l => l && !l.startsWith("#"));
const parse = s => new Parser(new Lexer(s).lex().tokens, names, []).parse();
const parsed = src.map(parse);
let sink = 0;
// warm up the JIT first, as a fair steady-state comparison
for (let r = 0; r < Math.min(rounds, 200); r++)
  for (const s of src) sink += new Evaluator(parse(s), ctx).evaluate().kind;
let t0 = process.hrtime.bigint();
let n = 0;
for (let r = 0; r < rounds; r++)
  for (const s of src) { sink += new Evaluator(parse(s), ctx).evaluate().kind; n++; }
let t1 = process.hrtime.bigint();
console.log(`parse+eval ${n} ${(Number(t1 - t0) / n).toFixed(1)}`);
n = 0;
for (let r = 0; r < rounds; r++)
  for (const a of parsed) { sink += new Evaluator(a, ctx).evaluate().kind; n++; }
const t2 = process.hrtime.bigint();
console.log(`eval ${n} ${(Number(t2 - t1) / n).toFixed(1)}`);
if (sink === -1) console.log("");
