#!/bin/bash
# t6003 with image releases: the instances are podman containers
DEPLOY_KIND=container
. "$(dirname "$0")/t6003-deploy-canary.sh"
