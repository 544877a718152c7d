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

/*
 * Whole pages of their own (mmap): mlock, munlock and MADV_DONTDUMP act on pages, so a secret
 * sharing a page with other data could not be excluded from a core dump, and unlocking one
 * secret would unlock its neighbours.
 */
int rp_secret_alloc(struct rp_secret *s, size_t cap, struct rp_err *err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), sz;
	void *p;

	memset(s, 0, sizeof(*s));
	if (cap == 0)
		cap = 1;
	if (cap > SIZE_MAX / 2)
		return rp_err_set(err, RP_EUSAGE, "key buffer size overflows");
	sz = (cap + 1 + page - 1) / page * page;
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return rp_err_set(err, RP_EIO, "out of memory for a %zu-byte key buffer", cap);
	s->p = p;
	s->cap = sz;
	s->locked = mlock(p, sz) == 0;
	(void)madvise(p, sz, MADV_DONTDUMP);
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
	munmap(s->p, s->cap);
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
	/* A regular file's size decides the buffer (small, so it stays within RLIMIT_MEMLOCK);
	 * a pipe starts with a page and grows up to max. */
	rc = rp_secret_alloc(s,
			     S_ISREG(st.st_mode) && (uint64_t)st.st_size < max
				 ? (size_t)st.st_size + 1
				 : (max < 4096 ? max : 4096),
			     err);
	if (rc) {
		close(fd);
		return rc;
	}
	for (;;) {
		size_t room = (s->cap - 1 < max ? s->cap - 1 : max) - s->len;
		ssize_t n;

		if (room == 0 && s->len < max) {
			/* The file grew since fstat (or is a pipe): a bigger buffer, the old wiped.
			 */
			struct rp_secret bigger;

			rc = rp_secret_alloc(&bigger, s->cap * 2 < max ? s->cap * 2 : max, err);
			if (rc) {
				close(fd);
				rp_secret_free(s);
				return rc;
			}
			memcpy(bigger.p, s->p, s->len);
			bigger.len = s->len;
			rp_secret_free(s);
			*s = bigger;
			continue;
		}
		if (room == 0) {
			char extra;

			n = read(fd, &extra, 1);
			rp_wipe(&extra, 1);
			if (n > 0) {
				close(fd);
				rp_secret_free(s);
				return rp_err_set(err, RP_EUSAGE, "%s: larger than %zu bytes", path,
						  max);
			}
			break;
		}
		n = read(fd, s->p + s->len, room);
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
