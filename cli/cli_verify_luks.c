/*
 * The --luks-* key check of verify (cli_verify_run.h), after the pass: on the local image, or on
 * a URL through verified chunk reads (restore/blob_read.h) and a callback image source.
 */
#include "cli/cli_verify_run.h"

#include <string.h>

#include "restore/blob_read.h"
#include "verify/luks.h"

/* A failed read of the LUKS check on a URL: data that did not check out fails the disk (exit 1);
 * anything else is an error of the check. The pass's results are kept either way. */
static void blob_failure(struct cli_vluks *k, const struct rp_err *e)
{
	if (e->code == RP_EVERIFY) {
		cli_disk_reason(k->d, rp_reason_name(rp_err_reason_of(e)), "LUKS check: %s",
				e->msg);
		return;
	}
	k->code = rp_err_set_reason(&k->err, e->code, e->reason, "LUKS check: %s", e->msg);
	if (e->reason != RP_R_NONE)
		k->reason = rp_reason_name(e->reason);
}

/* The key check of --luks-*: its volumes replace the report's header-only luks list; a key
 * that opens nothing fails the disk (luks-no-key), a volume that cannot be checked is an error. */
static void check(struct cli_vluks *k, struct rp_image *img, const struct rp_blob_reader *r)
{
	const struct cli_luks_args *l = &k->a->luks;
	struct rp_luks_result res;
	struct rp_luks_key key;
	struct rp_json *vols, *f;
	struct rp_err err;
	size_t i;
	int rc;

	memset(&res, 0, sizeof(res));
	rp_err_init(&err);
	rc = rp_luks_key_read(l->key_file ? RP_LUKS_KEY_FILE : RP_LUKS_PASSPHRASE,
			      l->key_file ? l->key_file : l->passphrase_file, &key, &err);
	if (rc == 0) {
		rc = rp_luks_check_image(img, &key, NULL, -1, &res, &err);
		rp_luks_key_release(&key);
	}
	/* A blob chunk that did not check out is that failure, not the key's. */
	if (r && rp_blob_reader_failure(r, &err)) {
		blob_failure(k, &err);
		rp_luks_result_release(&res);
		return;
	}
	vols = rp_json_new_array();
	for (i = 0; i < res.count; i++)
		rp_json_append(vols, rp_luks_volume_json(&res.vol[i]));
	if (res.count) {
		rp_json_free(k->d->luks);
		k->d->luks = vols;
	} else {
		rp_json_free(vols);
	}
	f = rp_json_new_object();
	rp_json_set_str(f, "key", l->key_file ? "key file" : "passphrase file");
	rp_json_set_str(f, "key_path", RP_URL(l->key_file ? l->key_file : l->passphrase_file));
	rp_json_set_u64(f, "volumes", res.count);
	rp_json_set_str(f, "result",
			rc == 0		   ? "opened"
			: rc == RP_EVERIFY ? "no-key-opened"
					   : "error");
	cli_audit_event(&k->a->audit, "key-check", f);
	if (rc == RP_EVERIFY)
		cli_disk_reason(k->d, "luks-no-key", "%s", RP_MSG(err.msg));
	else if (rc)
		k->code = rp_err_set(&k->err, rc, "LUKS check: %s", err.msg);
	rp_luks_result_release(&res);
}

static void audit_blob_chunk(void *ctx, uint64_t index, uint64_t off, uint64_t len)
{
	struct cli_vluks *k = ctx;
	struct rp_json *f = rp_json_new_object();

	rp_json_set_str(f, "source", "blob");
	rp_json_set_u64(f, "offset", off);
	rp_json_set_u64(f, "length", len);
	rp_json_set_u64(f, "first_chunk", index);
	rp_json_set_u64(f, "chunks", 1);
	rp_json_set_str(f, "purpose", "LUKS key check");
	cli_audit_event(&k->a->audit, "read", f);
}

void cli_vluks_remote(struct cli_vluks *k, const char *url, const char *etag, uint64_t blob_size,
		      enum rp_transport_hash th, const struct rp_seal *seal)
{
	struct verify_args *a = k->a;
	struct rp_blob_reader_opts ro = {
	    .url = url,
	    .http = &a->net.http,
	    .auth = &a->net.auth,
	    .retries = a->net.retries,
	    .retry_base_ms = a->net.retry_base_ms,
	    .etag = etag,
	    .blob_size = blob_size,
	    .th = th,
	    .seal = seal,
	    .chunk_size = a->net.chunk_size,
	    .on_chunk = audit_blob_chunk,
	    .on_chunk_ctx = k,
	    .stop = &cli_stop,
	};
	struct rp_blob_reader *r = NULL;
	struct rp_image_source src;
	struct rp_image *img = NULL;
	struct rp_err e;
	int rc;

	rp_err_init(&e);
	rc = rp_blob_reader_open(&ro, &r, &e);
	if (rc == 0) {
		src.read = rp_blob_reader_read;
		src.ctx = r;
		src.size = rp_blob_reader_size(r);
		src.name = rp_blob_reader_name(r);
		rc = rp_image_open_source(&src, NULL, &img, &e);
		if (rc)
			rp_blob_reader_failure(r, &e);
	}
	if (rc)
		blob_failure(k, &e);
	else
		check(k, img, r);
	rp_image_free(img);
	rp_blob_reader_free(r);
}

void cli_vluks_local(struct cli_vluks *k, struct rp_image *img)
{
	check(k, img, NULL);
}
