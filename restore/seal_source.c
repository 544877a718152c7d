#include "restore/seal_source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "net/blob.h"
#include "net/http.h"
#include "net/retry.h"
#include "restore/restore.h"

/* The answer's body, collected up to the cap (the Content-Length is checked first). */
struct seal_body {
	const struct rp_http_response *resp; /* its headers are in before the body */
	const char *display;
	char *buf;
	size_t len, cap;
	bool checked;
};

static int body_add(void *ctx, const char *data, size_t len, struct rp_err *err)
{
	struct seal_body *b = ctx;

	if (!b->checked) {
		const char *cl = rp_http_header(b->resp, "Content-Length");
		uint64_t n;

		b->checked = true;
		if (cl && rp_parse_u64(cl, &n, NULL) == 0 && n > RP_SEAL_MAX_BYTES)
			return rp_err_set(err, RP_EFORMAT,
					  "%s: seal: the answer is %" PRIu64
					  " bytes, more than a seal may be (%" PRIu64 ")",
					  b->display, n, (uint64_t)RP_SEAL_MAX_BYTES);
	}
	if ((uint64_t)len > (uint64_t)RP_SEAL_MAX_BYTES - b->len)
		return rp_err_set(err, RP_EFORMAT,
				  "%s: seal: more than %" PRIu64 " bytes, more than a seal may be",
				  b->display, (uint64_t)RP_SEAL_MAX_BYTES);
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *nb;

		while (cap < b->len + len + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return rp_err_set(err, RP_EIO, "%s: out of memory", b->display);
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

static int fetch_url(const char *url, const char *display, const struct rp_net_opts *net,
		     char **text, size_t *len, struct rp_err *err)
{
	struct rp_http *h = NULL;
	struct rp_http_response r;
	struct seal_body b = {.resp = &r, .display = display};
	unsigned attempt;
	int rc;

	rc = rp_http_new(&net->http, &h, err);
	if (rc)
		return rc;
	for (attempt = 0;; attempt++) {
		long wait = -1;

		b.len = 0;
		b.checked = false;
		rc = rp_http_request_stream(h, url, NULL, 65536, body_add, &b, &r, err);
		if (rc == 0 && r.status == 200) {
			rp_http_response_release(&r);
			break;
		}
		if (rc == 0) {
			bool again = rp_blob_judge(url, display, NULL, "seal", NULL, &r, err);

			wait = rp_retry_after_ms(&r);
			rp_http_response_release(&r);
			rc = err ? err->code : RP_EIO;
			if (!again)
				break;
		} else if (!rp_retry_transport(h, rc)) {
			if (rc != RP_EFORMAT) /* body_add's own messages name the seal */
				rp_err_prefix(err, "seal");
			break;
		}
		if (attempt >= net->retries)
			break;
		rp_sleep_ms(
		    rp_retry_delay_ms(&(struct rp_retry_policy){.base_ms = net->retry_base_ms},
				      attempt, wait, rp_retry_random()),
		    NULL);
	}
	rp_http_free(h);
	if (rc == 0 && b.len == 0)
		rc = rp_err_set(err, RP_EFORMAT, "%s: seal: the answer is empty", display);
	if (rc) {
		free(b.buf);
		return rc;
	}
	*text = b.buf;
	*len = b.len;
	return 0;
}

int rp_seal_source_load(const char *where, const struct rp_net_opts *net, struct rp_seal **out,
			struct rp_err *err)
{
	char display[1024];
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!rp_is_url(where)) {
		rc = rp_seal_load(where, out, err);
		if (rc)
			rp_err_prefix(err, "seal '%s'", where);
		return rc;
	}
	rp_url_redact(where, display, sizeof(display));
	if (strncasecmp(where, "http://", 7) == 0 && !net->http.allow_http)
		return rp_err_set(err, RP_EUSAGE,
				  "seal '%s': http:// sends the SAS and the seal in the clear; use "
				  "https:// or add --allow-http",
				  display);
	rc = fetch_url(where, display, net, &text, &len, err);
	if (rc)
		return rc;
	rc = rp_seal_parse(text, len, out, err);
	free(text);
	if (rc)
		rp_err_prefix(err, "seal '%s'", display);
	return rc;
}
