#!/bin/sh
# the shop's tests: the app's configuration names a known mode
set -e
mode=$(cat app.conf)
case $mode in
good) echo "tests: 3 passed" ;;
*) echo "tests: app.conf: unknown mode '$mode'" >&2; exit 1 ;;
esac
