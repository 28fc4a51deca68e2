/* owner: identity of a kiln process across pid reuse (see owner.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "store/owner.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

static void read_boot_id(char *out, size_t n)
{
	struct buf b = BUF_INIT;
	out[0] = '\0';
	if (buf_read_file(&b, "/proc/sys/kernel/random/boot_id") == 0) {
		while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' '))
			b.buf[--b.len] = '\0';
		snprintf(out, n, "%s", b.buf);
	}
	buf_release(&b);
}

/* process group and start time of a live (not zombie) process */
static int read_stat(pid_t pid, pid_t *pgid, int64_t *start)
{
	char data[1024];
	const char *p = fs_proc_stat(pid, data, sizeof(data));
	if (!p || *p == 'Z' || *p == 'X')
		return -1;
	/* state is field 3, pgrp 5, starttime 22 */
	for (int field = 3; field < 22; field++) {
		if (field == 5)
			*pgid = (pid_t)strtol(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	*start = strtoll(p, NULL, 10);
	return 0;
}

int proc_start_time(pid_t pid, int64_t *start)
{
	pid_t pgid;
	return read_stat(pid, &pgid, start);
}

void owner_self(struct owner *o)
{
	memset(o, 0, sizeof(*o));
	if (gethostname(o->host, sizeof(o->host) - 1) < 0)
		o->host[0] = '\0';
	read_boot_id(o->boot, sizeof(o->boot));
	o->pid = getpid();
	if (proc_start_time(getpid(), &o->start) < 0)
		o->start = 0;
}

enum owner_state owner_check(const struct owner *o)
{
	struct owner me;
	owner_self(&me);
	if (strcmp(o->host, me.host))
		return OWNER_UNKNOWN;
	if (!*o->boot || strcmp(o->boot, me.boot))
		return OWNER_DEAD; /* rebooted since (or recorded without an id) */
	int64_t start;
	if (o->pid <= 0 || proc_start_time((pid_t)o->pid, &start) < 0)
		return OWNER_DEAD;
	return start == o->start ? OWNER_ALIVE : OWNER_DEAD;
}

void owner_tag(char *out, size_t n)
{
	int64_t start = 0;
	if (proc_start_time(getpid(), &start) < 0)
		start = 0;
	snprintf(out, n, "%ld.%lld", (long)getpid(), (long long)start);
}

int owner_tag_dead(const char *tag)
{
	char *end;
	long long pid = strtoll(tag, &end, 10);
	if (end == tag || *end != '.' || pid <= 0)
		return 0;
	const char *s = end + 1;
	long long start = strtoll(s, &end, 10);
	if (end == s || (*end && *end != '-'))
		return 0;
	int64_t now;
	return proc_start_time((pid_t)pid, &now) < 0 || now != start;
}

/* is the working directory of pid inside one of the owner's run
 * directories (named by owner_tag: kiln-run-PID.START-XXXXXX)? */
static int cwd_in(pid_t pid, const char *dirtag)
{
	char path[64], target[4096];
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return strstr(target, dirtag) != NULL;
}

struct tagged {
	pid_t pid, pgid;
	int marked;
};

int owner_kill_leftovers(const struct owner *o)
{
	char prefix[64], dirtag[96];
	snprintf(prefix, sizeof(prefix), "RUNNER_TRACKING_ID=kiln_%lld_", (long long)o->pid);
	snprintf(dirtag, sizeof(dirtag), "/kiln-run-%lld.%lld-", (long long)o->pid, (long long)o->start);
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct tagged *v = NULL;
	size_t n = 0, alloc = 0;
	pid_t self = getpid(), own_pgid = getpgrp();
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		pid_t pgid;
		int64_t start;
		if (*end || pid <= 1 || pid == self || read_stat((pid_t)pid, &pgid, &start) < 0 ||
		    start < o->start)
			continue;
		ALLOC_GROW(v, n + 1, alloc);
		v[n].pid = (pid_t)pid;
		v[n].pgid = pgid;
		v[n].marked = fs_proc_environ_has((pid_t)pid, prefix, 1) || cwd_in((pid_t)pid, dirtag);
		n++;
	}
	closedir(d);
	int killed = 0;
	for (size_t i = 0; i < n; i++) {
		int hit = v[i].marked;
		for (size_t k = 0; !hit && k < n; k++)
			hit = v[k].marked && v[k].pgid == v[i].pgid && v[i].pgid != own_pgid;
		if (hit && kill(v[i].pid, SIGKILL) == 0)
			killed++;
	}
	free(v);
	return killed;
}
