#!/bin/bash
# t6002 with image releases: the instances are podman containers
DEPLOY_KIND=container
. "$(dirname "$0")/t6002-deploy-bluegreen.sh"
