#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>

#include "outfile.h"
#include "text.h"

/* JSON documents may hold tokens and keys: jansson's blocks are wiped before they are freed.
 * The once-flag is the only file-scope state. */
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void set_alloc(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}

/* struct rp_json is never defined: an rp_json pointer is a json_t pointer in disguise. */
static json_t *J(const struct rp_json *v)
{
	return (json_t *)(uintptr_t)v;
}

static struct rp_json *R(json_t *v)
{
	return (struct rp_json *)(void *)v;
}

/*
 * What kind of error jansson found, in words of our own: jansson's text quotes the input near
 * the error (and some of its messages decoded characters of it), which may be a SAS or a token,
 * so none of it reaches a message.
 */
static const char *syntax_what(const json_error_t *je)
{
	switch (json_error_code(je)) {
	case json_error_out_of_memory:
		return "out of memory";
	case json_error_stack_overflow:
		return "nested too deeply";
	case json_error_invalid_utf8:
		return "not UTF-8";
	case json_error_premature_end_of_input:
		return "the text ends early";
	case json_error_end_of_input_expected:
		return "more text after the end of the document";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "a NUL character";
	case json_error_duplicate_key:
		return "duplicate object key";
	case json_error_numeric_overflow:
		return "too big a number";
	default:
		return "unexpected character or token";
	}
}

int rp_json_parse(const char *text, size_t len, struct rp_json **out, struct rp_err *err)
{
	json_error_t je;
	json_t *root;

	pthread_once(&alloc_once, set_alloc);
	/* A UTF-8 byte order mark (Windows editors write one) is not part of the text; RFC 8259
	 * lets a parser ignore it, and a file that starts with one is still a document. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return rp_err_set(err, RP_EFORMAT, "invalid JSON at line %d, column %d: %s",
				  je.line, je.column, syntax_what(&je));
	*out = R(root);
	return 0;
}

int rp_json_load_file(const char *path, size_t max_bytes, struct rp_json **out, struct rp_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rp_err_errno(err, errno, "cannot open '%s'", path);
	if (fstat(fd, &st) != 0) {
		rc = rp_err_errno(err, errno, "cannot stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_bytes) {
		rc = rp_err_set(err, RP_EFORMAT, "'%s' is not a regular file of at most %zu bytes",
				path, max_bytes);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = rp_err_set(err, RP_EIO, "out of memory reading '%s'", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rp_err_errno(err, errno, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = rp_json_parse(buf, got, out, err);
	if (rc)
		rp_err_prefix(err, "'%s'", path);
out:
	free(buf);
	close(fd);
	return rc;
}

void rp_json_free(struct rp_json *v)
{
	if (v)
		json_decref(J(v));
}

bool rp_json_is_object(const struct rp_json *v)
{
	return v && json_is_object(J(v));
}

bool rp_json_is_array(const struct rp_json *v)
{
	return v && json_is_array(J(v));
}

bool rp_json_is_string(const struct rp_json *v)
{
	return v && json_is_string(J(v));
}

bool rp_json_is_integer(const struct rp_json *v)
{
	return v && json_is_integer(J(v));
}

bool rp_json_is_null(const struct rp_json *v)
{
	return v && json_is_null(J(v));
}

struct rp_json *rp_json_get(const struct rp_json *v, const char *key)
{
	if (!v || !json_is_object(J(v)))
		return NULL;
	return R(json_object_get(J(v), key));
}

const char *rp_json_string(const struct rp_json *v)
{
	if (!v || !json_is_string(J(v)))
		return NULL;
	return json_string_value(J(v));
}

int rp_json_u64(const struct rp_json *v, uint64_t *out)
{
	json_int_t i;

	if (!v || !json_is_integer(J(v)))
		return RP_EFORMAT;
	i = json_integer_value(J(v));
	if (i < 0)
		return RP_EFORMAT;
	*out = (uint64_t)i;
	return 0;
}

int rp_json_bool(const struct rp_json *v, bool *out)
{
	if (!v || !json_is_boolean(J(v)))
		return RP_EFORMAT;
	*out = json_is_true(J(v));
	return 0;
}

size_t rp_json_array_size(const struct rp_json *v)
{
	return v ? json_array_size(J(v)) : 0;
}

struct rp_json *rp_json_array_at(const struct rp_json *v, size_t i)
{
	return v ? R(json_array_get(J(v), i)) : NULL;
}

const char *rp_json_object_key_at(const struct rp_json *v, size_t i, struct rp_json **value)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	if (!v || !json_is_object(J(v)))
		return NULL;
	json_object_foreach(J(v), key, val)
	{
		if (n++ == i) {
			if (value)
				*value = R(val);
			return key;
		}
	}
	return NULL;
}

struct rp_json *rp_json_new_object(void)
{
	return R(json_object());
}

struct rp_json *rp_json_new_array(void)
{
	return R(json_array());
}

struct rp_json *rp_json_new_string(const char *s)
{
	return R(json_string(s ? s : ""));
}

struct rp_json *rp_json_new_u64(uint64_t v)
{
	return R(json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v));
}

struct rp_json *rp_json_new_bool(bool v)
{
	return R(json_boolean(v));
}

struct rp_json *rp_json_new_real(double v)
{
	return R(json_real(v));
}

struct rp_json *rp_json_new_null(void)
{
	return R(json_null());
}

int rp_json_set(struct rp_json *obj, const char *key, struct rp_json *value)
{
	if (!obj || !value) {
		rp_json_free(value);
		return RP_EIO;
	}
	return json_object_set_new(J(obj), key, J(value)) == 0 ? 0 : RP_EIO;
}

int rp_json_set_str(struct rp_json *obj, const char *key, const char *s)
{
	return rp_json_set(obj, key, rp_json_new_string(s));
}

int rp_json_set_u64(struct rp_json *obj, const char *key, uint64_t v)
{
	return rp_json_set(obj, key, rp_json_new_u64(v));
}

int rp_json_set_bool(struct rp_json *obj, const char *key, bool v)
{
	return rp_json_set(obj, key, rp_json_new_bool(v));
}

int rp_json_append(struct rp_json *arr, struct rp_json *value)
{
	if (!arr || !value) {
		rp_json_free(value);
		return RP_EIO;
	}
	return json_array_append_new(J(arr), J(value)) == 0 ? 0 : RP_EIO;
}

char *rp_json_dump(const struct rp_json *v, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6);

	flags |= pretty ? JSON_INDENT(2) : JSON_COMPACT;
	/* jansson escapes C0 controls only: DEL, C1 and bidi overrides too (common/text.h). */
	return v ? rp_text_json_harden(json_dumps(J(v), flags)) : NULL;
}

int rp_json_write_file(const char *path, const struct rp_json *v, struct rp_err *err)
{
	return rp_json_write_file_mode(path, v, 0644, err);
}

int rp_json_write_file_mode(const char *path, const struct rp_json *v, unsigned mode,
			    struct rp_err *err)
{
	struct rp_outfile f;
	char *text = rp_json_dump(v, true);
	int rc;

	if (!text)
		return rp_err_set(err, RP_EIO, "out of memory serializing JSON");
	rc = rp_outfile_begin(&f, path, (mode_t)mode, true, err);
	if (rc == 0) {
		rc = rp_outfile_write_all(f.fd, text, strlen(text), f.tmp, err);
		if (rc == 0)
			rc = rp_outfile_write_all(f.fd, "\n", 1, f.tmp, err);
		if (rc)
			rp_outfile_abort(&f);
		else
			rc = rp_outfile_commit(&f, err);
	}
	explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}
