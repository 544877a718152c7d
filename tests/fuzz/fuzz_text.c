/*
 * Fuzz target for common/text.c and common/url.c: any bytes, as a path, a URL, a message and
 * JSON text. A URL's host and port lie inside it and hold no '@', '/', '?' or '#'. The escaped
 * form is clean (nothing left to escape, no ESC byte) and never longer than its buffer; the
 * redacted path holds no '?' and no '#'; the redacted message is no longer than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "common/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *json;
	char out[256], shown[RP_SHOW_MAX];
	struct rp_url_host u;
	size_t n;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	n = strlen(in);
	rp_text_escape(in, out, sizeof(out));
	if (!rp_text_is_clean(out) || strchr(out, '\x1b') || strlen(out) >= sizeof(out))
		abort();
	rp_url_redact(in, out, sizeof(out));
	if (strpbrk(out, "?#"))
		abort();
	rp_show_path(in, shown, sizeof(shown));
	if (!rp_text_is_clean(shown) || strchr(shown, '?'))
		abort();
	rp_show_text(in, shown, sizeof(shown));
	if (!rp_text_is_clean(shown))
		abort();
	if (rp_url_host(in, &u)) {
		if (u.host_len == 0 || u.host < in || u.host + u.host_len > in + n ||
		    memchr(u.host, '@', u.host_len) || strcspn(u.host, "/?#") < u.host_len)
			abort();
		if (u.port && (u.port < in || u.port + u.port_len > in + n ||
			       strcspn(u.port, "/?#@") < u.port_len))
			abort();
	}
	json = strdup(in);
	rp_text_redact(in);
	if (strlen(in) > n)
		abort();
	json = rp_text_json_harden(json);
	if (json && (strchr(json, 0x7f) || strstr(json, "\xc2\x9b")))
		abort();
	free(json);
	free(in);
	return 0;
}
