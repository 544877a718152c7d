/*
 * Display forms of untrusted text (common/text.h): URL redaction and terminal escaping.
 */
#include "common/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_scheme_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/*
 * Where the authority (user info, host, port) of s[0..n) starts, or n if s does not look like
 * a URL: after "://" anywhere, or after "scheme:" and one or more slashes ("https:/host" is a
 * typo the user may make; it still names a host and may carry a password).
 */
static size_t authority_start(const char *s, size_t n)
{
	size_t i, j;

	for (i = 0; i + 3 <= n; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return i + 3;
	for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	for (j = i; j < n && is_scheme_char(s[j], j == i); j++)
		;
	if (j == i || j + 1 >= n || s[j] != ':' || s[j + 1] != '/')
		return n;
	for (j++; j < n && s[j] == '/'; j++)
		;
	return j;
}

/* The user info of s[0..n) as [*from, *to) (to past the last '@'); false if there is none. */
static bool userinfo_span(const char *s, size_t n, size_t *from, size_t *to)
{
	size_t a = authority_start(s, n), i, at = n;

	for (i = a; i < n && s[i] != '/'; i++)
		if (s[i] == '@')
			at = i;
	if (a >= n || at == n)
		return false;
	*from = a;
	*to = at + 1;
	return true;
}

void rp_url_redact(const char *url, char *out, size_t outsz)
{
	size_t end = strcspn(url, "?#"), from, to;

	if (outsz == 0)
		return;
	if (userinfo_span(url, end, &from, &to)) {
		snprintf(out, outsz, "%.*s%.*s", (int)from, url, (int)(end - to), url + to);
		return;
	}
	snprintf(out, outsz, "%.*s", (int)end, url);
}

void rp_text_wipe_secrets(char *s)
{
	size_t q = strcspn(s, "?"), from, to;

	if (s[q])
		memset(s + q + 1, '*', strlen(s + q + 1));
	if (userinfo_span(s, q, &from, &to))
		memset(s + from, '*', to - 1 - from);
}

static bool is_word_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\'' ||
	       c == '"';
}

void rp_text_redact(char *msg)
{
	size_t r = 0, w = 0, start, end, q, from, to;

	while (msg[r]) {
		if (is_word_end(msg[r])) {
			msg[w++] = msg[r++];
			continue;
		}
		start = r;
		for (end = start; !is_word_end(msg[end]); end++)
			;
		/* The query of a word: a '?' with something after it, to the end of the word. */
		for (q = start; q < end && msg[q] != '?'; q++)
			;
		if (q + 1 >= end)
			q = end;
		if (userinfo_span(msg + start, q - start, &from, &to)) {
			memmove(msg + w, msg + start, from);
			w += from;
			memmove(msg + w, msg + start + to, q - start - to);
			w += q - start - to;
		} else {
			memmove(msg + w, msg + start, q - start);
			w += q - start;
		}
		r = end;
	}
	msg[w] = '\0';
}

/*
 * The length in bytes of the character at s (at least 1, s[0] != 0) and whether it must be
 * escaped: a control, a bidirectional override, or a byte that does not start well-formed
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), which is then
 * one byte long.
 */
static size_t next_char(const unsigned char *s, bool *escape)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t cp;

	if (c < 0x80) {
		*escape = c < 0x20 || c == 0x7f;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0fu;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07u;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		*escape = true;
		return 1;
	}
	for (i = 1; i < n; i++) {
		unsigned char lim_lo = i == 1 ? lo : 0x80, lim_hi = i == 1 ? hi : 0xbf;
		if (s[i] < lim_lo || s[i] > lim_hi) {
			*escape = true;
			return 1;
		}
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	*escape = cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
	return n;
}

void rp_text_escape(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t w = 0, n, i;
	bool esc;

	if (outsz == 0)
		return;
	while (*s) {
		n = next_char(s, &esc);
		if (w + (esc ? 4 * n : n) >= outsz)
			break;
		for (i = 0; i < n; i++) {
			if (esc) {
				out[w++] = '\\';
				out[w++] = 'x';
				out[w++] = hex[s[i] >> 4];
				out[w++] = hex[s[i] & 0x0f];
			} else {
				out[w++] = (char)s[i];
			}
		}
		s += n;
	}
	out[w] = '\0';
}

char *rp_text_json_harden(char *json)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)json;
	size_t extra = 0, w = 0, n, i, len;
	uint32_t cp;
	char *out;
	bool esc;

	if (!json)
		return NULL;
	for (i = 0; s[i]; i += n) {
		n = next_char(s + i, &esc);
		/* C0 controls are the writer's to escape; one byte of bad UTF-8 is left as it is.
		 */
		if (esc && (n > 1 || s[i] == 0x7f))
			extra += 6 - n;
	}
	if (extra == 0)
		return json;
	len = i;
	out = malloc(len + extra + 1);
	if (!out) {
		free(json);
		return NULL;
	}
	for (i = 0; s[i]; i += n) {
		n = next_char(s + i, &esc);
		if (!esc || (n == 1 && s[i] != 0x7f)) {
			memcpy(out + w, s + i, n);
			w += n;
			continue;
		}
		cp = n == 1 ? s[i]
		     : n == 2
			 ? ((s[i] & 0x1fu) << 6) | (s[i + 1] & 0x3fu)
			 : ((s[i] & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
		out[w++] = '\\';
		out[w++] = 'u';
		out[w++] = hex[(cp >> 12) & 0xf];
		out[w++] = hex[(cp >> 8) & 0xf];
		out[w++] = hex[(cp >> 4) & 0xf];
		out[w++] = hex[cp & 0xf];
	}
	out[w] = '\0';
	free(json);
	return out;
}

bool rp_text_is_clean(const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	bool esc;

	while (*s) {
		s += next_char(s, &esc);
		if (esc)
			return false;
	}
	return true;
}

const char *rp_show_path(const char *path, char *out, size_t outsz)
{
	char tmp[RP_SHOW_MAX];

	rp_url_redact(path ? path : "(null)", tmp, sizeof(tmp));
	rp_text_escape(tmp, out, outsz);
	return out;
}

const char *rp_show_text(const char *text, char *out, size_t outsz)
{
	char tmp[RP_SHOW_MAX];

	snprintf(tmp, sizeof(tmp), "%s", text ? text : "(null)");
	rp_text_redact(tmp);
	rp_text_escape(tmp, out, outsz);
	return out;
}

const char *rp_show_escaped(const char *text, char *out, size_t outsz)
{
	rp_text_escape(text ? text : "(null)", out, outsz);
	return out;
}

const char *rp_show_redacted(const char *text, char *out, size_t outsz)
{
	if (!text)
		return NULL;
	snprintf(out, outsz, "%s", text);
	rp_text_redact(out);
	return out;
}

const char *rp_show_url(const char *url, char *out, size_t outsz)
{
	if (!url)
		return NULL;
	rp_url_redact(url, out, outsz);
	return out;
}
