#!/bin/bash
# t6202 with image releases: the new app runs podman containers
DEPLOY_KIND=container
. "$(dirname "$0")/t6202-gitops-new-app.sh"
