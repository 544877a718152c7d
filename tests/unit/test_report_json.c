/*
 * Tests of cli/cli_report_json.c: the report envelope, a disk's chunk map and totals, the
 * report of a network restore, and the Prometheus textfile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "cli/cli_report_json.h"
#include "restore/restore.h"

static const char *str(const struct rp_json *o, const char *key)
{
	const char *s = rp_json_string(rp_json_get(o, key));

	return s ? s : "(absent)";
}

static uint64_t num(const struct rp_json *o, const char *key)
{
	uint64_t v = UINT64_MAX;

	rp_json_u64(rp_json_get(o, key), &v);
	return v;
}

static void test_prom_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"osdisk", "osdisk"},	   {"a\"b", "a\\\"b"}, {"c:\\disk", "c:\\\\disk"},
	    {"two\nlines", "two\\nlines"}, {"", ""},
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_prom_escape(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	/* Truncation never splits an escape or overruns. */
	cli_prom_escape("\"\"\"\"", out, 6);
	assert_string_equal(out, "\\\"\\\"");
}

/* Six chunks: seal says data, data, zero, unallocated, data, zero. */
static void make_seals(struct rp_seal **expect, struct rp_seal **actual)
{
	static const uint8_t want[6] = {RP_CHUNK_DATA,	      RP_CHUNK_DATA, RP_CHUNK_ZERO,
					RP_CHUNK_UNALLOCATED, RP_CHUNK_DATA, RP_CHUNK_ZERO};
	struct rp_err err;
	unsigned i;

	assert_int_equal(rp_seal_new(6 * 4096 - 100, 4096, expect, &err), 0);
	assert_int_equal(rp_seal_new(6 * 4096 - 100, 4096, actual, &err), 0);
	for (i = 0; i < 6; i++) {
		struct rp_seal_chunk c = {.state = want[i]};

		if (c.state == RP_CHUNK_DATA)
			c.sha256[0] = (uint8_t)i;
		assert_int_equal(rp_seal_chunk_set(*expect, i, &c, &err), 0);
		if (i == 1)
			c.sha256[0] = 0x77; /* checked, differs */
		if (i == 2)
			c.state = RP_CHUNK_UNALLOCATED; /* zero vs hole: the same */
		if (i == 5)
			c.state = RP_CHUNK_DATA; /* data where the seal has zeros */
		assert_int_equal(rp_seal_chunk_set(*actual, i, &c, &err), 0);
	}
}

static void test_disk_map_and_totals(void **state)
{
	static const uint8_t checked[6] = {1, 1, 1, 0, 0, 1};
	struct rp_seal *expect, *actual;
	struct cli_report_source src = {.kind = "file", .display = "d.raw"};
	struct cli_disk_report d;
	struct rp_json *r, *disk;
	uint64_t n = 0, bytes = 0;

	(void)state;
	make_seals(&expect, &actual);
	memset(&d, 0, sizeof(d));
	d.name = "d.raw";
	d.format = "raw";
	d.virtual_size = 6 * 4096 - 100;
	d.image_size = d.virtual_size;
	d.chunk_size = 4096;
	d.chunk_count = 6;
	d.ran = true;
	d.checked = checked;
	d.expect = expect;
	d.actual = actual;
	d.coverage = rp_json_new_object();
	rp_json_set_str(d.coverage, "mode", "sample");
	cli_disk_totals(&d, &n, &bytes);
	assert_int_equal(n, 4);
	assert_int_equal(bytes, 3 * 4096 + 4096 - 100); /* the last chunk is short */
	cli_disk_reason(&d, "seal-mismatch", "%d chunks differ from the seal", 2);
	r = cli_report_new("verify", 1795872000, 1795872005, NULL, &src, 1);
	cli_report_add_disk(r, &d);
	assert_null(d.coverage);
	disk = rp_json_array_at(rp_json_get(r, "disks"), 0);
	/* 'v' data, 'X' differs, '.' zero vs hole, '.' unchecked hole, '-' unchecked data */
	assert_string_equal(str(disk, "chunk_map"), "vX..-X");
	assert_int_equal(num(disk, "chunks_checked"), 4);
	assert_int_equal(num(disk, "chunks_total"), 6);
	assert_string_equal(str(rp_json_get(disk, "coverage"), "mode"), "sample");
	assert_string_equal(str(disk, "verdict"), "fail");
	assert_null(rp_json_get(disk, "digests"));
	assert_null(rp_json_get(r, "case"));
	assert_string_equal(str(r, "schema"), "cvmrestore-report/1");
	assert_string_equal(str(r, "verdict"), "fail");
	assert_string_equal(str(r, "started"), "2026-11-28T13:20:00Z");
	assert_string_equal(str(r, "ended"), "2026-11-28T13:20:05Z");
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "code"),
			    "seal-mismatch");
	rp_json_free(r);
	rp_seal_free(expect);
	rp_seal_free(actual);
}

static void test_envelope(void **state)
{
	static const struct {
		int exit_code;
		const char *verdict;
	} cases[] = {{0, "pass"}, {1, "fail"}, {2, "error"}, {4, "error"}, {130, "error"}};
	struct cli_case c = {.case_id = "C-1", .notes = "a \"note\"\n"};
	struct cli_report_source src = {.kind = "url",
					.display = "https://h/c/d.vhd",
					.etag = "\"0x1\"",
					.recovery_point = "rp-1"};
	struct rp_json *r, *k, *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = cli_report_new("verify", 0, 0, &c, &src, cases[i].exit_code);
		assert_string_equal(str(r, "verdict"), cases[i].verdict);
		assert_int_equal(num(r, "exit_code"), cases[i].exit_code);
		k = rp_json_get(r, "case");
		assert_string_equal(str(k, "case_id"), "C-1");
		assert_string_equal(str(k, "notes"), "a \"note\"\n");
		assert_null(rp_json_get(k, "examiner"));
		s = rp_json_get(r, "source");
		assert_string_equal(str(s, "kind"), "url");
		assert_string_equal(str(s, "etag"), "\"0x1\"");
		assert_string_equal(str(s, "recovery_point"), "rp-1");
		assert_string_equal(str(rp_json_get(r, "tool"), "version"), RP_VERSION);
		assert_int_equal(rp_json_array_size(rp_json_get(r, "disks")), 0);
		rp_json_free(r);
	}
}

static void test_restore_report(void **state)
{
	struct rp_restore_report rep;
	struct rp_seal *expect, *actual;
	struct rp_json *r, *disk;
	struct rp_scan_mismatch mm = {.index = 1, .offset = 4096, .length = 4096};
	struct rp_err e;

	(void)state;
	make_seals(&expect, &actual);
	memset(&rep, 0, sizeof(rep));
	snprintf(rep.source, sizeof(rep.source), "https://acct.blob.core.windows.net/c/os.vhd");
	snprintf(rep.etag, sizeof(rep.etag), "\"0x8D\"");
	snprintf(rep.output_format, sizeof(rep.output_format), "vhd");
	rep.is_vhd = true;
	rep.virtual_size = actual->virtual_size;
	rep.blob_size = actual->virtual_size + 512;
	rep.th = RP_TH_MD5;
	rep.fetch.pipe.seal = actual;
	rep.fetch.pipe.mismatches = &mm;
	rep.fetch.pipe.mismatch_count = 1;
	rp_err_set(&e, RP_EVERIFY, "does not match the seal");
	r = cli_report_restore("restore", &rep, expect, "/tmp/out.vhd", NULL, 0, 1, &e);
	assert_string_equal(str(r, "command"), "restore");
	assert_string_equal(str(r, "verdict"), "fail");
	assert_string_equal(str(rp_json_get(r, "output"), "path"), "/tmp/out.vhd");
	disk = rp_json_array_at(rp_json_get(r, "disks"), 0);
	assert_string_equal(str(disk, "name"), "os.vhd");
	assert_string_equal(str(disk, "format"), "vhd-fixed");
	assert_string_equal(str(disk, "chunk_map"), "vX..vX");
	assert_int_equal(num(rp_json_array_at(rp_json_get(disk, "mismatches"), 0), "index"), 1);
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "message"),
			    "1 chunks differ from the seal");
	assert_null(rp_json_get(disk, "warning"));
	rp_json_free(r);
	/* A failure before any chunk: no chunk map; the reason names the class. */
	rep.fetch.pipe.seal = NULL;
	rep.fetch.pipe.mismatch_count = 0;
	rep.th = RP_TH_NONE;
	rp_err_set(&e, RP_EAUTH, "access denied (403 AuthorizationFailure)");
	r = cli_report_restore("verify", &rep, NULL, NULL, "osdisk", 0, 1, &e);
	assert_string_equal(str(r, "verdict"), "error");
	assert_int_equal(num(r, "exit_code"), 5);
	assert_null(rp_json_get(r, "output"));
	disk = rp_json_array_at(rp_json_get(r, "disks"), 0);
	assert_string_equal(str(disk, "name"), "osdisk");
	assert_null(rp_json_get(disk, "chunk_map"));
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "code"),
			    "auth-error");
	assert_non_null(strstr(str(disk, "warning"), "read but not verified"));
	rp_json_free(r);
	/* The reason is the one set where the failure started, whatever the message says. */
	rp_err_set_reason(&e, RP_EVERIFY, RP_R_DECRYPT_TAG, "region 3: tag");
	rp_err_prefix(&e, "chunk 3");
	r = cli_report_restore("restore", &rep, NULL, NULL, NULL, 0, 1, &e);
	disk = rp_json_array_at(rp_json_get(r, "disks"), 0);
	assert_string_equal(str(r, "verdict"), "fail");
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "code"),
			    "decrypt-tag");
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "message"),
			    "chunk 3: region 3: tag");
	rp_json_free(r);
	/* A message that merely mentions a check does not make it the reason. */
	rp_err_set(&e, RP_EIO, "crc64 mismatch named by a server: AES-GCM tag");
	r = cli_report_restore("restore", &rep, NULL, NULL, NULL, 0, 1, &e);
	disk = rp_json_array_at(rp_json_get(r, "disks"), 0);
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "code"),
			    "io-error");
	rp_json_free(r);
	rep.fetch.source_changed = true;
	rp_err_set(&e, RP_EIO, "412");
	r = cli_report_restore("restore", &rep, NULL, NULL, NULL, 0, 1, &e);
	disk = rp_json_array_at(rp_json_get(r, "disks"), 0);
	assert_string_equal(str(rp_json_array_at(rp_json_get(disk, "reasons"), 0), "code"),
			    "source-changed");
	rp_json_free(r);
	/* Success: no failure, a pass. */
	rep.fetch.source_changed = false;
	r = cli_report_restore("restore", &rep, NULL, NULL, NULL, 0, 1, NULL);
	assert_string_equal(str(r, "verdict"), "pass");
	assert_int_equal(num(r, "exit_code"), 0);
	rp_json_free(r);
	rp_seal_free(expect);
	rp_seal_free(actual);
}

static void test_prom_write(void **state)
{
	char dir[4096], path[4200], bad[4300], *text;
	char longrp[1024], longdisk[1024];
	struct cli_prom p = {.recovery_point = "rp \"1\"",
			     .disk = "os",
			     .shard = true,
			     .shard_index = 2,
			     .shards = 4,
			     .success = false,
			     .timestamp = 1795872000,
			     .bytes_verified = 4096,
			     .checked_chunks = 7,
			     .mismatched_chunks = 3,
			     .seconds = 1.5};
	struct rp_err err;
	struct stat st;
	size_t n;

	(void)state;
	unit_tmpdir(dir, sizeof(dir), "test_report_json");
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	assert_int_equal(cli_prom_write(path, &p, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	text = (char *)unit_read(path, &n);
	assert_non_null(strstr(text, "# TYPE cvmrestore_verify_success gauge\n"
				     "cvmrestore_verify_success{recovery_point=\"rp \\\"1\\\"\","
				     "disk=\"os\",shard=\"2/4\"} 0\n"));
	assert_non_null(strstr(text, "cvmrestore_verify_mismatched_chunks{"));
	assert_non_null(strstr(text, "} 3\n"));
	assert_non_null(strstr(text, "cvmrestore_verify_duration_seconds{recovery_point=\"rp "
				     "\\\"1\\\"\",disk=\"os\",shard=\"2/4\"} 1.500\n"));
	assert_non_null(strstr(text, "} 1795872000\n"));
	/* docs/metrics.md: units last, the build as an _info gauge */
	assert_non_null(strstr(text, "# TYPE cvmrestore_verified_bytes gauge\n"
				     "cvmrestore_verified_bytes{recovery_point=\"rp \\\"1\\\"\","
				     "disk=\"os\",shard=\"2/4\"} 4096\n"));
	assert_non_null(strstr(text, "\ncvmrestore_verify_checked_chunks{"));
	assert_non_null(strstr(text, "\"} 7\n"));
	assert_non_null(strstr(
	    text, "# TYPE cvmrestore_build_info gauge\ncvmrestore_build_info{version=\"" RP_VERSION
		  "\",commit=\""));
	assert_null(strstr(text, "bytes_verified"));
	free(text);
	unlink(path);
	snprintf(bad, sizeof(bad), "%s/missing/m.prom", dir);
	rp_err_init(&err);
	assert_int_equal(cli_prom_write(bad, &p, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "--prometheus '"));
	/* labels of 1 KiB (the most that is kept) still fit in each of the 7 lines */
	memset(longrp, 'r', sizeof(longrp) - 1);
	longrp[sizeof(longrp) - 1] = '\0';
	memset(longdisk, 'd', sizeof(longdisk) - 1);
	longdisk[sizeof(longdisk) - 1] = '\0';
	p.recovery_point = longrp;
	p.disk = longdisk;
	rp_err_init(&err);
	assert_int_equal(cli_prom_write(path, &p, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 7 * 2000);
	unlink(path);
	rmdir(dir);
}

/* Every hint of the library has its words on the command line, and none is empty; a hint is
 * worded in the options of the command that prints it, with its value where it names one. */
static void test_cli_hints(void **state)
{
	char buf[512];
	const char *t;
	int h;

	(void)state;
	assert_null(cli_hint(&cli_cmd_verify, RP_H_NONE, NULL, buf, sizeof(buf)));
	assert_null(cli_hint(&cli_cmd_verify, RP_H_COUNT, NULL, buf, sizeof(buf)));
	for (h = 1; h < RP_H_COUNT; h++) {
		t = cli_hint(&cli_cmd_verify, (enum rp_hint)h, NULL, buf, sizeof(buf));
		assert_non_null(t);
		assert_non_null(strstr(t, "--"));
	}
	assert_string_equal(cli_hint(&cli_cmd_luks, RP_H_KEY_FILE, NULL, buf, sizeof(buf)),
			    "use --key-file to use every byte");
	assert_string_equal(cli_hint(&cli_cmd_verify, RP_H_KEY_FILE, NULL, buf, sizeof(buf)),
			    "use --luks-key-file to use every byte");
	assert_string_equal(cli_hint(&cli_cmd_restore, RP_H_KEY_FILE, NULL, buf, sizeof(buf)),
			    "use --luks-key-file to use every byte");
	assert_string_equal(cli_hint(&cli_cmd_rp, RP_H_ACCESS_JSON, "data0", buf, sizeof(buf)),
			    "give the answer with --access-json data0=FILE");
	assert_string_equal(cli_hint(&cli_cmd_inspect, RP_H_PARENT, NULL, buf, sizeof(buf)),
			    "give it with --parent PATH (nearest first)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prom_escape), cmocka_unit_test(test_disk_map_and_totals),
	    cmocka_unit_test(test_envelope),	cmocka_unit_test(test_restore_report),
	    cmocka_unit_test(test_prom_write),	cmocka_unit_test(test_cli_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
