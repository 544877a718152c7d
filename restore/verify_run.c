/* The passes of verify over one disk (verify_run.h). */
#include "restore/verify_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/cse.h"

/* A whole pass's identity, digests and windows into out (it takes the windows). */
static void take_digests(struct rp_verify_out *out, struct rp_pipe_result *pr)
{
	out->identity_done = pr->seal && pr->seal->has_identity;
	if (out->identity_done)
		memcpy(out->identity, pr->seal->identity, sizeof(out->identity));
	memcpy(out->whole_done, pr->whole_done, sizeof(out->whole_done));
	memcpy(out->whole, pr->whole, sizeof(out->whole));
	free(out->windows);
	out->windows = pr->windows;
	out->window_count = pr->window_count;
	pr->windows = NULL;
}

int rp_verify_image(struct rp_image *img, const struct rp_scan_opts *o,
		    const struct rp_verify_passes *p, struct rp_verify_out *out, struct rp_err *err)
{
	int rc;

	do {
		struct rp_scan_result r = {0};

		rc = rp_scan_run(img, o, &r, err);
		if (rc == 0)
			rc = p->merge(p->ctx, r.pipe.seal, r.pipe.mismatches, r.pipe.mismatch_count,
				      err);
		if (rc == 0 && !o->select)
			take_digests(out, &r.pipe);
		rp_scan_result_release(&r);
		if (rc)
			return rc;
	} while (p->next(p->ctx));
	return 0;
}

int rp_verify_stream(const struct rp_restore_opts *o, const char *sidecar,
		     const struct rp_verify_passes *p, struct rp_verify_out *out,
		     struct rp_err *err)
{
	int rc;

	do {
		struct rp_restore_report rep;

		rc =
		    sidecar ? rp_cse_file_run(o, sidecar, &rep, err) : rp_restore_run(o, &rep, err);
		if (!out->described) {
			out->described = true;
			out->th = rep.th;
			out->blob_size = rep.blob_size;
			out->virtual_size = rep.virtual_size;
			out->is_vhd = rep.is_vhd;
			snprintf(out->etag, sizeof(out->etag), "%s", rep.etag);
		} else if (rc == 0 && strcmp(rep.etag, out->etag) != 0) {
			rc = rp_err_set_reason(err, RP_EIO, RP_R_SOURCE_CHANGED,
					       "%s changed between passes (ETag %s, now %s)",
					       rep.source, out->etag, rep.etag);
		}
		/* Seal mismatches end a pass with RP_EVERIFY after every chunk was checked: they
		 * are findings, merged like the rest. */
		if (rc == 0 || (rc == RP_EVERIFY && rep.fetch.pipe.mismatch_count)) {
			rc = p->merge(p->ctx, rep.fetch.pipe.seal, rep.fetch.pipe.mismatches,
				      rep.fetch.pipe.mismatch_count, err);
			if (rc == 0 && !o->select)
				take_digests(out, &rep.fetch.pipe);
		}
		rp_restore_report_release(&rep);
		if (rc)
			return rc;
	} while (p->next(p->ctx));
	return 0;
}

void rp_verify_out_release(struct rp_verify_out *out)
{
	free(out->windows);
	memset(out, 0, sizeof(*out));
}
