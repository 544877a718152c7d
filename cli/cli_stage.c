/* cvmrestore stage: an Azure-ready disk set, templates and commands for re-creating a VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_net.h"
#include "cli/cli_report_json.h"
#include "cli/cli_ops.h"
#include "cli/cli_progress.h"
#include "cli/cli_rpsource.h"
#include "common/secret.h"
#include "restore/stage.h"

struct stage_disks {
	const char *v[RP_DESC_MAX_DISKS];
	size_t n;
};

struct stage_args {
	struct rp_net_opts net;
	const char *out_dir;
	bool allow_outside;	  /* --allow-outside-sources */
	struct stage_disks disks; /* --disk, repeated */
	const char *rg, *location, *prefix, *zone, *sku, *des;
	bool quiet;
	struct cli_progress_opts progress;
	bool json;
};

static int set_disk(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	struct stage_disks *d = field;

	(void)o;
	if (d->n >= RP_DESC_MAX_DISKS)
		return cli_usage(cmd, "at most %d --disk options", RP_DESC_MAX_DISKS);
	d->v[d->n++] = arg;
	return 0;
}

#define A struct stage_args
static const struct cli_opt stage_opts[] = {
    CLI_OPT_STR("out-dir", 0, "DIR", "where the disks, templates and STAGED.txt go", A, out_dir),
    CLI_OPT_SET("disk", 0, "NAME", "stage this disk of the recovery point (repeat; default all)", A,
		disks, set_disk),
    CLI_OPT_STR("resource-group", 0, "RG", "the resource group restore.sh uses", A, rg),
    CLI_OPT_STR("location", 0, "LOC", "Azure region (default: the recovery point's)", A, location),
    CLI_OPT_STR("name-prefix", 0, "P", "prefix of the disk names (default '<vm name>-')", A,
		prefix),
    CLI_OPT_STR("zone", 0, "Z", "availability zone of the disks and the VM", A, zone),
    CLI_OPT_STR("sku", 0, "SKU", "disk SKU (default Premium_LRS)", A, sku),
    CLI_OPT_STR("disk-encryption-set", 0, "ID", "disk encryption set for a customer-key CVM disk",
		A, des),
    CLI_OPT_FLAG("allow-outside-sources", 0,
		 "let a descriptor name local files outside its folder (absolute, '..', links)", A,
		 allow_outside),
    CLI_OPT_FLAG("quiet", 'q', "no progress on the terminal", A, quiet),
    CLI_OPT_FLAG("json", 0, "print a JSON report on stdout", A, json),
    CLI_PROGRESS_OPTS(struct stage_args, progress),
    CLI_TRANSFER_OPS_OPTS(struct stage_args, net),
    CLI_NET_OPTS(A, net),
    {0},
};
#undef A

/* Replace a source by itself resolved against the descriptor's folder (the old one wiped). */
static int resolve(const char *desc_path, char **source, bool allow_outside, struct rp_err *err)
{
	char *r;
	int rc;

	if (!*source)
		return 0;
	rc = cli_descriptor_source(desc_path, *source, allow_outside, &r, err);
	if (rc)
		return rc;
	rp_wipe(*source, strlen(*source));
	free(*source);
	*source = r;
	return 0;
}

/* The recovery point: a descriptor, or a single disk staged as the OS disk of a Linux VM. */
static int load_source(const char *src, bool allow_outside, struct rp_descriptor **out,
		       bool *assumed, struct rp_err *err)
{
	struct rp_descriptor *d = NULL;
	size_t i;
	int rc;

	*assumed = false;
	if (cli_is_descriptor(src)) {
		rc = rp_descriptor_load(src, &d, err);
		for (i = 0; rc == 0 && i < d->ndisks; i++)
			if ((rc = resolve(src, &d->disks[i].source, allow_outside, err)) != 0)
				rp_err_prefix(err, "disk '%s'", d->disks[i].name);
		if (rc == 0 && (rc = resolve(src, &d->guest_state.source, allow_outside, err)) != 0)
			rp_err_prefix(err, "guest_state");
		if (rc == 0 && (rc = resolve(src, &d->vm_metadata.source, allow_outside, err)) != 0)
			rp_err_prefix(err, "vm_metadata");
	} else {
		*assumed = true;
		rc = rp_descriptor_new(&d, err);
		if (rc == 0) {
			snprintf(d->id, sizeof(d->id), "single-disk");
			snprintf(d->vm.name, sizeof(d->vm.name), "restored-vm");
			d->vm.os_type = RP_OS_LINUX;
			rc = rp_descriptor_add_disk(d, "osdisk", RP_DISK_OS, -1, src, err);
		}
	}
	if (rc) {
		rp_descriptor_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static struct rp_json *report(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			      const struct rp_stage_result *res, int rc, const char *error)
{
	struct rp_json *r = cli_doc_new(CLI_SCHEMA_STAGE, "stage"), *items = rp_json_new_array();
	struct rp_json *w = rp_json_new_array();
	size_t i;

	rp_json_set_str(r, "recovery_point", d->id);
	rp_json_set_str(r, "out_dir", RP_URL(o->out_dir));
	rp_json_set_bool(r, "secure_upload", res->secure_upload);
	for (i = 0; i < res->nitems; i++) {
		const struct rp_stage_item *it = &res->items[i];
		struct rp_json *j = rp_json_new_object();
		rp_json_set_str(j, "name", it->name);
		rp_json_set_str(j, "file", it->file);
		rp_json_set_str(j, "kind",
				it->kind == RP_STAGE_DISK	   ? "disk"
				: it->kind == RP_STAGE_GUEST_STATE ? "guest_state"
								   : "vm_metadata");
		rp_json_set_str(j, "source", RP_URL(it->source));
		rp_json_set_u64(j, "file_size", it->file_size);
		rp_json_set_str(j, "sha256", it->sha256);
		if (it->kind == RP_STAGE_DISK) {
			rp_json_set_str(j, "role", rp_disk_role_name(it->role));
			rp_json_set(j, "lun",
				    it->lun >= 0 ? rp_json_new_u64((uint64_t)it->lun)
						 : rp_json_new_null());
			rp_json_set_u64(j, "virtual_size", it->virtual_size);
			rp_json_set_bool(j, "sealed", it->sealed);
		}
		rp_json_append(items, j);
	}
	rp_json_set(r, "items", items);
	for (i = 0; i < res->nwarnings; i++)
		rp_json_append(w, rp_json_new_string(res->warnings[i]));
	rp_json_set(r, "warnings", w);
	rp_json_set(r, "seconds", rp_json_new_real(res->seconds));
	cli_doc_verdict(r, rp_code_exit(rc));
	if (error)
		rp_json_set_str(r, "error", error);
	return r;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct stage_args a = {0};
	struct rp_stage_opts o = {0};
	struct rp_stage_result res;
	struct rp_descriptor *d = NULL;
	struct cli_progress prog;
	struct rp_json *rep;
	const char *pos[1];
	struct rp_err err;
	int npos, rc, out_rc = 0;
	size_t i;

	cli_net_defaults(&a.net);
	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one SOURCE");
	if (!a.out_dir)
		return cli_usage(cmd, "missing --out-dir DIR");
	if (rp_is_url(pos[0]) && (rc = cli_net_check_url(cmd, &a.net, pos[0])) != 0)
		return rc;
	rp_err_init(&err);
	if (load_source(pos[0], a.allow_outside, &d, &o.assumed_vm, &err) != 0)
		return cli_fail(cmd, &err);
	if (o.assumed_vm && a.disks.n)
		rc = cli_usage(cmd, "--disk is for a recovery point descriptor");
	for (i = 0; rc == 0 && i < d->ndisks; i++)
		if (rp_is_url(d->disks[i].source))
			rc = cli_net_check_url(cmd, &a.net, d->disks[i].source);
	if (rc) {
		rp_descriptor_free(d);
		return rc;
	}
	cli_progress_init(&prog, "stage", &a.progress, a.quiet, a.json);
	o.out_dir = a.out_dir;
	o.disks = a.disks.v;
	o.ndisks = a.disks.n;
	o.resource_group = a.rg;
	o.location = a.location;
	o.name_prefix = a.prefix;
	o.zone = a.zone;
	o.sku = a.sku;
	o.des_id = a.des;
	o.run.net = a.net;
	o.run.progress = cli_progress_cb;
	o.run.progress_ctx = &prog;
	o.run.progress_detail = cli_progress_detail;
	o.run.stop = &cli_stop;
	rc = rp_stage_run(d, &o, &res, &err);
	cli_progress_end(&prog);
	rep = report(d, &o, &res, rc, rc ? RP_MSG(err.msg) : NULL);
	if (a.json) {
		out_rc = cli_print_json(rep);
	} else if (!a.quiet && rc == 0) {
		printf("staged %zu file%s of recovery point %s into %s (see STAGED.txt)\n",
		       res.nitems, res.nitems == 1 ? "" : "s", RP_ESC(d->id), RP_PATH(a.out_dir));
		for (i = 0; i < res.nitems; i++)
			printf("  %s: %llu bytes, sha256 %s\n", RP_ESC(res.items[i].file),
			       (unsigned long long)res.items[i].file_size, res.items[i].sha256);
		for (i = 0; i < res.nwarnings; i++)
			printf("warning: %s\n", RP_TEXT(res.warnings[i]));
	}
	rp_json_free(rep);
	rp_stage_result_release(&res);
	rp_descriptor_free(d);
	if (rc)
		return cli_fail(cmd, &err);
	return out_rc;
}

const struct cli_cmd cli_cmd_stage = {
    .name = "stage",
    .args = "SOURCE --out-dir DIR",
    .summary = "stage a recovery point's disks, guest state, ARM templates and commands",
    .details = "SOURCE is a recovery point descriptor (docs/recovery-point.md) or a single disk "
	       "(URL or file).\nEach chosen disk is restored into DIR as an Azure-ready fixed VHD "
	       "(N MiB + 512 bytes; a\nvirtual size that is not a whole MiB is rounded up with "
	       "zeros), checked against its seal\nand hashed; the guest state and VM metadata go "
	       "beside the OS disk. DIR then gets\ndisks.json and vm.json (ARM templates), "
	       "restore.sh (the az and cvmrestore upload commands in\norder; it runs nothing "
	       "until its placeholders are filled in and it is given --yes) and,\nlast, "
	       "STAGED.txt: what was staged and what the operator must still decide. A set\n"
	       "without STAGED.txt is incomplete. See docs/staging.md.",
    .opts = stage_opts,
    .run = run,
};
