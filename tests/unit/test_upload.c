/*
 * Tests of the pure pieces of restore/upload_parts.c: the Azure image check (table-driven, one
 * changed field per case, code and message), the spans of non-zero pages, and the upload
 * journal (round trip; damaged and foreign journals, code and message). Also the security
 * mappings of restore/stage.c.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/endian.h"
#include "common/util.h"
#include "formats/vhd.h"
#include "restore/stage.h"
#include "restore/upload.h"

#define MIB (1ull << 20)

static void good_footer(uint64_t vsize, uint8_t f[VHD_FOOTER_SIZE])
{
	static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

	vhd_footer_build_fixed(vsize, uuid, 100, f);
}

static void reseal(uint8_t f[VHD_FOOTER_SIZE])
{
	rp_put_be32(f + 64, 0);
	rp_put_be32(f + 64, vhd_checksum(f, VHD_FOOTER_SIZE, 64));
}

enum vhd_change {
	CH_NONE,
	CH_SIZE_ODD,
	CH_COOKIE,
	CH_CHECKSUM,
	CH_DYNAMIC,
	CH_CURRENT,
	CH_SMALL,
	CH_HUGE
};

struct vhd_case {
	enum vhd_change change;
	int code;
	const char *msg;
};

static const struct vhd_case vhd_cases[] = {
    {CH_NONE, 0, NULL},
    {CH_SIZE_ODD, RP_EFORMAT, "is not N MiB + 512"},
    {CH_COOKIE, RP_EFORMAT, "no VHD footer (cookie 'conectix'"},
    {CH_CHECKSUM, RP_EFORMAT, "checksum"},
    {CH_DYNAMIC, RP_EFORMAT, "disk type at +60 is 3"},
    {CH_CURRENT, RP_EFORMAT, "current size at +48"},
    {CH_SMALL, RP_EFORMAT, "outside what Azure takes"},
    {CH_HUGE, RP_EFORMAT, "outside what Azure takes"},
};

static void test_check_vhd(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vhd_cases) / sizeof(vhd_cases[0]); i++) {
		const struct vhd_case *c = &vhd_cases[i];
		uint64_t vsize = 64 * MIB, fsize;
		uint8_t f[VHD_FOOTER_SIZE];
		struct rp_err err;
		int rc;

		rp_err_init(&err);
		if (c->change == CH_SMALL)
			vsize = 19 * MIB;
		if (c->change == CH_HUGE)
			vsize = (32ull << 40) + MIB;
		good_footer(vsize, f);
		fsize = vsize + VHD_FOOTER_SIZE;
		switch (c->change) {
		case CH_SIZE_ODD:
			fsize += 4096;
			break;
		case CH_COOKIE:
			memset(f, 0, 8);
			break;
		case CH_CHECKSUM:
			f[64] ^= 1;
			break;
		case CH_DYNAMIC:
			/* a dynamic footer also has a data offset: keep it valid */
			rp_put_be32(f + 60, VHD_TYPE_DYNAMIC);
			rp_put_be64(f + 16, 512);
			reseal(f);
			break;
		case CH_CURRENT:
			rp_put_be64(f + 48, vsize - MIB);
			reseal(f);
			break;
		default:
			break;
		}
		rc = rp_upload_check_vhd(f, fsize, &err);
		assert_int_equal(rc, c->code);
		if (c->msg) {
			if (!strstr(err.msg, c->msg))
				fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, c->msg);
			if (c->change != CH_SMALL && c->change != CH_HUGE &&
			    c->change != CH_CHECKSUM && !strstr(err.msg, "cvmrestore convert"))
				fail_msg("case %zu: '%s' does not say how to fix it", i, err.msg);
		}
	}
}

static void test_spans(void **state)
{
	uint8_t *buf = calloc(1, RP_UPLOAD_CHUNK);
	struct rp_upload_span sp[16];
	size_t n;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(rp_upload_spans(buf, RP_UPLOAD_CHUNK, RP_UPLOAD_MERGE_GAP, sp, 16), 0);
	buf[0] = 1;		      /* page 0 */
	buf[512 * 3 + 7] = 1;	      /* page 3: within the gap, joined */
	buf[1 << 20] = 1;	      /* 1 MiB: a new span */
	buf[RP_UPLOAD_CHUNK - 1] = 1; /* the last page */
	n = rp_upload_spans(buf, RP_UPLOAD_CHUNK, RP_UPLOAD_MERGE_GAP, sp, 16);
	assert_int_equal(n, 3);
	assert_int_equal(sp[0].off, 0);
	assert_int_equal(sp[0].len, 4 * 512);
	assert_int_equal(sp[1].off, 1 << 20);
	assert_int_equal(sp[1].len, 512);
	assert_int_equal(sp[2].off, RP_UPLOAD_CHUNK - 512);
	assert_int_equal(sp[2].len, 512);
	/* no merging: page 0 and page 3 apart */
	n = rp_upload_spans(buf, RP_UPLOAD_CHUNK, 0, sp, 16);
	assert_int_equal(n, 4);
	assert_int_equal(sp[1].off, 3 * 512);
	/* a short buffer (a guest state's tail) */
	assert_int_equal(rp_upload_spans(buf, 100, 0, sp, 16), 1);
	assert_int_equal(sp[0].len, 512);
	/* more spans than room: the count is still right */
	assert_int_equal(rp_upload_spans(buf, RP_UPLOAD_CHUNK, 0, sp, 2), 4);
	free(buf);
}

static const struct rp_upload_journal_id jid = {64 * MIB + 512, RP_UPLOAD_CHUNK, 17, 123456789,
						"https://h/c/b.vhd"};

static uint8_t *journal(size_t *len)
{
	uint8_t done[3] = {0x05, 0x00, 0x01}, data[3] = {0x01, 0x00, 0x01}, *j = NULL;
	uint8_t sha[17 * 32];

	/* chunk i's digest is 32 bytes of i */
	for (size_t i = 0; i < sizeof(sha); i++)
		sha[i] = (uint8_t)(i / 32);
	assert_int_equal(rp_upload_journal_encode(&jid, done, data, sha, &j, len, NULL), 0);
	return j;
}

static void test_journal_round_trip(void **state)
{
	uint8_t done[3], data[3], sha[17 * 32] = {0}, want[32], *j;
	size_t len;

	(void)state;
	j = journal(&len);
	/* two done chunks with data (0 and 16): two digests */
	assert_int_equal(len, 42 + strlen(jid.target) + 6 + 2 * 32 + 4);
	assert_memory_equal(j, "CVMRUPJ2", 8);
	assert_int_equal(rp_upload_journal_parse(j, len, &jid, done, data, sha, NULL), 0);
	assert_int_equal(done[0], 0x05);
	assert_int_equal(done[2], 0x01);
	assert_int_equal(data[0], 0x01);
	memset(want, 16, 32);
	assert_memory_equal(sha + 16 * 32, want, 32);
	memset(want, 0, 32);
	assert_memory_equal(sha + 0 * 32, want, 32);
	assert_memory_equal(sha + 2 * 32, want, 32); /* done without data: no digest */
	free(j);
}

/* The compact store (a seal holding only the chunks with data) gives the same journal as the
 * per-chunk array, and parses back into it; a done chunk with data it has no digest for is an
 * error, not 32 zero bytes. */
static void test_journal_sent(void **state)
{
	uint8_t done[3] = {0x05, 0x00, 0x01}, data[3] = {0x01, 0x00, 0x01}, *j, *k = NULL;
	uint8_t d2[3], a2[3];
	struct rp_seal *sent = NULL, *back = NULL;
	struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};
	struct rp_err err;
	size_t len, klen = 0;

	(void)state;
	rp_err_init(&err);
	j = journal(&len);
	assert_int_equal(rp_seal_new(17ull * RP_UPLOAD_CHUNK, RP_UPLOAD_CHUNK, &sent, &err), 0);
	assert_int_equal(rp_seal_new(17ull * RP_UPLOAD_CHUNK, RP_UPLOAD_CHUNK, &back, &err), 0);
	/* chunk 0 only: chunk 16 is done with data but has no digest */
	memset(c.sha256, 0, 32);
	assert_int_equal(rp_seal_chunk_set(sent, 0, &c, &err), 0);
	assert_int_equal(rp_upload_journal_encode_sent(&jid, done, data, sent, &k, &klen, &err),
			 RP_EIO);
	assert_non_null(strstr(err.msg, "no digest for chunk 16"));
	assert_null(k);
	memset(c.sha256, 16, 32);
	assert_int_equal(rp_seal_chunk_set(sent, 16, &c, &err), 0);
	assert_int_equal(rp_upload_journal_encode_sent(&jid, done, data, sent, &k, &klen, &err), 0);
	assert_int_equal(klen, len);
	assert_memory_equal(k, j, len);
	assert_int_equal(rp_upload_journal_parse_sent(j, len, &jid, d2, a2, back, &err), 0);
	assert_memory_equal(d2, done, 3);
	assert_memory_equal(a2, data, 3);
	assert_true(rp_seal_chunks_equal(back, sent));
	assert_null(rp_seal_chunk_sha(back, 2)); /* done without data: nothing stored */
	free(j);
	free(k);
	rp_seal_free(sent);
	rp_seal_free(back);
}

enum j_change {
	J_MAGIC,
	J_V1,
	J_CRC,
	J_SHORT,
	J_SIZE,
	J_MTIME,
	J_CHUNKS,
	J_TARGET,
	J_TLEN,
	J_DIGEST_CUT,
	J_DATA_NOT_DONE,
	J_CLAIM_DONE,
};

struct j_case {
	enum j_change change;
	int code;
	const char *msg;
};

static const struct j_case j_cases[] = {
    {J_MAGIC, RP_EFORMAT, "bad magic at +0"},
    {J_V1, RP_EFORMAT, "bad magic at +0"},
    {J_CRC, RP_EFORMAT, "checksum at +"},
    {J_SHORT, RP_EFORMAT, "too short"},
    {J_SIZE, RP_EIO, "for an image of 67109376 bytes, this one has 1"},
    {J_MTIME, RP_EIO, "the image was modified"},
    {J_CHUNKS, RP_EIO, "chunk size or count"},
    {J_TARGET, RP_EIO, "for another target (https://h/c/b.vhd)"},
    {J_TLEN, RP_EFORMAT, "target length"},
    {J_DIGEST_CUT, RP_EFORMAT, "(2 chunk digests)"},
    {J_DATA_NOT_DONE, RP_EFORMAT, "chunk 1 has data but is not done"},
    /* a chunk claimed done with data, the checksum fixed, but no digest for it */
    {J_CLAIM_DONE, RP_EFORMAT, "(3 chunk digests)"},
};

static void test_journal_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(j_cases) / sizeof(j_cases[0]); i++) {
		const struct j_case *c = &j_cases[i];
		struct rp_upload_journal_id id = jid;
		uint8_t done[3], data[3], sha[17 * 32], *j;
		size_t tl = strlen(jid.target);
		struct rp_err err;
		size_t len;
		int rc;

		rp_err_init(&err);
		j = journal(&len);
		switch (c->change) {
		case J_MAGIC:
			j[0] = 'X';
			break;
		case J_V1:
			j[7] = '1';
			rp_put_le32(j + len - 4, rp_crc32c(0, j, len - 4));
			break;
		case J_CRC:
			j[50] ^= 1;
			break;
		case J_SHORT:
			len = 20;
			break;
		case J_SIZE:
			id.image_size = 1;
			break;
		case J_MTIME:
			id.image_mtime_ns++;
			break;
		case J_CHUNKS:
			id.chunk_size = 1 << 20;
			break;
		case J_TARGET:
			id.target = "https://h/c/other.vhd";
			break;
		case J_TLEN:
			j[41] = 0x7f;
			rp_put_le32(j + len - 4, rp_crc32c(0, j, len - 4));
			break;
		case J_DIGEST_CUT:
			len -= 32;
			rp_put_le32(j + len - 4, rp_crc32c(0, j, len - 4));
			break;
		case J_DATA_NOT_DONE:
			j[42 + tl + 3] |= 0x02;
			rp_put_le32(j + len - 4, rp_crc32c(0, j, len - 4));
			break;
		case J_CLAIM_DONE:
			j[42 + tl] |= 0x02;
			j[42 + tl + 3] |= 0x02;
			rp_put_le32(j + len - 4, rp_crc32c(0, j, len - 4));
			break;
		}
		rc = rp_upload_journal_parse(j, len, &id, done, data, sha, &err);
		assert_int_equal(rc, c->code);
		if (!strstr(err.msg, c->msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, c->msg);
		free(j);
	}
}

static void test_stage_mappings(void **state)
{
	(void)state;
	assert_string_equal(rp_stage_encryption_type(RP_SECURITY_CVM_GUEST_STATE_PMK),
			    "VMGuestStateOnly");
	assert_string_equal(rp_stage_encryption_type(RP_SECURITY_CVM_DISK_PMK),
			    "DiskWithVMGuestState");
	assert_string_equal(rp_stage_encryption_type(RP_SECURITY_CVM_DISK_CMK),
			    "DiskWithVMGuestState");
	assert_string_equal(rp_stage_encryption_type(RP_SECURITY_CVM_NON_PERSISTED_TPM),
			    "NonPersistedTPM");
	assert_null(rp_stage_encryption_type(RP_SECURITY_TRUSTED_LAUNCH));
	assert_null(rp_stage_encryption_type(RP_SECURITY_NONE));
	assert_true(rp_stage_is_cvm(RP_SECURITY_CVM_DISK_CMK));
	assert_false(rp_stage_is_cvm(RP_SECURITY_TRUSTED_LAUNCH));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_vhd),	       cmocka_unit_test(test_spans),
	    cmocka_unit_test(test_journal_round_trip), cmocka_unit_test(test_journal_errors),
	    cmocka_unit_test(test_journal_sent),       cmocka_unit_test(test_stage_mappings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
