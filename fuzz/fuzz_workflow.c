/* fuzz_workflow: libFuzzer target for the workflow loader (src/workflow):
 * any input must load or give positioned errors, never crash, leak or hit
 * undefined behaviour; a loaded model must dump as JSON. */
#include "base/kiln.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = DIAGS_INIT;
	struct workflow *wf = NULL;
	int r = wf_load("fuzz.yml", (const char *)data, size, &wf, &d);
	if (r == 0) {
		if (!wf || d.errors)
			abort(); /* success means a model and no error */
		struct buf b = BUF_INIT;
		wf_dump_json(wf, &b);
		for (size_t i = 0; i < wf->nexprs; i++)
			if (wf->exprs[i].off + wf->exprs[i].len > wf->exprs[i].node->len)
				abort(); /* an expression lies inside its scalar */
		buf_release(&b);
		wf_free(wf);
	} else if (wf || !d.errors) {
		abort(); /* a failure must say why, and hand out nothing */
	}
	diags_release(&d);
	return 0;
}
