#!/bin/bash
test_description='docker/metadata-action, built in: tags and labels as the action documents them (its README tables)'
. "$(dirname "$0")/../lib.sh"

# tags OUT: the space-separated tags a step printed as "A=..." / "B=..."
tags() { sed -n "s/^\\[meta\\] $1=//p" out | tr , " "; }

# rule_wf RULE: a workflow with one metadata-action step whose tags are RULE
# (printed as T=, one line)
rule_wf() {
	cat >repo/.github/workflows/ci.yml <<-EOF &&
	on: push
	jobs:
	  meta:
	    runs-on: ubuntu-latest
	    steps:
	      - id: a
	        uses: docker/metadata-action@v5
	        with:
	          images: app
	          tags: "$1"
	          sep-tags: ","
	      - run: echo "T=\${{ steps.a.outputs.tags }}"
	EOF
	git -C repo commit -q -am "rule $1"
}

test_expect_success 'setup: the README workflow (default tags, and the semver example)' '
	test_create_repo repo &&
	git -C repo branch -m master &&
	write_workflow repo ci <<-\EOF
	on: [push, pull_request]
	jobs:
	  meta:
	    runs-on: ubuntu-latest
	    steps:
	      - id: a
	        uses: docker/metadata-action@v5
	        with:
	          images: name/app
	      - id: b
	        uses: docker/metadata-action@v5
	        with:
	          images: |
	            name/app
	            ghcr.io/Owner/App
	          tags: |
	            type=ref,event=branch
	            type=ref,event=pr
	            type=semver,pattern={{version}}
	            type=semver,pattern={{major}}.{{minor}}
	            type=sha
	            type=raw,value=stable,enable={{is_default_branch}}
	          labels: |
	            maintainer=kiln
	      - run: |
	          echo "A=${{ join(fromJSON(steps.a.outputs.json).tags) }}"
	          echo "B=${{ join(fromJSON(steps.b.outputs.json).tags) }}"
	          echo "V=${{ steps.b.outputs.version }}"
	          echo "L=${{ fromJSON(steps.b.outputs.json).labels.maintainer }}"
	          printf "%s\n" "${{ steps.b.outputs.labels }}" | grep -E "image.(version|revision)=" | sed "s/^/R=/"
	          printf "%s\n" "${{ steps.b.outputs.labels }}" | cut -d= -f1 | tr "\n" " " | sed "s/^/K=/"; echo
	EOF
'

test_expect_success 'push to the default branch: the branch, sha- and the enabled raw tag' '
	echo "{\"repository\":{\"default_branch\":\"master\"}}" >push.json &&
	env -C repo kiln run -e ../push.json >out 2>err &&
	sha=$(git -C repo rev-parse --short=7 HEAD) &&
	test "$(tags A)" = "name/app:master" &&
	test "$(tags B)" = "name/app:master name/app:stable name/app:sha-$sha ghcr.io/owner/app:master ghcr.io/owner/app:stable ghcr.io/owner/app:sha-$sha" &&
	test "$(tags V)" = master &&
	test "$(tags L)" = kiln &&
	tags R >labels &&
	printf "org.opencontainers.image.revision=%s\norg.opencontainers.image.version=master\n" \
		"$(git -C repo rev-parse HEAD)" >expect &&
	test_cmp expect labels &&
	test "$(tags K)" = "maintainer org.opencontainers.image.created org.opencontainers.image.description org.opencontainers.image.licenses org.opencontainers.image.revision org.opencontainers.image.source org.opencontainers.image.title org.opencontainers.image.url org.opencontainers.image.version "
'

test_expect_success 'push to another branch: the name sanitized, no raw tag' '
	env -C repo kiln run --ref refs/heads/releases/v1 -e ../push.json >out 2>err &&
	test "$(tags A)" = "name/app:releases-v1" &&
	! tags B | grep -q stable
'

test_expect_success 'push of tag v1.2.3: semver tags and latest (README)' '
	env -C repo kiln run --ref refs/tags/v1.2.3 >out 2>err &&
	sha=$(git -C repo rev-parse --short=7 HEAD) &&
	test "$(tags A)" = "name/app:v1.2.3 name/app:latest" &&
	test "$(tags B)" = "name/app:1.2.3 name/app:1.2 name/app:sha-$sha name/app:latest ghcr.io/owner/app:1.2.3 ghcr.io/owner/app:1.2 ghcr.io/owner/app:sha-$sha ghcr.io/owner/app:latest" &&
	test "$(tags V)" = 1.2.3
'

test_expect_success 'a prerelease tag: {{version}} only, and no latest from semver (README)' '
	env -C repo kiln run --ref refs/tags/v2.0.8-beta.67 >out 2>err &&
	test "$(tags A)" = "name/app:v2.0.8-beta.67 name/app:latest" &&
	tags B | grep -q "^name/app:2.0.8-beta.67 name/app:sha-" &&
	! tags B | grep -q "latest\|name/app:2.0 "
'

test_expect_success 'a pull request: pr-N (README)' '
	echo "{\"number\":2,\"pull_request\":{\"number\":2,\"head\":{\"ref\":\"f\"},\"base\":{\"ref\":\"master\"}}}" >pr.json &&
	env -C repo kiln run pull_request -e ../pr.json >out 2>err &&
	test "$(tags A)" = "name/app:pr-2"
'

test_expect_success 'flavor: latest=false, prefix and suffix' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  meta:
	    runs-on: ubuntu-latest
	    steps:
	      - id: a
	        uses: docker/metadata-action@v5
	        with:
	          images: name/app
	          flavor: |
	            latest=false
	            prefix=v-
	            suffix=-slim
	          tags: type=semver,pattern={{major}}
	      - run: echo "A=${{ steps.a.outputs.tags }}"
	EOF
	env -C repo kiln run --ref refs/tags/v3.4.5 >out 2>err &&
	test "$(tags A)" = "name/app:v-3-slim"
'

test_expect_success 'a bad rule fails the step with the action'"'"'s message' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  meta:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/metadata-action@v5
	        with:
	          images: name/app
	          tags: type=semver
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "Missing pattern attribute for type=semver" out
'

test_expect_success 'type=pep440: the README table (normalised versions, latest only for final releases)' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  meta:
	    runs-on: ubuntu-latest
	    steps:
	      - id: raw
	        uses: docker/metadata-action@v5
	        with: { images: app, tags: "type=pep440,pattern={{raw}}" }
	      - id: version
	        uses: docker/metadata-action@v5
	        with: { images: app, tags: "type=pep440,pattern={{version}}" }
	      - id: mm
	        uses: docker/metadata-action@v5
	        with: { images: app, tags: "type=pep440,pattern={{major}}.{{minor}}" }
	      - id: v
	        uses: docker/metadata-action@v5
	        with: { images: app, tags: "type=pep440,pattern=v{{major}}" }
	      - run: |
	          echo "R=${{ steps.raw.outputs.version }}"
	          echo "V=${{ steps.version.outputs.version }}"
	          echo "M=${{ steps.mm.outputs.version }}"
	          echo "J=${{ steps.v.outputs.version }}"
	          echo "L=${{ contains(steps.mm.outputs.tags, '"'"'app:latest'"'"') }}"
	EOF
	while read -r tag raw version mm v latest; do
		env -C repo kiln run --ref refs/tags/$tag >out 2>err &&
		echo "$tag: $(tags R) $(tags V) $(tags M) $(tags J) $(tags L)" >actual &&
		echo "$tag: $raw $version $mm $v $latest" >expect &&
		test_cmp expect actual || return 1
	done <<-\EOF
	1.2.3 1.2.3 1.2.3 1.2 v1 true
	v1.2.3 v1.2.3 1.2.3 1.2 v1 true
	1.2.3rc2 1.2.3rc2 1.2.3rc2 1.2.3rc2 1.2.3rc2 false
	1.2.3post1 1.2.3post1 1.2.3.post1 1.2.3.post1 1.2.3.post1 false
	1.2.3beta2 1.2.3beta2 1.2.3b2 1.2.3b2 1.2.3b2 false
	1.0dev4 1.0dev4 1.0.dev4 1.0.dev4 1.0.dev4 false
	EOF
'

test_expect_success 'type=pep440: a tag that is not PEP 440 gives no tag and a warning' '
	env -C repo kiln run --ref refs/tags/release-x >out 2>err &&
	test_grep "release-x does not conform to PEP 440" out &&
	test -z "$(tags V)"
'

test_expect_success 'type=match: the README table (pattern, group) and latest' '
	while read -r tag rule want; do
		rule_wf "$rule" &&
		env -C repo kiln run --ref refs/tags/$tag >out 2>err &&
		echo "$tag $rule: $(tags T)" >actual &&
		echo "$tag $rule: $want" >expect &&
		test_cmp expect actual || return 1
	done <<-\EOF
	v1.2.3 type=match,pattern=\\d.\\d.\\d,group=0 app:1.2.3 app:latest
	v2.0.8-beta.67 type=match,pattern=v(.*),group=1 app:2.0.8-beta.67 app:latest
	v2.0.8-beta.67 type=match,pattern=v(\\d.\\d),group=1 app:2.0 app:latest
	20200110-RC2 type=match,pattern=\\d+ app:20200110 app:latest
	V3.1 type=match,pattern=/v(\\d)/i,group=1 app:3 app:latest
	v4.5.6 type=match,pattern=/\\d/g,group=2 app:6 app:latest
	EOF
'

test_expect_success 'type=match: no match or a missing group warns; a bad expression fails' '
	rule_wf "type=match,pattern=^x(\\\\d)" &&
	env -C repo kiln run --ref refs/tags/v1 >out 2>err &&
	test_grep "\\^x(\\\\d) does not match v1" out &&
	test -z "$(tags T)" &&
	rule_wf "type=match,pattern=v(\\\\d)?x?,group=1" &&
	env -C repo kiln run --ref refs/tags/vx >out 2>err &&
	test_grep "Group 1 does not exist" out &&
	rule_wf "type=match,pattern=v(" &&
	test_expect_code 1 env -C repo kiln run --ref refs/tags/v1 >out 2>err &&
	test_grep "Invalid regular expression: /v(/" out
'

test_expect_success 'type=schedule with {{date}} formats and tz (README), {{date}} in other rules' '
	write_workflow repo ci <<-\EOF &&
	on:
	  push:
	  schedule:
	    - cron: "0 0 * * *"
	jobs:
	  meta:
	    runs-on: ubuntu-latest
	    steps:
	      - id: n
	        uses: docker/metadata-action@v5
	        with: { images: app, tags: "type=schedule" }
	      - id: d
	        uses: docker/metadata-action@v5
	        with:
	          images: app
	          tags: type=schedule,pattern={{date '"'"'YYYYMMDD'"'"'}}
	      - id: tz
	        uses: docker/metadata-action@v5
	        with:
	          images: app
	          tags: type=schedule,pattern={{date '"'"'YYYYMMDD-hh'"'"' tz='"'"'Asia/Tokyo'"'"'}}
	      - id: raw
	        uses: docker/metadata-action@v5
	        with:
	          images: app
	          tags: type=raw,value=build-{{date '"'"'YYYY.MM'"'"'}}
	      - run: |
	          echo "N=${{ steps.n.outputs.version }}"
	          echo "D=${{ steps.d.outputs.version }}"
	          echo "Z=${{ steps.tz.outputs.version }}"
	          echo "R=${{ steps.raw.outputs.version }}"
	EOF
	d1=$(date -u +%Y%m%d) z1=$(TZ=Asia/Tokyo date +%Y%m%d-%I) r1=$(date -u +build-%Y.%m) &&
	env -C repo kiln run schedule >out 2>err &&
	d2=$(date -u +%Y%m%d) z2=$(TZ=Asia/Tokyo date +%Y%m%d-%I) r2=$(date -u +build-%Y.%m) &&
	test "$(tags N)" = nightly &&
	{ test "$(tags D)" = "$d1" || test "$(tags D)" = "$d2"; } &&
	{ test "$(tags Z)" = "$z1" || test "$(tags Z)" = "$z2"; } &&
	{ test "$(tags R)" = "$r1" || test "$(tags R)" = "$r2"; } &&
	env -C repo kiln run >out 2>err &&
	test -z "$(tags D)" &&
	{ test "$(tags R)" = "$r1" || test "$(tags R)" = "$r2"; }
'

test_expect_success '{{commit_date}}: the commit'"'"'s time (payload head_commit, else the repository)' '
	rule_wf "type=raw,value={{commit_date '"'"'YYYYMMDD-HHmmss'"'"'}}" &&
	env -C repo kiln run >out 2>err &&
	want=$(TZ=UTC git -C repo log -1 --format=%cd --date=format-local:%Y%m%d-%H%M%S) &&
	test "$(tags T)" = "app:$want" &&
	sha=$(git -C repo rev-parse HEAD) &&
	echo "{\"after\":\"$sha\",\"head_commit\":{\"id\":\"$sha\",\"timestamp\":\"2021-07-01T14:00:05+02:00\"}}" >hc.json &&
	env -C repo kiln run -e ../hc.json >out 2>err &&
	test "$(tags T)" = "app:20210701-120005"
'

test_expect_success 'a {{date}} with an unknown time zone or attribute fails the step' '
	rule_wf "type=raw,value={{date '"'"'YYYY'"'"' tz='"'"'Mars/Olympus'"'"'}}" &&
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "unknown time zone .Mars/Olympus." out &&
	rule_wf "type=raw,value={{date '"'"'YYYY'"'"' zone='"'"'UTC'"'"'}}" &&
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "Unknown zone attribute" out
'

test_done
