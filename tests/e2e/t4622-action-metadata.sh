#!/bin/bash
test_description='docker/metadata-action, built in: tags and labels as the action documents them (its README tables)'
. "$(dirname "$0")/../lib.sh"

# tags OUT: the space-separated tags a step printed as "A=..." / "B=..."
tags() { sed -n "s/^\\[meta\\] $1=//p" out | tr , " "; }

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

test_done
