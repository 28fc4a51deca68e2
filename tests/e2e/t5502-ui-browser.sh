#!/bin/bash
test_description='web UI in headless Chromium: sign-in, screenshots, accessibility (axe-core), no CSP violation, CSRF'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

ui_browser_prereq

test_expect_success 'start the server with an admin and a viewer' '
	start_serve &&
	ui_user alice admin "alice-pass-1" &&
	ui_user vic viewer "vic-pass-12"
'

test_expect_success 'sign-in, every page: screenshot, axe, weight, CSP; forged POST refused' '
	ui_browser t5502.mjs "$(serve_url)" "$UI_SHOTS/t5502"
'

test_done
