/*
 * graph: a run's job graph as an SVG drawn by the server — one column per
 * stage of `needs` (read from the workflow at the run's commit in the
 * repository's mirror), matrix jobs ("build (a)", "build (b)") grouped in
 * one box, each job a link with its status colour AND its status word.
 */
#ifndef KILN_UI_GRAPH_H
#define KILN_UI_GRAPH_H

#include <stddef.h>

#include "base/buf.h"
#include "store/runview.h"

struct workflow;

/* draw; wf may be NULL (then every job is in one stage); links go to
 * /runs/RUN/jobs/JOB */
void graph_svg(const struct workflow *wf, const struct runview *run,
	       const struct runview_job *jobs, size_t njobs, struct buf *out);

#endif
