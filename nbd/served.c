/* One disk served read-only, every chunk verified: sources, the chunk cache, read-ahead. */
#include "nbd/served.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secret.h"
#include "common/text.h"
#include "common/util.h"
#include "formats/descriptor.h"
#include "formats/image.h"
#include "formats/seal.h"
#include "restore/blob_read.h"
#include "restore/restore.h"
#include "verify/pipeline.h"

#define RA_QUEUE 64 /* chunks waiting to be fetched ahead */
#define RA_THREADS_MAX 4
/* Page ranges are listed this many bytes at a time (restore's plan lists 1 GiB windows too);
 * a window holds at most 1 Mi ranges (16 MiB), one per other 512-byte page. */
#define PR_WINDOW (1ull << 30)

enum entry_state { E_EMPTY, E_LOADING, E_READY };

/* A cached chunk. */
struct entry {
	enum entry_state state;
	uint64_t chunk;
	uint64_t stamp; /* last use, for the LRU choice */
	unsigned refs;	/* readers copying out of buf */
	int next;	/* the next entry in its hash bucket, -1: none */
	uint8_t *buf;	/* allocated on first use: at most slots * chunk_size in all */
};

/* One connection to a blob (a reader is single-threaded). */
struct conn {
	struct rp_blob_reader *r;
};

struct rp_served {
	char name[1024]; /* display form */
	uint64_t size, chunk_size, chunk_count;
	struct rp_seal *seal_owned;
	const struct rp_seal *seal;
	struct rp_descriptor *desc;
	char *local; /* a descriptor's local source, joined to its folder */
	unsigned retries, readahead;
	void (*log)(void *ctx, enum rp_served_log level, const char *msg);
	void *log_ctx;

	/* a local image */
	struct rp_image *img;

	/* a blob: connections opened on demand, each pinned to the first one's ETag and size */
	char *url;
	struct rp_net_opts net;
	enum rp_transport_hash th;
	char etag[128];
	uint64_t blob_size;
	struct conn *conns;
	unsigned nconns, maxconns, nfree;
	unsigned *freelist;
	pthread_mutex_t conn_mu;
	pthread_cond_t conn_cv;

	/* extents of a page blob without a seal: the written ranges of one window at a time */
	pthread_mutex_t pr_mu;
	bool pr_on; /* a page blob served unverified: ask its page ranges */
	bool pr_have, pr_oom;
	uint64_t pr_start;   /* the window listed */
	uint64_t (*pr)[2];   /* its written ranges [start, end), merged, in order */
	size_t pr_n, pr_cap; /* ranges, room */

	/* the cache directory: DIR/<seal identity hex>, its files in the order written (a queue
	 * of chunk indices, oldest at dc_head; an entry whose file is gone is skipped) */
	char *dc_dir; /* NULL: none */
	uint64_t dc_max, dc_bytes;
	uint64_t *dc_q;
	size_t dc_head, dc_len, dc_cap;
	uint64_t dc_evicted;
	unsigned dc_seq;
	bool dc_warned;
	pthread_mutex_t dc_mu;

	/* the cache */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry *ent;
	unsigned nent;
	int *bucket;
	unsigned nbucket;
	uint64_t tick;
	struct rp_served_stats st;

	/* read-ahead */
	uint64_t last_end; /* where the last read ended */
	uint64_t raq[RA_QUEUE];
	unsigned raq_head, raq_len;
	pthread_cond_t ra_cv;
	pthread_t ra_thr[RA_THREADS_MAX];
	unsigned nra;
	bool ra_started, stopping;
};

static void logf_(struct rp_served *s, enum rp_served_log level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct rp_served *s, enum rp_served_log level, const char *fmt, ...)
{
	char msg[RP_ERR_MSG_MAX + 256];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rp_text_wipe_secrets(msg);
	s->log(s->log_ctx, level, msg);
}

/* ---- sources ---- */

static int conn_open(struct rp_served *s, struct conn *c, struct rp_err *err)
{
	struct rp_blob_reader_opts ro = {
	    .url = s->url,
	    .net = &s->net,
	    .etag = s->etag[0] ? s->etag : NULL,
	    .blob_size = s->blob_size,
	    .th = s->th,
	    .seal = s->seal,
	};

	return rp_blob_reader_open(&ro, &c->r, err);
}

static struct conn *conn_take(struct rp_served *s, struct rp_err *err)
{
	struct conn *c = NULL;
	unsigned id;
	int rc;

	pthread_mutex_lock(&s->conn_mu);
	while (s->nfree == 0 && s->nconns >= s->maxconns)
		pthread_cond_wait(&s->conn_cv, &s->conn_mu);
	if (s->nfree) {
		c = &s->conns[s->freelist[--s->nfree]];
		pthread_mutex_unlock(&s->conn_mu);
		return c;
	}
	id = s->nconns++;
	pthread_mutex_unlock(&s->conn_mu);
	c = &s->conns[id];
	rc = conn_open(s, c, err);
	if (rc == 0)
		return c;
	/* give the place back: another thread may try again */
	pthread_mutex_lock(&s->conn_mu);
	if (id == s->nconns - 1) {
		s->nconns--;
	} else {
		/* a later one opened meanwhile: keep the slot, marked unopened, on the free list */
		c->r = NULL;
		s->freelist[s->nfree++] = id;
	}
	pthread_cond_broadcast(&s->conn_cv);
	pthread_mutex_unlock(&s->conn_mu);
	return NULL;
}

static void conn_give(struct rp_served *s, struct conn *c)
{
	pthread_mutex_lock(&s->conn_mu);
	s->freelist[s->nfree++] = (unsigned)(c - s->conns);
	pthread_cond_signal(&s->conn_cv);
	pthread_mutex_unlock(&s->conn_mu);
}

static uint64_t chunk_len(const struct rp_served *s, uint64_t i)
{
	uint64_t off = i * s->chunk_size;

	return s->size - off < s->chunk_size ? s->size - off : s->chunk_size;
}

/* Fetch chunk i into buf and check it: a blob through its reader (transport hash, ETag, seal),
 * a local image against the seal. */
static int fetch_chunk(struct rp_served *s, uint64_t i, uint8_t *buf, struct rp_err *err)
{
	uint64_t off = i * s->chunk_size, len = chunk_len(s, i);
	struct rp_seal_chunk got;
	int rc;

	if (s->img) {
		rc = rp_image_read(s->img, buf, (size_t)len, off, err);
		if (rc == 0 && s->seal)
			rc = rp_chunk_verify(s->seal, i, buf, (size_t)len, &got, err);
		return rc;
	}
	for (;;) {
		struct conn *c = conn_take(s, err);

		if (!c)
			return err->code ? err->code : RP_EIO;
		if (!c->r) { /* a slot whose open failed earlier */
			rc = conn_open(s, c, err);
			if (rc) {
				c->r = NULL;
				conn_give(s, c);
				return rc;
			}
		}
		rc = rp_blob_reader_read(c->r, buf, (size_t)len, off, err);
		conn_give(s, c);
		return rc;
	}
}

/* Does the seal say chunk i reads as zeros? Its state, as restore reads it: a zero or
 * unallocated chunk is not fetched; a data chunk is fetched and checked, even one whose digest
 * is that of zeros (a version 1 seal could say so; such a chunk never matches, as in restore). */
static bool seal_zero(const struct rp_served *s, uint64_t i)
{
	return s->seal && rp_seal_chunk_state(s->seal, i) != RP_CHUNK_DATA;
}

/* ---- the cache directory ---- */

static void dc_path(const struct rp_served *s, uint64_t i, char *out, size_t size)
{
	snprintf(out, size, "%s/%016" PRIx64, s->dc_dir, i);
}

static void stat_add(struct rp_served *s, uint64_t *field)
{
	pthread_mutex_lock(&s->mu);
	(*field)++;
	pthread_mutex_unlock(&s->mu);
}

/* Remove the oldest files until len more bytes fit (s->dc_mu held). */
static void dc_evict_locked(struct rp_served *s, uint64_t len)
{
	char path[4200];

	while (s->dc_len > 0 && s->dc_bytes + len > s->dc_max) {
		uint64_t i = s->dc_q[s->dc_head++];

		s->dc_len--;
		dc_path(s, i, path, sizeof(path));
		/* a file already gone (failed its check, or listed twice) was counted off then */
		if (unlink(path) == 0) {
			s->dc_bytes -= chunk_len(s, i);
			s->dc_evicted++;
		}
	}
	if (s->dc_head > 64 && s->dc_head > s->dc_len) {
		memmove(s->dc_q, s->dc_q + s->dc_head, s->dc_len * sizeof(*s->dc_q));
		s->dc_head = 0;
	}
}

/* Queue chunk i's file as the newest, counting len bytes (s->dc_mu held); false: no memory. */
static bool dc_push_locked(struct rp_served *s, uint64_t i, uint64_t len)
{
	if (s->dc_head + s->dc_len == s->dc_cap) {
		size_t cap = s->dc_cap ? s->dc_cap * 2 : 256;
		uint64_t *q = realloc(s->dc_q, cap * sizeof(*q));

		if (!q)
			return false;
		s->dc_q = q;
		s->dc_cap = cap;
	}
	s->dc_q[s->dc_head + s->dc_len++] = i;
	s->dc_bytes += len;
	return true;
}

/* Chunk i from the cache directory into buf, checked against the seal: true if it is there
 * and checks out. A file that fails is removed (logged); the caller fetches the chunk. */
static bool dc_read(struct rp_served *s, uint64_t i, uint8_t *buf)
{
	uint64_t len = chunk_len(s, i);
	struct rp_seal_chunk got;
	char path[4200];
	struct stat st;
	struct rp_err e;
	size_t done = 0;
	const char *why = NULL;
	int fd;

	dc_path(s, i, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	rp_err_init(&e);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len) {
		why = "size";
	} else {
		while (done < len) {
			ssize_t n = read(fd, buf + done, (size_t)len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		if (done != len)
			why = "read";
		else if (rp_chunk_verify(s->seal, i, buf, (size_t)len, &got, &e) != 0)
			why = rp_reason_name(rp_err_reason_of(&e));
	}
	close(fd);
	if (!why) {
		stat_add(s, &s->st.disk_hits);
		return true;
	}
	logf_(s, RP_SERVED_LOG_WARN,
	      "chunk %" PRIu64 " in the cache directory failed the %s check: removed, fetching it "
	      "again",
	      i, why);
	pthread_mutex_lock(&s->dc_mu);
	if (unlink(path) == 0)
		s->dc_bytes -= len;
	pthread_mutex_unlock(&s->dc_mu);
	stat_add(s, &s->st.disk_bad);
	return false;
}

/* Keep verified chunk i as a file: written under a temporary name, then renamed, so that a
 * reader never finds part of it. A failure only costs the file (logged once). */
static void dc_write(struct rp_served *s, uint64_t i, const uint8_t *buf)
{
	uint64_t len = chunk_len(s, i);
	char path[4200], tmp[4300];
	const char *what = NULL;
	size_t done = 0;
	unsigned seq;
	int fd, saved = 0;

	if (len > s->dc_max)
		return;
	dc_path(s, i, path, sizeof(path));
	pthread_mutex_lock(&s->dc_mu);
	dc_evict_locked(s, len);
	if (!dc_push_locked(s, i, len)) {
		pthread_mutex_unlock(&s->dc_mu);
		return;
	}
	seq = ++s->dc_seq;
	pthread_mutex_unlock(&s->dc_mu);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%016" PRIx64 "-%ld-%u", s->dc_dir, i, (long)getpid(),
		 seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		what = "create";
		saved = errno;
	}
	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, buf + done, (size_t)len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			what = "write";
			saved = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	if (fd >= 0 && close(fd) != 0 && !what) {
		what = "write";
		saved = errno;
	}
	if (!what && rename(tmp, path) != 0) {
		what = "rename";
		saved = errno;
	}
	if (!what) {
		stat_add(s, &s->st.disk_writes);
		return;
	}
	if (fd >= 0)
		unlink(tmp);
	pthread_mutex_lock(&s->dc_mu);
	s->dc_bytes -= len; /* its queue entry finds no file: not counted again */
	if (!s->dc_warned) {
		s->dc_warned = true;
		pthread_mutex_unlock(&s->dc_mu);
		logf_(s, RP_SERVED_LOG_WARN,
		      "cannot %s chunk %" PRIu64 "'s file in the cache directory (%s): it is "
		      "fetched again next time",
		      what, i, strerror(saved));
		return;
	}
	pthread_mutex_unlock(&s->dc_mu);
}

struct dc_found {
	uint64_t chunk;
	struct timespec mtime;
};

static int dc_found_cmp(const void *a, const void *b)
{
	const struct dc_found *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/* Make DIR (0700) and DIR/<seal identity hex> (0700), and learn the files a run before left
 * there, oldest first; remove temporary files and files of the wrong size, and the oldest ones
 * past the bound. */
static int dc_open(struct rp_served *s, const char *dir, uint64_t max, struct rp_err *err)
{
	uint8_t id[32];
	char hex[65], shown[1024];
	struct dc_found *found = NULL;
	size_t nfound = 0, capfound = 0, k, n;
	struct dirent *d;
	DIR *dh;
	int rc;

	if (!s->seal)
		return rp_err_set(err, RP_EUSAGE,
				  "a cache directory needs a seal: without one there is nothing to "
				  "check its files against");
	if (s->seal->has_identity) {
		memcpy(id, s->seal->identity, sizeof(id));
	} else if ((rc = rp_seal_identity(s->seal, id, err)) != 0) {
		return rc;
	}
	rp_hex(id, sizeof(id), hex);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return rp_err_set(err, RP_EIO, "cannot create the cache directory '%s': %s",
				  rp_show_path(dir, shown, sizeof(shown)), strerror(errno));
	n = strlen(dir) + sizeof(hex) + 2;
	s->dc_dir = malloc(n);
	if (!s->dc_dir)
		return rp_err_set(err, RP_EIO, "out of memory");
	snprintf(s->dc_dir, n, "%s/%s", dir, hex);
	if (mkdir(s->dc_dir, 0700) != 0 && errno != EEXIST)
		return rp_err_set(err, RP_EIO, "cannot create the cache directory '%s': %s",
				  rp_show_path(s->dc_dir, shown, sizeof(shown)), strerror(errno));
	dh = opendir(s->dc_dir);
	if (!dh)
		return rp_err_set(err, RP_EIO, "cannot read the cache directory '%s': %s",
				  rp_show_path(s->dc_dir, shown, sizeof(shown)), strerror(errno));
	s->dc_max = max;
	while ((d = readdir(dh)) != NULL) {
		char path[4200];
		struct stat st;
		uint64_t i = 0;
		bool ok = strlen(d->d_name) == 16;

		if (d->d_name[0] == '.' && strncmp(d->d_name, ".tmp-", 5) != 0)
			continue;
		for (k = 0; ok && k < 16; k++) {
			int v = rp_hex_digit(d->d_name[k]);

			ok = v >= 0;
			i = i << 4 | (uint64_t)(v < 0 ? 0 : v);
		}
		snprintf(path, sizeof(path), "%s/%s", s->dc_dir, d->d_name);
		if (ok && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && i < s->chunk_count &&
		    (uint64_t)st.st_size == chunk_len(s, i)) {
			if (nfound == capfound) {
				size_t cap = capfound ? capfound * 2 : 256;
				struct dc_found *f = realloc(found, cap * sizeof(*f));

				if (!f) {
					closedir(dh);
					free(found);
					return rp_err_set(err, RP_EIO, "out of memory");
				}
				found = f;
				capfound = cap;
			}
			found[nfound].chunk = i;
			found[nfound].mtime = st.st_mtim;
			nfound++;
		} else if (ok || strncmp(d->d_name, ".tmp-", 5) == 0) {
			unlink(path); /* left by a run that stopped, or not a chunk of this seal */
		}
	}
	closedir(dh);
	if (nfound > 1)
		qsort(found, nfound, sizeof(*found), dc_found_cmp);
	for (k = 0; k < nfound; k++) {
		uint64_t len = chunk_len(s, found[k].chunk);

		dc_evict_locked(s, len);
		if (len > s->dc_max || !dc_push_locked(s, found[k].chunk, len)) {
			char path[4200];

			dc_path(s, found[k].chunk, path, sizeof(path));
			unlink(path);
		}
	}
	free(found);
	return 0;
}

/* ---- the cache ---- */

static unsigned bucket_of(const struct rp_served *s, uint64_t chunk)
{
	return (unsigned)((chunk * 0x9E3779B97F4A7C15ull) >> 32) % s->nbucket;
}

static struct entry *cache_find(struct rp_served *s, uint64_t chunk)
{
	int k;

	for (k = s->bucket[bucket_of(s, chunk)]; k >= 0; k = s->ent[k].next)
		if (s->ent[k].chunk == chunk)
			return &s->ent[k];
	return NULL;
}

static void cache_unlink(struct rp_served *s, struct entry *e)
{
	int *p = &s->bucket[bucket_of(s, e->chunk)];
	int id = (int)(e - s->ent);

	while (*p >= 0 && *p != id)
		p = &s->ent[*p].next;
	if (*p == id)
		*p = e->next;
	e->next = -1;
	e->state = E_EMPTY;
}

static void cache_link(struct rp_served *s, struct entry *e, uint64_t chunk)
{
	unsigned b = bucket_of(s, chunk);

	e->chunk = chunk;
	e->next = s->bucket[b];
	s->bucket[b] = (int)(e - s->ent);
}

/* An empty entry, or the least recently used ready one nobody reads; NULL: all busy. */
static struct entry *cache_victim(struct rp_served *s)
{
	struct entry *best = NULL;
	unsigned k;

	for (k = 0; k < s->nent; k++) {
		struct entry *e = &s->ent[k];

		if (e->state == E_EMPTY)
			return e;
		if (e->state == E_READY && e->refs == 0 && (!best || e->stamp < best->stamp))
			best = e;
	}
	if (best)
		cache_unlink(s, best);
	return best;
}

/* Fetch and check chunk i, again after a failure (retries); the message of the last failure
 * names the chunk and the check. */
static int load_verified(struct rp_served *s, uint64_t i, uint8_t *buf, bool *from_disk,
			 struct rp_err *err)
{
	unsigned attempt;
	struct rp_err e;
	int rc = 0;

	*from_disk = s->dc_dir && dc_read(s, i, buf);
	if (*from_disk)
		return 0;
	for (attempt = 0; attempt <= s->retries; attempt++) {
		rp_err_init(&e);
		rc = fetch_chunk(s, i, buf, &e);
		if (rc == 0) {
			if (s->dc_dir)
				dc_write(s, i, buf);
			return 0;
		}
		pthread_mutex_lock(&s->mu);
		s->st.failures++;
		pthread_mutex_unlock(&s->mu);
		if (attempt < s->retries)
			logf_(s, RP_SERVED_LOG_WARN,
			      "chunk %" PRIu64 " failed the %s check (fetching it again): %s", i,
			      rp_reason_name(rp_err_reason_of(&e)), e.msg);
	}
	rp_err_set_reason(err, rc, rp_err_reason_of(&e),
			  "chunk %" PRIu64 " (0x%" PRIx64 ", %" PRIu64
			  " bytes) failed the %s check %u times: %s",
			  i, i * s->chunk_size, chunk_len(s, i),
			  rp_reason_name(rp_err_reason_of(&e)), s->retries + 1, e.msg);
	err->hint = e.hint;
	return rc;
}

/* Chunk i in the cache, verified, with a reference held (release with cache_put). Called
 * with s->mu held; drops it while fetching. */
static int cache_get(struct rp_served *s, uint64_t i, struct entry **out, bool *hit,
		     struct rp_err *err)
{
	for (;;) {
		struct entry *e = cache_find(s, i);
		bool from_disk = false;
		int rc;

		if (e && e->state == E_READY) {
			e->refs++;
			e->stamp = ++s->tick;
			*out = e;
			*hit = true;
			return 0;
		}
		if (e) { /* loading in another thread */
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		e = cache_victim(s);
		if (!e) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		e->state = E_LOADING;
		cache_link(s, e, i);
		pthread_mutex_unlock(&s->mu);
		if (!e->buf) {
			e->buf = malloc((size_t)s->chunk_size);
			if (e->buf) {
				pthread_mutex_lock(&s->mu);
				s->st.cache_bytes += s->chunk_size;
				pthread_mutex_unlock(&s->mu);
			}
		}
		rc = e->buf ? load_verified(s, i, e->buf, &from_disk, err)
			    : rp_err_set(err, RP_EIO, "out of memory for a %" PRIu64 "-byte chunk",
					 s->chunk_size);
		pthread_mutex_lock(&s->mu);
		if (rc) {
			cache_unlink(s, e);
		} else {
			e->state = E_READY;
			e->refs = 1;
			e->stamp = ++s->tick;
			if (!from_disk)
				s->st.fetches++;
			*out = e;
		}
		*hit = false;
		pthread_cond_broadcast(&s->cv);
		return rc;
	}
}

static void cache_put(struct rp_served *s, struct entry *e)
{
	if (--e->refs == 0)
		pthread_cond_broadcast(&s->cv);
}

/* ---- read-ahead ---- */

static void *ra_main(void *arg)
{
	struct rp_served *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct entry *e;
		struct rp_err err;
		uint64_t i;
		bool hit;

		while (!s->stopping && s->raq_len == 0)
			pthread_cond_wait(&s->ra_cv, &s->mu);
		if (s->stopping)
			break;
		i = s->raq[s->raq_head];
		s->raq_head = (s->raq_head + 1) % RA_QUEUE;
		s->raq_len--;
		if (cache_find(s, i))
			continue;
		rp_err_init(&err);
		if (cache_get(s, i, &e, &hit, &err) == 0) {
			cache_put(s, e);
			s->st.readaheads++;
		} else {
			/* the reader that wants it fetches it again and reports */
			pthread_mutex_unlock(&s->mu);
			logf_(s, RP_SERVED_LOG_DEBUG, "read-ahead: %s", err.msg);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queue the chunks after last for fetching ahead (s->mu held). */
static void ra_queue(struct rp_served *s, uint64_t last)
{
	unsigned k, q;

	if (!s->ra_started) {
		s->ra_started = true;
		s->nra = s->readahead < RA_THREADS_MAX ? s->readahead : RA_THREADS_MAX;
		if (!s->img && s->nra > s->maxconns / 2)
			s->nra = s->maxconns / 2;
		for (k = 0; k < s->nra; k++)
			if (pthread_create(&s->ra_thr[k], NULL, ra_main, s) != 0)
				break;
		s->nra = k;
	}
	if (s->nra == 0)
		return;
	for (k = 1; k <= s->readahead && last + k < s->chunk_count; k++) {
		uint64_t i = last + k;
		bool queued = false;

		if (cache_find(s, i))
			continue;
		if (seal_zero(s, i))
			continue;
		for (q = 0; q < s->raq_len; q++)
			if (s->raq[(s->raq_head + q) % RA_QUEUE] == i)
				queued = true;
		if (queued || s->raq_len == RA_QUEUE)
			continue;
		s->raq[(s->raq_head + s->raq_len) % RA_QUEUE] = i;
		s->raq_len++;
	}
	pthread_cond_broadcast(&s->ra_cv);
}

/* ---- page ranges (a page blob without a seal) ---- */

static void pr_add(void *ctx, uint64_t start, uint64_t end)
{
	struct rp_served *s = ctx;

	end++; /* inclusive */
	if (s->pr_n > 0 && s->pr[s->pr_n - 1][1] == start) {
		s->pr[s->pr_n - 1][1] = end;
		return;
	}
	if (s->pr_n == s->pr_cap) {
		size_t cap = s->pr_cap ? s->pr_cap * 2 : 64;
		void *p = s->pr_oom ? NULL : realloc(s->pr, cap * sizeof(*s->pr));

		if (!p) {
			s->pr_oom = true;
			return;
		}
		s->pr = p;
		s->pr_cap = cap;
	}
	s->pr[s->pr_n][0] = start;
	s->pr[s->pr_n][1] = end;
	s->pr_n++;
}

/* List the page ranges of the window at w (s->pr_mu held). */
static int pr_list(struct rp_served *s, uint64_t w, struct rp_err *err)
{
	struct conn *c = conn_take(s, err);
	int rc;

	if (!c)
		return err->code ? err->code : RP_EIO;
	if (!c->r && (rc = conn_open(s, c, err)) != 0) {
		c->r = NULL;
		conn_give(s, c);
		return rc;
	}
	s->pr_have = false;
	s->pr_n = 0;
	s->pr_oom = false;
	rc = rp_blob_reader_page_ranges(c->r, w, PR_WINDOW, pr_add, s, err);
	conn_give(s, c);
	if (rc == 0 && s->pr_oom)
		rc = rp_err_set(err, RP_EIO, "out of memory for the page ranges");
	if (rc == 0) {
		s->pr_have = true;
		s->pr_start = w;
	}
	return rc;
}

/* What the page ranges say of off: written (data) up to the end of its range, else a hole up
 * to the next range; exact (512-byte pages), at most to the end of the listed window. A blob
 * whose page ranges cannot be listed is all data from then on (logged once): data is always a
 * safe answer, the reads fetch it. */
static int pr_extent(struct rp_served *s, uint64_t off, uint64_t end, enum rp_served_kind *kind,
		     uint64_t *run)
{
	uint64_t w = off / PR_WINDOW * PR_WINDOW, stop = end;
	size_t lo = 0, hi;

	pthread_mutex_lock(&s->pr_mu);
	if (s->pr_on && (!s->pr_have || s->pr_start != w)) {
		struct rp_err e;

		rp_err_init(&e);
		if (pr_list(s, w, &e) != 0) {
			s->pr_on = false;
			logf_(
			    s, RP_SERVED_LOG_WARN,
			    "the page ranges of %s could not be listed (extents say all data): %s",
			    s->name, e.msg);
		}
	}
	if (!s->pr_on) {
		pthread_mutex_unlock(&s->pr_mu);
		*kind = RP_SERVED_DATA;
		*run = end - off;
		return 0;
	}
	if (w + PR_WINDOW < stop)
		stop = w + PR_WINDOW;
	/* the first range that ends after off */
	hi = s->pr_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pr[mid][1] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->pr_n && s->pr[lo][0] <= off) {
		*kind = RP_SERVED_DATA;
		if (s->pr[lo][1] < stop)
			stop = s->pr[lo][1];
	} else {
		*kind = RP_SERVED_ZERO;
		if (lo < s->pr_n && s->pr[lo][0] < stop)
			stop = s->pr[lo][0];
	}
	pthread_mutex_unlock(&s->pr_mu);
	*run = stop - off;
	return 0;
}

/* ---- the interface ---- */

int rp_served_read(struct rp_served *s, void *buf, size_t len, uint64_t off, struct rp_err *err)
{
	uint8_t *p = buf;
	uint64_t last;

	if (off > s->size || len > s->size - off)
		return rp_err_set(err, RP_EUSAGE,
				  "%zu bytes at 0x%" PRIx64 " lie past the end of %s (%" PRIu64
				  " bytes)",
				  len, off, s->name, s->size);
	if (len == 0)
		return 0;
	last = (off + len - 1) / s->chunk_size;
	pthread_mutex_lock(&s->mu);
	if (s->readahead && off == s->last_end && off != 0)
		ra_queue(s, last);
	s->last_end = off + len;
	pthread_mutex_unlock(&s->mu);
	while (len > 0) {
		uint64_t i = off / s->chunk_size, in = off - i * s->chunk_size;
		size_t n = (size_t)(s->chunk_size - in < len ? s->chunk_size - in : len);

		if (seal_zero(s, i)) {
			memset(p, 0, n);
			pthread_mutex_lock(&s->mu);
			s->st.zero_chunks++;
			pthread_mutex_unlock(&s->mu);
		} else {
			struct entry *e;
			bool hit;
			int rc;

			pthread_mutex_lock(&s->mu);
			rc = cache_get(s, i, &e, &hit, err);
			if (rc) {
				pthread_mutex_unlock(&s->mu);
				return rc;
			}
			if (hit)
				s->st.hits++;
			pthread_mutex_unlock(&s->mu);
			memcpy(p, e->buf + in, n);
			pthread_mutex_lock(&s->mu);
			cache_put(s, e);
			pthread_mutex_unlock(&s->mu);
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int rp_served_extent(struct rp_served *s, uint64_t off, uint64_t end, enum rp_served_kind *kind,
		     uint64_t *run, struct rp_err *err)
{
	if (off >= s->size)
		return rp_err_set(err, RP_EUSAGE, "0x%" PRIx64 " lies past the end of %s", off,
				  s->name);
	if (end <= off || end > s->size)
		end = s->size;
	if (s->seal) {
		/* The seal is the reference: only what it says reads as zeros is skipped. A run
		 * of chunks of one kind, at most RP_SERVED_EXTENT_CHUNKS of them. */
		uint64_t i = off / s->chunk_size, last = (end - 1) / s->chunk_size, j;
		bool zero = seal_zero(s, i);

		if (last - i >= RP_SERVED_EXTENT_CHUNKS)
			last = i + RP_SERVED_EXTENT_CHUNKS - 1;
		for (j = i + 1; j <= last && seal_zero(s, j) == zero; j++)
			;
		*kind = zero ? RP_SERVED_ZERO : RP_SERVED_DATA;
		*run = (j * s->chunk_size < end ? j * s->chunk_size : end) - off;
		return 0;
	}
	if (s->img) {
		bool allocated;
		int rc = rp_image_extent(s->img, off, &allocated, run, err);

		if (rc)
			return rc;
		if (*run > end - off)
			*run = end - off;
		*kind = allocated ? RP_SERVED_DATA : RP_SERVED_ZERO;
		return 0;
	}
	if (s->pr_on)
		return pr_extent(s, off, end, kind, run);
	*kind = RP_SERVED_DATA;
	*run = end - off;
	return 0;
}

void rp_served_stats(struct rp_served *s, struct rp_served_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&s->dc_mu);
	st->disk_evicted = s->dc_evicted;
	pthread_mutex_unlock(&s->dc_mu);
}

uint64_t rp_served_size(const struct rp_served *s)
{
	return s->size;
}

uint64_t rp_served_chunk_size(const struct rp_served *s)
{
	return s->chunk_size;
}

const char *rp_served_name(const struct rp_served *s)
{
	return s->name;
}

bool rp_served_sealed(const struct rp_served *s)
{
	return s->seal != NULL;
}

const char *rp_served_mode(const struct rp_served *s)
{
	return s->seal ? "sealed" : "unverified";
}

/* ---- open and free ---- */

/* The descriptor's disk: its source (a URL, or a local file inside the descriptor's folder)
 * and its seal. */
static int open_descriptor(struct rp_served *s, const struct rp_served_opts *o, const char **source,
			   struct rp_err *err)
{
	size_t k;
	int rc;

	rc = rp_descriptor_load(o->source, &s->desc, err);
	if (rc)
		return rc;
	for (k = 0; k < s->desc->ndisks; k++)
		if (strcmp(s->desc->disks[k].name, o->disk) == 0)
			break;
	if (k == s->desc->ndisks)
		return rp_err_set(err, RP_EUSAGE, "the descriptor has no disk named '%s'", o->disk);
	if (!o->seal_path)
		s->seal = s->desc->disks[k].seal;
	if (rp_is_url(s->desc->disks[k].source)) {
		*source = s->desc->disks[k].source;
		return 0;
	}
	rc = rp_descriptor_local_source(o->source, s->desc->disks[k].source, o->allow_outside,
					&s->local, err);
	if (rc) {
		rp_err_prefix(err, "disk '%s'", o->disk);
		return rc;
	}
	*source = s->local;
	return 0;
}

static int open_blob(struct rp_served *s, const char *url, struct rp_err *err)
{
	struct rp_blob_reader *r;
	struct rp_image *img = NULL;
	int rc;

	s->url = strdup(url);
	if (!s->url)
		return rp_err_set(err, RP_EIO, "out of memory");
	s->maxconns = s->net.connections ? s->net.connections : 1;
	s->conns = calloc(s->maxconns, sizeof(*s->conns));
	s->freelist = calloc(s->maxconns, sizeof(*s->freelist));
	if (!s->conns || !s->freelist)
		return rp_err_set(err, RP_EIO, "out of memory");
	/* The first connection learns the ETag, the size and the transport hash; the others are
	 * pinned to them. */
	s->th = RP_TH_NONE;
	rc = conn_open(s, &s->conns[0], err);
	if (rc)
		return rc;
	s->nconns = 1;
	s->freelist[s->nfree++] = 0;
	r = s->conns[0].r;
	snprintf(s->name, sizeof(s->name), "%s", rp_blob_reader_name(r));
	snprintf(s->etag, sizeof(s->etag), "%s", rp_blob_reader_etag(r));
	s->blob_size = rp_blob_reader_size(r);
	/* Without a seal, the page ranges say which ranges were never written; with one the seal
	 * is the reference. A block blob or a plain server has none: all data. */
	s->pr_on = !s->seal && strcmp(rp_blob_reader_type(r), "PageBlob") == 0;
	rc = rp_blob_reader_probe_th(r, s->net.th, &s->th, err);
	if (rc)
		return rc;
	/* Raw or fixed VHD: the image's checks of the footer, its virtual size. */
	rc = rp_blob_reader_image(r, &img, err);
	if (rc)
		return rc;
	s->size = rp_image_virtual_size(img);
	rp_image_free(img);
	return 0;
}

int rp_served_open(const struct rp_served_opts *o, struct rp_served **out, struct rp_err *err)
{
	const char *source = o->source;
	struct rp_served *s;
	char shown[1024];
	unsigned k;
	int rc;

	*out = NULL;
	if (!o->source)
		return rp_err_set(err, RP_EUSAGE,
				  "no source: give a blob URL, an image or a "
				  "recovery point descriptor");
	s = calloc(1, sizeof(*s));
	if (!s)
		return rp_err_set(err, RP_EIO, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->ra_cv, NULL);
	pthread_mutex_init(&s->conn_mu, NULL);
	pthread_cond_init(&s->conn_cv, NULL);
	pthread_mutex_init(&s->pr_mu, NULL);
	pthread_mutex_init(&s->dc_mu, NULL);
	s->net = *o->net;
	s->retries = o->retries;
	s->readahead = o->readahead;
	s->log = o->log;
	s->log_ctx = o->log_ctx;
	if (o->disk) {
		rc = open_descriptor(s, o, &source, err);
		if (rc)
			goto fail;
	}
	if (o->seal_path) {
		rc = rp_seal_load(o->seal_path, &s->seal_owned, err);
		if (rc)
			goto fail;
		s->seal = s->seal_owned;
	}
	if (!s->seal && !o->unverified) {
		rc = rp_err_set(err, RP_EUSAGE,
				"no seal for %s: every chunk is checked against a seal; give one, "
				"or serve it unverified on purpose",
				rp_show_path(o->source, shown, sizeof(shown)));
		goto fail;
	}
	s->chunk_size = s->seal ? s->seal->chunk_size : s->net.chunk_size;
	s->net.chunk_size = s->chunk_size;
	if (rp_is_url(source)) {
		rc = open_blob(s, source, err);
	} else {
		struct rp_image_opts io = {.parents = o->parents, .parent_count = o->parent_count};

		rc = rp_image_open(source, &io, &s->img, err);
		if (rc == 0) {
			snprintf(s->name, sizeof(s->name), "%s",
				 rp_show_path(source, shown, sizeof(shown)));
			s->size = rp_image_virtual_size(s->img);
		}
	}
	if (rc)
		goto fail;
	if (s->seal && s->seal->virtual_size != s->size) {
		rc = rp_err_set(err, RP_EVERIFY,
				"the seal is for a disk of %" PRIu64 " bytes, %s holds %" PRIu64,
				s->seal->virtual_size, s->name, s->size);
		goto fail;
	}
	if (s->size == 0) {
		rc = rp_err_set(err, RP_EFORMAT, "%s is empty: nothing to serve", s->name);
		goto fail;
	}
	s->chunk_count = (s->size + s->chunk_size - 1) / s->chunk_size;
	if (o->cache_dir) {
		rc = dc_open(s, o->cache_dir,
			     o->cache_dir_bytes ? o->cache_dir_bytes : RP_SERVED_DISK_DEFAULT, err);
		if (rc)
			goto fail;
	}
	{
		uint64_t bytes = o->cache_bytes ? o->cache_bytes : RP_SERVED_CACHE_DEFAULT;
		uint64_t n = bytes / s->chunk_size;

		if (n < 2)
			n = 2;
		if (n > s->chunk_count + 1)
			n = s->chunk_count + 1;
		if (n > (1u << 20))
			n = 1u << 20;
		s->nent = (unsigned)n;
	}
	s->nbucket = s->nent * 2 + 1;
	s->ent = calloc(s->nent, sizeof(*s->ent));
	s->bucket = malloc(s->nbucket * sizeof(*s->bucket));
	if (!s->ent || !s->bucket) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto fail;
	}
	for (k = 0; k < s->nbucket; k++)
		s->bucket[k] = -1;
	for (k = 0; k < s->nent; k++)
		s->ent[k].next = -1;
	s->st.cache_slots = s->nent;
	*out = s;
	return 0;
fail:
	rp_served_free(s);
	return rc;
}

void rp_served_free(struct rp_served *s)
{
	unsigned k;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->ra_cv);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < s->nra; k++)
		pthread_join(s->ra_thr[k], NULL);
	for (k = 0; k < s->nent; k++)
		free(s->ent[k].buf);
	free(s->ent);
	free(s->bucket);
	for (k = 0; k < s->nconns; k++)
		rp_blob_reader_free(s->conns[k].r);
	free(s->conns);
	free(s->freelist);
	if (s->url) {
		rp_wipe(s->url, strlen(s->url));
		free(s->url);
	}
	rp_image_free(s->img);
	rp_seal_free(s->seal_owned);
	rp_descriptor_free(s->desc);
	free(s->local);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->ra_cv);
	pthread_mutex_destroy(&s->conn_mu);
	pthread_cond_destroy(&s->conn_cv);
	pthread_mutex_destroy(&s->pr_mu);
	free(s->pr);
	pthread_mutex_destroy(&s->dc_mu);
	free(s->dc_dir);
	free(s->dc_q);
	free(s);
}
