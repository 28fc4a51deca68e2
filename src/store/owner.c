/* owner: identity of a kiln process across pid reuse (see owner.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "store/owner.h"

#include <fcntl.h>
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

int proc_start_time(pid_t pid, int64_t *start)
{
	char path[64], data[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	data[n] = '\0';
	/* comm (field 2) may hold spaces and parens: fields restart after
	 * the last ')'; state is field 3, starttime field 22 */
	char *p = strrchr(data, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return -1;
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	char *end;
	long long v = strtoll(p, &end, 10);
	if (end == p)
		return -1;
	*start = v;
	return 0;
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
