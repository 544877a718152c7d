/*
 * rp_image_describe: everything `inspect` shows, as one JSON object: the format's own fields,
 * the parent chain, the partition table (MBR/GPT) and LUKS headers on the virtual disk, and
 * every problem found.
 */
#include "formats/image_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/parttable.h"

static struct rp_json *checksum_obj(uint32_t stored, uint32_t computed, bool ok)
{
	struct rp_json *o = rp_json_new_object();
	char s[16], c[16];

	snprintf(s, sizeof(s), "0x%08x", stored);
	snprintf(c, sizeof(c), "0x%08x", computed);
	rp_json_set_str(o, "stored", s);
	rp_json_set_str(o, "computed", c);
	rp_json_set_bool(o, "ok", ok);
	return o;
}

static const char *disk_type_name(uint32_t t)
{
	return t == VHD_TYPE_FIXED ? "fixed" : t == VHD_TYPE_DYNAMIC ? "dynamic" : "differencing";
}

static struct rp_json *footer_obj(const struct vhd_footer *f)
{
	struct rp_json *o = rp_json_new_object(), *g = rp_json_new_object();
	char uuid[RP_UUID_STR], t[RP_TIME_STR], v[16];

	rp_uuid_format_be(f->uuid, uuid);
	rp_time_iso((time_t)f->timestamp + VHD_EPOCH, t);
	snprintf(v, sizeof(v), "%u.%u", f->version >> 16, f->version & 0xFFFF);
	rp_json_set_str(o, "disk_type", disk_type_name(f->disk_type));
	rp_json_set_str(o, "version", v);
	rp_json_set_u64(o, "features", f->features);
	rp_json_set_str(o, "creator_app", f->creator_app);
	snprintf(v, sizeof(v), "%u.%u", f->creator_version >> 16, f->creator_version & 0xFFFF);
	rp_json_set_str(o, "creator_version", v);
	rp_json_set_str(o, "creator_host", f->creator_host);
	rp_json_set_str(o, "timestamp", t);
	rp_json_set_u64(o, "original_size", f->original_size);
	rp_json_set_u64(o, "current_size", f->current_size);
	rp_json_set_u64(g, "cylinders", f->cylinders);
	rp_json_set_u64(g, "heads", f->heads);
	rp_json_set_u64(g, "sectors_per_track", f->sectors_per_track);
	rp_json_set(o, "geometry", g);
	rp_json_set_str(o, "uuid", uuid);
	rp_json_set_u64(o, "saved_state", f->saved_state);
	rp_json_set(o, "checksum",
		    checksum_obj(f->checksum_stored, f->checksum_computed, f->checksum_ok));
	return o;
}

static struct rp_json *dyn_obj(const struct rp_image *img)
{
	const struct vhd_dyn_header *h = &img->dyn;
	struct rp_json *o = rp_json_new_object();
	unsigned i;

	rp_json_set_u64(o, "table_offset", h->table_offset);
	rp_json_set_u64(o, "max_table_entries", h->max_table_entries);
	rp_json_set_u64(o, "block_size", h->block_size);
	rp_json_set(o, "checksum",
		    checksum_obj(h->checksum_stored, h->checksum_computed, h->checksum_ok));
	if (img->format == RP_IMAGE_VHD_DIFF) {
		struct rp_json *locs = rp_json_new_array();
		char uuid[RP_UUID_STR], t[RP_TIME_STR];

		rp_uuid_format_be(h->parent_uuid, uuid);
		rp_time_iso((time_t)h->parent_timestamp + VHD_EPOCH, t);
		rp_json_set_str(o, "parent_uuid", uuid);
		rp_json_set_str(o, "parent_timestamp", t);
		rp_json_set_str(o, "parent_name", h->parent_name);
		for (i = 0; i < VHD_PARENT_LOCATORS; i++) {
			struct rp_json *l;
			char code[5];

			if (h->loc[i].code == 0)
				continue;
			l = rp_json_new_object();
			vhd_locator_code_str(h->loc[i].code, code);
			rp_json_set_u64(l, "index", i);
			rp_json_set_str(l, "code", code);
			rp_json_set_u64(l, "data_offset", h->loc[i].data_offset);
			rp_json_set_u64(l, "data_length", h->loc[i].data_length);
			rp_json_set_str(l, "path", img->locator[i]);
			rp_json_append(locs, l);
		}
		rp_json_set(o, "parent_locators", locs);
	}
	return o;
}

static struct rp_json *vhdx_obj(const struct rp_image *img)
{
	const struct image_vhdx *x = &img->vhdx;
	struct rp_json *o = rp_json_new_object(), *hs = rp_json_new_array();
	int i;

	rp_json_set_str(o, "creator", x->creator);
	for (i = 0; i < 2; i++) {
		struct rp_json *h = rp_json_new_object();
		char guid[RP_UUID_STR];

		rp_json_set_u64(h, "index", (uint64_t)i + 1);
		rp_json_set_bool(h, "valid", x->hdr_valid[i]);
		rp_json_set_u64(h, "sequence_number", x->hdr[i].sequence_number);
		rp_json_set(h, "checksum",
			    checksum_obj(x->hdr[i].checksum_stored, x->hdr[i].checksum_computed,
					 x->hdr[i].checksum_ok));
		rp_guid_format_le(x->hdr[i].log_guid, guid);
		rp_json_set_str(h, "log_guid", guid);
		rp_guid_format_le(x->hdr[i].data_write_guid, guid);
		rp_json_set_str(h, "data_write_guid", guid);
		rp_json_append(hs, h);
	}
	rp_json_set(o, "headers", hs);
	rp_json_set_u64(o, "current_header", (uint64_t)(x->current > 0 ? x->current : 0));
	if (x->region_valid) {
		rp_json_set_u64(o, "bat_offset", x->region.bat_offset);
		rp_json_set_u64(o, "metadata_offset", x->region.metadata_offset);
	}
	if (x->meta_valid) {
		struct rp_json *pl = rp_json_new_object();
		size_t k;

		rp_json_set_u64(o, "block_size", x->meta.block_size);
		rp_json_set_u64(o, "logical_sector_size", x->meta.logical_sector_size);
		rp_json_set_u64(o, "physical_sector_size", x->meta.physical_sector_size);
		rp_json_set_bool(o, "leave_blocks_allocated", x->meta.leave_blocks_allocated);
		rp_json_set_bool(o, "has_parent", x->meta.has_parent);
		for (k = 0; k < x->meta.parent_count; k++)
			rp_json_set_str(pl, x->meta.parent[k].key, x->meta.parent[k].value);
		if (x->meta.has_parent)
			rp_json_set(o, "parent_locator", pl);
		else
			rp_json_free(pl);
	}
	return o;
}

static struct rp_json *partition_obj(const struct pt_partition *p, bool gpt)
{
	struct rp_json *o = rp_json_new_object();
	char guid[RP_UUID_STR], t[8];

	rp_json_set_u64(o, "index", p->index);
	rp_json_set_u64(o, "offset", p->offset);
	rp_json_set_u64(o, "length", p->length);
	rp_json_set_u64(o, "first_lba", p->first_lba);
	rp_json_set_u64(o, "last_lba", p->last_lba);
	if (gpt) {
		rp_json_set_str(o, "type", p->type_name ? p->type_name : "unknown");
		rp_guid_format_le(p->type_guid, guid);
		rp_json_set_str(o, "type_guid", guid);
		rp_guid_format_le(p->part_guid, guid);
		rp_json_set_str(o, "guid", guid);
		rp_json_set_str(o, "name", p->name);
	} else {
		snprintf(t, sizeof(t), "0x%02x", p->mbr_type);
		rp_json_set_str(o, "type", p->type_name ? p->type_name : t);
		rp_json_set_str(o, "mbr_type", t);
		rp_json_set_str(o, "name", "");
	}
	return o;
}

/*
 * Problems found on the virtual disk (partition tables, LUKS headers) do not stop reads, but a
 * GPT problem is still fatal for the report (exit 3) unless it is a checksum problem and the
 * user asked to read past those. MBR and LUKS findings are warnings: random data can look
 * like either.
 */
static void add_problem(struct rp_image *img, const struct rp_err *e, bool fatal, bool checksum)
{
	if (checksum && img->ignore_checksums)
		fatal = false;
	rp_problems_add(&img->problems, fatal ? RP_EFORMAT : RP_OK, checksum, "%s", e->msg);
}

static void walk_problem(void *ctx, const struct rp_err *e, bool fatal, bool checksum)
{
	add_problem(ctx, e, fatal, checksum);
}

static int walk_read(void *ctx, uint8_t *buf, size_t len, uint64_t off, struct rp_err *err)
{
	return rp_image_read(ctx, buf, len, off, err);
}

/* The table pt_walk found, as "partition_table". */
static struct rp_json *table_obj(const struct pt_table *t)
{
	struct rp_json *pt = rp_json_new_object(), *arr = rp_json_new_array();
	char guid[RP_UUID_STR];
	unsigned i;

	rp_json_set_str(pt, "kind", t->kind == PT_GPT ? "gpt" : t->kind == PT_MBR ? "mbr" : "none");
	if (t->kind == PT_GPT) {
		rp_guid_format_le(t->header.disk_guid, guid);
		rp_json_set_str(pt, "disk_guid", guid);
		rp_json_set_u64(pt, "sector_size", t->sector_size);
		rp_json_set(pt, "header_crc",
			    checksum_obj(t->primary.header_crc_stored,
					 t->primary.header_crc_computed, t->primary.header_crc_ok));
		rp_json_set_str(pt, "header_used", t->backup_used ? "backup" : "primary");
		rp_json_set_bool(pt, "backup_header_ok", t->backup_ok);
	} else if (t->kind == PT_MBR) {
		rp_json_set_u64(pt, "disk_signature", t->disk_signature);
	}
	for (i = 0; i < t->count; i++)
		rp_json_append(arr, partition_obj(&t->part[i], t->kind == PT_GPT));
	rp_json_set(pt, "partitions", arr);
	return pt;
}

static struct rp_json *luks_obj(const struct luks_probe *l, int partition, uint64_t offset)
{
	struct rp_json *o = rp_json_new_object();

	rp_json_set(o, "partition",
		    partition > 0 ? rp_json_new_u64((uint64_t)partition) : rp_json_new_null());
	rp_json_set_u64(o, "offset", offset);
	rp_json_set_u64(o, "version", l->version);
	rp_json_set_str(o, "uuid", l->uuid);
	rp_json_set_str(o, "label", l->label);
	if (l->cipher[0])
		rp_json_set_str(o, "cipher", l->cipher);
	return o;
}

static int probe_luks(struct rp_image *img, uint64_t off, uint64_t len, int partition,
		      struct rp_json *arr, struct rp_err *err)
{
	uint8_t buf[LUKS_PROBE_SIZE];
	struct luks_probe l;
	struct rp_err e;
	int rc;

	if (len < LUKS_PROBE_SIZE || off > img->virtual_size ||
	    LUKS_PROBE_SIZE > img->virtual_size - off)
		return 0;
	rc = rp_image_read(img, buf, sizeof(buf), off, err);
	if (rc)
		return rc;
	rp_err_init(&e);
	rc = luks_probe_parse(buf, sizeof(buf), &l, &e);
	if (rc == 1)
		rp_json_append(arr, luks_obj(&l, partition, off));
	else if (rc < 0) {
		rp_err_prefix(&e, "LUKS header at 0x%llx", (unsigned long long)off);
		add_problem(img, &e, false, false);
	}
	return 0;
}

static int describe_disk(struct rp_image *img, struct rp_json *o, struct rp_err *err)
{
	struct pt_disk disk = {.read = walk_read,
			       .ctx = img,
			       .size = img->virtual_size,
			       .sector_size = img->sector_size,
			       .problem = walk_problem,
			       .problem_ctx = img};
	struct rp_json *luks = rp_json_new_array();
	struct pt_table *t;
	unsigned i;
	int rc;

	/* on failure the caller drops o: no "partition_table" needed */
	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out;
	}
	rc = pt_walk(&disk, img->ignore_checksums ? PT_IGNORE_CHECKSUMS : 0, t, err);
	rp_json_set(o, "partition_table", table_obj(t));
	if (rc)
		goto out;
	rc = probe_luks(img, 0, img->virtual_size, 0, luks, err);
	for (i = 0; rc == 0 && i < t->count; i++)
		rc = probe_luks(img, t->part[i].offset, t->part[i].length, (int)t->part[i].index,
				luks, err);
out:
	rp_json_set(o, "luks", luks);
	free(t);
	return rc;
}

static struct rp_json *parents_arr(const struct rp_image *img)
{
	struct rp_json *arr = rp_json_new_array();
	const struct rp_image *p;

	for (p = img->parent; p; p = p->parent) {
		struct rp_json *o = rp_json_new_object();
		char uuid[RP_UUID_STR];

		rp_json_set_str(o, "path", p->path);
		rp_json_set_str(o, "format", rp_image_format_name(p));
		if (p->has_footer) {
			rp_uuid_format_be(p->footer.uuid, uuid);
			rp_json_set_str(o, "uuid", uuid);
		}
		rp_json_append(arr, o);
	}
	return arr;
}

static struct rp_json *problems_arr(const struct rp_image *img)
{
	struct rp_json *arr = rp_json_new_array();
	size_t i;

	for (i = 0; i < img->problems.n; i++) {
		const struct rp_problem *p = &img->problems.v[i];
		struct rp_json *o = rp_json_new_object();

		rp_json_set_str(o, "message", p->msg);
		rp_json_set_bool(o, "checksum", p->checksum);
		rp_json_set_bool(o, "fatal", p->code != RP_OK);
		rp_json_append(arr, o);
	}
	return arr;
}

int rp_image_describe(struct rp_image *img, struct rp_json **out, struct rp_err *err)
{
	struct rp_json *o = rp_json_new_object();
	int rc = 0;

	if (!o)
		return rp_err_set(err, RP_EIO, "out of memory");
	rp_json_set_str(o, "path", img->path);
	rp_json_set_str(o, "format", rp_image_format_name(img));
	/* Raw is what is left when no signature matched (formats/image_sniff.c): say so, since
	 * raw is a conclusion, not a finding. */
	if (img->format == RP_IMAGE_RAW)
		rp_json_set_str(o, "detected_by", "raw (no known signature)");
	rp_json_set_bool(o, "readable", img->readable);
	rp_json_set_u64(o, "virtual_size", img->virtual_size);
	rp_json_set_u64(o, "file_size", img->file_size);
	rp_json_set_u64(o, "sector_size", img->sector_size);
	rp_json_set_u64(o, "allocated_bytes", img->allocated);
	if (img->has_footer)
		rp_json_set(o, "footer", footer_obj(&img->footer));
	if (img->has_dyn)
		rp_json_set(o, "dynamic_header", dyn_obj(img));
	if (img->format == RP_IMAGE_VHDX)
		rp_json_set(o, "vhdx", vhdx_obj(img));
	rp_json_set(o, "parents", parents_arr(img));
	if (img->readable)
		rc = describe_disk(img, o, err);
	/* Problems last: describing the disk may have added some. */
	rp_json_set(o, "problems", problems_arr(img));
	if (rc) {
		rp_json_free(o);
		return rc;
	}
	*out = o;
	return 0;
}
