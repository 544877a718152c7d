/*
 * The pure parts of net/auth.c (see net/auth_int.h): token answers and error answers
 * of token endpoints, bearer token files, SAS facts (rp_sas_info) and small encoders.
 */
#include "net/auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "net/auth_int.h"

#define ANSWER_TEXT_MAX 240

void rp_auth_secret_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

void rp_auth_redact(char *msg, size_t msgsz, const char *const *secrets)
{
	static const char mark[] = "[redacted]";
	char tmp[RP_ERR_MSG_MAX];
	size_t s;

	if (!secrets || msgsz > sizeof(tmp))
		return;
	for (s = 0; secrets[s]; s++) {
		size_t n = strlen(secrets[s]), from = 0;
		char *hit;

		if (n == 0)
			continue;
		/* Search on after the mark: a secret may be part of "[redacted]". */
		while (from < msgsz && (hit = strstr(msg + from, secrets[s])) != NULL) {
			size_t pre = (size_t)(hit - msg);

			snprintf(tmp, msgsz, "%.*s%s%s", (int)pre, msg, mark, hit + n);
			memcpy(msg, tmp, msgsz);
			from = pre + sizeof(mark) - 1;
		}
	}
	explicit_bzero(tmp, sizeof(tmp));
}

bool rp_auth_url_encode(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (o + (plain ? 1 : 3) >= outsz)
			return false;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outsz)
		return false;
	out[o] = '\0';
	return true;
}

uint64_t rp_auth_refresh_after(uint64_t lifetime_s)
{
	if (lifetime_s > 2 * RP_TOKEN_REFRESH_MARGIN)
		return lifetime_s - RP_TOKEN_REFRESH_MARGIN;
	return lifetime_s / 2;
}

int rp_auth_check_token(const char *what, const char *tok, size_t len, struct rp_err *err)
{
	size_t i;

	if (len == 0)
		return rp_err_set(err, RP_EFORMAT, "%s is empty", what);
	if (len > RP_TOKEN_MAX)
		return rp_err_set(err, RP_EFORMAT, "%s is longer than %d bytes", what,
				  RP_TOKEN_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tok[i];

		if (c <= 0x20 || c >= 0x7f)
			return rp_err_set(err, RP_EFORMAT,
					  "%s has a space, control or non-ASCII byte at offset %zu",
					  what, i);
	}
	return 0;
}

int rp_auth_read_token_file(const char *path, char **out, size_t *out_len, struct rp_err *err)
{
	char what[512];
	char *buf;
	size_t got = 0;
	int fd, rc;

	buf = malloc(RP_TOKEN_MAX + 2);
	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory reading bearer token file '%s'",
				  path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = rp_err_errno(err, errno, "cannot open bearer token file '%s'", path);
		goto out_free;
	}
	/* Read one byte past the limit to tell "exactly the limit" from "too large". */
	while (got < RP_TOKEN_MAX + 1) {
		ssize_t n = read(fd, buf + got, RP_TOKEN_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rp_err_errno(err, errno, "cannot read bearer token file '%s'", path);
			goto out_close;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > RP_TOKEN_MAX) {
		rc = rp_err_set(err, RP_EFORMAT, "bearer token file '%s' is larger than %d bytes",
				path, RP_TOKEN_MAX);
		goto out_close;
	}
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r' || buf[got - 1] == ' ' ||
			   buf[got - 1] == '\t'))
		got--;
	buf[got] = '\0';
	snprintf(what, sizeof(what), "bearer token file '%s'", path);
	rc = rp_auth_check_token(what, buf, got, err);
	if (rc)
		goto out_close;
	*out = buf;
	*out_len = got;
	buf = NULL;
out_close:
	close(fd);
out_free:
	rp_auth_secret_free(buf, RP_TOKEN_MAX + 2);
	return rc;
}

/* A non-negative whole number of seconds from a JSON integer or a string of digits. */
static int json_seconds(const struct rp_json *v, const char *name, uint64_t *out,
			struct rp_err *err)
{
	const char *s;
	char *end;
	unsigned long long n;

	if (rp_json_is_integer(v)) {
		if (rp_json_u64(v, out) != 0)
			return rp_err_set(err, RP_EFORMAT, "token answer: %s is negative", name);
		return 0;
	}
	s = rp_json_string(v);
	if (!s || *s < '0' || *s > '9')
		return rp_err_set(err, RP_EFORMAT, "token answer: %s is not a whole number", name);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*end != '\0')
		return rp_err_set(err, RP_EFORMAT, "token answer: %s is not a whole number", name);
	if (errno == ERANGE)
		return rp_err_set(err, RP_EFORMAT, "token answer: %s is out of range", name);
	*out = n;
	return 0;
}

int rp_auth_parse_token(const char *body, size_t len, time_t now, struct rp_token_answer *out,
			struct rp_err *err)
{
	struct rp_json *root = NULL;
	const struct rp_json *v;
	const char *tok;
	uint64_t lifetime = 0, on;
	char *copy;
	size_t tlen;
	int rc;

	/* The parser's own message quotes the text near the error: it may be the token. */
	if (rp_json_parse(body, len, &root, NULL) != 0)
		return rp_err_set(err, RP_EFORMAT, "token answer is not JSON (%zu bytes)", len);
	if (!rp_json_is_object(root)) {
		rc = rp_err_set(err, RP_EFORMAT, "token answer is not a JSON object");
		goto out;
	}
	tok = rp_json_string(rp_json_get(root, "access_token"));
	if (!tok) {
		rc = rp_err_set(err, RP_EFORMAT, "token answer has no access_token string");
		goto out;
	}
	tlen = strlen(tok);
	rc = rp_auth_check_token("token answer: access_token", tok, tlen, err);
	if (rc)
		goto out;
	if ((v = rp_json_get(root, "expires_in")) != NULL) {
		rc = json_seconds(v, "expires_in", &lifetime, err);
		if (rc)
			goto out;
	} else if ((v = rp_json_get(root, "expires_on")) != NULL) {
		rc = json_seconds(v, "expires_on", &on, err);
		if (rc)
			goto out;
		if (on > (uint64_t)INT64_MAX / 2) {
			rc =
			    rp_err_set(err, RP_EFORMAT, "token answer: expires_on is out of range");
			goto out;
		}
		lifetime = (int64_t)on > (int64_t)now ? on - (uint64_t)now : 0;
	} else {
		rc = rp_err_set(err, RP_EFORMAT,
				"token answer has neither expires_in nor expires_on");
		goto out;
	}
	if (lifetime > RP_TOKEN_MAX_LIFETIME) {
		rc = rp_err_set(err, RP_EFORMAT,
				"token answer: lifetime of %llu s is more than %d s",
				(unsigned long long)lifetime, RP_TOKEN_MAX_LIFETIME);
		goto out;
	}
	copy = malloc(tlen + 1);
	if (!copy) {
		rc = rp_err_set(err, RP_EIO, "out of memory for a token");
		goto out;
	}
	memcpy(copy, tok, tlen + 1);
	out->access_token = copy;
	out->token_len = tlen;
	out->lifetime_s = lifetime;
	rc = 0;
out:
	rp_json_free(root);
	return rc;
}

void rp_token_answer_release(struct rp_token_answer *t)
{
	if (!t)
		return;
	rp_auth_secret_free(t->access_token, t->token_len);
	t->access_token = NULL;
	t->token_len = 0;
	t->lifetime_s = 0;
}

/* Copy printable ASCII of s into out (cut to fit); other bytes become '?'. */
static void answer_text(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	for (; s && *s && o + 1 < outsz; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

int rp_auth_error_answer(int code, const char *what, long status, const char *body, size_t len,
			 const char *const *secrets, struct rp_err *err)
{
	struct rp_json *root = NULL;
	const struct rp_json *e;
	const char *ecode = NULL, *edesc = NULL;
	char c[ANSWER_TEXT_MAX], d[ANSWER_TEXT_MAX];

	if (body && len > 0 && rp_json_parse(body, len, &root, NULL) == 0) {
		e = rp_json_get(root, "error");
		if (rp_json_is_object(e)) {
			ecode = rp_json_string(rp_json_get(e, "code"));
			edesc = rp_json_string(rp_json_get(e, "message"));
		} else {
			ecode = rp_json_string(e);
			edesc = rp_json_string(rp_json_get(root, "error_description"));
		}
	}
	answer_text(ecode, c, sizeof(c));
	answer_text(edesc, d, sizeof(d));
	rp_json_free(root);
	if (c[0] && d[0])
		rp_err_set(err, code, "%s: HTTP %ld %s: %s", what, status, c, d);
	else if (c[0] || d[0])
		rp_err_set(err, code, "%s: HTTP %ld %s", what, status, c[0] ? c : d);
	else
		rp_err_set(err, code, "%s: HTTP %ld", what, status);
	if (err)
		rp_auth_redact(err->msg, sizeof(err->msg), secrets);
	explicit_bzero(c, sizeof(c));
	explicit_bzero(d, sizeof(d));
	return code;
}

static int parse_2(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool rp_auth_parse_iso_time(const char *s, time_t *out)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y1, y2, mo, d, h = 0, mi = 0, sec = 0;
	int64_t y;
	bool leap;

	if (parse_2(s, &y1) || parse_2(s + 2, &y2) || s[4] != '-' || parse_2(s + 5, &mo) ||
	    s[7] != '-' || parse_2(s + 8, &d))
		return false;
	s += 10;
	if (*s == 'T') {
		if (parse_2(s + 1, &h) || s[3] != ':' || parse_2(s + 4, &mi))
			return false;
		s += 6;
		if (*s == ':') {
			if (parse_2(s + 1, &sec))
				return false;
			s += 3;
			if (*s == '.') {
				s++;
				if (*s < '0' || *s > '9')
					return false;
				while (*s >= '0' && *s <= '9')
					s++;
			}
		}
		if (*s == 'Z')
			s++;
	}
	if (*s != '\0')
		return false;
	y = y1 * 100 + y2;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || sec > 60)
		return false;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
	return true;
}

/* Percent-decode s[0..n) into out (cut to fit); bad escapes are kept as they are. */
static void pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	if (outsz == 0)
		return;
	for (i = 0; i < n && o + 1 < outsz; i++) {
		if (s[i] == '%' && i + 2 < n && rp_hex_digit(s[i + 1]) >= 0 &&
		    rp_hex_digit(s[i + 2]) >= 0) {
			out[o++] = (char)(rp_hex_digit(s[i + 1]) * 16 + rp_hex_digit(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

bool rp_sas_policy(const char *url, char *id, size_t idsz)
{
	const char *q = url ? strchr(url, '?') : NULL, *p;

	if (id && idsz)
		id[0] = '\0';
	for (p = q ? q + 1 : NULL; p && *p && *p != '#';) {
		size_t n = strcspn(p, "&#");

		if (n > 3 && memcmp(p, "si=", 3) == 0) {
			size_t i, k = 0;

			/* Shown in messages: as it stands in the URL, and only characters that
			 * are safe on a terminal. */
			for (i = 3; id && i < n && k + 1 < idsz; i++)
				id[k++] = isalnum((unsigned char)p[i]) || strchr("-._~%", p[i])
					      ? p[i]
					      : '?';
			if (id && idsz)
				id[k] = '\0';
			return true;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return false;
}

void rp_sas_info(const char *url, bool *has_sas, time_t *expiry, char *perms, size_t perms_sz)
{
	const char *q, *p;

	*has_sas = false;
	*expiry = 0;
	if (perms && perms_sz > 0)
		perms[0] = '\0';
	q = url ? strchr(url, '?') : NULL;
	if (!q)
		return;
	for (p = q + 1; *p && *p != '#';) {
		size_t n = strcspn(p, "&#");
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		const char *val = eq ? eq + 1 : p + n;
		size_t vlen = (size_t)(p + n - val);
		char buf[64];
		time_t t;

		if (klen == 3 && memcmp(p, "sig", 3) == 0) {
			*has_sas = true;
		} else if (klen == 2 && memcmp(p, "se", 2) == 0) {
			pct_decode(val, vlen, buf, sizeof(buf));
			*expiry = rp_auth_parse_iso_time(buf, &t) ? t : 0;
		} else if (klen == 2 && memcmp(p, "sp", 2) == 0 && perms && perms_sz > 0) {
			pct_decode(val, vlen, perms, perms_sz);
		}
		p += n;
		if (*p == '&')
			p++;
	}
}
