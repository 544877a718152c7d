/*
 * Fuzz target for the HTML report (verify/report_html.c): any input must be rendered or
 * rejected with RP_EFORMAT and a message, never crash. A rendered page must be one NUL-free
 * document of the length returned, start with the doctype, and hold no markup from the input:
 * the renderer emits no <script> element, so any "<script" would be injected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/report_html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char doctype[] = "<!DOCTYPE html>";
	struct rp_err err;
	char *html = NULL;
	size_t len = 0;
	int rc;

	rp_err_init(&err);
	rc = rp_report_html_from_text((const char *)data, size, &html, &len, &err);
	if (rc) {
		if (rc != RP_EFORMAT || err.msg[0] == '\0' || html)
			abort();
		return 0;
	}
	if (!html || strlen(html) != len || strncmp(html, doctype, sizeof(doctype) - 1) != 0 ||
	    strstr(html, "<script") || strstr(html, "<SCRIPT") || strstr(html, "<img"))
		abort();
	free(html);
	return 0;
}
