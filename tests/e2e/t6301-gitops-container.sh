#!/bin/bash
# t6201 with image releases: the config repository names image tags, the
# instances are podman containers pulled from a registry on loopback
DEPLOY_KIND=container
. "$(dirname "$0")/t6201-gitops-sync.sh"
