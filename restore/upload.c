/*
 * The upload engine (restore/upload.h). Put Page goes through N worker threads with one
 * rp_http handle each (libcurl easy handles keep their connection and TLS session between
 * requests); the multi engine of fetch.c is for reads only, and 2 to 16 blocking connections are
 * what one page blob takes (docs/azure.md: more mostly earns 503s). The calling thread writes the
 * journal, reports progress and runs the post-check.
 */
#include "restore/upload.h"
#include "restore/upload_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/outfile.h"
#include "common/secret.h"
#include "common/util.h"
#include "formats/azure_xml.h"
#include "formats/vhd.h"
#include "net/blob.h"
#include "net/retry.h"
#include "verify/crc64.h"
#include "verify/digest.h"

#define MAX_SPANS (RP_UPLOAD_CHUNK / VHD_SECTOR)
#define JOURNAL_EVERY_MS 1000

struct up_worker {
	pthread_t thread;
	struct up *u;
	struct rp_http *http;
	struct rp_auth *auth;
	uint8_t *buf;
	struct rp_upload_span *spans;
	unsigned seed;
};

static void set_bit(uint8_t *b, uint64_t i)
{
	b[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool stopped(const struct up *u)
{
	return u->o->stop && *u->o->stop;
}

static char *with_query(const char *url, const char *q)
{
	size_t n = strlen(url) + strlen(q) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%c%s", url, strchr(url, '?') ? '&' : '?', q);
	return s;
}

/* PUT with the credential, retried; ok is the status that means success. */
static int put(struct up *u, struct rp_http *http, struct rp_auth *auth, unsigned *seed,
	       const char *url, const char **extra, const uint8_t *body, size_t len, long ok,
	       const char *what, struct rp_err *err)
{
	const struct rp_upload_opts *o = u->o;
	char authz[8192];
	const char *headers[16];
	unsigned attempt;
	int rc = 0;

	rp_auth_bind(auth, url);
	for (attempt = 0;; attempt++) {
		struct rp_http_response r;
		size_t n = 0, i;
		long wait = -1;

		authz[0] = '\0';
		rc = rp_auth_header(auth, authz, sizeof(authz), err);
		if (rc)
			break;
		if (authz[0])
			headers[n++] = authz;
		/* No form content type from curl, and no Expect: 100-continue round trip. */
		headers[n++] = "Content-Type:";
		headers[n++] = "Expect:";
		for (i = 0; extra && extra[i] && n < 15; i++)
			headers[n++] = extra[i];
		headers[n] = NULL;
		rc = rp_http_request(http, "PUT", url, headers, body, len, 65536, &r, err);
		rp_wipe(authz, sizeof(authz));
		pthread_mutex_lock(&u->lock);
		u->rep->requests++;
		pthread_mutex_unlock(&u->lock);
		if (rc && !rp_retry_transport(http, rc))
			break;
		if (rc == 0) {
			if (r.status == ok) {
				rp_http_response_release(&r);
				break;
			}
			if (r.status == 401 || r.status == 403) {
				/* A managed disk asking for an Entra ID token (net/auth.h). */
				const char *h = rp_http_header(&r, "WWW-Authenticate");

				rc = rp_auth_challenge(auth, url, r.status, h ? h : "",
						       attempt == 0, err);
				if (rc != RP_CHALLENGE_NONE) {
					rp_http_response_release(&r);
					if (rc < 0)
						break;
					continue;
				}
			}
			if (r.status == 401 && rp_auth_has_bearer(auth) && attempt == 0) {
				rp_auth_invalidate(auth);
				rp_http_response_release(&r);
				continue;
			}
			wait = rp_retry_after_ms(&r);
			rc = RP_EIO;
			if (!rp_blob_judge(u->o->url, u->display, NULL, what,
					   "; an upload needs a SAS with write permission", &r,
					   err)) {
				rc = err ? err->code : RP_EIO;
				rp_http_response_release(&r);
				break;
			}
			rp_http_response_release(&r);
		} else {
			rp_err_prefix(err, "%s", what);
		}
		if (attempt >= o->net.retries || stopped(u))
			break;
		pthread_mutex_lock(&u->lock);
		u->rep->retries++;
		pthread_mutex_unlock(&u->lock);
		rp_sleep_ms(
		    rp_retry_delay_ms(&(struct rp_retry_policy){.base_ms = o->net.retry_base_ms},
				      attempt, wait, (uint32_t)rand_r(seed)),
		    o->stop);
	}
	return rc;
}

/* One Put Page (update of len bytes at off, or clear of them). */
static int put_page(struct up_worker *w, uint64_t off, const uint8_t *body, size_t len, bool clear,
		    struct rp_err *err)
{
	struct up *u = w->u;
	char range[80], hash[64];
	const char *extra[4];
	size_t n = 0;

	snprintf(range, sizeof(range), "x-ms-range: bytes=%" PRIu64 "-%" PRIu64, off,
		 off + len - 1);
	extra[n++] = clear ? "x-ms-page-write: clear" : "x-ms-page-write: update";
	extra[n++] = range;
	if (!clear && u->o->use_md5) {
		uint8_t md5[16];
		struct rp_digest *d = NULL;
		char b64[32];
		size_t bl;

		if (rp_digest_new(RP_DIGEST_MD5, &d, err) != 0)
			return RP_EIO;
		rp_digest_update(d, body, len);
		rp_digest_final(d, md5);
		rp_digest_free(d);
		if (rp_b64_encode(md5, 16, RP_B64_STD, b64, sizeof(b64), &bl) != 0)
			return rp_err_set(err, RP_EIO, "base64 of an md5 failed");
		snprintf(hash, sizeof(hash), "Content-MD5: %s", b64);
		extra[n++] = hash;
	} else if (!clear) {
		char b64[RP_CRC64_B64_SIZE];

		rp_crc64_to_b64(rp_crc64(0, body, len), b64);
		snprintf(hash, sizeof(hash), "x-ms-content-crc64: %s", b64);
		extra[n++] = hash;
	}
	extra[n] = NULL;
	return put(u, w->http, w->auth, &w->seed, u->page_url, extra, clear ? NULL : body,
		   clear ? 0 : len, 201, clear ? "clear pages" : "put page", err);
}

static void fail(struct up *u, int rc, const struct rp_err *err)
{
	pthread_mutex_lock(&u->lock);
	if (!u->failed) {
		u->failed = true;
		u->rc = rc;
		u->err = *err;
	}
	pthread_mutex_unlock(&u->lock);
}

/*
 * Chunk c (len bytes in buf, read again from the image) is listed by the journal: *same stays
 * true if it still holds what was sent (the journal's SHA-256; zeros for a chunk without
 * data), else the chunk is forgotten (*same false) and sent again.
 */
static int resume_check(struct up *u, uint64_t c, const uint8_t *buf, size_t len, bool *same,
			struct rp_err *err)
{
	uint8_t want[32], got[32];
	bool data;

	pthread_mutex_lock(&u->lock);
	data = rp_up_bit(u->data, c) && rp_seal_chunk_sha(u->sent, c);
	if (data)
		memcpy(want, rp_seal_chunk_sha(u->sent, c), 32);
	u->rep->chunks_rechecked++;
	pthread_mutex_unlock(&u->lock);
	if (!data) {
		*same = rp_is_zero(buf, len);
	} else {
		if (rp_sha256(buf, len, got) != 0)
			return rp_err_set(err, RP_EIO, "sha256 failed");
		*same = memcmp(want, got, 32) == 0;
	}
	if (!*same) {
		pthread_mutex_lock(&u->lock);
		u->done[c / 8] &= (uint8_t) ~(1u << (c % 8));
		u->data[c / 8] &= (uint8_t) ~(1u << (c % 8));
		u->rep->chunks_resent++;
		pthread_mutex_unlock(&u->lock);
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct up_worker *w = arg;
	struct up *u = w->u;
	struct rp_err err;

	rp_err_init(&err);
	for (;;) {
		bool before = false, resumed;
		uint8_t digest[32];
		size_t len = 0, n, i;
		uint64_t c, off, sent = 0, data = 0;
		int rc = 0;

		pthread_mutex_lock(&u->lock);
		if (u->failed || stopped(u) || u->next >= u->nchunks) {
			pthread_mutex_unlock(&u->lock);
			break;
		}
		c = u->next++;
		resumed = rp_up_bit(u->done, c);
		/* In chunk order, resumed or not: a resumed chunk may turn out changed. */
		if (u->before)
			rc = rp_page_plan_chunk(u->before, c, &before, &err);
		pthread_mutex_unlock(&u->lock);
		if (rc) {
			rp_err_prefix(&err, "the target's pages before the upload");
			fail(u, rc, &err);
			break;
		}
		off = c * RP_UPLOAD_CHUNK;
		rc = rp_up_read_chunk(u, w->buf, c, &len, &err);
		/* A chunk the journal lists is relied on only if the image still holds what was
		 * sent (the mtime alone does not say: cp -p, touch -r, tar x restore it). */
		if (rc == 0 && resumed)
			rc = resume_check(u, c, w->buf, len, &resumed, &err);
		if (rc) {
			rp_err_prefix(&err, "chunk %" PRIu64 " at 0x%" PRIx64, c, off);
			fail(u, rc, &err);
			break;
		}
		if (resumed) {
			pthread_mutex_lock(&u->lock);
			u->rep->chunks_resumed++;
			u->bytes_done += len;
			pthread_mutex_unlock(&u->lock);
			continue;
		}
		n = rc ? 0 : rp_upload_spans(w->buf, len, RP_UPLOAD_MERGE_GAP, w->spans, MAX_SPANS);
		/* Pages the target held where this chunk has zeros would survive: clear them. */
		if (rc == 0 && before)
			rc = put_page(w, off, NULL, len, true, &err);
		for (i = 0; rc == 0 && i < n && i < MAX_SPANS; i++) {
			rc = put_page(w, off + w->spans[i].off, w->buf + w->spans[i].off,
				      w->spans[i].len, false, &err);
			sent += w->spans[i].len;
		}
		for (i = 0; i < len; i += VHD_SECTOR)
			data += rp_is_zero(w->buf + i, VHD_SECTOR) ? 0 : VHD_SECTOR;
		if (rc) {
			rp_err_prefix(&err, "chunk %" PRIu64 " at 0x%" PRIx64, c, off);
			fail(u, rc, &err);
			break;
		}
		if (n && rp_sha256(w->buf, len, digest) != 0) {
			rp_err_set(&err, RP_EIO, "chunk %" PRIu64 ": sha256 failed", c);
			fail(u, RP_EIO, &err);
			break;
		}
		pthread_mutex_lock(&u->lock);
		if (n) {
			struct rp_seal_chunk sc = {.state = RP_CHUNK_DATA};

			memcpy(sc.sha256, digest, 32);
			if (rp_seal_chunk_set(u->sent, c, &sc, &err) != 0) {
				pthread_mutex_unlock(&u->lock);
				fail(u, RP_EIO, &err);
				break;
			}
			set_bit(u->data, c);
		}
		set_bit(u->done, c);
		u->bytes_done += len;
		u->rep->bytes_sent += sent;
		u->rep->bytes_data += data;
		u->rep->bytes_skipped += len - sent;
		if (before)
			u->rep->bytes_cleared += len;
		pthread_mutex_unlock(&u->lock);
	}
	pthread_mutex_lock(&u->lock);
	u->running--;
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* Replace the journal with the n bytes of j: a new temporary file with an unpredictable name
 * (never through a planted link), fsync, rename, directory fsync (common/outfile.h). */
static int journal_replace(struct up *u, const uint8_t *j, size_t n, struct rp_err *err)
{
	int rc = rp_outfile_replace(u->journal, j, n, 0600, true, err);

	if (rc)
		rp_err_prefix(err, "cannot write the journal");
	return rc;
}

static char *path_with(const char *base, const char *suffix);

/* Hold JOURNAL.lock for the whole run: a second upload of the same image (same journal) stops
 * at once, naming the holder's PID, instead of writing the same journal. */
static int journal_lock(struct up *u, struct rp_err *err)
{
	size_t n = strlen(u->o->image) + 8;
	char *what = malloc(n);
	int rc;

	u->lock_path = path_with(u->journal, ".lock");
	if (!what || !u->lock_path) {
		free(what);
		return rp_err_set(err, RP_EIO, "out of memory");
	}
	snprintf(what, n, "'%s'", u->o->image);
	rc = rp_outfile_lock(u->lock_path, what, &u->lock_fd, err);
	free(what);
	return rc;
}

static int journal_save(struct up *u, struct rp_err *err)
{
	size_t n = 0;
	uint8_t *j = NULL;
	int rc;

	/* Encoded under the lock: the snapshot of the done chunks and their digests. */
	pthread_mutex_lock(&u->lock);
	rc = rp_upload_journal_encode_sent(&u->jid, u->done, u->data, u->sent, &j, &n, err);
	pthread_mutex_unlock(&u->lock);
	if (rc)
		return rc;
	rc = journal_replace(u, j, n, err);
	free(j);
	return rc;
}

static int journal_load(struct up *u, bool *resumed, struct rp_err *err)
{
	struct stat st;
	uint8_t *buf;
	int fd, rc = 0;

	*resumed = false;
	if (stat(u->journal, &st) != 0)
		return 0;
	if (st.st_size > (off_t)(64u << 20))
		return rp_err_set(err, RP_EFORMAT, "the journal '%s' is too large", u->journal);
	buf = malloc((size_t)st.st_size + 1);
	fd = open(u->journal, O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0 || read(fd, buf, (size_t)st.st_size) != (ssize_t)st.st_size)
		rc = rp_err_errno(err, errno ? errno : EIO, "cannot read the journal '%s'",
				  u->journal);
	if (fd >= 0)
		close(fd);
	/* A journal of an upload of this image to another target is not this upload's: it is
	 * replaced (that upload can still be run again, from the start). */
	if (rc == 0 && st.st_size > 42 &&
	    (memcmp(buf, "CVMRUPJ1", 8) == 0 || memcmp(buf, "CVMRUPJ2", 8) == 0)) {
		size_t tl = (size_t)buf[40] | (size_t)buf[41] << 8;
		if (42 + tl <= (size_t)st.st_size &&
		    (tl != strlen(u->jtarget) || memcmp(buf + 42, u->jtarget, tl) != 0)) {
			free(buf);
			return 0;
		}
	}
	/* A journal of version 1 has no digests: nothing it lists can be checked. It is not
	 * trusted; the upload starts over and says so. */
	if (rc == 0 && memcmp(buf, "CVMRUPJ1", 8) == 0) {
		u->rep->journal_old = true;
		free(buf);
		return 0;
	}
	if (rc == 0)
		rc = rp_upload_journal_parse_sent(buf, (size_t)st.st_size, &u->jid, u->done,
						  u->data, u->sent, err);
	free(buf);
	if (rc) {
		rp_err_prefix(err, "%s", u->journal);
		if (rc == RP_EIO)
			rp_err_prefix(err, "cannot resume (remove the journal to start over)");
		return rc;
	}
	*resumed = true;
	return 0;
}

static int create_blob(struct up *u, struct rp_err *err)
{
	struct up_worker w = {.u = u, .seed = 1};
	char len[80];
	const char *extra[] = {"x-ms-blob-type: PageBlob", len, NULL};
	int rc;

	snprintf(len, sizeof(len), "x-ms-blob-content-length: %" PRIu64, u->blob_size);
	rc = put(u, u->blob.http, u->blob.auth, &w.seed, u->o->url, extra, NULL, 0, 201,
		 "create page blob", err);
	if (rc == 0)
		u->rep->created = true;
	return rc;
}

/* Start the workers, report progress, write the journal; wait for the end. */
static int run_workers(struct up *u, struct rp_err *err)
{
	const struct rp_upload_opts *o = u->o;
	unsigned nw = o->net.connections ? o->net.connections : 4, started = 0, i;
	struct up_worker *ws = calloc(nw, sizeof(*ws));
	double last_journal = rp_now_s();
	int rc = 0;

	if (!ws)
		return rp_err_set(err, RP_EIO, "out of memory");
	for (i = 0; i < nw && rc == 0; i++) {
		ws[i].u = u;
		ws[i].seed = (unsigned)time(NULL) ^ (i * 7919u);
		ws[i].buf = malloc(RP_UPLOAD_CHUNK);
		ws[i].spans = calloc(MAX_SPANS, sizeof(*ws[i].spans));
		if (!ws[i].buf || !ws[i].spans)
			rc = rp_err_set(err, RP_EIO, "out of memory");
		if (rc == 0)
			rc = rp_http_new(&o->net.http, &ws[i].http, err);
		if (rc == 0)
			rc = rp_auth_new(&o->net.auth, &o->net.http, RP_AUDIENCE_STORAGE,
					 &ws[i].auth, err);
		if (rc == 0) {
			pthread_mutex_lock(&u->lock);
			u->running++;
			pthread_mutex_unlock(&u->lock);
			if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
				pthread_mutex_lock(&u->lock);
				u->running--;
				pthread_mutex_unlock(&u->lock);
				rc = rp_err_set(err, RP_EIO, "cannot start a thread");
			}
		}
		if (rc == 0)
			started++;
	}
	if (rc)
		fail(u, rc, err);
	for (;;) {
		bool end;
		uint64_t done, retries, skipped;

		rp_sleep_ms(100, NULL);
		pthread_mutex_lock(&u->lock);
		end = u->running == 0;
		done = u->bytes_done;
		retries = u->rep->retries;
		skipped = u->rep->bytes_skipped;
		pthread_mutex_unlock(&u->lock);
		if (o->progress_detail)
			o->progress_detail(o->progress_ctx, skipped, retries);
		if (o->progress)
			o->progress(o->progress_ctx, done, u->blob_size);
		if (rp_now_s() - last_journal >= JOURNAL_EVERY_MS / 1000.0) {
			struct rp_err jerr;
			rp_err_init(&jerr);
			if (journal_save(u, &jerr) != 0)
				fail(u, jerr.code, &jerr);
			last_journal = rp_now_s();
		}
		if (end)
			break;
	}
	for (i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	for (i = 0; i < nw; i++) {
		rp_http_free(ws[i].http);
		rp_auth_free(ws[i].auth);
		free(ws[i].buf);
		free(ws[i].spans);
	}
	free(ws);
	if (o->progress)
		o->progress(o->progress_ctx, u->bytes_done, u->blob_size);
	if (u->failed) {
		*err = u->err;
		return u->rc;
	}
	if (stopped(u))
		return rp_err_set(err, RP_EINTR, "interrupted");
	return 0;
}

static int open_image(struct up *u, struct rp_err *err)
{
	const struct rp_upload_opts *o = u->o;
	uint8_t footer[VHD_FOOTER_SIZE];
	struct stat st;

	u->fd = open(o->image, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0 || fstat(u->fd, &st) != 0)
		return rp_err_errno(err, errno, "cannot open '%s'", o->image);
	if (!S_ISREG(st.st_mode))
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a regular file", o->image);
	u->file_size = (uint64_t)st.st_size;
	u->jid.image_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (o->kind == RP_UPLOAD_DISK) {
		int rc;
		if (u->file_size >= VHD_FOOTER_SIZE &&
		    pread(u->fd, footer, VHD_FOOTER_SIZE,
			  (off_t)(u->file_size - VHD_FOOTER_SIZE)) != VHD_FOOTER_SIZE)
			return rp_err_errno(err, errno ? errno : EIO, "cannot read '%s'", o->image);
		if (u->file_size < VHD_FOOTER_SIZE)
			memset(footer, 0, sizeof(footer));
		rc = rp_upload_check_vhd(footer, u->file_size, err);
		if (rc) {
			rp_err_prefix(err, "'%s'", o->image);
			return rc;
		}
		u->blob_size = u->file_size;
	} else {
		if (u->file_size == 0)
			return rp_err_set(err, RP_EFORMAT, "'%s' is empty", o->image);
		/* A page blob is a whole number of 512-byte pages: the tail is zero padded. */
		u->blob_size = (u->file_size + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
	}
	u->nchunks = (u->blob_size + RP_UPLOAD_CHUNK - 1) / RP_UPLOAD_CHUNK;
	return 0;
}

static char *path_with(const char *base, const char *suffix)
{
	size_t n = strlen(base) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s", base, suffix);
	return p;
}

int rp_upload_run(const struct rp_upload_opts *o, struct rp_upload_report *rep, struct rp_err *err)
{
	struct up u;
	double t0 = rp_now_s();
	bool resumed = false;
	size_t bm;
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(&u, 0, sizeof(u));
	u.o = o;
	u.rep = rep;
	u.fd = -1;
	u.lock_fd = -1;
	rep->hash = o->use_md5 ? "md5" : "crc64";
	rp_err_init(&u.err);
	pthread_mutex_init(&u.lock, NULL);
	rp_url_redact(o->url, u.display, sizeof(u.display));
	snprintf(rep->target, sizeof(rep->target), "%s", u.display);
	rc = open_image(&u, err);
	if (rc)
		goto out;
	rep->image_size = u.file_size;
	rep->blob_size = u.blob_size;
	rep->chunks = u.nchunks;
	bm = (size_t)((u.nchunks + 7) / 8);
	u.done = calloc(bm, 1);
	u.data = calloc(bm, 1);
	if (u.nchunks <= RP_SEAL_MAX_CHUNKS)
		rp_seal_new(u.nchunks * RP_UPLOAD_CHUNK, RP_UPLOAD_CHUNK, &u.sent, NULL);
	u.page_url = with_query(o->url, "comp=page");
	u.journal = o->journal ? strdup(o->journal) : path_with(o->image, ".upload-journal");
	if (!u.done || !u.data || !u.sent || !u.page_url || !u.journal) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out;
	}
	snprintf(u.jtarget, sizeof(u.jtarget), "%s", u.display);
	u.jid = (struct rp_upload_journal_id){u.file_size, RP_UPLOAD_CHUNK, u.nchunks,
					      u.jid.image_mtime_ns, u.jtarget};
	rc = journal_lock(&u, err);
	if (rc == 0)
		rc = journal_load(&u, &resumed, err);
	if (rc)
		goto out;
	rep->resumed = resumed;
	rc = rp_http_new(&o->net.http, &u.blob.http, err);
	if (rc == 0)
		rc =
		    rp_auth_new(&o->net.auth, &o->net.http, RP_AUDIENCE_STORAGE, &u.blob.auth, err);
	if (rc)
		goto out;
	u.blob.url = o->url;
	u.blob.retries = o->net.retries;
	u.blob.retry_base_ms = o->net.retry_base_ms;
	if (o->create && !resumed) {
		rc = create_blob(&u, err);
		if (rc)
			goto out;
	}
	rc = rp_blob_head(&u.blob, err);
	if (rc) {
		rp_err_prefix(err, "target");
		goto out;
	}
	/* The blob changes with every page written: reads of it must not send If-Match. */
	u.blob.etag[0] = '\0';
	if (strcmp(u.blob.blob_type, "PageBlob") != 0) {
		rc = rp_err_set(err, RP_EUSAGE, "%s: the target is a %s, not a page blob",
				u.display, u.blob.blob_type[0] ? u.blob.blob_type : "plain file");
		goto out;
	}
	if (u.blob.size != u.blob_size) {
		rc = rp_err_set_hint(err, RP_EUSAGE, RP_H_CREATE_BLOB,
				     "%s: the target page blob holds %" PRIu64
				     " bytes but '%s' needs %" PRIu64
				     " (create the disk with --upload-size-bytes %" PRIu64 ")",
				     u.display, u.blob.size, o->image, u.blob_size, u.blob_size);
		goto out;
	}
	if (!rep->created) {
		rc = rp_page_plan_new(&u.blob, u.blob_size, RP_UPLOAD_CHUNK, RP_UP_PLAN_WINDOW,
				      &u.before, err);
		if (rc)
			goto out;
	}
	rc = journal_save(&u, err);
	if (rc == 0)
		rc = run_workers(&u, err);
	if (rc) {
		/* Keep a journal only when there is something to resume. */
		struct rp_err jerr;
		rp_err_init(&jerr);
		if (rp_is_zero(u.done, bm))
			unlink(u.journal);
		else
			journal_save(&u, &jerr);
		goto out;
	}
	rc = rp_up_post_check(&u, err);
	if (rc == 0 || rc == RP_EVERIFY)
		unlink(u.journal);
out:
	rep->seconds = rp_now_s() - t0;
	rp_page_plan_free(u.before);
	rp_http_free(u.blob.http);
	rp_auth_free(u.blob.auth);
	if (u.fd >= 0)
		close(u.fd);
	if (u.page_url) {
		rp_wipe(u.page_url, strlen(u.page_url));
		free(u.page_url);
	}
	rp_outfile_unlock(u.lock_path, u.lock_fd);
	free(u.lock_path);
	free(u.journal);
	free(u.done);
	free(u.data);
	rp_seal_free(u.sent);
	pthread_mutex_destroy(&u.lock);
	return rc;
}
