// oracle.mjs: GitHub's own evaluator (@actions/expressions, installed at
// test time) behind the same contract as `kiln expr --jsonl`: evaluate(expr,
// ctxText) -> {ok, value, kind[, number]} | {ok: false, error}. The named
// values are exactly the keys of ctx, as in kiln expr. JSON has no NaN: a
// non-finite number's value is null (JSON.stringify) and `number` is GitHub's
// string for it (coerceString: NaN, Infinity, -Infinity), as kiln prints it.
import { Lexer, Parser, Evaluator, data } from "@actions/expressions";

const KIND = {
  [data.Kind.String]: "String", [data.Kind.Array]: "Array", [data.Kind.Dictionary]: "Object",
  [data.Kind.Boolean]: "Boolean", [data.Kind.Number]: "Number", [data.Kind.Null]: "Null",
};

export function evaluate(expr, ctxText) {
  try {
    const ctx = JSON.parse(ctxText || "{}", data.reviver);
    const names = ctx instanceof data.Dictionary ? ctx.pairs().map(p => p.key) : [];
    const { tokens } = new Lexer(expr).lex();
    const ast = new Parser(tokens, names, []).parse();
    const r = ast === undefined ? new data.Null() : new Evaluator(ast, ctx).evaluate();
    if (!r || KIND[r.kind] === undefined) return { ok: false, error: "oracle: no value" };
    const out = { ok: true, value: JSON.stringify(r, data.replacer), kind: KIND[r.kind] };
    if (r.kind === data.Kind.Number && !Number.isFinite(r.value)) out.number = r.coerceString();
    return out;
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
}
