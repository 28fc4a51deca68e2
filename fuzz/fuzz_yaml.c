/* fuzz_yaml: libFuzzer target for the YAML loader (src/yaml): any input must
 * give a tree or a diagnostic, never a crash, leak or undefined behaviour. */
#include "base/kiln.h"
#include "yaml/ynode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = DIAGS_INIT;
	struct ynode *root = NULL;
	if (yaml_load("fuzz.yml", (const char *)data, size, &root, &d) == 0) {
		if (root && root->kind == YNODE_MAP && root->nr % 2)
			abort();
		ynode_free(root);
	} else if (!d.nr) {
		abort(); /* a failure must say why */
	}
	diags_release(&d);
	return 0;
}
