#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void rp_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

int rp_secret_alloc(struct rp_secret *s, size_t cap, struct rp_err *err)
{
	memset(s, 0, sizeof(*s));
	if (cap == 0)
		cap = 1;
	if (cap == SIZE_MAX)
		return rp_err_set(err, RP_EUSAGE, "key buffer size overflows");
	s->p = calloc(1, cap + 1);
	if (!s->p)
		return rp_err_set(err, RP_EIO, "out of memory for a %zu-byte key buffer", cap);
	s->cap = cap + 1;
	s->locked = mlock(s->p, s->cap) == 0;
	(void)madvise(s->p, s->cap, MADV_DONTDUMP);
	return 0;
}

int rp_secret_dup(struct rp_secret *s, const void *p, size_t len, struct rp_err *err)
{
	int rc = rp_secret_alloc(s, len ? len : 1, err);

	if (rc)
		return rc;
	if (len)
		memcpy(s->p, p, len);
	s->len = len;
	return 0;
}

void rp_secret_free(struct rp_secret *s)
{
	if (!s || !s->p)
		return;
	explicit_bzero(s->p, s->cap);
	if (s->locked)
		(void)munlock(s->p, s->cap);
	free(s->p);
	memset(s, 0, sizeof(*s));
}

int rp_secret_read_file(const char *path, size_t max, struct rp_secret *s, struct rp_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return rp_err_set(err, RP_EUSAGE, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 ||
	    (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))) {
		close(fd);
		return rp_err_set(err, RP_EUSAGE, "%s: not a regular file", path);
	}
	rc = rp_secret_alloc(s, max, err);
	if (rc) {
		close(fd);
		return rc;
	}
	for (;;) {
		ssize_t n;

		if (s->len == max) {
			char extra;

			n = read(fd, &extra, 1);
			if (n > 0) {
				close(fd);
				rp_secret_free(s);
				return rp_err_set(err, RP_EUSAGE, "%s: larger than %zu bytes", path,
						  max);
			}
			break;
		}
		n = read(fd, s->p + s->len, max - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			rp_secret_free(s);
			return rp_err_set(err, RP_EUSAGE, "%s: cannot read: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	close(fd);
	return 0;
}
