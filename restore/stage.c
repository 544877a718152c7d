/* stage: restore, round, verify and describe the disks of a recovery point (restore/stage.h). */
#include "restore/stage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/outfile.h"
#include "common/util.h"
#include "formats/image.h"
#include "formats/vhd.h"
#include "restore/convert.h"
#include "restore/upload.h"
#include "verify/digest.h"
#include "verify/scan.h"

#define MIB ((uint64_t)1 << 20)
#define COPY_BUF (1u << 20)

static void warn(struct rp_stage_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn(struct rp_stage_result *res, const char *fmt, ...)
{
	va_list ap;

	if (res->nwarnings >= RP_STAGE_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(res->warnings[res->nwarnings++], sizeof(res->warnings[0]), fmt, ap);
	va_end(ap);
}

static int join(char *out, size_t outsz, const char *dir, const char *file, struct rp_err *err)
{
	int n = snprintf(out, outsz, "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= outsz)
		return rp_err_set(err, RP_EUSAGE, "the path '%s/%s' is too long", dir, file);
	return 0;
}

/* SHA-256 of a whole file (a guest state: small). */
static int file_sha256(const char *path, char hex[65], struct rp_err *err)
{
	struct rp_digest *d = NULL;
	uint8_t *buf = malloc(COPY_BUF), sum[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t k;

	if (!buf || fd < 0)
		rc = rp_err_errno(err, buf ? errno : ENOMEM, "cannot read '%s'", path);
	if (rc == 0)
		rc = rp_digest_new(RP_DIGEST_SHA256, &d, err);
	while (rc == 0 && (k = read(fd, buf, COPY_BUF)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = rp_err_errno(err, errno, "cannot read '%s'", path);
		else
			rp_digest_update(d, buf, (size_t)k);
	}
	if (rc == 0) {
		rp_digest_final(d, sum);
		rp_hex(sum, 32, hex);
	}
	rp_digest_free(d);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* Restore a URL to out (whole sha256 in hex; source without secrets into display). */
static int restore_url(const struct rp_stage_opts *o, const char *url, const char *out,
		       enum rp_out_format fmt, const struct rp_seal *seal, char *display,
		       size_t dsz, char hex[65], uint64_t *vsize, struct rp_err *err)
{
	struct rp_restore_opts r = o->run;
	struct rp_restore_report rep;
	int rc;

	r.url = url;
	r.out = out;
	r.format = fmt;
	r.force = true;
	r.seal = seal;
	if (seal)
		r.net.chunk_size = seal->chunk_size;
	r.whole_digests = 1u << RP_DIGEST_SHA256;
	hex[0] = '\0';
	rc = rp_restore_run(&r, &rep, err);
	snprintf(display, dsz, "%s", rep.source);
	*vsize = rep.virtual_size;
	if (rc == 0 && rep.fetch.pipe.whole_done[RP_DIGEST_SHA256])
		rp_hex(rep.fetch.pipe.whole[RP_DIGEST_SHA256], 32, hex);
	rp_restore_report_release(&rep);
	return rc;
}

/* Convert (or re-convert) a local image to an Azure-ready fixed VHD at out. */
static int convert_local(const struct rp_stage_opts *o, const char *src, const char *out,
			 const struct rp_seal *seal, uint64_t *vsize, struct rp_err *err)
{
	struct rp_image_opts io = {0};
	struct rp_convert_opts co = {0};
	struct rp_convert_result cr;
	struct rp_image *img = NULL;
	int rc;

	rc = rp_image_open(src, &io, &img, err);
	if (rc)
		return rc;
	co.to = RP_CONVERT_VHD;
	co.force = true;
	co.out_mode = rp_outfile_mode_like(src);
	co.expect = seal;
	co.progress = o->run.progress;
	co.progress_ctx = o->run.progress_ctx;
	co.stop = o->run.stop;
	memset(&cr, 0, sizeof(cr));
	rc = rp_convert(img, out, &co, &cr, err);
	*vsize = rp_image_virtual_size(img);
	rp_image_free(img);
	return rc;
}

/*
 * Read the staged VHD back: the Azure checks on size and footer, then every chunk against the
 * seal (when it describes this virtual size) and the whole-disk sha256.
 */
static int verify_staged(const char *path, const struct rp_seal *seal, struct rp_stage_item *it,
			 volatile sig_atomic_t *stop, struct rp_err *err)
{
	struct rp_image_opts io = {0};
	struct rp_scan_opts so = {0};
	struct rp_scan_result sr;
	struct rp_image *img = NULL;
	uint8_t footer[VHD_FOOTER_SIZE];
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < VHD_FOOTER_SIZE ||
	    pread(fd, footer, sizeof(footer), st.st_size - VHD_FOOTER_SIZE) != VHD_FOOTER_SIZE) {
		rc = rp_err_errno(err, errno ? errno : EIO, "cannot read '%s'", path);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	it->file_size = (uint64_t)st.st_size;
	it->virtual_size = it->file_size - VHD_FOOTER_SIZE;
	rc = rp_upload_check_vhd(footer, it->file_size, err);
	if (rc)
		return rc;
	rc = rp_image_open(path, &io, &img, err);
	if (rc)
		return rc;
	memset(&sr, 0, sizeof(sr));
	so.whole_digests = 1u << RP_DIGEST_SHA256;
	if (seal && seal->virtual_size == rp_image_virtual_size(img))
		so.expect = seal;
	so.stop = stop;
	rc = rp_scan_run(img, &so, &sr, err);
	if (rc == 0 && sr.pipe.mismatch_count)
		rc = rp_err_set(err, RP_EVERIFY,
				"'%s': %zu chunks differ from the seal (the first "
				"at 0x%" PRIx64 ")",
				path, sr.pipe.mismatch_count,
				sr.pipe.mismatches ? sr.pipe.mismatches[0].offset : 0);
	if (rc == 0 && sr.pipe.whole_done[RP_DIGEST_SHA256])
		rp_hex(sr.pipe.whole[RP_DIGEST_SHA256], 32, it->sha256);
	if (so.expect)
		it->sealed = true;
	rp_scan_result_release(&sr);
	rp_image_free(img);
	return rc;
}

static int stage_disk(const struct rp_stage_opts *o, const struct rp_desc_disk *k,
		      struct rp_stage_item *it, struct rp_stage_result *res, struct rp_err *err)
{
	char path[4200], hex[65];
	int rc;

	snprintf(it->name, sizeof(it->name), "%s", k->name);
	snprintf(it->file, sizeof(it->file), "%s.vhd", k->name);
	it->kind = RP_STAGE_DISK;
	it->role = k->role;
	it->lun = k->lun;
	rc = join(path, sizeof(path), o->out_dir, it->file, err);
	if (rc)
		return rc;
	if (rp_is_url(k->source)) {
		rc = restore_url(o, k->source, path, RP_OUT_VHD, k->seal, it->source,
				 sizeof(it->source), hex, &it->source_virtual, err);
	} else {
		snprintf(it->source, sizeof(it->source), "%s", k->source);
		rc = convert_local(o, k->source, path, k->seal, &it->source_virtual, err);
	}
	if (rc)
		return rc;
	it->sealed = k->seal != NULL;
	if (k->seal && k->seal->has_sha256)
		rp_hex(k->seal->sha256, 32, it->seal_sha256);
	{
		struct stat st;
		uint64_t ignored;
		if (stat(path, &st) != 0)
			return rp_err_errno(err, errno, "cannot stat '%s'", path);
		/* A restored VHD whose virtual size is not a whole MiB: Azure refuses it, so it is
		 * converted once more, rounded up with zeros (the data is unchanged). A local
		 * source was rounded up by rp_convert already. */
		if (st.st_size < VHD_FOOTER_SIZE ||
		    ((uint64_t)st.st_size - VHD_FOOTER_SIZE) % MIB) {
			/* Into its own place: the open image keeps reading the old file while
			 * the new one is written beside it and renamed over it. */
			rc = convert_local(o, path, path, NULL, &ignored, err);
			if (rc)
				return rc;
		}
	}
	if (it->source_virtual % MIB)
		warn(res,
		     "disk '%s': its virtual size of %" PRIu64 " bytes is not a whole MiB; it "
		     "was rounded up with zeros to %" PRIu64 " bytes as Azure requires",
		     k->name, it->source_virtual, (it->source_virtual + MIB - 1) / MIB * MIB);
	rc = verify_staged(path, k->seal, it, o->run.stop, err);
	if (rc == 0 && k->seal == NULL)
		warn(res, "disk '%s' has no seal: %s", k->name,
		     rp_is_url(k->source)
			 ? "its bytes were checked only by the per-range hash of the "
			   "service (if it gave one)"
			 : "nothing vouches for the bytes of the local file");
	return rc;
}

static int stage_blob(const struct rp_stage_opts *o, const struct rp_desc_blob *b, int kind,
		      struct rp_stage_item *it, struct rp_err *err)
{
	char path[4200], hex[65];
	int rc;

	it->kind = kind;
	it->lun = -1;
	snprintf(it->name, sizeof(it->name), "%s",
		 kind == RP_STAGE_GUEST_STATE ? "guest_state" : "vm_metadata");
	snprintf(it->file, sizeof(it->file), "%s",
		 kind == RP_STAGE_GUEST_STATE ? "guest_state.vmgs" : "vm_metadata.vmmd");
	rc = join(path, sizeof(path), o->out_dir, it->file, err);
	if (rc)
		return rc;
	hex[0] = '\0';
	if (rp_is_url(b->source)) {
		uint64_t vsize;
		/* Every byte as the blob holds it: a guest state packaged as a VHD keeps its
		 * footer (a raw restore would cut it, and the upload would then be short). */
		rc = restore_url(o, b->source, path, RP_OUT_AUTO, NULL, it->source,
				 sizeof(it->source), hex, &vsize, err);
	} else {
		snprintf(it->source, sizeof(it->source), "%s", b->source);
		rc = rp_outfile_copy(b->source, path, true, err);
	}
	if (rc == 0)
		rc = file_sha256(path, it->sha256, err);
	if (rc == 0) {
		struct stat st;
		if (stat(path, &st) != 0)
			return rp_err_errno(err, errno, "cannot stat '%s'", path);
		it->file_size = (uint64_t)st.st_size;
		if (b->has_size && b->size != it->file_size)
			rc = rp_err_set(err, RP_EVERIFY,
					"%s: %" PRIu64 " bytes, but the recovery "
					"point says %" PRIu64,
					it->file, it->file_size, b->size);
	}
	return rc;
}

static bool chosen(const struct rp_stage_opts *o, const char *name)
{
	size_t i;

	if (o->ndisks == 0)
		return true;
	for (i = 0; i < o->ndisks; i++)
		if (strcmp(o->disks[i], name) == 0)
			return true;
	return false;
}

/* Warnings about what the operator must still decide, from the point and what was staged. */
static void judge_set(const struct rp_descriptor *d, const struct rp_stage_opts *o,
		      struct rp_stage_result *res, bool os_staged, bool gs_staged)
{
	enum rp_security_type t = d->vm.security_type;
	const char *tn = rp_security_type_name(t);

	if (os_staged && !gs_staged && t != RP_SECURITY_NONE &&
	    t != RP_SECURITY_CVM_NON_PERSISTED_TPM)
		warn(res,
		     "the recovery point's security type is %s but it has no guest state "
		     "(_vmgs blob, the disk restore point's securityDataAccessSAS): the OS disk is "
		     "staged for a plain Upload without its guest state, so the vTPM state (and "
		     "any key sealed to it) is missing",
		     tn);
	/* the OS disk does not get the SKU asked for (rp_stage_disk_sku) */
	if (os_staged && o->sku && strcmp(rp_stage_disk_sku(o, RP_DISK_OS), o->sku) != 0)
		warn(res,
		     "the SKU %s is for data disks only (Azure: Ultra Disks and Premium SSD v2 "
		     "cannot be OS disks): the OS disk is staged as Premium_LRS",
		     o->sku);
	if (t == RP_SECURITY_CVM_DISK_CMK && !o->des_id)
		warn(res,
		     "%s needs a disk encryption set: fill in <DISK_ENCRYPTION_SET_ID> in "
		     "restore.sh (parameter diskEncryptionSetId of disks.json and vm.json)",
		     tn);
	if (os_staged && d->vm.hyperv_generation == RP_HYPERV_UNKNOWN)
		warn(res, "the recovery point does not say the Hyper-V generation: disks.json "
			  "leaves it out (Azure assumes V1); set V2 for a UEFI OS disk");
	if (!d->vm.size[0])
		warn(res, "the recovery point does not say the VM size: fill in <VM_SIZE> in "
			  "restore.sh (parameter vmSize of vm.json)");
	if (t != RP_SECURITY_NONE)
		warn(res, "vm.json turns on secure boot and the vTPM (uefiSettings): check that "
			  "this matches the original VM");
	if (o->assumed_vm)
		warn(res, "SOURCE was a single disk: it is staged as the OS disk of a Linux VM "
			  "with no security type; edit the templates if that is wrong");
}

int rp_stage_run(const struct rp_descriptor *d, const struct rp_stage_opts *o,
		 struct rp_stage_result *res, struct rp_err *err)
{
	struct rp_stage_opts eff = *o;
	struct rp_descriptor point = *d;
	char path[4200];
	double t0 = rp_now_s();
	bool os_staged = false, gs_staged = false;
	size_t i, j;
	int rc;

	/* The disk encryption set the point names (a backup config's) unless the operator gives
	 * another. */
	if (!eff.des_id && d->vm.disk_encryption_set[0])
		eff.des_id = d->vm.disk_encryption_set;
	o = &eff;
	/* Trusted Launch and confidential VMs exist only as generation 2: a point that does not say
	 * the generation stages V2 disks for them (a V1 disk could not boot them). The copy shares
	 * the disks; only its VM part differs. */
	if (point.vm.security_type != RP_SECURITY_NONE &&
	    point.vm.hyperv_generation == RP_HYPERV_UNKNOWN) {
		point.vm.hyperv_generation = RP_HYPERV_V2;
		d = &point;
	}
	memset(res, 0, sizeof(*res));
	for (i = 0; i < o->ndisks; i++) {
		for (j = 0; j < d->ndisks && strcmp(d->disks[j].name, o->disks[i]) != 0; j++)
			;
		if (j == d->ndisks)
			return rp_err_set(err, RP_EUSAGE,
					  "the recovery point has no disk named '%s'", o->disks[i]);
	}
	if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
		return rp_err_errno(err, errno, "cannot create '%s'", o->out_dir);
	/* An earlier set's summary goes first: until the new one is written, DIR is incomplete. */
	rc = join(path, sizeof(path), o->out_dir, "STAGED.txt", err);
	if (rc)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT)
		return rp_err_errno(err, errno, "cannot remove '%s'", path);
	res->items = calloc(d->ndisks + 2, sizeof(*res->items));
	if (!res->items)
		return rp_err_set(err, RP_EIO, "out of memory");
	for (i = 0; i < d->ndisks; i++) {
		const struct rp_desc_disk *k = &d->disks[i];
		if (!chosen(o, k->name))
			continue;
		rc = stage_disk(o, k, &res->items[res->nitems], res, err);
		if (rc) {
			rp_err_prefix(err, "disk '%s'", k->name);
			return rc;
		}
		if (k->role == RP_DISK_OS)
			os_staged = true;
		res->nitems++;
	}
	/* The guest state and VM metadata belong to the OS disk. */
	if (os_staged && d->guest_state.source) {
		rc = stage_blob(o, &d->guest_state, RP_STAGE_GUEST_STATE, &res->items[res->nitems],
				err);
		if (rc) {
			rp_err_prefix(err, "guest state");
			return rc;
		}
		res->nitems++;
		gs_staged = true;
	}
	if (os_staged && d->vm_metadata.source) {
		rc = stage_blob(o, &d->vm_metadata, RP_STAGE_VM_METADATA, &res->items[res->nitems],
				err);
		if (rc) {
			rp_err_prefix(err, "vm metadata");
			return rc;
		}
		res->nitems++;
	}
	res->secure_upload = gs_staged && d->vm.security_type != RP_SECURITY_NONE;
	judge_set(d, o, res, os_staged, gs_staged);
	rc = rp_stage_write_templates(d, o, res, err);
	if (rc == 0) {
		res->seconds = rp_now_s() - t0;
		rc = rp_stage_write_summary(d, o, res, err);
	}
	res->seconds = rp_now_s() - t0;
	return rc;
}

void rp_stage_result_release(struct rp_stage_result *res)
{
	free(res->items);
	res->items = NULL;
	res->nitems = 0;
}
