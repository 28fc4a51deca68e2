#!/bin/bash
# t6004 with image releases: the instances are podman containers
DEPLOY_KIND=container
. "$(dirname "$0")/t6004-deploy-rolling.sh"
