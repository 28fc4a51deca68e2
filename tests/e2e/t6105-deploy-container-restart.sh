#!/bin/bash
# t6005 with image releases: the controller is killed mid-canary and restarted; it
# adopts the podman instances (by the pid of their `podman run`)
DEPLOY_KIND=container
. "$(dirname "$0")/t6005-deploy-restart.sh"
