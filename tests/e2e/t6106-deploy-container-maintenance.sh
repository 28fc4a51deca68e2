#!/bin/bash
# t6006 with image releases: maintenance page, webhooks, pre/post hooks
DEPLOY_KIND=container
. "$(dirname "$0")/t6006-deploy-maintenance.sh"
