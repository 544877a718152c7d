#include "formats/kvdoc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/json.h"

void rp_kv_secret_release(struct rp_kv_secret *s)
{
	if (!s)
		return;
	rp_secret_free(&s->value);
	memset(s, 0, sizeof(*s));
}

static bool is_name_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-';
}

/* Printable ASCII only (kid and id go into reports and messages). */
static bool is_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Parse buf as a JSON object; the message names what (the document). */
static int parse_object(const char *buf, size_t len, const char *what, struct rp_json **out,
			struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc = rp_json_parse(buf, len, &root, err);

	if (rc) {
		rp_err_prefix(err, "%s", what);
		return rc;
	}
	if (!rp_json_is_object(root)) {
		rp_json_free(root);
		return rp_err_set(err, RP_EFORMAT, "%s: not a JSON object", what);
	}
	*out = root;
	return 0;
}

/*
 * A string member into dst (dstsz bytes). Absent: "" if optional, else an error. Present but
 * not a string, longer than dstsz - 1, or (printable) holding a control character: an error.
 */
static int get_text(const struct rp_json *obj, const char *key, bool required, bool printable,
		    const char *what, char *dst, size_t dstsz, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(obj, key);
	const char *s;
	size_t n;

	if (!v) {
		if (required)
			return rp_err_set(err, RP_EFORMAT, "%s: no \"%s\"", what, key);
		dst[0] = '\0';
		return 0;
	}
	s = rp_json_string(v);
	if (!s)
		return rp_err_set(err, RP_EFORMAT, "%s: \"%s\" is not a string", what, key);
	n = strlen(s);
	if (n >= dstsz)
		return rp_err_set(err, RP_EFORMAT, "%s: \"%s\" is longer than %zu characters", what,
				  key, dstsz - 1);
	if (required && n == 0)
		return rp_err_set(err, RP_EFORMAT, "%s: \"%s\" is empty", what, key);
	if (printable && !is_printable(s))
		return rp_err_set(err, RP_EFORMAT, "%s: \"%s\" holds a non-printable character",
				  what, key);
	memcpy(dst, s, n + 1);
	return 0;
}

int rp_kvdoc_parse_key_result(const char *buf, size_t len, char *kid, size_t kidsz,
			      struct rp_secret *value, struct rp_err *err)
{
	static const char what[] = "key vault answer";
	struct rp_json *root = NULL;
	struct rp_secret v = {0};
	char kidbuf[RP_KV_URL_MAX];
	const struct rp_json *jv;
	const char *s;
	size_t n, got = 0;
	int rc;

	rc = parse_object(buf, len, what, &root, err);
	if (rc)
		return rc;
	rc = get_text(root, "kid", true, true, what, kidbuf, sizeof(kidbuf), err);
	if (rc)
		goto out;
	if (strlen(kidbuf) >= kidsz) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: \"kid\" is longer than %zu characters", what,
				kidsz ? kidsz - 1 : 0);
		goto out;
	}
	jv = rp_json_get(root, "value");
	s = rp_json_string(jv);
	if (!jv || !s) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: %s", what,
				jv ? "\"value\" is not a string" : "no \"value\"");
		goto out;
	}
	n = strlen(s);
	if (n == 0 || n > RP_KV_VALUE_MAX) {
		rc = rp_err_set(err, RP_EFORMAT,
				"%s: \"value\" has %zu characters (1 to %u allowed)", what, n,
				RP_KV_VALUE_MAX);
		goto out;
	}
	rc = rp_secret_alloc(&v, rp_b64_decoded_max(n) + 1, err);
	if (rc)
		goto out;
	/* Key Vault sends base64url without padding (RFC 7515 section 2); padding is tolerated. */
	rc = rp_b64_decode(s, n, RP_B64_URL, v.p, v.cap - 1, &got, err);
	if (rc) {
		rp_err_prefix(err, "%s: \"value\"", what);
		rp_secret_free(&v);
		goto out;
	}
	if (got == 0) {
		rp_secret_free(&v);
		rc = rp_err_set(err, RP_EFORMAT, "%s: \"value\" decodes to no bytes", what);
		goto out;
	}
	v.len = got;
	memcpy(kid, kidbuf, strlen(kidbuf) + 1);
	*value = v;
out:
	rp_json_free(root);
	return rc;
}

/* The ADE tags; other tags are ignored. */
static int get_tags(const struct rp_json *root, struct rp_kv_secret *s, struct rp_err *err)
{
	static const char what[] = "key vault secret: tags";
	const struct rp_json *tags = rp_json_get(root, "tags");
	int rc;

	if (!tags || rp_json_is_null(tags))
		return 0;
	if (!rp_json_is_object(tags))
		return rp_err_set(err, RP_EFORMAT, "%s: not an object", what);
	rc = get_text(tags, "DiskEncryptionKeyEncryptionAlgorithm", false, true, what, s->kek_alg,
		      sizeof(s->kek_alg), err);
	if (!rc)
		rc = get_text(tags, "DiskEncryptionKeyEncryptionKeyURL", false, true, what,
			      s->kek_url, sizeof(s->kek_url), err);
	if (!rc)
		rc = get_text(tags, "DiskEncryptionKeyFileName", false, true, what, s->file_name,
			      sizeof(s->file_name), err);
	if (!rc)
		rc = get_text(tags, "MachineName", false, true, what, s->machine_name,
			      sizeof(s->machine_name), err);
	return rc;
}

int rp_kvdoc_parse_secret(const char *buf, size_t len, struct rp_kv_secret *out, struct rp_err *err)
{
	static const char what[] = "key vault secret";
	struct rp_kv_secret s;
	struct rp_json *root = NULL;
	const struct rp_json *jv, *attrs;
	const char *v;
	int rc;

	memset(&s, 0, sizeof(s));
	s.enabled = true;
	rc = parse_object(buf, len, what, &root, err);
	if (rc)
		return rc;
	rc = get_text(root, "id", true, true, what, s.id, sizeof(s.id), err);
	if (!rc)
		rc = get_text(root, "contentType", false, true, what, s.content_type,
			      sizeof(s.content_type), err);
	if (!rc)
		rc = get_tags(root, &s, err);
	if (rc)
		goto out;
	attrs = rp_json_get(root, "attributes");
	if (attrs && !rp_json_is_object(attrs)) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: \"attributes\" is not an object", what);
		goto out;
	}
	jv = attrs ? rp_json_get(attrs, "enabled") : NULL;
	if (jv && rp_json_bool(jv, &s.enabled) != 0) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: attributes.enabled is not true or false",
				what);
		goto out;
	}
	jv = rp_json_get(root, "value");
	v = rp_json_string(jv);
	if (!jv || !v) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: %s", what,
				jv ? "\"value\" is not a string" : "no \"value\"");
		goto out;
	}
	if (strlen(v) == 0 || strlen(v) > RP_KV_VALUE_MAX) {
		rc = rp_err_set(err, RP_EFORMAT,
				"%s: \"value\" has %zu characters (1 to %u allowed)", what,
				strlen(v), RP_KV_VALUE_MAX);
		goto out;
	}
	rc = rp_secret_dup(&s.value, v, strlen(v), err);
	if (rc)
		goto out;
	*out = s;
out:
	rp_json_free(root);
	return rc;
}

/*
 * Copy at most dstsz - 1 bytes of src, each control character (and DEL) as a space, not cutting
 * a UTF-8 sequence in two; trailing spaces are dropped.
 */
static void copy_clean(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src), i;

	if (n >= dstsz) {
		n = dstsz - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

int rp_kvdoc_parse_error(const char *buf, size_t len, struct rp_kv_error *out, struct rp_err *err)
{
	static const char what[] = "key vault error";
	struct rp_json *root = NULL;
	const struct rp_json *e, *v, *inner;
	struct rp_kv_error ke;
	const char *s;
	int rc;

	memset(&ke, 0, sizeof(ke));
	rc = parse_object(buf, len, what, &root, err);
	if (rc)
		return rc;
	e = rp_json_get(root, "error");
	if (!rp_json_is_object(e)) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: %s", what,
				e ? "\"error\" is not an object" : "no \"error\"");
		goto out;
	}
	s = rp_json_string(rp_json_get(e, "code"));
	if (!s || !*s) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: error.code is missing, empty or not a string",
				what);
		goto out;
	}
	copy_clean(ke.code, sizeof(ke.code), s);
	if (!ke.code[0]) {
		rc = rp_err_set(err, RP_EFORMAT, "%s: error.code holds only control characters",
				what);
		goto out;
	}
	v = rp_json_get(e, "message");
	if (v && !rp_json_is_null(v)) {
		s = rp_json_string(v);
		if (!s) {
			rc = rp_err_set(err, RP_EFORMAT, "%s: error.message is not a string", what);
			goto out;
		}
		copy_clean(ke.message, sizeof(ke.message), s);
	}
	inner = rp_json_get(e, "innererror");
	if (inner && !rp_json_is_null(inner)) {
		if (!rp_json_is_object(inner)) {
			rc = rp_err_set(err, RP_EFORMAT, "%s: error.innererror is not an object",
					what);
			goto out;
		}
		s = rp_json_string(rp_json_get(inner, "code"));
		if (s)
			copy_clean(ke.inner, sizeof(ke.inner), s);
	}
	*out = ke;
out:
	rp_json_free(root);
	return rc;
}

/* RFC 7230 tchar */
static bool is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t skip_ows(const char *b, size_t len, size_t i)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t'))
		i++;
	return i;
}

/*
 * One auth-param at b[*pos]: name into name[namesz], value (unquoted) into val[valsz]. Returns 1
 * for a parameter, 0 when the text there is not a parameter (another challenge's scheme), or an
 * error.
 */
static int next_param(const char *b, size_t len, size_t *pos, char *name, size_t namesz, char *val,
		      size_t valsz, struct rp_err *err)
{
	static const char what[] = "WWW-Authenticate";
	size_t i = *pos, n = 0, v = 0;

	while (i < len && is_tchar(b[i])) {
		if (n + 1 >= namesz)
			return rp_err_set(err, RP_EFORMAT,
					  "%s: parameter name at offset %zu is too long", what,
					  *pos);
		name[n++] = b[i++];
	}
	name[n] = '\0';
	i = skip_ows(b, len, i);
	if (n == 0 || i >= len || b[i] != '=')
		return 0;
	i = skip_ows(b, len, i + 1);
	if (i < len && b[i] == '"') {
		for (i++;; i++) {
			if (i >= len)
				return rp_err_set(err, RP_EFORMAT,
						  "%s: parameter %s: unterminated quoted string",
						  what, name);
			if (b[i] == '"')
				break;
			if (b[i] == '\\' && i + 1 < len)
				i++;
			if ((unsigned char)b[i] < 0x20 || b[i] == 0x7f)
				return rp_err_set(
				    err, RP_EFORMAT,
				    "%s: parameter %s: control character at offset %zu", what, name,
				    i);
			if (v + 1 >= valsz)
				return rp_err_set(err, RP_EFORMAT,
						  "%s: parameter %s is longer than %zu characters",
						  what, name, valsz - 1);
			val[v++] = b[i];
		}
		i++;
	} else {
		/* a token; slashes and colons are tolerated (unquoted URLs from some servers) */
		while (i < len && (b[i] == '/' || b[i] == ':' || is_tchar(b[i]))) {
			if (v + 1 >= valsz)
				return rp_err_set(err, RP_EFORMAT,
						  "%s: parameter %s is longer than %zu characters",
						  what, name, valsz - 1);
			val[v++] = b[i++];
		}
	}
	val[v] = '\0';
	i = skip_ows(b, len, i);
	if (i < len && b[i] != ',')
		return rp_err_set(err, RP_EFORMAT, "%s: unexpected character at offset %zu", what,
				  i);
	*pos = i < len ? i + 1 : i;
	return 1;
}

int rp_kvdoc_parse_challenge(const char *buf, size_t len, struct rp_kv_challenge *out,
			     struct rp_err *err)
{
	static const char what[] = "WWW-Authenticate";
	struct rp_kv_challenge c;
	char name[64], val[sizeof(c.resource)], scope[sizeof(c.resource)] = "";
	size_t i, n;
	int rc;

	memset(&c, 0, sizeof(c));
	if (memchr(buf, '\0', len))
		return rp_err_set(err, RP_EFORMAT, "%s: holds a NUL byte", what);
	i = skip_ows(buf, len, 0);
	if (len - i < 6 || strncasecmp(buf + i, "bearer", 6) != 0 ||
	    (len - i > 6 && buf[i + 6] != ' ' && buf[i + 6] != '\t'))
		return rp_err_set(err, RP_EFORMAT, "%s: not a Bearer challenge", what);
	i = skip_ows(buf, len, i + 6);
	while (i < len) {
		i = skip_ows(buf, len, i);
		if (i < len && buf[i] == ',') {
			i++;
			continue;
		}
		if (i >= len)
			break;
		rc = next_param(buf, len, &i, name, sizeof(name), val, sizeof(val), err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		if (strcasecmp(name, "authorization") == 0 ||
		    (strcasecmp(name, "authorization_uri") == 0 && !c.authority[0]))
			memcpy(c.authority, val, strlen(val) + 1);
		else if (strcasecmp(name, "resource") == 0)
			memcpy(c.resource, val, strlen(val) + 1);
		else if (strcasecmp(name, "scope") == 0)
			memcpy(scope, val, strlen(val) + 1);
	}
	if (!c.resource[0] && scope[0]) {
		n = strlen(scope);
		if (n >= 9 && strcmp(scope + n - 9, "/.default") == 0)
			scope[n - 9] = '\0';
		memcpy(c.resource, scope, strlen(scope) + 1);
	}
	n = strlen(c.resource);
	while (n > 0 && c.resource[n - 1] == '/')
		c.resource[--n] = '\0';
	if (!c.resource[0])
		return rp_err_set(err, RP_EFORMAT, "%s: Bearer challenge without resource or scope",
				  what);
	if (!is_printable(c.resource) || !is_printable(c.authority))
		return rp_err_set(err, RP_EFORMAT, "%s: non-printable character in a parameter",
				  what);
	*out = c;
	return 0;
}

/* A DNS name: labels of [0-9a-zA-Z-], none empty; lowercased into out. */
static bool copy_host(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, label = 0;

	if (n == 0 || n >= outsz)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (is_name_char(c)) {
			label++;
		} else {
			return false;
		}
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return label > 0;
}

static bool copy_name(const char *s, size_t n, char *out)
{
	size_t i;

	if (n == 0 || n > RP_KV_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

int rp_kvdoc_parse_url(const char *url, const char *kind, struct rp_kv_url *out, struct rp_err *err)
{
	struct rp_kv_url u;
	const char *p, *h, *hend, *seg, *slash;
	size_t n = strlen(url), klen = strlen(kind);
	char shown[RP_KV_URL_MAX];

	memset(&u, 0, sizeof(u));
	/* Quote only the part before any query or fragment: a pasted URL may carry a token. */
	snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(url, "?#"), url);
	if (n >= sizeof(u.object) || strncasecmp(url, "https://", 8) != 0)
		goto bad;
	if (strpbrk(url, "?#@\\ \t\r\n") || !is_printable(url))
		goto bad;
	h = url + 8;
	p = strchr(h, '/');
	if (!p)
		goto bad;
	hend = memchr(h, ':', (size_t)(p - h));
	if (hend) {
		const char *d;

		if (hend + 1 == p || p - hend > 6)
			goto bad;
		for (d = hend + 1; d < p; d++)
			if (*d < '0' || *d > '9')
				goto bad;
	} else {
		hend = p;
	}
	if (!copy_host(h, (size_t)(hend - h), u.host, sizeof(u.host)))
		goto bad;
	seg = p + 1;
	if (strncmp(seg, kind, klen) != 0 || seg[klen] != '/')
		goto bad;
	seg += klen + 1;
	slash = strchr(seg, '/');
	if (!copy_name(seg, slash ? (size_t)(slash - seg) : strlen(seg), u.name))
		goto bad;
	if (slash && !copy_name(slash + 1, strlen(slash + 1), u.version))
		goto bad;
	memcpy(u.object, url, n + 1);
	*out = u;
	return 0;
bad:
	return rp_err_set(err, RP_EUSAGE,
			  "'%s' is not a key vault %s URL: want https://HOST/%s/NAME[/VERSION] "
			  "(names of letters, digits and '-', 1 to 127; no query)",
			  shown, strcmp(kind, "keys") == 0 ? "key" : "secret", kind);
}

bool rp_kvdoc_resource_fits(const char *resource, const char *vault_host, char *rhost,
			    size_t rhostsz)
{
	char host[RP_KV_HOST_MAX + 1];
	size_t n, hl, vl = strlen(vault_host);

	if (rhostsz)
		rhost[0] = '\0';
	if (strncasecmp(resource, "https://", 8) != 0)
		return false;
	n = strcspn(resource + 8, "/");
	if (!copy_host(resource + 8, n, host, sizeof(host))) {
		if (rhostsz)
			snprintf(rhost, rhostsz, "%.*s", (int)(n < 200 ? n : 200), resource + 8);
		return false;
	}
	if (rhostsz)
		snprintf(rhost, rhostsz, "%s", host);
	if (!strchr(host, '.'))
		return false;
	hl = strlen(host);
	if (hl > vl || strcasecmp(vault_host + (vl - hl), host) != 0)
		return false;
	return hl == vl || vault_host[vl - hl - 1] == '.';
}
