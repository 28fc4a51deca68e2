/*
 * client: the CLI side of the controller socket: send one request line,
 * stream progress lines, return the final exit code.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "deploy/deployd.h"

#include <errno.h>
#include <jansson.h>
#include <unistd.h>

static int connect_to(const char *path, struct buf *err)
{
	int fd = fs_connect_unix(path);
	if (fd == -ENAMETOOLONG)
		buf_addf(err, "socket path too long: %s", path);
	else if (fd < 0)
		buf_addf(err, "cannot reach kiln deployd at %s: %s (is it running?)", path, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

/* one answer line; returns 1 when it was the final one */
static int line(const char *l, FILE *progress, struct buf *final, int *code)
{
	json_error_t e;
	json_t *j = json_loads(l, 0, &e);
	if (!j)
		return 0;
	json_t *msg = json_object_get(j, "msg");
	const char *m = json_is_string(msg) ? json_string_value(msg) : "";
	int done = json_is_true(json_object_get(j, "done"));
	if (done) {
		buf_addstr(final, m);
		*code = (int)json_integer_value(json_object_get(j, "exit"));
	} else if (progress) {
		fprintf(progress, "%s\n", m);
		fflush(progress);
	}
	json_decref(j);
	return done;
}

int deployd_request(const char *state_dir, const char *json, FILE *progress, struct buf *final)
{
	char *path = deployd_socket_path(state_dir);
	int fd = connect_to(path, final);
	free(path);
	if (fd < 0)
		return EXIT_INTERNAL;
	struct buf req = BUF_INIT, in = BUF_INIT;
	buf_addf(&req, "%s\n", json);
	/* a failed write shows as the controller's missing answer below */
	(void)fs_write_all(fd, req.buf, req.len);
	int code = EXIT_INTERNAL, done = 0;
	while (!done) {
		buf_grow(&in, 4096);
		ssize_t r = read(fd, in.buf + in.len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_setlen(&in, in.len + (size_t)r);
		char *nl;
		while (!done && (nl = memchr(in.buf, '\n', in.len))) {
			*nl = '\0';
			done = line(in.buf, progress, final, &code);
			size_t used = (size_t)(nl - in.buf) + 1;
			memmove(in.buf, nl + 1, in.len - used);
			buf_setlen(&in, in.len - used);
		}
	}
	if (!done)
		buf_addstr(final, "kiln deployd closed the connection without an answer");
	close(fd);
	buf_release(&req);
	buf_release(&in);
	return code;
}
