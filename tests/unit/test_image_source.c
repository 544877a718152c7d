/*
 * rp_image_open_source (formats/image.h): a disk read through a callback, as `verify URL
 * --luks-*` reads a blob. A raw disk and a fixed VHD open and read back their bytes; the content
 * decides, never the name (a raw blob called .vhd, one starting with "vhdxfile" or "conectix"
 * is raw, as the restore pipeline has it); a dynamic VHD and parents are refused with
 * RP_EUSAGE and a message that says what to do; a failing read comes back with its own code
 * and message.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/endian.h"
#include "formats/image.h"
#include "formats/vhd.h"

#define DISK (64u * 1024)

struct mem {
	uint8_t *buf;
	size_t len;
	unsigned reads;
	int fail_code; /* fail every read with this code */
};

static int mem_read(void *ctx, void *buf, size_t len, uint64_t off, struct rp_err *err)
{
	struct mem *m = ctx;

	m->reads++;
	if (m->fail_code)
		return rp_err_set(err, m->fail_code, "injected failure at 0x%llx",
				  (unsigned long long)off);
	assert_true(off <= m->len && len <= m->len - off);
	memcpy(buf, m->buf + off, len);
	return 0;
}

/* A DISK-byte disk with a pattern, plus a fixed VHD footer when vhd. */
static void make(struct mem *m, bool vhd)
{
	static const uint8_t uuid[16] = {1};
	size_t i;

	memset(m, 0, sizeof(*m));
	m->len = DISK + (vhd ? VHD_FOOTER_SIZE : 0);
	m->buf = calloc(1, m->len);
	assert_non_null(m->buf);
	for (i = 0; i < DISK; i++)
		m->buf[i] = (uint8_t)(i * 7 + 3);
	if (vhd)
		vhd_footer_build_fixed(DISK, uuid, 100, m->buf + DISK);
}

static struct rp_image_source src_of(struct mem *m, const char *name)
{
	struct rp_image_source s = {.read = mem_read, .ctx = m, .size = m->len, .name = name};

	return s;
}

static void opens_raw_and_fixed(void **state)
{
	static const bool vhd[] = {false, true};
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct rp_image *img = NULL;
		struct rp_image_source s;
		struct rp_err err;
		struct mem m;
		uint8_t got[1000];
		bool allocated = false;
		uint64_t run = 0;

		make(&m, vhd[k]);
		s = src_of(&m, vhd[k] ? "https://h/c/disk.vhd" : "https://h/c/disk.raw");
		rp_err_init(&err);
		assert_int_equal(rp_image_open_source(&s, NULL, &img, &err), 0);
		assert_int_equal(rp_image_format(img), vhd[k] ? RP_IMAGE_VHD_FIXED : RP_IMAGE_RAW);
		assert_int_equal(rp_image_virtual_size(img), DISK);
		assert_int_equal(rp_image_read(img, got, sizeof(got), 5000, &err), 0);
		assert_memory_equal(got, m.buf + 5000, sizeof(got));
		assert_int_equal(rp_image_extent(img, 512, &allocated, &run, &err), 0);
		assert_true(allocated);
		assert_int_equal(run, DISK - 512);
		assert_true(m.reads > 0);
		rp_image_free(img);
		free(m.buf);
	}
}

static void refuses_what_it_cannot_read(void **state)
{
	static const char *const parents[] = {"base.vhd"};
	struct rp_image_opts with_parent = {.parents = parents, .parent_count = 1};
	struct rp_image *img = NULL;
	struct rp_image_source s;
	struct rp_err err;
	struct mem m;

	(void)state;
	/* a dynamic VHD: its footer says type 3 with a header at 512 (checksum mended) */
	make(&m, true);
	rp_put_be32(m.buf + DISK + 60, VHD_TYPE_DYNAMIC);
	rp_put_be64(m.buf + DISK + 16, 512); /* data offset: the dynamic header */
	rp_put_be32(m.buf + DISK + 64, 0);
	rp_put_be32(m.buf + DISK + 64, vhd_checksum(m.buf + DISK, VHD_FOOTER_SIZE, 64));
	s = src_of(&m, "https://h/c/dyn.vhd");
	rp_err_init(&err);
	assert_int_equal(rp_image_open_source(&s, NULL, &img, &err), RP_EUSAGE);
	assert_null(img);
	assert_non_null(strstr(err.msg, "'https://h/c/dyn.vhd' is not a raw disk or a fixed VHD: "
					"restore it to a file first"));

	/* parents: refused before anything is read */
	rp_err_init(&err);
	assert_int_equal(rp_image_open_source(&s, &with_parent, &img, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "has no parents"));
	free(m.buf);
}

static void content_decides_not_the_name(void **state)
{
	static const char *const heads[] = {NULL, "vhdxfile", "conectix"};
	size_t k;

	(void)state;
	for (k = 0; k < 3; k++) {
		struct rp_image *img = NULL;
		struct rp_image_source s;
		struct rp_err err;
		struct mem m;

		make(&m, false);
		if (heads[k])
			memcpy(m.buf, heads[k], 8);
		s = src_of(&m, "https://h/c/disk.vhd");
		rp_err_init(&err);
		assert_int_equal(rp_image_open_source(&s, NULL, &img, &err), 0);
		assert_int_equal(rp_image_format(img), RP_IMAGE_RAW);
		assert_int_equal(rp_image_virtual_size(img), DISK);
		rp_image_free(img);
		free(m.buf);
	}
}

static void read_failures_come_back(void **state)
{
	static const int codes[] = {RP_EVERIFY, RP_EIO};
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct rp_image *img = NULL;
		struct rp_image_source s;
		struct rp_err err;
		struct mem m;

		make(&m, true);
		m.fail_code = codes[k];
		s = src_of(&m, "https://h/c/disk.vhd");
		rp_err_init(&err);
		assert_int_equal(rp_image_open_source(&s, NULL, &img, &err), codes[k]);
		assert_null(img);
		assert_non_null(strstr(err.msg, "injected failure at 0x"));
		free(m.buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(opens_raw_and_fixed),
	    cmocka_unit_test(refuses_what_it_cannot_read),
	    cmocka_unit_test(content_decides_not_the_name),
	    cmocka_unit_test(read_failures_come_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
