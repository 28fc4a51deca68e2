#!/bin/bash
test_description='kiln expr: one expression, --jsonl, --if, --template, errors'
. "$(dirname "$0")/../lib.sh"

cat >ctx.json <<'JSON'
{"github": {"event_name": "push", "ref": "refs/tags/v1.2", "event": {"commits": [{"id": "a"}, {"id": "b"}]}},
 "needs": {"build": {"result": "success", "outputs": {"cfg": "{\"a\": [1, 2]}"}}},
 "matrix": {"os": "ubuntu"}}
JSON

test_expect_success 'evaluates with contexts and prints JSON' '
	kiln expr --ctx ctx.json "github.event_name == '\''PUSH'\'' && contains(github.ref, '\''refs/tags/v'\'')" >out &&
	echo true >expect && test_cmp expect out &&
	kiln expr --ctx ctx.json "fromJSON(needs.build.outputs.cfg).a[1]" >out &&
	echo 2 >expect && test_cmp expect out &&
	kiln expr --ctx ctx.json "join(github.event.commits.*.id, '\''+'\'')" >out &&
	echo "\"a+b\"" >expect && test_cmp expect out
'

test_expect_success 'objects print in toJSON format' '
	kiln expr --ctx ctx.json "github.event.commits[0]" >out &&
	printf "{\n  \"id\": \"a\"\n}\n" >expect && test_cmp expect out
'

test_expect_success 'a parse error exits 2 with the position' '
	test_expect_code 2 kiln expr "1 <" 2>err &&
	test_grep "Unexpected end of expression: '\''<'\''. Located at position 3" err &&
	test_expect_code 2 kiln expr "github.sha" 2>err &&
	test_grep "Unrecognized named-value: '\''github'\''" err
'

test_expect_success 'an evaluation error exits 2' '
	test_expect_code 2 kiln expr "format('\''{1}'\'', 1)" 2>err &&
	test_grep "references more arguments than were supplied" err
'

test_expect_success '--jsonl answers one line per input, errors included' '
	cat >in.jsonl <<-\EOF &&
	{"expr": "1 == 1"}
	{"expr": "a.b", "ctx": {"a": {"B": "x"}}}
	{"expr": "1 <"}
	not json
	{"expr": "NaN"}
	{"expr": "fromJSON('\''[1,{\"a\":null}]'\'')"}
	EOF
	kiln expr --jsonl <in.jsonl >out &&
	test_line_count=$(wc -l <out) && test "$test_line_count" = 6 &&
	sed -n 1p out | grep -qx "{\"ok\":true,\"value\":true,\"kind\":\"Boolean\"}" &&
	sed -n 2p out | grep -qx "{\"ok\":true,\"value\":\"x\",\"kind\":\"String\"}" &&
	sed -n 3p out | grep -q "^{\"ok\":false,\"error\":\"Unexpected end of expression" &&
	sed -n 4p out | grep -q "^{\"ok\":false,\"error\":\"invalid input line" &&
	sed -n 5p out | grep -qx "{\"ok\":true,\"value\":null,\"kind\":\"Number\",\"number\":\"NaN\"}" &&
	sed -n 6p out | grep -qx "{\"ok\":true,\"value\":\[1,{\"a\":null}\],\"kind\":\"Array\"}"
'

test_expect_success 'NaN and infinities print as GitHub writes them, JSON lines stay JSON' '
	kiln expr NaN >out && echo NaN >expect && test_cmp expect out &&
	kiln expr "+Infinity" >out && echo Infinity >expect && test_cmp expect out &&
	kiln expr -- -Infinity >out && echo -Infinity >expect && test_cmp expect out &&
	kiln expr "case(true, -Infinity, 0)" >out && test_cmp expect out &&
	kiln expr --template "\${{ NaN }}" >out && echo NaN >expect && test_cmp expect out &&
	kiln expr --template "x\${{ -Infinity }}" >out && echo "\"x-Infinity\"" >expect && test_cmp expect out &&
	kiln expr "toJSON(NaN)" >out && echo "\"null\"" >expect && test_cmp expect out &&
	kiln expr "1e400" >out && echo Infinity >expect && test_cmp expect out &&
	printf "%s\n" "{\"expr\": \"-Infinity\"}" "{\"expr\": \"Infinity\"}" "{\"expr\": \"0\"}" |
		kiln expr --jsonl >out &&
	cat >expect <<-\EOF &&
	{"ok":true,"value":null,"kind":"Number","number":"-Infinity"}
	{"ok":true,"value":null,"kind":"Number","number":"Infinity"}
	{"ok":true,"value":0,"kind":"Number"}
	EOF
	test_cmp expect out &&
	python3 -c "import json,sys; [json.loads(l) for l in open(\"out\")]"
'

test_expect_success '--if adds success() unless a status function is used' '
	kiln expr --ctx ctx.json --if "matrix.os == '\''ubuntu'\''" >out && echo true >expect && test_cmp expect out &&
	kiln expr --ctx ctx.json --status failure --if "matrix.os == '\''ubuntu'\''" >out &&
	echo false >expect && test_cmp expect out &&
	kiln expr --ctx ctx.json --status failure --if "\${{ failure() && matrix.os == '\''ubuntu'\'' }}" >out &&
	echo true >expect && test_cmp expect out &&
	kiln expr --status cancelled --if "always()" >out && echo true >expect && test_cmp expect out
'

test_expect_success '--template interpolates; a lone expression keeps its type' '
	kiln expr --ctx ctx.json --template "os=\${{ matrix.os }} n=\${{ 1.50 }}" >out &&
	echo "\"os=ubuntu n=1.5\"" >expect && test_cmp expect out &&
	kiln expr --ctx ctx.json --template "\${{ needs.build }}" >out &&
	test_grep "\"result\": \"success\"" out &&
	test_expect_code 2 kiln expr --template "a \${{ 1" 2>err && test_grep "not closed" err
'

test_expect_success 'hashFiles hashes matching files under --workspace' '
	mkdir -p ws/src/deep && echo one >ws/src/a.txt && echo two >ws/src/deep/b.txt && echo x >ws/c.md &&
	h=$(kiln expr --workspace "$PWD/ws" "hashFiles('\''**/*.txt'\'')") &&
	a=$(sha256sum ws/src/a.txt | cut -c1-64) && b=$(sha256sum ws/src/deep/b.txt | cut -c1-64) &&
	want=$(printf "%s%s" "$a" "$b" | perl -ne '\''print pack("H*", $_)'\'' | sha256sum | cut -c1-64) &&
	test "$h" = "\"$want\"" &&
	kiln expr --workspace "$PWD/ws" "hashFiles('\''**/*.none'\'')" >out && echo "\"\"" >expect && test_cmp expect out &&
	h2=$(kiln expr --workspace "$PWD/ws" "hashFiles('\''**/*.txt'\'', '\''!src/deep/**'\'')") &&
	want2=$(printf "%s" "$a" | perl -ne '\''print pack("H*", $_)'\'' | sha256sum | cut -c1-64) && test "$h2" = "\"$want2\""
'

# digest of the files' digests, in the order given
hash_of() {
	for f in "$@"; do sha256sum "$f" | cut -c1-64; done | tr -d "\n" |
		perl -ne 'print pack("H*", $_)' | sha256sum | cut -c1-64
}

test_expect_success 'hashFiles walks like the runner: depth first, names in byte order, roots in pattern order' '
	mkdir -p w2/a w2/b && echo 1 >w2/a.txt && echo 2 >w2/a/b.txt && echo 3 >w2/b/c.txt &&
	h=$(kiln expr --workspace "$PWD/w2" "hashFiles('"'"'**/*.txt'"'"')") &&
	test "$h" = "\"$(hash_of w2/a/b.txt w2/a.txt w2/b/c.txt)\"" &&
	h=$(kiln expr --workspace "$PWD/w2" "hashFiles('"'"'b/**'"'"', '"'"'a/**'"'"')") &&
	test "$h" = "\"$(hash_of w2/b/c.txt w2/a/b.txt)\"" &&
	h=$(kiln expr --workspace "$PWD/w2" "hashFiles('"'"'a.txt'"'"')") &&
	test "$h" = "\"$(hash_of w2/a.txt)\""
'

test_expect_success 'deep nesting and huge input are errors, not crashes' '
	deep=$(printf "(%.0s" $(seq 1 5000))1$(printf ")%.0s" $(seq 1 5000)) &&
	test_expect_code 2 kiln expr "$deep" 2>err && test_grep "Exceeded max expression depth 50" err &&
	big=$(head -c 30000 /dev/zero | tr "\0" "a") &&
	test_expect_code 2 kiln expr "'\''$big'\''" 2>err && test_grep "Exceeded max expression length" err
'

test_done
