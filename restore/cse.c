#include "restore/cse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "formats/vhd.h"
#include "restore/sink.h"
#include "verify/pipeline.h"
#include "verify/crypto.h"
#include "verify/digest.h"

#define MAX_SIDECAR (64u << 10)

int rp_cse_open(struct rp_cse *c, const char *metadata, size_t len, uint64_t stored_size,
		const struct rp_key_opts *keys, const char *display, struct rp_key_info *info,
		struct rp_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->stored_size = stored_size;
	rc = rp_encdata_parse(metadata, len, &c->ed, err);
	if (rc) {
		rp_err_prefix(err, "%s", display);
		return rc;
	}
	if (c->ed.region_len % 512 || c->ed.region_len < RP_SEAL_MIN_CHUNK)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "%s: encrypted regions of %llu bytes are not supported (a multiple "
		    "of 512, at least %u)",
		    display, (unsigned long long)c->ed.region_len, (unsigned)RP_SEAL_MIN_CHUNK);
	rc = rp_encdata_plain_size(&c->ed, stored_size, &c->plain_size, err);
	if (rc) {
		rp_err_prefix(err, "%s", display);
		return rc;
	}
	if (!keys)
		return rp_err_set_hint(
		    err, RP_EUSAGE, RP_H_KEK,
		    "%s is client-side encrypted and needs its key encryption key", display);
	rc = rp_keys_content_key(keys, &c->ed, &c->cek, info, err);
	if (rc)
		rp_err_prefix(err, "%s", display);
	return rc;
}

void rp_cse_close(struct rp_cse *c)
{
	rp_secret_free(&c->cek);
}

uint64_t rp_cse_stored_len(const struct rp_cse *c, uint64_t region)
{
	uint64_t start = region * c->ed.region_len;
	uint64_t n =
	    c->plain_size - start < c->ed.region_len ? c->plain_size - start : c->ed.region_len;

	return n + RP_ENCDATA_OVERHEAD;
}

int rp_cse_decrypt(void *ctx, uint64_t region, uint8_t *buf, size_t stored_len, uint8_t **plain,
		   struct rp_err *err)
{
	const struct rp_cse *c = ctx;
	size_t n = stored_len - RP_ENCDATA_OVERHEAD;
	uint64_t at = region * (c->ed.region_len + RP_ENCDATA_OVERHEAD);

	if (stored_len <= RP_ENCDATA_OVERHEAD ||
	    rp_gcm_decrypt(c->cek.p, buf, buf + RP_ENCDATA_NONCE, n, buf + RP_ENCDATA_NONCE + n,
			   err) != 0)
		return rp_err_set_reason(
		    err, RP_EVERIFY, RP_R_DECRYPT_TAG,
		    "encrypted region %llu (stored bytes %llu-%llu): the AES-GCM tag "
		    "does not match: the ciphertext was altered or the key is wrong",
		    (unsigned long long)region, (unsigned long long)at,
		    (unsigned long long)(at + stored_len - 1));
	*plain = buf + RP_ENCDATA_NONCE;
	return 0;
}

int rp_cse_read_plain(const struct rp_cse *c, rp_cse_read_fn read, void *ctx, uint64_t off,
		      uint8_t *out, size_t len, struct rp_err *err)
{
	uint64_t per = c->ed.region_len + RP_ENCDATA_OVERHEAD;
	uint8_t *buf = malloc(per);
	int rc = 0;

	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory");
	while (len && rc == 0) {
		uint64_t region = off / c->ed.region_len;
		size_t slen = (size_t)rp_cse_stored_len(c, region);
		size_t skip = (size_t)(off - region * c->ed.region_len);
		size_t n = slen - RP_ENCDATA_OVERHEAD - skip;
		uint8_t *plain;

		if (n > len)
			n = len;
		rc = read(ctx, region * per, buf, slen, err);
		if (rc == 0)
			rc = rp_cse_decrypt((void *)c, region, buf, slen, &plain, err);
		if (rc)
			break;
		memcpy(out, plain + skip, n);
		out += n;
		off += n;
		len -= n;
	}
	rp_wipe(buf, per);
	free(buf);
	return rc;
}

bool rp_cse_sidecar(const char *path, char *out, size_t outsz)
{
	struct stat st;
	int n = snprintf(out, outsz, "%s.encryptiondata.json", path);

	return n > 0 && (size_t)n < outsz && stat(out, &st) == 0;
}

/* ---- the offline copy ---- */

struct file_src {
	int fd;
	const char *path;
};

static int file_read(void *ctx, uint64_t off, uint8_t *buf, size_t len, struct rp_err *err)
{
	const struct file_src *f = ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(f->fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rp_err_set(err, RP_EIO, "%s: read at %llu: %s", f->path,
					  (unsigned long long)(off + done), strerror(errno));
		if (n == 0)
			return rp_err_set(err, RP_EIO, "%s: ends at %llu, before %llu", f->path,
					  (unsigned long long)(off + done),
					  (unsigned long long)(off + len));
		done += (size_t)n;
	}
	return 0;
}

/* The chunk pipeline's sync source over a local copy: read a region, decrypt it in place. */
struct region_src {
	const struct rp_cse *c;
	struct file_src *file;
	uint64_t stored; /* bytes read (atomic) */
};

static int region_read(void *ctx, struct rp_pipe_slot *s, struct rp_err *err)
{
	struct region_src *r = ctx;
	uint64_t per = r->c->ed.region_len + RP_ENCDATA_OVERHEAD;
	size_t slen = (size_t)rp_cse_stored_len(r->c, s->chunk);
	int rc;

	rc = file_read(r->file, s->chunk * per, s->buf, slen, err);
	if (rc == 0)
		rc = rp_cse_decrypt((void *)r->c, s->chunk, s->buf, slen, &s->data, err);
	if (rc == 0)
		__atomic_add_fetch(&r->stored, slen, __ATOMIC_RELAXED);
	return rc;
}

/* Decrypt, check and write every region through the pipeline; the footer is checked by the
 * caller. */
static int file_regions(const struct rp_restore_opts *o, const struct rp_cse *c,
			struct file_src *file, const struct rp_chunk_sink *sink,
			struct rp_restore_report *rep, struct rp_err *err)
{
	struct rp_fetch_result *r = &rep->fetch;
	struct region_src src = {.c = c, .file = file};
	struct rp_pipe_opts po = {0};
	struct rp_pipe *p = NULL;
	int rc, frc;

	po.size = rep->virtual_size;
	po.chunk_size = c->ed.region_len;
	po.buf_extra = RP_ENCDATA_OVERHEAD;
	po.wipe_bufs = true;
	po.hash_chunks = true;
	po.whole_digests = o->whole_digests;
	po.hash_window = o->hash_window;
	po.expect = o->seal;
	po.on_mismatch = o->keep_going ? RP_MM_RECORD : RP_MM_FAIL;
	po.sink = *sink;
	po.progress = o->progress;
	po.progress_ctx = o->progress_ctx;
	po.stop = o->stop;
	po.read = region_read;
	po.src_ctx = &src;
	rc = rp_pipe_new(&po, &p, err);
	if (rc) {
		rp_pipe_free(p);
		return rc;
	}
	rc = rp_pipe_run(p, err);
	frc = rp_pipe_finish(p, &r->pipe, rc ? NULL : err);
	if (rc == 0)
		rc = frc;
	rp_pipe_free(p);
	r->bytes_fetched = src.stored;
	r->chunks_fetched = r->pipe.seal ? r->pipe.seal->chunk_count : 0;
	return rc;
}

static int file_run(const struct rp_restore_opts *o, const char *sidecar,
		    struct rp_restore_report *rep, struct rp_err *err);

int rp_cse_file_run(const struct rp_restore_opts *o, const char *sidecar,
		    struct rp_restore_report *rep, struct rp_err *err)
{
	struct rp_err local;
	int rc;

	rp_err_init(&local);
	rc = file_run(o, sidecar, rep, err ? err : &local);
	rp_restore_report_failed(rep, rc, err ? err : &local);
	return rc;
}

static int file_run(const struct rp_restore_opts *o, const char *sidecar,
		    struct rp_restore_report *rep, struct rp_err *err)
{
	struct file_src src = {.fd = -1, .path = o->url};
	struct rp_secret meta = {0};
	struct rp_cse c = {0};
	struct rp_file_sink *fsink = NULL;
	struct rp_chunk_sink sink = {0};
	uint8_t footer[VHD_FOOTER_SIZE];
	bool vhd_out = false;
	double t0 = rp_now_s();
	struct stat st;
	int rc;

	memset(rep, 0, sizeof(*rep));
	snprintf(rep->source, sizeof(rep->source), "%s", o->url);
	snprintf(rep->blob_type, sizeof(rep->blob_type), "LocalCopy");
	src.fd = open(o->url, O_RDONLY | O_CLOEXEC);
	if (src.fd < 0)
		return rp_err_set(err, RP_EUSAGE, "%s: cannot open: %s", o->url, strerror(errno));
	if (fstat(src.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = rp_err_set(err, RP_EUSAGE, "%s: not a regular file", o->url);
		goto out;
	}
	rep->blob_size = (uint64_t)st.st_size;
	rc = rp_secret_read_file(sidecar, MAX_SIDECAR, &meta, err);
	if (rc == 0)
		rc = rp_cse_open(&c, (const char *)meta.p, meta.len, rep->blob_size, o->keys,
				 o->url, &rep->cek, err);
	if (rc)
		goto out;
	rep->encrypted = true;
	snprintf(rep->enc_protocol, sizeof(rep->enc_protocol), "%s", c.ed.protocol);
	rep->region_len = c.ed.region_len;
	rep->is_vhd = false;
	if (c.plain_size >= VHD_FOOTER_SIZE) {
		rc = rp_cse_read_plain(&c, file_read, &src, c.plain_size - VHD_FOOTER_SIZE, footer,
				       VHD_FOOTER_SIZE, err);
		if (rc == 0)
			rc =
			    vhd_image_footer_check(o->url, c.plain_size, footer, &rep->is_vhd, err);
		if (rc)
			goto out;
	}
	rep->virtual_size = c.plain_size - (rep->is_vhd ? VHD_FOOTER_SIZE : 0);
	if (o->format == RP_OUT_VHD && !rep->is_vhd) {
		rc = rp_err_set_reason(err, RP_EFORMAT, RP_R_FOOTER,
				       "%s: the plaintext has no VHD footer, which a VHD output "
				       "needs",
				       o->url);
		rp_err_hint(err, RP_H_FORMAT_RAW);
		goto out;
	}
	vhd_out = rep->is_vhd && o->format != RP_OUT_RAW;
	if (o->seal && (o->seal->virtual_size != rep->virtual_size ||
			o->seal->chunk_size != c.ed.region_len)) {
		rc = rp_err_set(err, RP_EVERIFY,
				"the seal is for %llu bytes in chunks of %llu; %s decrypts to %llu "
				"bytes in regions of %llu",
				(unsigned long long)o->seal->virtual_size,
				(unsigned long long)o->seal->chunk_size, o->url,
				(unsigned long long)rep->virtual_size,
				(unsigned long long)c.ed.region_len);
		goto out;
	}
	if (o->select) {
		rc = rp_err_set(err, RP_EUSAGE, "%s: an encrypted copy is verified whole", o->url);
		goto out;
	}
	/* Bounded bookkeeping, as for a blob (regions come from metadata anyone may write). */
	if (rep->virtual_size / c.ed.region_len > (1u << 24)) {
		rc = rp_err_set(
		    err, RP_EFORMAT,
		    "%s: %llu bytes in encrypted regions of %llu is more than 16 Mi regions",
		    o->url, (unsigned long long)rep->virtual_size,
		    (unsigned long long)c.ed.region_len);
		goto out;
	}
	if (o->select_init) {
		rc = o->select_init(o->select_ctx, rep->virtual_size, c.ed.region_len, err);
		if (rc)
			goto out;
	}
	if (o->out) {
		char etag[64];
		struct rp_sink_id id = {.source = rep->source,
					.etag = etag,
					.size = rep->virtual_size,
					.chunk_size = c.ed.region_len,
					.output_format = vhd_out ? 1 : 0,
					.seal = o->seal,
					.space_check = !o->no_space_check,
					.space_needed =
					    rep->virtual_size + (vhd_out ? VHD_FOOTER_SIZE : 0)};

		/* A local copy has no ETag: its size and mtime say whether a resume fits. */
		snprintf(etag, sizeof(etag), "\"%llu-%lld\"", (unsigned long long)st.st_size,
			 (long long)st.st_mtime);
		snprintf(rep->etag, sizeof(rep->etag), "%s", etag);
		snprintf(rep->output_format, sizeof(rep->output_format), "%s",
			 vhd_out ? "vhd" : "raw");
		rc = rp_file_sink_open(o->out, &id, o->force, &fsink, &rep->resumed, err);
		if (rc)
			goto out;
		sink = rp_file_sink_callbacks(fsink);
	}
	rc = file_regions(o, &c, &src, &sink, rep, err);
	if (rc == 0 && rep->fetch.pipe.mismatch_count)
		rc = rp_err_set(err, RP_EVERIFY, "%s does not match the seal: %zu chunks differ",
				o->url, rep->fetch.pipe.mismatch_count);
	if (rc == 0 && fsink)
		rc = rp_file_sink_finish(fsink, vhd_out ? footer : NULL,
					 vhd_out ? VHD_FOOTER_SIZE : 0, err);
out:
	rep->seconds = rp_now_s() - t0;
	rp_file_sink_free(fsink);
	rp_cse_close(&c);
	rp_secret_free(&meta);
	if (src.fd >= 0)
		close(src.fd);
	return rc;
}
