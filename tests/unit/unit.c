#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

uint8_t *unit_testdata(const char *name, size_t *len)
{
	const char *dir = getenv("RP_SOURCE_DIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/testdata/%s", dir ? dir : ".", name);
	return unit_read(path, len);
}

uint8_t *unit_read(const char *path, size_t *len)
{
	uint8_t *buf;
	long n;
	FILE *f = fopen(path, "rb");

	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

void unit_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

void unit_tmpdir(char *dir, size_t size, const char *name)
{
	const char *b = getenv("RP_BUILD_DIR");

	if (b) {
		char t[4096];

		snprintf(t, sizeof(t), "%s/tmp", b);
		if (mkdir(t, 0755) != 0 && errno != EEXIST)
			fail_msg("cannot create %s: %s", t, strerror(errno));
		snprintf(dir, size, "%s/%s.XXXXXX", t, name);
	} else {
		snprintf(dir, size, "%s.XXXXXX", name);
	}
	if (!mkdtemp(dir))
		fail_msg("cannot create %s: %s", dir, strerror(errno));
}

char *unit_tmpfile(const char *name, const void *data, size_t len)
{
	const char *b = getenv("RP_BUILD_DIR");
	char *path = malloc(4096);
	int fd;

	assert_non_null(path);
	if (b) {
		snprintf(path, 4096, "%s/tmp", b);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail_msg("cannot create %s: %s", path, strerror(errno));
		snprintf(path, 4096, "%s/tmp/%s.XXXXXX", b, name);
	} else {
		snprintf(path, 4096, "%s.XXXXXX", name);
	}
	fd = mkstemp(path);
	if (fd < 0)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

void unit_rmtree(const char *dir)
{
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fail_msg("cannot remove %s: %s", dir, strerror(errno));
}

size_t unit_unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex) / 2;

	assert_true(strlen(hex) % 2 == 0 && n <= max);
	assert_int_equal(rp_unhex(hex, out, n), 0);
	return n;
}
