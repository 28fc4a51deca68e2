// gen.mjs: a seeded, reproducible generator of random expressions over
// ctx.json for the differential test. It covers every operator, function,
// literal form, coercion pair, filter and access form, and produces
// malformed input (mutations, truncation, depth beyond the limit).
// Avoided on purpose (documented differences, see known-differences.txt):
// two '' escapes in one string literal, integer-like or prototype keys,
// multi-character case mappings (ß, İ).

export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = ["0", "-0", "1", "-1", "2", "1.5", "-2.5", ".5", "1.", "1e3", "1E-3", "1e21", "1e-7",
  "0x10", "0xff", "0b101", "0o17", "+3", "NaN", "Infinity", "-Infinity", "007", "3.141592653589793",
  "0.1", "123456789012345680000", "9007199254740993", "1e308", "5e-324", "0.30000000000000004", "42"];
const STRINGS = ["''", "'a'", "'A'", "'abc'", "'ABC'", "'0'", "'1'", "' 1 '", "'1.5'", "'0x10'",
  "'true'", "'false'", "'null'", "'NaN'", "'Infinity'", "'-0'", "'1e3'", "'é'", "'É'", "'ü'", "'ı'",
  "'I'", "'i'", "'it''s'", "'push'", "'PUSH'", "'refs/tags/'", "'refs/heads/main'", "'{0}'",
  "'{0} {1}'", "'{{0}}'", "'{0'", "'}'", "'{1}'", "'{0:x}'", "'[1,2]'", "'{\"a\":1}'", "'\"s\"'",
  "'{\"a\":{\"b\":[true,null]}}'", "' '", "'\t'", "'😀'", "'a,b'", "'ubuntu-latest'", "'[skip ci]'",
  "'{\"A\":1,\"a\":2}'", "'[1,]'", "'{'", "'success'", "'Array'", "'Object'", "'_'"];
const PATHS = [
  ["github"], ["github", "event_name"], ["github", "ref"], ["github", "event"], ["github", "event", "commits"],
  ["github", "event", "commits", 0], ["github", "event", "commits", 1, "author"], ["github", "event", "pull_request"],
  ["github", "event", "pull_request", "labels"], ["github", "event", "head_commit", "message"],
  ["github", "event", "repository", "topics"], ["github", "event", "base_ref"], ["github", "run_number"],
  ["env"], ["env", "CI"], ["env", "EMPTY"], ["env", "NUM"], ["env", "HEX"], ["env", "SPACE"], ["env", "Mixed"],
  ["env", "ZERO"], ["env", "FLOAT"], ["env", "JSON"], ["env", "BADJSON"], ["env", "UNI"], ["env", "WS"],
  ["env", "INF"], ["env", "NANSTR"], ["env", "OCT"], ["env", "LEADDOT"], ["vars", "PCT"], ["vars"],
  ["matrix"], ["matrix", "os"], ["matrix", "node"], ["matrix", "arch"], ["matrix", "shard"], ["matrix", "include"],
  ["steps"], ["steps", "build", "outputs"], ["steps", "build", "outputs", "json"], ["steps", "test", "outcome"],
  ["needs"], ["needs", "a", "outputs", "matrix"], ["needs", "a", "outputs", "n"], ["needs", "c", "outputs", "v"],
  ["inputs"], ["inputs", "flag"], ["inputs", "off"], ["inputs", "n"], ["inputs", "negzero"], ["inputs", "s"],
  ["inputs", "nul"], ["inputs", "half"], ["inputs", "big"], ["inputs", "tiny"], ["inputs", "third"],
  ["inputs", "arr"], ["inputs", "nested"], ["inputs", "objs"], ["inputs", "empty_arr"], ["inputs", "empty_obj"],
  ["inputs", "deep", "a", "b"], ["inputs", "Case"], ["inputs", "str_num"], ["inputs", "dup"], ["inputs", "missing"],
  ["secrets", "TOKEN"], ["strategy", "job-index"], ["runner", "os"], ["job", "status"]];
const FUNCS = ["contains", "startsWith", "endsWith", "format", "join", "toJSON", "fromJSON", "case"];
const KEYS = ["a", "b", "x", "name", "NAME", "v", "id", "os", "outputs", "result", "length", "true",
  "null", "NaN", "Infinity", "ref", "event", "commits", "e", "c", "d", "missing", "fail-fast", "_u"];

export function generator(seed) {
  const r = rng(seed);
  const pick = a => a[Math.floor(r() * a.length)];
  const chance = p => r() < p;
  const recase = s => chance(0.2) ? s.split("").map(c => chance(0.5) ? c.toUpperCase() : c.toLowerCase()).join("") : s;

  function path() {
    const p = pick(PATHS);
    let s = recase(p[0]);
    for (const k of p.slice(1)) s += typeof k === "number" ? `[${k}]` : chance(0.2) ? `['${k}']` : `.${recase(k)}`;
    let n = Math.floor(r() * 3);
    while (n--) {
      const f = r();
      if (f < 0.25) s += ".*";
      else if (f < 0.35) s += "[*]";
      else if (f < 0.55) s += `[${pick(["0", "1", "2", "-1", "'0'", "1.5", "true", "null", "'x'", "10"])}]`;
      else s += `.${pick(KEYS)}`;
    }
    return s;
  }

  function literal() {
    const f = r();
    if (f < 0.1) return pick(["null", "true", "false"]);
    if (f < 0.5) return pick(NUMBERS);
    return pick(STRINGS);
  }

  function jsonText() {
    const j = pick(["1", "-0", "\"s\"", "true", "null", "[1,\"2\",[3]]", "{\"a\":[1,{\"b\":2}],\"c\":null}",
      "{\"a\":1,\"a\":2}", "{\"x\":{\"y\":{\"z\":\"deep\"}}}", "[]", "{}", " [ 1 , 2 ] ", "[1,]", "{a:1}",
      "\"\\u00e9\"", "1e400", "[true,false,null]", "", "  ", "01", "[\"A\",\"a\"]"]);
    return `'${j}'`;
  }

  function call(d) {
    const f = recase(pick(FUNCS));
    let args = [];
    const argc = {contains: 2, startswith: 2, endswith: 2, join: 1 + Math.floor(r() * 2), tojson: 1,
      fromjson: 1, format: 1 + Math.floor(r() * 3), case: 3 + 2 * Math.floor(r() * 2)}[f.toLowerCase()];
    let n = chance(0.05) ? Math.floor(r() * 4) : argc;
    for (let i = 0; i < n; i++) args.push(expr(d + 1));
    const fl = f.toLowerCase();
    if (fl === "fromjson" && args.length && chance(0.6)) args[0] = chance(0.5) ? jsonText() : `toJSON(${expr(d + 1)})`;
    if (fl === "format" && args.length && chance(0.7)) args[0] = pick(["'{0}'", "'{0}-{1}'", "'{1}{0}'",
      "'{{{0}}}'", "'x{0}y'", "'{0'", "'{2}'", "'}}{0}{{'", "'{00}'", "'{0:d}'", "'{ 0}'", "''"]);
    if (fl === "case" && chance(0.7)) for (let i = 0; i + 1 < args.length; i += 2) args[i] = cond(d + 1);
    return `${f}(${args.join(", ")})`;
  }

  function cond(d) {
    return `${expr(d + 1)} ${pick(["==", "!=", "<", "<=", ">", ">="])} ${expr(d + 1)}`;
  }

  function expr(d) {
    if (d > 4) return chance(0.5) ? literal() : path();
    const f = r();
    if (f < 0.2) return literal();
    if (f < 0.4) return path();
    if (f < 0.5) return cond(d);
    if (f < 0.6) return `${expr(d + 1)} ${pick(["&&", "||"])} ${expr(d + 1)}`;
    if (f < 0.65) return `!${expr(d + 1)}`;
    if (f < 0.72) return `(${expr(d + 1)})`;
    if (f < 0.76) {
      const inner = chance(0.5) ? call(d + 1) : `(${expr(d + 1)})`;
      return `${inner}${pick([".a", "[0]", ".*", "[*]", ".x.y", "['c']", "[1]", ".*.b"])}`;
    }
    return call(d);
  }

  function deep() {
    const n = 45 + Math.floor(r() * 10);
    const f = r();
    if (f < 0.25) return "(".repeat(n) + "1" + ")".repeat(n);
    if (f < 0.5) return "!".repeat(n) + "true";
    if (f < 0.75) return "inputs" + ".x".repeat(n);
    return "fromJSON(".repeat(n >> 1) + "'1'" + ")".repeat(n >> 1);
  }

  function mutate(str) {
    // on code points: UTF-8 input cannot hold half a surrogate pair
    const s = Array.from(str);
    if (!s.length) return "(";
    const i = Math.floor(r() * s.length);
    const f = r();
    const at = (a, b) => s.slice(a, b).join("");
    if (f < 0.3) return at(0, i) + at(i + 1);
    if (f < 0.6) return at(0, i) + pick(["(", ")", "[", "]", ".", ",", "!", "=", "<", ">", "&", "|",
      "*", "0", "a", " ", "-", "+", "@", "{", "}", "é"]) + at(i);
    if (f < 0.8) return at(0, i);
    return at(0, i) + at(i, i + 1 + Math.floor(r() * 6)).repeat(2) + at(i + 1);
  }

  // the documented '' difference: at most one escape per string literal
  function twoEscapes(s) {
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== "'") continue;
      let n = 0;
      for (i++; i < s.length; i++) {
        if (s[i] === "'" && s[i + 1] === "'") { n++; i++; continue; }
        if (s[i] === "'") break;
      }
      if (n > 1) return true;
    }
    return false;
  }

  return () => {
    for (;;) {
      if (chance(0.02)) return deep();
      let s = expr(0);
      if (chance(0.12)) s = mutate(s);
      if (!twoEscapes(s)) return s;
    }
  };
}
