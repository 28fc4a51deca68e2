/*
 * jobdir: the pool (see jobdir.h) and the reset of a kept directory — a
 * walk of the workspace beside the snapshot with *at() calls that removes
 * what the snapshot lacks, copies what the workspace lacks and rewrites
 * what differs (type, mode, size, bytes, link target). A file whose ctime
 * is older than the directory's last reset is not read (see
 * unchanged_since).
 */
#include "base/kiln.h"
#include "base/copytree.h"
#include "base/fs.h"
#include "engine/jobdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* when a directory's workspace was last made equal to the snapshot */
struct stamp {
	char *key;           /* the job using it (live), NULL once kept */
	unsigned n;          /* its number N while kept as <run_dir>/.free-N */
	struct timespec t;   /* CLOCK_REALTIME_COARSE after the copy or reset;
			      * {0, 0}: unknown (every file is compared) */
};

struct jobdir_pool {
	char *run_dir;
	char *snapshot;
	struct stamp *free; /* the kept directories */
	size_t nfree, alloc;
	struct stamp *live; /* the directories of running jobs */
	size_t nlive, live_alloc;
	unsigned next;      /* the next N */
	int no_skeleton;    /* <run_dir>/.skel is gone (taken, or never there) */
};

/* a job directory without its workspace, kept in a spare run directory */
#define SKELETON ".skel"


struct jobdir_pool *jobdir_pool_new(const char *run_dir, const char *snapshot)
{
	struct jobdir_pool *p = xcalloc(1, sizeof(*p));
	p->run_dir = xstrdup(run_dir);
	p->snapshot = xstrdup(snapshot);
	return p;
}

void jobdir_pool_free(struct jobdir_pool *p)
{
	if (!p)
		return;
	free(p->run_dir);
	free(p->snapshot);
	free(p->free);
	for (size_t i = 0; i < p->nlive; i++)
		free(p->live[i].key);
	free(p->live);
	free(p);
}

/* the stamp of the running job `key` taken out of p->live ({0} if none) */
static struct timespec take_live(struct jobdir_pool *p, const char *key)
{
	struct timespec t = { 0, 0 };
	for (size_t i = 0; i < p->nlive; i++) {
		if (strcmp(p->live[i].key, key))
			continue;
		t = p->live[i].t;
		free(p->live[i].key);
		p->live[i] = p->live[--p->nlive];
		break;
	}
	return t;
}

void jobdir_stamp(struct jobdir_pool *p, const char *key)
{
	if (!p)
		return;
	take_live(p, key);
	ALLOC_GROW(p->live, p->nlive + 1, p->live_alloc);
	struct stamp *s = &p->live[p->nlive++];
	s->key = xstrdup(key);
	s->n = 0;
	clock_gettime(CLOCK_REALTIME_COARSE, &s->t);
}

int jobdir_put(struct jobdir_pool *p, const char *key)
{
	struct timespec t = take_live(p, key);
	char *from = xstrfmt("%s/%s", p->run_dir, key);
	char *to = xstrfmt("%s/.free-%u", p->run_dir, p->next);
	int r = rename(from, to);
	free(from);
	free(to);
	if (r < 0)
		return -1;
	ALLOC_GROW(p->free, p->nfree + 1, p->alloc);
	p->free[p->nfree++] = (struct stamp){ NULL, p->next++, t };
	return 0;
}

/*
 * May the workspace file (its stat ws) be taken as unchanged since the
 * last reset or copy at `clean`? Its ctime is older than that moment: every
 * write, truncate, chmod or rename of the file since then would have moved
 * its ctime to at least `clean` (the kernel stamps ctime from the same
 * coarse clock, or a finer one that is never behind it). A ctime in the
 * same tick as `clean` is "racy" (git's word) and compared byte for byte.
 */
static int unchanged_since(const struct stat *ws, const struct timespec *clean)
{
	if (!clean->tv_sec && !clean->tv_nsec)
		return 0;
	return ws->st_ctim.tv_sec < clean->tv_sec ||
	       (ws->st_ctim.tv_sec == clean->tv_sec && ws->st_ctim.tv_nsec < clean->tv_nsec);
}

/* remove the entry `name` of directory wfd (whose path is `dir`) */
static int remove_at(int wfd, const char *dir, const char *name, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return unlinkat(wfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	char *path = xstrfmt("%s/%s", dir, name);
	rmtree(path);
	free(path);
	return faccessat(wfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? -ENOTEMPTY : 0;
}

/* are the regular files a and b (same size) byte for byte equal? */
static int same_bytes(int sfd, int wfd, const char *name, off_t size)
{
	if (size == 0)
		return 1;
	int a = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int b = a < 0 ? -1 : openat(wfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int same = a >= 0 && b >= 0;
	static const size_t chunk = 65536;
	char *x = same ? xmalloc(2 * chunk) : NULL, *y = x ? x + chunk : NULL;
	while (same) {
		ssize_t n = read(a, x, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			same = n == 0 && read(b, y, 1) == 0;
			break;
		}
		for (ssize_t got = 0; same && got < n;) {
			ssize_t k = read(b, y + got, (size_t)(n - got));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				same = 0;
			else
				got += k;
		}
		if (same && memcmp(x, y, (size_t)n))
			same = 0;
	}
	free(x);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

static int same_link(int sfd, int wfd, const char *name)
{
	char a[4096], b[4096];
	ssize_t na = readlinkat(sfd, name, a, sizeof(a));
	ssize_t nb = readlinkat(wfd, name, b, sizeof(b));
	return na >= 0 && na == nb && !memcmp(a, b, (size_t)na);
}

/*
 * The entry names of the directory open as fd, but . and .., each
 * NUL-terminated one after another in *names; read with getdents64 from
 * the fd's offset, which it moves (every fd listed here is opened for
 * one listing). fdopendir of a dup would cost five more system calls per
 * directory (dup, fstat, two fcntl, close): a reset lists eight.
 */
static int list_dir(int fd, struct buf *names)
{
	char tmp[8192] __attribute__((aligned(8)));
	buf_reset(names);
	for (;;) {
		ssize_t n = getdents64(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(tmp + off);
			const char *nm = de->d_name;
			off += de->d_reclen;
			if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2])))
				continue;
			buf_add(names, nm, strlen(nm) + 1);
		}
	}
}

/* for (n = each name of a list_dir listing) */
#define FOR_NAMES(n, names) \
	for (const char *n = (names)->buf; n && n < (names)->buf + (names)->len; n += strlen(n) + 1)

static int sync_dir(int sfd, int wfd, struct buf *wpath, const struct timespec *clean);

/* the snapshot's entry `name` (st) into the workspace directory wfd, whose
 * files were last made equal to the snapshot's at `clean` */
static int sync_entry(int sfd, int wfd, const char *name, const struct stat *st,
		      struct buf *wpath, const struct timespec *clean)
{
	struct stat ws;
	if (fstatat(wfd, name, &ws, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? copy_entry_at(sfd, wfd, name) : -errno;
	int r = 0;
	if ((ws.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		r = remove_at(wfd, wpath->buf, name, &ws);
	} else if (S_ISDIR(st->st_mode)) {
		if ((ws.st_mode & 07777) != (st->st_mode & 07777) &&
		    fchmodat(wfd, name, st->st_mode & 07777, 0) < 0)
			return -errno;
		int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int w2 = s2 < 0 ? -1 : openat(wfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
		if (s2 < 0 || w2 < 0) {
			r = -errno;
		} else {
			size_t l = wpath->len;
			buf_addf(wpath, "/%s", name);
			r = sync_dir(s2, w2, wpath, clean);
			buf_setlen(wpath, l);
		}
		if (s2 >= 0)
			close(s2);
		if (w2 >= 0)
			close(w2);
		return r;
	} else if (S_ISREG(st->st_mode)) {
		if (ws.st_size == st->st_size && (ws.st_mode & 07777) == (st->st_mode & 07777) &&
		    (unchanged_since(&ws, clean) || same_bytes(sfd, wfd, name, st->st_size)))
			return 0;
		r = unlinkat(wfd, name, 0) < 0 ? -errno : 0;
	} else if (S_ISLNK(st->st_mode)) {
		if (same_link(sfd, wfd, name))
			return 0;
		r = unlinkat(wfd, name, 0) < 0 ? -errno : 0;
	} else {
		return 0;
	}
	return r < 0 ? r : copy_entry_at(sfd, wfd, name);
}

/* make the workspace directory wfd (path wpath) equal to the snapshot's sfd */
static int sync_dir(int sfd, int wfd, struct buf *wpath, const struct timespec *clean)
{
	struct buf names = BUF_INIT;
	struct stat ws, ss;
	int r = list_dir(wfd, &names);
	/* what the job added: gone */
	FOR_NAMES(n, &names) {
		if (r)
			break;
		if (fstatat(sfd, n, &ss, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (errno != ENOENT)
			r = -errno;
		else if (fstatat(wfd, n, &ws, AT_SYMLINK_NOFOLLOW) == 0)
			r = remove_at(wfd, wpath->buf, n, &ws);
	}
	if (!r)
		r = list_dir(sfd, &names);
	/* what the snapshot has: kept when equal, else written again */
	FOR_NAMES(n, &names) {
		if (r)
			break;
		if (fstatat(sfd, n, &ss, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else
			r = sync_entry(sfd, wfd, n, &ss, wpath, clean);
	}
	buf_release(&names);
	return r;
}

/* empty `dir` (its fd dfd, listed once: see list_dir) except the names
 * in keep[] */
static int empty_dir(int dfd, const char *dir, const char *const *keep, size_t nkeep)
{
	struct buf names = BUF_INIT;
	struct stat st;
	int r = list_dir(dfd, &names);
	FOR_NAMES(n, &names) {
		if (r)
			break;
		int keepit = 0;
		for (size_t i = 0; !keepit && i < nkeep; i++)
			keepit = !strcmp(n, keep[i]);
		if (!keepit && fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = remove_at(dfd, dir, n, &st);
	}
	buf_release(&names);
	return r;
}

/* the step scripts stay in temp/ (emptied): no new inode per job */
static const char *const step_scripts[] = {
	".kiln-step.sh", ".kiln-step.py", ".kiln-step.ps1", ".kiln-step",
};

/* the command files, kept (the executor empties them before each step) */
static const char *const command_files[] = {
	"github_output", "github_env", "github_path", "github_step_summary", "github_state",
};

/* empty `dir`/temp except the step scripts, themselves emptied */
static int clean_temp(const char *dir)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/temp", dir);
	int r, tfd = open(path.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0) {
		r = -errno;
		buf_release(&path);
		return r;
	}
	r = empty_dir(tfd, path.buf, step_scripts, ARRAY_SIZE(step_scripts));
	for (size_t i = 0; !r && i < ARRAY_SIZE(step_scripts); i++) {
		struct stat st;
		if (fstatat(tfd, step_scripts[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) { /* a job made it something else */
			r = remove_at(tfd, path.buf, step_scripts[i], &st);
			continue;
		}
		if (st.st_size == 0) /* emptied by its step's end, as usual */
			continue;
		/* one it cannot empty (a step made it read-only) fails the
		 * reset: it may hold a step's text with secrets expanded */
		int fd = openat(tfd, step_scripts[i], O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			r = -errno;
		else
			close(fd);
	}
	close(tfd);
	buf_release(&path);
	return r;
}

/* reset the job directory `dir`, last made equal to the snapshot at
 * `clean`: see jobdir.h */
static int reset(const struct jobdir_pool *p, const char *dir, const struct timespec *clean)
{
	static const char *const keep[] = {
		"workspace", "temp", "github_output", "github_env", "github_path",
		"github_step_summary", "github_state",
	};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	struct buf path = BUF_INIT;
	int r = empty_dir(dfd, dir, keep, ARRAY_SIZE(keep));
	if (!r)
		r = clean_temp(dir);
	if (!r) {
		buf_addf(&path, "%s/workspace", dir);
		int sfd = open(p->snapshot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int wfd = sfd < 0 ? -1 : open(path.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
		if (sfd < 0 || wfd < 0) {
			r = -errno;
		} else {
			struct stat ss;
			if (fstat(sfd, &ss) == 0)
				fchmod(wfd, ss.st_mode & 07777);
			r = sync_dir(sfd, wfd, &path, clean);
		}
		if (sfd >= 0)
			close(sfd);
		if (wfd >= 0)
			close(wfd);
	}
	buf_release(&path);
	close(dfd);
	return r;
}

int jobdir_get(struct jobdir_pool *p, const char *key, struct buf *err)
{
	if (!p || !p->nfree)
		return 0;
	struct stamp kept = p->free[--p->nfree];
	char *from = xstrfmt("%s/.free-%u", p->run_dir, kept.n);
	char *to = xstrfmt("%s/%s", p->run_dir, key);
	int r = 0;
	if (rename(from, to) < 0) {
		rmtree(from);
	} else if ((r = reset(p, to, &kept.t)) < 0) {
		buf_addf(err, "cannot reuse a job directory for '%s': %s", to, strerror(-r));
		rmtree(to);
		r = KILN_EIO;
	} else {
		jobdir_stamp(p, key); /* after the reset: equal to the snapshot now */
		r = 1;
	}
	free(from);
	free(to);
	return r;
}

int jobdir_take_skeleton(struct jobdir_pool *p, const char *key)
{
	if (!p || p->no_skeleton)
		return 0;
	p->no_skeleton = 1; /* there is at most one */
	char *from = xstrfmt("%s/" SKELETON, p->run_dir);
	char *to = xstrfmt("%s/%s", p->run_dir, key);
	int r = rename(from, to) == 0;
	free(from);
	free(to);
	return r;
}

/* the spare run directory beside run_dir (`dir` is "<tmp>/<name>") */
static char *spare_path(const char *dir)
{
	const char *slash = strrchr(dir, '/');
	int n = slash ? (int)(slash - dir) : 1;
	return xstrfmt("%.*s/.kiln-spare-%lu", n, slash ? dir : ".", (unsigned long)geteuid());
}

int jobdir_take_spare(char *tmpl)
{
	size_t len = strlen(tmpl);
	if (len < 6 || strcmp(tmpl + len - 6, "XXXXXX"))
		return -1;
	char *spare = spare_path(tmpl);
	static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t x = now_ns() ^ ((uint64_t)getpid() << 32);
	int r = -1;
	for (int attempt = 0; attempt < 4 && r < 0; attempt++) {
		/* splitmix64: the name is only unique, renameat2 never replaces */
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int i = 0; i < 6; i++, z /= 62)
			tmpl[len - 6 + i] = digits[z % 62];
		if (renameat2(AT_FDCWD, spare, AT_FDCWD, tmpl, RENAME_NOREPLACE) == 0)
			r = 0;
		else if (errno != EEXIST)
			break;
	}
	if (!r) {
		/* this user's own directory, private, as mkdtemp makes them;
		 * anything else goes back where it was */
		struct stat st;
		if (lstat(tmpl, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 077)) {
			/* ours but opened to others (a job's chmod): removed, or
			 * every later run would find the name taken */
			if (lstat(tmpl, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
				rmtree(tmpl);
			else
				renameat2(AT_FDCWD, tmpl, AT_FDCWD, spare, RENAME_NOREPLACE);
			r = -1;
		}
	}
	if (r < 0)
		memcpy(tmpl + len - 6, "XXXXXX", 6);
	free(spare);
	return r;
}

/* make the kept job directory `dir` a skeleton: no workspace, temp/
 * emptied, the command files empty, nothing else */
static int make_skeleton(const char *dir)
{
	static const char *const keep[] = {
		"temp", "github_output", "github_env", "github_path", "github_step_summary",
		"github_state",
	};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int r = empty_dir(dfd, dir, keep, ARRAY_SIZE(keep));
	for (size_t i = 0; !r && i < ARRAY_SIZE(command_files); i++) {
		struct stat st;
		if (fstatat(dfd, command_files[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* made again by the next job's first step */
		if (!S_ISREG(st.st_mode)) {
			r = remove_at(dfd, dir, command_files[i], &st);
			continue;
		}
		if (st.st_size == 0)
			continue;
		int fd = openat(dfd, command_files[i], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 0) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	close(dfd);
	return r ? r : clean_temp(dir);
}

void jobdir_retire(const char *run_dir)
{
	int dfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = dfd < 0 ? -1 : dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		rmtree(run_dir);
		return;
	}
	char *kept = NULL;
	int r = 0;
	struct dirent *de;
	struct stat st;
	while (!r && (de = readdir(d))) {
		const char *n = de->d_name;
		if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
			continue;
		if (!kept && str_starts_with(n, ".free-")) {
			kept = xstrdup(n);
			continue;
		}
		if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = remove_at(dfd, run_dir, n, &st);
	}
	closedir(d);
	if (!r && kept) {
		char *path = xstrfmt("%s/%s", run_dir, kept);
		r = make_skeleton(path);
		free(path);
		if (!r && renameat(dfd, kept, dfd, SKELETON) < 0)
			r = -errno;
	}
	close(dfd);
	free(kept);
	char *spare = spare_path(run_dir);
	if (r || renameat2(AT_FDCWD, run_dir, AT_FDCWD, spare, RENAME_NOREPLACE) < 0)
		rmtree(run_dir);
	free(spare);
}
