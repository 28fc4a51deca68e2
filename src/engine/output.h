/*
 * output: what a person (or a program) sees of a run. Two sinks behind one
 * API: the terminal (live lines prefixed by the job's name, colored on a
 * TTY unless NO_COLOR, step markers, ::group:: headers, a summary table
 * and the annotations repeated at the end) and JSON lines (one object per
 * event: run/job/step start and end, log lines, annotations).
 */
#ifndef KILN_OUTPUT_H
#define KILN_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "engine/job.h"

enum output_mode { OUTPUT_TEXT, OUTPUT_JSON };

struct output; /* opaque */

struct output *output_new(FILE *out, enum output_mode mode, int color, int verbose);
void output_free(struct output *o);

/* the run starts: workflows and event, for the header / JSON event */
void output_run_start(struct output *o, const char *workflows, const char *event, size_t njobs);
/* a job instance is starting / has ended (result and wall time) */
void output_job_start(struct output *o, const char *job);
void output_job_end(struct output *o, const char *job, enum result r, uint64_t elapsed_ns,
		    const char *note);
/* an executor event (usable as a log_sink's callback, arg = the output) */
void output_log(void *o, const struct log_event *ev);
/* kiln's own message about a job (not from a step), e.g. why it was skipped */
void output_info(struct output *o, const char *job, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the run has ended: summary table, annotations, final result line */
void output_run_end(struct output *o, enum result r, uint64_t elapsed_ns);

/* "1.2s", "3m04s" into out */
void output_duration(char *out, size_t n, uint64_t ns);

#endif
