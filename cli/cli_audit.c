/* The audit log (cli_audit.h). */
#include "cli/cli_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/outfile.h"
#include "common/text.h"
#include "common/util.h"

void cli_audit_init(struct cli_audit *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

int cli_audit_open(struct cli_audit *a, const char *path, struct rp_err *err)
{
	uint8_t id[8];

	if (rp_outfile_append(path, 0600, &a->fd, err) != 0) {
		a->fd = -1;
		rp_err_prefix(err, "--audit-log '%s'", path);
		return RP_EIO;
	}
	if (rp_random_bytes(id, sizeof(id), err) != 0) {
		close(a->fd);
		a->fd = -1;
		return RP_EIO;
	}
	rp_hex(id, sizeof(id), a->run);
	return 0;
}

void cli_audit_event(struct cli_audit *a, const char *action, struct rp_json *fields)
{
	struct rp_json *o;
	struct timespec now;
	char ts[40], *head, *tail = NULL, *text;
	size_t hl, tl = 0, len, done = 0;

	if (a->fd < 0) {
		rp_json_free(fields);
		return;
	}
	o = rp_json_new_object();
	clock_gettime(CLOCK_REALTIME, &now);
	rp_time_iso(now.tv_sec, ts);
	/* Milliseconds inside the ISO text: "2026-11-28T13:00:00.123Z". */
	snprintf(ts + 19, sizeof(ts) - 19, ".%03ldZ", now.tv_nsec / 1000000L);
	rp_json_set_str(o, "time", ts);
	rp_json_set_str(o, "tool", "cvmrestore");
	rp_json_set_str(o, "version", RP_VERSION);
	rp_json_set_str(o, "run", a->run);
	rp_json_set_str(o, "action", action);
	head = rp_json_dump(o, false);
	rp_json_free(o);
	if (fields)
		tail = rp_json_dump(fields, false);
	rp_json_free(fields);
	/* Splice the two objects: the fixed members first, then the action's ("{..." + ",..."). */
	hl = head ? strlen(head) : 0;
	tl = tail ? strlen(tail) : 0;
	text = head ? malloc(hl + tl + 2) : NULL;
	if (!text) {
		free(head);
		free(tail);
		a->failed = true;
		return;
	}
	memcpy(text, head, hl);
	len = hl;
	if (tl > 2) {
		text[len - 1] = ',';
		memcpy(text + len, tail + 1, tl - 1);
		len += tl - 1;
	}
	text[len] = '\0';
	free(head);
	free(tail);
	len = strlen(text);
	text[len] = '\n'; /* the NUL becomes the line's end: one write() of the whole line */
	while (done < len + 1) {
		ssize_t n = write(a->fd, text + done, len + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			a->failed = true;
			break;
		}
		done += (size_t)n;
	}
	free(text);
}

struct rp_json *cli_audit_stat_json(const char *path, const struct stat *st)
{
	struct rp_json *o = rp_json_new_object();
	char t[64];

	rp_json_set_str(o, "path", RP_URL(path));
	rp_json_set_u64(o, "size", (uint64_t)st->st_size);
	snprintf(t, sizeof(t), "%lld.%09ld", (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	rp_json_set_str(o, "mtime", t);
	snprintf(t, sizeof(t), "%lld.%09ld", (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
	rp_json_set_str(o, "ctime", t);
	rp_json_set_u64(o, "inode", (uint64_t)st->st_ino);
	return o;
}

int cli_audit_close(struct cli_audit *a, struct rp_err *err)
{
	bool failed = a->failed;

	if (a->fd >= 0 && fsync(a->fd) != 0 && errno != EINVAL)
		failed = true;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (failed)
		return rp_err_set(err, RP_EIO, "--audit-log: a line could not be written");
	return 0;
}
