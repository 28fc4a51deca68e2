/*
 * cmds: every subcommand's entry point. Each lives in its own
 * src/cli/<name>.c and is listed in the table in main.c.
 * Returns the process exit code (0, 1, 2, 3 as in DESIGN.md).
 */
#ifndef KILN_CMDS_H
#define KILN_CMDS_H

struct kiln_ctx;

int cmd_run(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_version(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_expr(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_lint(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_debug(int argc, char **argv, struct kiln_ctx *ctx);
/* `kiln debug job FILE JOB` (src/cli/debug_job.c) */
int cmd_debug_job(int argc, char **argv);
int cmd_secret(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_cache(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_runs(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_logs(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_serve(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_agent(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_repo(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_cron(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_dora(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_user(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_token(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_env(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_approve(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_reject(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_cancel(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_rerun(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_dispatch(int argc, char **argv, struct kiln_ctx *ctx);
/* `kiln debug event|changes|paths-filter|trigger` (src/cli/debug_git.c) */
int debug_git(int argc, char **argv);
/* `kiln debug mask` (debug-mask.c) */
int debug_mask(int argc, char **argv);
/* deploy commands (src/cli/deploy.c) */
int cmd_deployd(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_deploy(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_status(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_sync(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_releases(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_rollback(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_promote(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_abort(int argc, char **argv, struct kiln_ctx *ctx);
int cmd_maintenance(int argc, char **argv, struct kiln_ctx *ctx);
/* `kiln debug record-run` (debug-store.c) */
int debug_record_run(int argc, char **argv);
/* `kiln debug record-deploy` (debug-deploy.c) */
int debug_record_deploy(int argc, char **argv);
/* `kiln debug notify` (debug-notify.c) */
int debug_notify(int argc, char **argv);

#endif
