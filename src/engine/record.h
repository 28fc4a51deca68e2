/*
 * record: keeps a `kiln run` in the run history of the store (src/store/
 * runs.h) so `kiln runs` and `kiln logs` can show it: one run per workflow
 * (numbered per workflow, which is github.run_number), its jobs, steps and
 * masked logs. Recording never fails a run: store errors are reported once
 * and recording stops.
 */
#ifndef KILN_RECORD_H
#define KILN_RECORD_H

#include <stdio.h>

#include "engine/job.h"

struct recorder;

/* open the default store; NULL (with a message in err) when it cannot */
struct recorder *recorder_open(struct buf *err);
/* close, marking unfinished runs with their conclusion so far */
void recorder_close(struct recorder *r);

/* a workflow of this run starts: its run number (1 when not recorded) */
int recorder_workflow(struct recorder *r, size_t wf_index, const char *file, const char *name,
		      const char *event, const char *ref, const char *sha);
/* job instances start and end (a skipped job only ends) */
void recorder_job_start(void *r, size_t wf_index, const char *job);
void recorder_job_end(void *r, size_t wf_index, const char *job, enum result res);
/* executor events: steps and log lines (already masked) */
void recorder_log(void *r, const struct log_event *ev);
/* every workflow's run ends with its conclusion */
void recorder_finish(struct recorder *r);

#endif
