/* cvmrestore luks: check a key against the LUKS volumes of an image. */
#include <inttypes.h>
#include <string.h>

#include "cli/cli_luks.h"
#include "cli/cli_report_json.h"
#include "cli/cli_util.h"
#include "common/util.h"

struct luks_args {
	struct cli_image_args img;
	const char *key_path;
	enum rp_luks_key_kind kind;
	int nkeys;
	const char *header;
	int partition; /* -1: all */
	bool json;
};

/* --passphrase-file, --key-file, --volume-key-file: the key and its kind (field: the args). */
static int set_key(const struct cli_cmd *cmd, const struct cli_opt *o, void *field, const char *arg)
{
	struct luks_args *a = field;

	(void)cmd;
	a->nkeys++;
	a->key_path = arg;
	a->kind = o->name[0] == 'p'   ? RP_LUKS_PASSPHRASE
		  : o->name[0] == 'k' ? RP_LUKS_KEY_FILE
				      : RP_LUKS_VOLUME_KEY;
	return 0;
}

static int set_partition(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			 const char *arg)
{
	uint64_t n;

	(void)o;
	if (rp_parse_u64(arg, &n, NULL) != 0 || n > 4096)
		return cli_usage(cmd, "--partition '%s' is not a number in [0, 4096]", arg);
	*(int *)field = (int)n;
	return 0;
}

#define A struct luks_args
static const struct cli_opt luks_opts[] = {
    {"passphrase-file", 0, true, "F", "the passphrase: the file's first line, newline dropped",
     CLI_SET, 0, set_key},
    {"key-file", 0, true, "F", "a key file: every byte, as cryptsetup --key-file F", CLI_SET, 0,
     set_key},
    {"volume-key-file", 0, true, "F", "the raw volume key (luksDump --dump-volume-key)", CLI_SET, 0,
     set_key},
    CLI_OPT_SET("partition", 0, "N", "check only partition N (0: the whole disk)", A, partition,
		set_partition),
    CLI_OPT_STR("header", 0, "FILE", "a detached LUKS header (ADE: luks/osluksheader)", A, header),
    CLI_IMAGE_OPTS(A, img, "read the image past checksum errors"),
    CLI_OPT_FLAG("json", 0, "print one JSON document on stdout", A, json),
    {0},
};
#undef A

void cli_luks_print(FILE *f, const struct rp_luks_result *res)
{
	size_t i;
	unsigned k;

	fprintf(f, "image: %s\n", RP_PATH(res->image));
	if (res->header[0])
		fprintf(f, "header: %s\n", RP_PATH(res->header));
	fprintf(f, "key: %s\n", rp_luks_key_kind_name(res->key_kind));
	for (i = 0; i < res->count; i++) {
		const struct rp_luks_volume *v = &res->vol[i];

		if (v->partition > 0)
			fprintf(f, "partition %d at offset %" PRIu64 ":", v->partition, v->offset);
		else
			fprintf(f, "whole disk:");
		if (v->detached)
			fprintf(f, " detached header");
		if (v->version)
			fprintf(f, " LUKS%u", v->version);
		if (v->uuid[0])
			fprintf(f, " uuid %s", RP_ESC(v->uuid));
		if (v->label[0])
			fprintf(f, " label '%s'", RP_ESC(v->label));
		fputc('\n', f);
		if (v->cipher[0])
			fprintf(f, "  cipher: %s\n", RP_ESC(v->cipher));
		if (v->key_bits)
			fprintf(f, "  key size: %u bits\n", v->key_bits);
		if (v->outcome != RP_LUKS_ERROR || v->keyslot_count) {
			fprintf(f, "  active keyslots:");
			for (k = 0; k < v->keyslot_count; k++)
				fprintf(f, " %u", v->keyslots[k]);
			fprintf(f, "%s\n", v->keyslot_count ? "" : " none");
		}
		if (v->outcome == RP_LUKS_OPENED && v->opened_keyslot >= 0)
			fprintf(f, "  result: opened by keyslot %d\n", v->opened_keyslot);
		else if (v->outcome == RP_LUKS_OPENED)
			fprintf(f, "  result: the volume key matches\n");
		else
			fprintf(f, "  result: %s\n", rp_luks_outcome_name(v->outcome));
		if (v->message[0])
			fprintf(f, "  message: %s\n", RP_TEXT(v->message));
	}
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct luks_args a = {.partition = -1};
	struct rp_luks_result res = {0};
	struct rp_luks_key key = {0};
	struct rp_image *img = NULL;
	struct rp_json *doc = NULL;
	const char *pos[1];
	struct rp_err err;
	int npos, rc, code;

	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one IMAGE");
	if (a.nkeys != 1)
		return cli_usage(cmd, "give exactly one of --passphrase-file, --key-file, "
				      "--volume-key-file");
	rp_err_init(&err);
	if (rp_luks_key_read(a.kind, a.key_path, &key, &err) != 0)
		return cli_fail(cmd, &err);
	rc = cli_open_image(cmd, pos[0], &a.img, false, &img);
	if (rc)
		goto out;
	code = rp_luks_check_image(img, &key, a.header, a.partition, &res, &err);
	/* the key is not needed any more: wipe it before printing anything */
	rp_luks_key_release(&key);
	/* with --json, "no LUKS volume" is a report too: {"volumes": []} */
	if (res.count > 0 || (a.json && code == RP_EFORMAT)) {
		if (a.json) {
			doc = rp_luks_result_json(&res);
			if (doc)
				cli_doc_envelope(doc, CLI_SCHEMA_LUKS, "luks");
			rc = doc ? cli_print_json(doc) : CLI_EXIT_IO;
			if (rc)
				goto out;
		} else {
			cli_luks_print(stdout, &res);
		}
	}
	rc = code ? cli_fail(cmd, &err) : CLI_EXIT_OK;
out:
	rp_luks_key_release(&key);
	rp_json_free(doc);
	rp_luks_result_release(&res);
	rp_image_free(img);
	return rc;
}

const struct cli_cmd cli_cmd_luks = {
    .name = "luks",
    .args = "IMAGE",
    .summary = "check a passphrase, key file or volume key against the LUKS volumes of an image",
    .details = "Looks for LUKS1 and LUKS2 headers on the whole disk and in every GPT or MBR "
	       "partition of IMAGE (raw, VHD,\nVHDX) and checks the key without activating "
	       "anything and without root. A --passphrase-file holds one\nline (the newline is "
	       "dropped, as cryptsetup does for a passphrase typed or piped in); a --key-file\n"
	       "is used byte for byte, as cryptsetup --key-file. With --header FILE the key is "
	       "checked against that\ndetached header (--partition names the data partition "
	       "in the report).\n\nluks exits 0 when a volume opened; 1 the key opens no volume; 2 "
	       "usage; 3 no LUKS volume, a header\nlibcryptsetup rejects, or a cipher that needs "
	       "the kernel crypto API or device-mapper;\n4 I/O. See docs/keys.md.",
    .opts = luks_opts,
    .run = run,
};
