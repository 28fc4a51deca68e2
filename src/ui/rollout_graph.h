/*
 * rollout_graph: one release of a deploy app drawn from its audit log
 * (deploy/dstore.h: the controller records the plan, each canary step,
 * weight, rolling batch, analysis round, switch, rollback and outcome):
 * the strategy's steps (done, current, pending), an SVG of the new
 * version's traffic share over time with the step starts, analysis
 * results and the rollback point, and the same facts as text (steps list,
 * analysis table, events) for readers without the picture. Pure: rows in,
 * markup out; everything from the log is escaped.
 */
#ifndef KILN_UI_ROLLOUT_GRAPH_H
#define KILN_UI_ROLLOUT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "deploy/dstore.h"

/* "2026-01-02T03:04:05[.678]Z" as unix ms; 0 when malformed */
int64_t rollout_parse_time(const char *iso);

/* draw release rel from its audit rows ev (in order); now_ms ends the
 * time axis of a release still running */
void rollout_graph(const struct drelease *rel, const struct daudit *ev, size_t n, int64_t now_ms,
		   struct buf *out);

#endif
