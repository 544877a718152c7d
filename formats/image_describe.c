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

/* Read and parse the GPT header at lba; 1 if there is no "EFI PART" there. */
static int gpt_header_at(struct rp_image *img, uint32_t ss, uint64_t lba, uint8_t *sec,
			 struct pt_gpt_header *h, struct rp_err *e, struct rp_err *err)
{
	int rc = rp_image_read(img, sec, ss, lba * ss, err);

	if (rc)
		return rc;
	if (memcmp(sec, "EFI PART", 8) != 0)
		return 1;
	if (pt_gpt_header_parse(sec, ss, ss, img->virtual_size / ss, PT_IGNORE_CHECKSUMS, h, e) !=
	    0)
		return RP_EFORMAT;
	return 0;
}

static int read_entries(struct rp_image *img, uint32_t ss, const struct pt_gpt_header *h,
			struct pt_partition *parts, unsigned *count, struct rp_err *err)
{
	size_t elen = (size_t)h->entry_count * h->entry_size;
	uint8_t *ents = malloc(elen ? elen : 1);
	struct rp_err e;
	int rc;

	if (!ents)
		return rp_err_set(err, RP_EIO, "out of memory");
	rp_err_init(&e);
	rc = rp_image_read(img, ents, elen, h->entries_lba * ss, err);
	if (rc == 0 && pt_gpt_entries_parse(ents, elen, h, ss, 0, parts, count, &e) != 0) {
		bool crc = strstr(e.msg, "crc") != NULL;

		rp_err_prefix(&e, "GPT entries at 0x%llx",
			      (unsigned long long)(h->entries_lba * ss));
		add_problem(img, &e, true, crc);
		*count = 0;
		rp_err_init(&e);
		if (crc && img->ignore_checksums &&
		    pt_gpt_entries_parse(ents, elen, h, ss, PT_IGNORE_CHECKSUMS, parts, count,
					 &e) != 0)
			*count = 0;
	}
	free(ents);
	return rc;
}

/* GPT at LBA 1 (sector size ss), its entries, and the backup header at the last LBA, which is
 * used when the primary is damaged (UEFI 2.x, 5.3.2). Returns 1 if there is no GPT. */
static int read_gpt(struct rp_image *img, uint32_t ss, struct rp_json *pt,
		    struct pt_partition *parts, unsigned *count, struct rp_err *err)
{
	uint64_t last = img->virtual_size / ss - 1;
	struct pt_gpt_header h, b;
	const struct pt_gpt_header *use = NULL;
	struct rp_json *arr;
	struct rp_err e;
	bool primary_ok = false, backup_ok = false;
	char guid[RP_UUID_STR];
	uint8_t *sec;
	unsigned i;
	int rc;

	sec = malloc(ss);
	if (!sec)
		return rp_err_set(err, RP_EIO, "out of memory");
	rp_err_init(&e);
	rc = gpt_header_at(img, ss, 1, sec, &h, &e, err);
	if (rc == 1 || rc == RP_EIO || rc == RP_EUSAGE)
		goto out;
	if (rc) {
		rp_err_prefix(&e, "GPT header at 0x%x", ss);
		add_problem(img, &e, true, false);
	} else if (!h.header_crc_ok) {
		rp_err_set(
		    &e, RP_EFORMAT,
		    "GPT header at 0x%x: header crc32 at +16: stored 0x%08x, computed 0x%08x", ss,
		    h.header_crc_stored, h.header_crc_computed);
		add_problem(img, &e, true, true);
	}
	primary_ok = rc == 0 && (h.header_crc_ok || img->ignore_checksums);
	rp_err_init(&e);
	rc = gpt_header_at(img, ss, primary_ok ? h.backup_lba : last, sec, &b, &e, err);
	if (rc == RP_EIO)
		goto out;
	backup_ok = rc == 0 && b.header_crc_ok;
	if (!backup_ok) {
		if (rc == 1)
			rp_err_set(&e, RP_EFORMAT, "no backup GPT header at LBA %llu",
				   (unsigned long long)(primary_ok ? h.backup_lba : last));
		else if (rc == 0)
			rp_err_set(
			    &e, RP_EFORMAT,
			    "backup GPT header: header crc32 at +16: stored 0x%08x, computed "
			    "0x%08x",
			    b.header_crc_stored, b.header_crc_computed);
		else
			rp_err_prefix(&e, "backup GPT header");
		add_problem(img, &e, false, rc == 0);
	}
	use = primary_ok ? &h : backup_ok ? &b : NULL;
	if (!use) {
		rc = 0;
		goto out;
	}
	if (!primary_ok) {
		rp_err_set(&e, RP_EFORMAT, "using the backup GPT header at LBA %llu",
			   (unsigned long long)b.current_lba);
		add_problem(img, &e, false, false);
	}
	rc = read_entries(img, ss, use, parts, count, err);
	if (rc)
		goto out;
	rp_json_set_str(pt, "kind", "gpt");
	rp_guid_format_le(use->disk_guid, guid);
	rp_json_set_str(pt, "disk_guid", guid);
	rp_json_set_u64(pt, "sector_size", ss);
	rp_json_set(pt, "header_crc",
		    checksum_obj(h.header_crc_stored, h.header_crc_computed, h.header_crc_ok));
	rp_json_set_str(pt, "header_used", primary_ok ? "primary" : "backup");
	rp_json_set_bool(pt, "backup_header_ok", backup_ok);
	arr = rp_json_new_array();
	for (i = 0; i < *count; i++)
		rp_json_append(arr, partition_obj(&parts[i], true));
	rp_json_set(pt, "partitions", arr);
	rc = 0;
out:
	free(sec);
	return rc;
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
	struct rp_json *pt = rp_json_new_object(), *luks = rp_json_new_array(), *arr;
	struct pt_partition *parts;
	unsigned count = 0, i;
	uint8_t mbr_buf[512];
	struct pt_mbr mbr;
	struct rp_err e;
	int rc = 0;

	parts = calloc(PT_MAX_PARTITIONS, sizeof(*parts));
	if (!parts) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out;
	}
	rp_json_set_str(pt, "kind", "none");
	if (img->virtual_size >= 512) {
		rp_err_init(&e);
		rc = rp_image_read(img, mbr_buf, 512, 0, err);
		if (rc)
			goto out;
		memset(&mbr, 0, sizeof(mbr));
		if (pt_mbr_parse(mbr_buf, 512, img->virtual_size, &mbr, &e) != 0) {
			rp_err_prefix(&e, "MBR at 0x0");
			add_problem(img, &e, false, false);
		}
		rc = 1;
		if (img->virtual_size >= 2 * (uint64_t)img->sector_size)
			rc = read_gpt(img, img->sector_size, pt, parts, &count, err);
		if (rc == 1 && img->sector_size != 4096 && img->virtual_size >= 8192)
			rc = read_gpt(img, 4096, pt, parts, &count, err);
		if (rc < 0)
			goto out;
		if (rc == 1 && mbr.valid && !mbr.protective) {
			rp_json_set_str(pt, "kind", "mbr");
			rp_json_set_u64(pt, "disk_signature", mbr.disk_signature);
			arr = rp_json_new_array();
			for (i = 0; i < mbr.count; i++) {
				parts[i] = mbr.part[i];
				rp_json_append(arr, partition_obj(&mbr.part[i], false));
			}
			count = mbr.count;
			rp_json_set(pt, "partitions", arr);
		}
		rc = 0;
	}
	if (!rp_json_get(pt, "partitions"))
		rp_json_set(pt, "partitions", rp_json_new_array());
	rc = probe_luks(img, 0, img->virtual_size, 0, luks, err);
	for (i = 0; rc == 0 && i < count; i++)
		rc = probe_luks(img, parts[i].offset, parts[i].length, (int)parts[i].index, luks,
				err);
out:
	rp_json_set(o, "partition_table", pt);
	rp_json_set(o, "luks", luks);
	free(parts);
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
