/*
 * The JSON adapter: the only file that includes <jansson.h>.
 *
 * struct rp_json is an opaque JSON value. Values returned by rp_json_get() and
 * rp_json_array_at() are borrowed from their parent and live as long as the root. Values made
 * with rp_json_new_*() are owned by the caller until rp_json_set()/rp_json_append() takes them
 * (those steal the reference even on failure). rp_json_free() releases a root (NULL is a no-op).
 * Values are not thread-safe; use one tree per thread.
 */
#ifndef RP_COMMON_JSON_H
#define RP_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rp_json;

/* Parse text[0..len); on error RP_EFORMAT naming line and column. Duplicate keys are rejected. */
int rp_json_parse(const char *text, size_t len, struct rp_json **out, struct rp_err *err);

/* Read and parse a file of at most max_bytes; RP_EIO if it cannot be read. */
int rp_json_load_file(const char *path, size_t max_bytes, struct rp_json **out, struct rp_err *err);

void rp_json_free(struct rp_json *v);

bool rp_json_is_object(const struct rp_json *v);
bool rp_json_is_array(const struct rp_json *v);
bool rp_json_is_string(const struct rp_json *v);
bool rp_json_is_integer(const struct rp_json *v);
bool rp_json_is_null(const struct rp_json *v);

/* Member of an object, or NULL if v is not an object or has no such key. */
struct rp_json *rp_json_get(const struct rp_json *v, const char *key);

/* String value, or NULL if v is not a string. */
const char *rp_json_string(const struct rp_json *v);

/* Non-negative integer value; RP_EFORMAT if v is not an integer or is negative. */
int rp_json_u64(const struct rp_json *v, uint64_t *out);

/* Boolean value; RP_EFORMAT if v is not true or false. */
int rp_json_bool(const struct rp_json *v, bool *out);

size_t rp_json_array_size(const struct rp_json *v);
struct rp_json *rp_json_array_at(const struct rp_json *v, size_t i);

/* Iterate an object's keys in insertion order: returns key i, or NULL past the end. */
const char *rp_json_object_key_at(const struct rp_json *v, size_t i, struct rp_json **value);

struct rp_json *rp_json_new_object(void);
struct rp_json *rp_json_new_array(void);
struct rp_json *rp_json_new_string(const char *s);
struct rp_json *rp_json_new_u64(uint64_t v);
struct rp_json *rp_json_new_bool(bool v);
struct rp_json *rp_json_new_real(double v);
struct rp_json *rp_json_new_null(void);

/* Add value under key (steals value); 0 or RP_EIO. A NULL value is an error. */
int rp_json_set(struct rp_json *obj, const char *key, struct rp_json *value);
int rp_json_set_str(struct rp_json *obj, const char *key, const char *s);
int rp_json_set_u64(struct rp_json *obj, const char *key, uint64_t v);
int rp_json_set_bool(struct rp_json *obj, const char *key, bool v);
int rp_json_append(struct rp_json *arr, struct rp_json *value);

/* Serialize (keys in insertion order); malloc'd, NUL-terminated; NULL on failure. */
char *rp_json_dump(const struct rp_json *v, bool pretty);

/* Write v to path atomically (common/outfile.h: a new temporary file, fsync, rename, directory
 * fsync), mode 0644; a path that is a symbolic link or a directory is refused. */
int rp_json_write_file(const char *path, const struct rp_json *v, struct rp_err *err);

/* The same with the file's mode (0600 for documents that hold SAS URLs). The serialized text is
 * wiped before it is freed. */
int rp_json_write_file_mode(const char *path, const struct rp_json *v, unsigned mode,
			    struct rp_err *err);

#endif
