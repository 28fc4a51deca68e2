/* unit tests for src/deploy/promtext: histogram parsing, sums, deltas, quantiles */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "deploy/promtext.h"

#include <math.h>

#define M "http_request_duration_seconds"

static const char *const EXPO =
	"# HELP " M " request latency\n"
	"# TYPE " M " histogram\n"
	M "_bucket{le=\"0.005\"} 1\n"
	M "_bucket{le=\"0.01\"} 3\n"
	M "_bucket{le=\"0.025\"} 8\n"
	M "_bucket{le=\"0.05\"} 10\n"
	M "_bucket{le=\"+Inf\"} 10\n"
	M "_sum 0.2\n"
	M "_count 10\n"
	M "_created 1.7e9\n"
	"other_metric_bucket{le=\"1\"} 99\n"
	M "x_bucket{le=\"1\"} 77\n"
	"process_cpu_seconds_total 1.5\n";

static void parse(const char *text, struct prom_hist *h)
{
	promtext_parse(text, strlen(text), M, h);
}

static void test_buckets(void **state)
{
	(void)state;
	struct prom_hist h = PROM_HIST_INIT;
	assert_int_equal(promtext_parse(EXPO, strlen(EXPO), M, &h), 7);
	assert_true(h.found);
	assert_int_equal(h.malformed, 0);
	assert_int_equal(h.n, 5);
	assert_true(h.le[0] == 0.005 && h.cnt[0] == 1);
	assert_true(h.le[3] == 0.05 && h.cnt[3] == 10);
	assert_true(isinf(h.le[4]) && h.cnt[4] == 10);
	assert_true(h.count == 10 && fabs(h.sum - 0.2) < 1e-12);
	assert_true(prom_hist_total(&h) == 10);
	prom_hist_release(&h);

	/* not present at all */
	parse("up 1\n# " M "_bucket{le=\"1\"} 3\n", &h);
	assert_false(h.found);
	assert_int_equal(h.n, 0);
	assert_true(isnan(prom_hist_quantile(0.95, &h)));
	prom_hist_release(&h);
}

static void test_labels_summed(void **state)
{
	(void)state;
	struct prom_hist h = PROM_HIST_INIT;
	/* out-of-order lines, other labels (with '}' and escaped quotes in values), CRLF, timestamps */
	parse(M "_bucket{path=\"/a}\",le=\"0.1\"} 4 1700000000000\r\n"
	      M "_bucket{le=\"+Inf\",path=\"/a}\"} 6\r\n"
	      M "_bucket{path=\"/b\\\"x\", le=\"0.1\"} 1\n"
	      M "_bucket{path=\"/b\\\"x\",le=\"+Inf\"} 2\n"
	      M "_count{path=\"/a}\"} 6\n" M "_count{path=\"/b\\\"x\"} 2\n",
	      &h);
	assert_int_equal(h.malformed, 0);
	assert_int_equal(h.n, 2);
	assert_true(h.cnt[0] == 5 && h.cnt[1] == 8 && h.count == 8);
	prom_hist_release(&h);
}

static void test_interpolation(void **state)
{
	(void)state;
	struct prom_hist h = PROM_HIST_INIT;
	parse(EXPO, &h);
	/* rank 9.5 of 10 lies in (0.025, 0.05] holding 2: 0.025 + 0.025 * 1.5/2 */
	assert_true(fabs(prom_hist_quantile(0.95, &h) - 0.04375) < 1e-12);
	/* rank 5 in (0.01, 0.025] holding 5: 0.01 + 0.015 * 2/5 */
	assert_true(fabs(prom_hist_quantile(0.5, &h) - 0.016) < 1e-12);
	/* rank 0.5 in the first bucket, which starts at 0 */
	assert_true(fabs(prom_hist_quantile(0.05, &h) - 0.0025) < 1e-12);
	assert_true(isnan(prom_hist_quantile(0, &h)) && isnan(prom_hist_quantile(1, &h)));
	prom_hist_release(&h);
}

static void test_inf(void **state)
{
	(void)state;
	struct prom_hist h = PROM_HIST_INIT;
	/* the rank falls into +Inf: the highest finite bound answers */
	parse(M "_bucket{le=\"0.1\"} 1\n" M "_bucket{le=\"1\"} 2\n" M "_bucket{le=\"+Inf\"} 10\n", &h);
	assert_true(prom_hist_quantile(0.95, &h) == 1);
	prom_hist_release(&h);
	/* without +Inf there is no quantile */
	parse(M "_bucket{le=\"0.1\"} 1\n" M "_bucket{le=\"1\"} 2\n", &h);
	assert_true(isnan(prom_hist_quantile(0.5, &h)));
	assert_true(prom_hist_total(&h) == 0);
	prom_hist_release(&h);
	/* no observations */
	parse(M "_bucket{le=\"0.1\"} 0\n" M "_bucket{le=\"+Inf\"} 0\n", &h);
	assert_true(isnan(prom_hist_quantile(0.5, &h)));
	prom_hist_release(&h);
}

static void test_malformed(void **state)
{
	(void)state;
	struct prom_hist h = PROM_HIST_INIT;
	parse(M "_bucket{le=\"0.1\"} 2\n"
	      M "_bucket{le=\"0.2\" 3\n"        /* unclosed braces */
	      M "_bucket{le=\"abc\"} 3\n"       /* bad bound */
	      M "_bucket{path=\"/\"} 3\n"       /* no le */
	      M "_bucket{le=\"0.5\"} many\n"    /* bad value */
	      M "_bucket{le=\"0.5\"} -1\n"      /* negative count */
	      M "_bucket{le=\"0.5\"}\n"         /* no value */
	      M "_count NaN\n"
	      M "_bucket{le=\"+Inf\"} 4\n"
	      "garbage without value\n"
	      "{}\n",
	      &h);
	assert_int_equal(h.malformed, 7);
	assert_int_equal(h.n, 2);
	assert_true(h.cnt[0] == 2 && h.cnt[1] == 4);
	prom_hist_release(&h);
}

static void test_add_and_delta(void **state)
{
	(void)state;
	struct prom_hist a = PROM_HIST_INIT, b = PROM_HIST_INIT, sum = PROM_HIST_INIT, d = PROM_HIST_INIT;
	parse(M "_bucket{le=\"0.1\"} 2\n" M "_bucket{le=\"+Inf\"} 4\n" M "_count 4\n", &a);
	/* b has an extra bound: a's count at 0.5 is its count at 0.1 */
	parse(M "_bucket{le=\"0.1\"} 1\n" M "_bucket{le=\"0.5\"} 3\n" M "_bucket{le=\"+Inf\"} 3\n" M "_count 3\n", &b);
	prom_hist_add(&sum, &a);
	prom_hist_add(&sum, &b);
	assert_int_equal(sum.n, 3);
	assert_true(sum.cnt[0] == 3 && sum.cnt[1] == 5 && sum.cnt[2] == 7 && sum.count == 7);

	/* delta since a previous scrape */
	struct prom_hist later = PROM_HIST_INIT;
	parse(M "_bucket{le=\"0.1\"} 2\n" M "_bucket{le=\"+Inf\"} 14\n" M "_count 14\n", &later);
	prom_hist_delta(&later, &a, &d);
	assert_true(d.cnt[0] == 0 && d.cnt[1] == 10 && d.count == 10);
	assert_true(prom_hist_quantile(0.95, &d) == 0.1); /* all new ones above 0.1: the +Inf rule */
	prom_hist_release(&later);

	/* counter reset: the process restarted, the delta is the new histogram */
	parse(M "_bucket{le=\"0.1\"} 1\n" M "_bucket{le=\"+Inf\"} 1\n" M "_count 1\n", &later);
	prom_hist_delta(&later, &a, &d);
	assert_true(d.cnt[0] == 1 && d.cnt[1] == 1 && d.count == 1);
	prom_hist_release(&later);
	/* a reset seen in one bucket only (count went up, a bucket went down) */
	parse(M "_bucket{le=\"0.1\"} 1\n" M "_bucket{le=\"+Inf\"} 5\n" M "_count 5\n", &later);
	prom_hist_delta(&later, &a, &d);
	assert_true(d.cnt[0] == 1 && d.cnt[1] == 5);

	prom_hist_release(&later);
	prom_hist_release(&a);
	prom_hist_release(&b);
	prom_hist_release(&sum);
	prom_hist_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_labels_summed),
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_inf),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_add_and_delta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
