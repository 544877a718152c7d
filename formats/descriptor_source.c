/*
 * Where a descriptor's local sources are (formats/descriptor.h, rp_descriptor_local_source):
 * the file-system side of the descriptor, apart from its pure parser and writer. A source is
 * taken from the descriptor's folder and must stay in it (docs/files.md).
 */
#include "formats/descriptor.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool source_is_url(const char *s)
{
	return strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0;
}

/* True if path has a ".." component. */
static bool has_dotdot(const char *path)
{
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		p += strspn(p, "/");
	}
	return false;
}

/* The descriptor's folder as a real path (malloc'd), or NULL with err set. */
static char *desc_folder(const char *desc_path, struct rp_err *err)
{
	const char *slash = strrchr(desc_path, '/');
	char *dir, *real;

	if (!slash)
		dir = strdup(".");
	else if (slash == desc_path)
		dir = strdup("/");
	else
		dir = strndup(desc_path, (size_t)(slash - desc_path));
	if (!dir) {
		rp_err_set(err, RP_EIO, "out of memory");
		return NULL;
	}
	real = realpath(dir, NULL);
	if (!real)
		rp_err_errno(err, errno, "cannot resolve the folder of '%s'", desc_path);
	free(dir);
	return real;
}

/* The source as the user sees it: joined to the descriptor's folder as it was given. */
static int same_form(const char *desc_path, const char *source, char **out, struct rp_err *err)
{
	const char *slash = strrchr(desc_path, '/');
	size_t n;

	if (!slash || source[0] == '/') {
		*out = strdup(source);
	} else {
		n = (size_t)(slash - desc_path) + 1 + strlen(source) + 1;
		*out = malloc(n);
		if (*out)
			snprintf(*out, n, "%.*s/%s", (int)(slash - desc_path), desc_path, source);
	}
	return *out ? 0 : rp_err_set(err, RP_EIO, "out of memory");
}

int rp_descriptor_local_source(const char *desc_path, const char *source, bool allow_outside,
			       char **out, struct rp_err *err)
{
	char *folder = NULL, *joined = NULL, *real = NULL;
	size_t n, fl;
	int rc = 0;

	if (source_is_url(source)) {
		*out = strdup(source);
		return *out ? 0 : rp_err_set(err, RP_EIO, "out of memory");
	}
	/* The source itself is never quoted (docs/recovery-point.md): callers name the disk. */
	if (!allow_outside && (source[0] == '/' || has_dotdot(source)))
		return rp_err_set_hint(
		    err, RP_EUSAGE, RP_H_OUTSIDE_SOURCES,
		    "its local source is outside the descriptor's folder (%s); sources "
		    "must be relative paths inside it",
		    source[0] == '/' ? "an absolute path" : "a '..' component");
	if (source[0] == '/')
		return same_form(desc_path, source, out, err);
	folder = desc_folder(desc_path, err);
	if (!folder)
		return err ? err->code : RP_EIO;
	n = strlen(folder) + 1 + strlen(source) + 1;
	joined = malloc(n);
	if (!joined) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out;
	}
	snprintf(joined, n, "%s/%s", folder, source);
	real = realpath(joined, NULL);
	if (!real) {
		/* Nothing there (yet): the open that follows says so; no link to escape through. */
		rc = same_form(desc_path, source, out, err);
		goto out;
	}
	fl = strlen(folder);
	if (!allow_outside && !(strncmp(real, folder, fl) == 0 &&
				(real[fl] == '/' || (fl == 1 && folder[0] == '/')))) {
		rc = rp_err_set_hint(
		    err, RP_EUSAGE, RP_H_OUTSIDE_SOURCES,
		    "its local source leads outside the descriptor's folder through "
		    "a symbolic link");
		goto out;
	}
	rc = same_form(desc_path, source, out, err);
out:
	free(folder);
	free(joined);
	free(real);
	return rc;
}
