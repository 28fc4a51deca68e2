/*
 * nodemount: the host's node and the shared libraries it needs, as
 * bind mounts into a job container (see nodemount.h). The ELF reading is
 * the dynamic loader's own first steps: PT_INTERP, then PT_DYNAMIC's
 * DT_NEEDED / DT_RUNPATH / DT_RPATH through DT_STRTAB.
 */
#include "base/kiln.h"
#include "engine/exec.h"
#include "engine/nodemount.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAX_LIBS 256

/* what one ELF file asks for */
struct elf_deps {
	char *interp;          /* PT_INTERP, or NULL (static) */
	struct strvec needed;  /* DT_NEEDED names */
	struct strvec runpath; /* DT_RUNPATH / DT_RPATH directories, $ORIGIN expanded */
};

static int pread_all(int fd, void *b, size_t n, off_t at)
{
	return pread(fd, b, n, at) == (ssize_t)n ? 0 : -1;
}

/* file offset of virtual address va (through the PT_LOAD segments) */
static int va_to_off(const Elf64_Phdr *ph, size_t n, uint64_t va, uint64_t *off)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr &&
		    va < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = va - ph[i].p_vaddr + ph[i].p_offset;
			return 0;
		}
	return -1;
}

/* a NUL-terminated string at off (at most 4 KiB) */
static char *read_str(int fd, uint64_t off)
{
	char b[4096];
	ssize_t n = pread(fd, b, sizeof(b) - 1, (off_t)off);
	if (n <= 0)
		return NULL;
	b[n] = 0;
	return xstrdup(b);
}

static void add_runpath(const char *rp, const char *origin, struct strvec *out)
{
	while (*rp) {
		size_t n = strcspn(rp, ":");
		struct buf d = BUF_INIT;
		buf_add(&d, rp, n);
		char *o = strstr(d.buf, "$ORIGIN");
		if (o) {
			struct buf e = BUF_INIT;
			buf_add(&e, d.buf, (size_t)(o - d.buf));
			buf_addf(&e, "%s%s", origin, o + 7);
			buf_release(&d);
			d = e;
		}
		if (d.len)
			strvec_push(out, d.buf);
		buf_release(&d);
		rp += n + (rp[n] == ':');
	}
}

/* read the dependencies of the 64-bit little-endian ELF at path */
static int elf_read(const char *path, struct elf_deps *dp, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	int r = -1;
	if (fd < 0) {
		buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (pread_all(fd, &eh, sizeof(eh), 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum || eh.e_phnum > 512) {
		buf_addf(err, "'%s' is not a 64-bit ELF file kiln can read", path);
		goto out;
	}
	ph = xcalloc(eh.e_phnum, sizeof(*ph));
	if (pread_all(fd, ph, eh.e_phnum * sizeof(*ph), (off_t)eh.e_phoff) < 0) {
		buf_addf(err, "'%s': cannot read its program headers", path);
		goto out;
	}
	const Elf64_Phdr *dyn = NULL;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP && !dp->interp)
			dp->interp = read_str(fd, ph[i].p_offset);
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = &ph[i];
	}
	r = 0;
	if (!dyn)
		goto out;
	size_t nd = dyn->p_filesz / sizeof(Elf64_Dyn);
	if (nd > 4096)
		nd = 4096;
	Elf64_Dyn *d = xcalloc(nd ? nd : 1, sizeof(*d));
	uint64_t strtab = 0, stroff;
	if (pread_all(fd, d, nd * sizeof(*d), (off_t)dyn->p_offset) < 0) {
		free(d);
		goto out;
	}
	for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++)
		if (d[i].d_tag == DT_STRTAB)
			strtab = d[i].d_un.d_ptr;
	if (!strtab || va_to_off(ph, eh.e_phnum, strtab, &stroff) < 0) {
		free(d);
		goto out;
	}
	char origin[PATH_MAX];
	snprintf(origin, sizeof(origin), "%s", path);
	char *slash = strrchr(origin, '/');
	if (slash)
		*slash = 0;
	for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag != DT_NEEDED && d[i].d_tag != DT_RUNPATH && d[i].d_tag != DT_RPATH)
			continue;
		char *s = read_str(fd, stroff + d[i].d_un.d_val);
		if (!s)
			continue;
		if (d[i].d_tag == DT_NEEDED)
			strvec_push(&dp->needed, s);
		else
			add_runpath(s, origin, &dp->runpath);
		free(s);
	}
	free(d);
out:
	free(ph);
	close(fd);
	return r;
}

/* the system's library directories, multiarch first (Debian) */
static void system_dirs(struct strvec *out)
{
	struct utsname u;
	const char *triple = NULL;
	if (uname(&u) == 0)
		triple = !strcmp(u.machine, "x86_64") ? "x86_64-linux-gnu"
		       : !strcmp(u.machine, "aarch64") ? "aarch64-linux-gnu" : NULL;
	if (triple) {
		strvec_pushf(out, "/lib/%s", triple);
		strvec_pushf(out, "/usr/lib/%s", triple);
	}
	const char *dirs[] = { "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		strvec_push(out, dirs[i]);
}

/* bind-mount host file `host` (its real path) at dir/name, read-only */
static int mount_file(struct nodemount *nm, const char *host, const char *dir, const char *name,
		      struct buf *err)
{
	char real[PATH_MAX];
	if (!realpath(host, real)) {
		buf_addf(err, "cannot resolve '%s': %s", host, strerror(errno));
		return -1;
	}
	strvec_pushf(&nm->volumes, "%s:%s/%s:ro", real, dir, name);
	return 0;
}

int nodemount_plan(const char *path, struct nodemount *nm, struct buf *err)
{
	char *node = exec__which("node", path);
	struct elf_deps top = { NULL, STRVEC_INIT, STRVEC_INIT };
	struct strvec seen = STRVEC_INIT, queue = STRVEC_INIT, sys = STRVEC_INIT;
	int r = -1;
	if (!node)
		return 1;
	char real[PATH_MAX];
	if (!realpath(node, real)) {
		buf_addf(err, "cannot resolve '%s': %s", node, strerror(errno));
		goto out;
	}
	if (elf_read(real, &top, err) < 0 || mount_file(nm, real, NODEMOUNT_DIR "/bin", "node", err) < 0)
		goto out;
	if (!top.interp) { /* static: runs as it is */
		strvec_push(&nm->argv, NODEMOUNT_DIR "/bin/node");
		r = 0;
		goto out;
	}
	const char *ib = strrchr(top.interp, '/') ? strrchr(top.interp, '/') + 1 : top.interp;
	if (mount_file(nm, top.interp, NODEMOUNT_DIR "/lib", ib, err) < 0)
		goto out;
	strvec_pushf(&nm->argv, NODEMOUNT_DIR "/lib/%s", ib);
	strvec_push(&nm->argv, "--library-path");
	strvec_push(&nm->argv, NODEMOUNT_DIR "/lib");
	strvec_push(&nm->argv, NODEMOUNT_DIR "/bin/node");
	system_dirs(&sys);
	/* breadth first over the libraries, each once; the interpreter is
	 * mounted already */
	strvec_push(&seen, ib);
	for (size_t i = 0; i < top.needed.nr; i++)
		strvec_push(&queue, top.needed.v[i]);
	struct strvec runpath = top.runpath;
	top.runpath = (struct strvec)STRVEC_INIT;
	for (size_t qi = 0; qi < queue.nr; qi++) {
		const char *lib = queue.v[qi];
		if (strvec_find(&seen, lib) >= 0)
			continue;
		if (seen.nr >= MAX_LIBS) {
			buf_addf(err, "node needs more than %d libraries", MAX_LIBS);
			strvec_clear(&runpath);
			goto out;
		}
		strvec_push(&seen, lib);
		char *found = NULL;
		const struct strvec *lists[] = { &runpath, &sys };
		for (size_t l = 0; l < 2 && !found; l++)
			for (size_t k = 0; k < lists[l]->nr && !found; k++) {
				char *cand = xstrfmt("%s/%s", lists[l]->v[k], lib);
				if (access(cand, R_OK) == 0)
					found = cand;
				else
					free(cand);
			}
		if (!found) {
			buf_addf(err, "cannot find '%s', a library node needs", lib);
			strvec_clear(&runpath);
			goto out;
		}
		struct elf_deps dp = { NULL, STRVEC_INIT, STRVEC_INIT };
		int rr = elf_read(found, &dp, err);
		if (!rr)
			rr = mount_file(nm, found, NODEMOUNT_DIR "/lib", lib, err);
		for (size_t i = 0; !rr && i < dp.needed.nr; i++)
			strvec_push(&queue, dp.needed.v[i]);
		for (size_t i = 0; !rr && i < dp.runpath.nr; i++)
			strvec_push(&runpath, dp.runpath.v[i]);
		free(dp.interp);
		strvec_clear(&dp.needed);
		strvec_clear(&dp.runpath);
		free(found);
		if (rr < 0) {
			strvec_clear(&runpath);
			goto out;
		}
	}
	strvec_clear(&runpath);
	r = 0;
out:
	if (r < 0)
		nodemount_release(nm);
	free(node);
	free(top.interp);
	strvec_clear(&top.needed);
	strvec_clear(&top.runpath);
	strvec_clear(&seen);
	strvec_clear(&queue);
	strvec_clear(&sys);
	return r;
}

void nodemount_release(struct nodemount *nm)
{
	strvec_clear(&nm->volumes);
	strvec_clear(&nm->argv);
}
