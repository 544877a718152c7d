/* --checksum-file: checksums of a file as written, in the form sha256sum -c reads. */
#include "cli/cli_checksum.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/outfile.h"
#include "common/util.h"
#include "verify/digest.h"

int cli_set_checksum_algs(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg)
{
	unsigned *mask = field;
	const char *p = arg;
	char name[16];

	*mask = 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		enum rp_digest_alg alg;

		if (n == 0 || n >= sizeof(name))
			return cli_usage(cmd, "--%s takes a list of sha256, md5, sha1, not '%s'",
					 o->name, arg);
		memcpy(name, p, n);
		name[n] = '\0';
		if (rp_digest_from_name(name, &alg, NULL) != 0)
			return cli_usage(
			    cmd, "--%s: unknown checksum '%s' (expected sha256, md5 or sha1)",
			    o->name, name);
		*mask |= 1u << alg;
		p += n;
		if (*p == ',')
			p++;
	}
	if (*mask == 0)
		return cli_usage(cmd, "--%s needs at least one of sha256, md5, sha1", o->name);
	return 0;
}

/* The folder of path, resolved; false if it cannot be. */
static bool folder_of(const char *path, char out[PATH_MAX])
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n >= sizeof(dir))
		return false;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (n == 0)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
	return realpath(dir, out) != NULL;
}

/* The digests of every byte of path, in the order of enum rp_digest_alg. */
static int digest_file(const char *path, unsigned algs, uint8_t md[][RP_DIGEST_MAX],
		       struct rp_err *err)
{
	struct rp_digest *dg[RP_DIGEST_COUNT] = {0};
	const size_t bufsz = 1u << 20;
	uint8_t *buf = malloc(bufsz);
	int fd = -1, rc = 0;
	unsigned a;
	ssize_t got;

	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory");
	for (a = 0; a < RP_DIGEST_COUNT && rc == 0; a++)
		if (algs & (1u << a))
			rc = rp_digest_new((enum rp_digest_alg)a, &dg[a], err);
	if (rc == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = rp_err_errno(err, errno, "cannot open '%s' to compute its checksums", path);
	while (rc == 0 && (got = read(fd, buf, bufsz)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = rp_err_errno(err, errno, "cannot read '%s' to compute its checksums",
					  path);
			break;
		}
		for (a = 0; a < RP_DIGEST_COUNT; a++)
			if (dg[a])
				rp_digest_update(dg[a], buf, (size_t)got);
	}
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (dg[a] && rc == 0 && rp_digest_final(dg[a], md[a]) != 0)
			rc = rp_err_set(err, RP_EIO, "cannot compute the %s of '%s'",
					rp_digest_name((enum rp_digest_alg)a), path);
		rp_digest_free(dg[a]);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* Append "TAG (NAME) = HEX\n" to *text, escaped as coreutils does: a name holding a backslash
 * or a newline is written with \\ and \n, and the line starts with a backslash. */
static int add_line(char **text, size_t *len, const char *tag, const char *name, const char *hex)
{
	size_t need = 2 * strlen(name) + strlen(tag) + strlen(hex) + 16, n = 0;
	bool esc = strpbrk(name, "\\\n") != NULL;
	char *t = realloc(*text, *len + need), *p;

	if (!t)
		return -1;
	*text = t;
	p = t + *len;
	if (esc)
		p[n++] = '\\';
	n += (size_t)snprintf(p + n, need - n, "%s (", tag);
	for (; *name; name++) {
		if (esc && (*name == '\\' || *name == '\n')) {
			p[n++] = '\\';
			p[n++] = *name == '\n' ? 'n' : '\\';
		} else {
			p[n++] = *name;
		}
	}
	n += (size_t)snprintf(p + n, need - n, ") = %s\n", hex);
	*len += n;
	return 0;
}

int cli_checksum_write(const struct cli_checksum_args *a, const char *const *files, size_t n,
		       struct rp_err *err)
{
	static const char *const tags[RP_DIGEST_COUNT] = {
	    [RP_DIGEST_SHA256] = "SHA256", [RP_DIGEST_MD5] = "MD5", [RP_DIGEST_SHA1] = "SHA1"};
	unsigned algs = a->algs ? a->algs : 1u << RP_DIGEST_SHA256, k;
	char sumdir[PATH_MAX], dir[PATH_MAX], *text = NULL;
	bool have_sumdir = folder_of(a->file, sumdir);
	size_t len = 0, i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		uint8_t md[RP_DIGEST_COUNT][RP_DIGEST_MAX];
		const char *slash = strrchr(files[i], '/');
		const char *name = files[i];

		rc = digest_file(files[i], algs, md, err);
		if (have_sumdir && folder_of(files[i], dir) && strcmp(dir, sumdir) == 0)
			name = slash ? slash + 1 : files[i];
		for (k = 0; rc == 0 && k < RP_DIGEST_COUNT; k++) {
			char hex[2 * RP_DIGEST_MAX + 1];

			if (!(algs & (1u << k)))
				continue;
			rp_hex(md[k], rp_digest_size((enum rp_digest_alg)k), hex);
			if (add_line(&text, &len, tags[k], name, hex) != 0)
				rc = rp_err_set(err, RP_EIO, "out of memory");
		}
	}
	if (rc == 0 && (rc = rp_outfile_replace(a->file, text, len, 0644, true, err)) != 0)
		rp_err_prefix(err, "--checksum-file '%s'", a->file);
	free(text);
	return rc;
}
