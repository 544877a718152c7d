/*
 * The LUKS key checker: the only file that includes <libcryptsetup.h>.
 *
 * Each volume's header region is copied into a private temporary file and libcryptsetup loads
 * that copy: it never sees the image (which may be a VHD or VHDX it cannot read), it may repair
 * a damaged primary LUKS2 header in the copy without touching the user's files, and nothing
 * is activated (crypt_activate_by_passphrase with a NULL name only checks the keyslots).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "common/endian.h"
#include "common/text.h"
#include "formats/parttable.h"
#include "verify/luks.h"

#define COPY_CHUNK (1024u * 1024)

/* Where a volume's header bytes come from: the image at an offset, or a detached header file. */
struct luks_src {
	struct rp_image *img; /* NULL: fd */
	int fd;
	uint64_t off;	/* start of the volume in the image (0 for a file) */
	uint64_t avail; /* bytes available from off (partition length, or file size) */
};

/* libcryptsetup's error-level log lines for one volume, with the temporary path replaced. */
struct luks_log {
	char text[RP_ERR_MSG_MAX];
	const char *tmp_path;
};

static void log_silent(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

static void log_capture(int level, const char *msg, void *usrptr)
{
	struct luks_log *lg = usrptr;
	size_t used = strlen(lg->text), plen, i = 0;
	const char *hit;

	if (level != CRYPT_LOG_ERROR || !msg)
		return;
	if (used && used + 2 < sizeof(lg->text)) {
		memcpy(lg->text + used, "; ", 3);
		used += 2;
	}
	plen = lg->tmp_path ? strlen(lg->tmp_path) : 0;
	while (msg[i] && used + 1 < sizeof(lg->text)) {
		hit = plen ? strstr(msg + i, lg->tmp_path) : NULL;
		if (hit == msg + i) {
			const char *w = "the header copy";

			while (*w && used + 1 < sizeof(lg->text))
				lg->text[used++] = *w++;
			i += plen;
			continue;
		}
		/* one line per message: drop line breaks and other control characters */
		lg->text[used++] = (unsigned char)msg[i] < 0x20 ? ' ' : msg[i];
		i++;
	}
	while (used && lg->text[used - 1] == ' ')
		used--;
	lg->text[used] = 0;
}

static int src_read(struct luks_src *s, void *buf, size_t len, uint64_t at, struct rp_err *err)
{
	size_t done = 0;

	if (at > s->avail || len > s->avail - at)
		return rp_err_set(err, RP_EFORMAT,
				  "the LUKS header region needs %llu bytes, only %llu are there",
				  (unsigned long long)(at + len), (unsigned long long)s->avail);
	if (s->img)
		return rp_image_read(s->img, buf, len, s->off + at, err);
	while (done < len) {
		ssize_t n = pread(s->fd, (uint8_t *)buf + done, len - done, (off_t)(at + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rp_err_errno(err, errno, "cannot read the header file");
		if (n == 0)
			return rp_err_set(err, RP_EFORMAT, "the header file ends at %llu bytes",
					  (unsigned long long)(at + done));
		done += (size_t)n;
	}
	return 0;
}

/*
 * Read the first bytes of the volume until rp_luks_header_span() knows the region's size. For
 * a LUKS2 volume whose primary header does not parse, try the secondary copy (at the primary's
 * header size) as libcryptsetup does; *secondary says so (err keeps the primary's problem).
 * When neither parses (RP_EFORMAT), *fallback is how much to copy so that libcryptsetup can
 * give its own reason: both LUKS2 headers, or the first 4 MiB of a LUKS1 volume.
 */
static int region_span(struct luks_src *s, uint64_t *span, bool *secondary, uint64_t *fallback,
		       struct rp_err *err)
{
	uint64_t need = 4096, hdr_size;
	bool filled = false;
	uint8_t *buf = NULL, *nb;
	struct rp_err e2;
	int rc;

	*secondary = false;
	*fallback = 0;
	for (;;) {
		if (need > s->avail) {
			rc = rp_err_set(err, RP_EFORMAT,
					"the LUKS header needs %llu bytes, the volume has %llu",
					(unsigned long long)need, (unsigned long long)s->avail);
			goto out;
		}
		nb = realloc(buf, (size_t)need);
		if (!nb) {
			rc = rp_err_set(err, RP_EIO, "out of memory");
			goto out;
		}
		buf = nb;
		rc = src_read(s, buf, (size_t)need, 0, err);
		if (rc)
			goto out;
		filled = true;
		rc = rp_luks_header_span(buf, (size_t)need, span, &need, err);
		if (rc <= 0)
			break;
	}
	if (rc != RP_EFORMAT || !filled)
		goto out;
	*fallback = s->avail < 4u * 1024 * 1024 ? s->avail : 4u * 1024 * 1024;
	if (rp_be16(buf + 6) != 2)
		goto out;
	/* the primary LUKS2 header did not parse: its secondary is at offset hdr_size (spec 2.1) */
	*fallback = s->avail < 4096 ? s->avail : 4096;
	hdr_size = rp_be64(buf + 8);
	rp_err_init(&e2);
	if (hdr_size >= 16384 && hdr_size <= 4u * 1024 * 1024 && (hdr_size & (hdr_size - 1)) == 0 &&
	    hdr_size <= s->avail / 2) {
		*fallback = 2 * hdr_size;
		nb = realloc(buf, (size_t)hdr_size);
		if (nb && src_read(s, nb, (size_t)hdr_size, hdr_size, &e2) == 0 &&
		    rp_luks_header_span(nb, (size_t)hdr_size, span, &need, &e2) == 0) {
			*secondary = true;
			rc = 0;
		}
		if (nb)
			buf = nb;
	}
out:
	free(buf);
	return rc;
}

/* A private temporary file in $TMPDIR (or /tmp): mkstemp makes it 0600 and O_EXCL. */
static int tmp_create(char *path, size_t pathsz, int *fd, struct rp_err *err)
{
	const char *dir = getenv("TMPDIR");
	int n;

	if (!dir || !dir[0])
		dir = "/tmp";
	n = snprintf(path, pathsz, "%s/cvmrestore-luks-XXXXXX", dir);
	if (n < 0 || (size_t)n >= pathsz)
		return rp_err_set(err, RP_EUSAGE, "TMPDIR '%s' is too long", dir);
	*fd = mkstemp(path);
	if (*fd < 0) {
		int e = errno;

		path[0] = 0;
		return rp_err_errno(err, e, "cannot create a temporary file in '%s'", dir);
	}
	if (fchmod(*fd, S_IRUSR | S_IWUSR) != 0) {
		int e = errno;

		close(*fd);
		unlink(path);
		path[0] = 0;
		*fd = -1;
		return rp_err_errno(err, e, "cannot make a temporary file in '%s' private", dir);
	}
	return 0;
}

static int tmp_fill(struct luks_src *s, uint64_t span, int fd, struct rp_err *err)
{
	uint8_t *buf = malloc(COPY_CHUNK);
	uint64_t at = 0;
	int rc = 0;

	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory");
	while (rc == 0 && at < span) {
		size_t n = span - at < COPY_CHUNK ? (size_t)(span - at) : COPY_CHUNK, done = 0;

		rc = src_read(s, buf, n, at, err);
		while (rc == 0 && done < n) {
			ssize_t w = write(fd, buf + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				rc = rp_err_errno(err, w < 0 ? errno : ENOSPC,
						  "cannot write the temporary header copy");
			else
				done += (size_t)w;
		}
		at += n;
	}
	free(buf);
	return rc;
}

static void vol_set_error(struct rp_luks_volume *v, int code, const char *msg)
{
	v->outcome = RP_LUKS_ERROR;
	v->code = code;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

/*
 * The one place that reads libcryptsetup's words: did checking the key fail because the cipher
 * needs the kernel? Ciphers the userspace backend lacks go to the kernel crypto API (AF_ALG),
 * then to a temporary dm-crypt mapping, which needs device-mapper and root. A cipher the backend
 * lacks comes back as -ENOTSUP or -ENOENT, but when the dm-crypt fallback then fails,
 * libcryptsetup (2.6: lib/luks1/keyencryption.c and the LUKS2 storage wrapper) returns -EIO, the
 * code of any failed read, and says why in its log only; its API has no call that tells whether a
 * cipher works without the kernel. So beyond the codes this adapter matches its log text (log,
 * error level only).
 */
static bool needs_kernel_crypto(int r, const char *log)
{
	return r == -ENOTSUP || r == -ENOENT || strstr(log, "kernel") ||
	       strstr(log, "device-mapper") || strstr(log, "dm-crypt");
}

/* libcryptsetup's answer to a key, as an outcome; lg holds its log text. */
static void key_answer(struct rp_luks_volume *v, const struct rp_luks_key *key, int r,
		       const struct luks_log *lg)
{
	const char *why = lg->text[0] ? lg->text : strerror(r < 0 ? -r : r);

	if (r >= 0) {
		v->outcome = RP_LUKS_OPENED;
		v->code = 0;
		v->opened_keyslot = key->kind == RP_LUKS_VOLUME_KEY ? -1 : r;
		return;
	}
	if (r == -ENOENT && v->keyslot_count == 0) {
		v->outcome = RP_LUKS_NO_KEY;
		v->code = RP_EVERIFY;
		snprintf(v->message, sizeof(v->message),
			 "the volume has no active keyslot: no %s can open it",
			 rp_luks_key_kind_name(key->kind));
		return;
	}
	if (r == -EPERM) {
		v->outcome = RP_LUKS_NO_KEY;
		v->code = RP_EVERIFY;
		if (key->kind == RP_LUKS_VOLUME_KEY)
			snprintf(v->message, sizeof(v->message),
				 "the volume key in %s does not match the volume's digest",
				 key->path);
		else
			snprintf(v->message, sizeof(v->message),
				 "no keyslot opens with the %s in %s",
				 rp_luks_key_kind_name(key->kind), key->path);
		return;
	}
	if (needs_kernel_crypto(r, why)) {
		snprintf(
		    v->message, sizeof(v->message),
		    "cannot check the key without activating: cipher %s with a %u-bit key "
		    "needs the kernel crypto API or device-mapper, which are not available here "
		    "(libcryptsetup: %s)",
		    v->cipher[0] ? v->cipher : "?", v->key_bits, why);
		v->outcome = RP_LUKS_ERROR;
		v->code = RP_EFORMAT;
		return;
	}
	snprintf(v->message, sizeof(v->message), "libcryptsetup cannot check the key: %s", why);
	v->outcome = RP_LUKS_ERROR;
	v->code = RP_EFORMAT;
}

/*
 * Load the header copy at path and check the key; fills v. With problem set (our parser could
 * not size the region), only ask libcryptsetup for its reason; if it loads the header anyway,
 * problem is the error.
 */
static void check_copy(const char *path, const struct rp_luks_key *key, const char *problem,
		       struct rp_luks_volume *v)
{
	struct crypt_device *cd = NULL;
	struct luks_log lg = {.tmp_path = path};
	const char *type, *s;
	crypt_keyslot_info ks;
	int r, i, max;

	crypt_set_log_callback(NULL, log_silent, NULL);
	r = crypt_init(&cd, path);
	if (r < 0) {
		snprintf(lg.text, sizeof(lg.text), "libcryptsetup cannot open the header copy: %s",
			 strerror(-r));
		vol_set_error(v, RP_EIO, lg.text);
		return;
	}
	crypt_set_log_callback(cd, log_capture, &lg);
	r = crypt_load(cd, CRYPT_LUKS, NULL);
	if (r < 0) {
		char msg[RP_ERR_MSG_MAX];

		if (lg.text[0])
			snprintf(msg, sizeof(msg), "libcryptsetup rejects the header: %s", lg.text);
		else
			snprintf(msg, sizeof(msg), "libcryptsetup rejects the header: %s%s%s",
				 strerror(-r), problem ? "; " : "", problem ? problem : "");
		vol_set_error(v, RP_EFORMAT, msg);
		goto out;
	}
	if (problem) {
		vol_set_error(v, RP_EFORMAT, problem);
		goto out;
	}
	type = crypt_get_type(cd);
	v->version = type && strcmp(type, CRYPT_LUKS1) == 0 ? 1 : 2;
	s = crypt_get_uuid(cd);
	snprintf(v->uuid, sizeof(v->uuid), "%s", s ? s : "");
	s = crypt_get_label(cd);
	snprintf(v->label, sizeof(v->label), "%s", s ? s : "");
	if (crypt_get_cipher(cd) && crypt_get_cipher_mode(cd))
		snprintf(v->cipher, sizeof(v->cipher), "%s-%s", crypt_get_cipher(cd),
			 crypt_get_cipher_mode(cd));
	r = crypt_get_volume_key_size(cd);
	v->key_bits = r > 0 ? (unsigned)r * 8 : 0;
	max = crypt_keyslot_max(type);
	v->keyslot_count = 0;
	for (i = 0; i < max && i < RP_LUKS_MAX_KEYSLOTS; i++) {
		ks = crypt_keyslot_status(cd, i);
		if (ks == CRYPT_SLOT_ACTIVE || ks == CRYPT_SLOT_ACTIVE_LAST)
			v->keyslots[v->keyslot_count++] = (unsigned)i;
	}
	lg.text[0] = 0;
	if (key->kind == RP_LUKS_VOLUME_KEY) {
		if (key->data.len * 8 != v->key_bits) {
			v->outcome = RP_LUKS_NO_KEY;
			v->code = RP_EVERIFY;
			snprintf(v->message, sizeof(v->message),
				 "the volume key in %s has %zu bits, the volume's has %u",
				 key->path, key->data.len * 8, v->key_bits);
			goto out;
		}
		r = crypt_volume_key_verify(cd, (const char *)key->data.p, key->data.len);
	} else {
		r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT,
						 (const char *)key->data.p, key->data.len, 0);
	}
	key_answer(v, key, r, &lg);
out:
	crypt_free(cd);
}

/* Check one volume whose header bytes s provides; v has its place filled in already. */
static void check_volume(struct luks_src *s, const struct rp_luks_key *key,
			 struct rp_luks_volume *v)
{
	char path[4096];
	struct rp_err e, e2;
	uint64_t span = 0, fallback;
	bool secondary;
	int fd = -1, rc;

	v->opened_keyslot = -1;
	rp_err_init(&e);
	rc = region_span(s, &span, &secondary, &fallback, &e);
	if (rc && !(rc == RP_EFORMAT && fallback)) {
		vol_set_error(v, rc, e.msg);
		return;
	}
	rp_err_init(&e2);
	rc = tmp_create(path, sizeof(path), &fd, &e2);
	if (rc) {
		vol_set_error(v, rc, e2.msg);
		return;
	}
	/* Gone from the directory at once: not even a SIGKILL can leave the copy behind.
	 * libcryptsetup opens it again through /proc/self/fd. */
	unlink(path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = tmp_fill(s, span ? span : fallback, fd, &e2);
	if (rc)
		vol_set_error(v, rc, e2.msg);
	else
		check_copy(path, key, span ? NULL : e.msg, v);
	close(fd);
	if (secondary && v->outcome != RP_LUKS_ERROR && !v->message[0])
		snprintf(v->message, sizeof(v->message),
			 "the primary LUKS2 header is damaged (%s); the secondary copy was used",
			 e.msg);
}

/* Facts from our own probe, so a volume libcryptsetup rejects is still named. */
static void probe_facts(const uint8_t *buf, size_t len, struct rp_luks_volume *v)
{
	struct luks_probe lp;

	if (luks_probe_parse(buf, len, &lp, NULL) != 1) {
		v->version = rp_be16(buf + 6) <= 2 ? rp_be16(buf + 6) : 0;
		return;
	}
	v->version = lp.version;
	snprintf(v->uuid, sizeof(v->uuid), "%s", lp.uuid);
	snprintf(v->label, sizeof(v->label), "%s", lp.label);
	snprintf(v->cipher, sizeof(v->cipher), "%s", lp.cipher);
}

static const uint8_t luks_magic[6] = {'L', 'U', 'K', 'S', 0xBA, 0xBE};

static struct rp_luks_volume *res_add(struct rp_luks_result *res, struct rp_err *err)
{
	struct rp_luks_volume *nv;

	if (res->count > SIZE_MAX / sizeof(*nv) - 1) {
		rp_err_set(err, RP_EIO, "out of memory");
		return NULL;
	}
	nv = realloc(res->vol, (res->count + 1) * sizeof(*nv));
	if (!nv) {
		rp_err_set(err, RP_EIO, "out of memory");
		return NULL;
	}
	res->vol = nv;
	nv = &res->vol[res->count++];
	memset(nv, 0, sizeof(*nv));
	nv->opened_keyslot = -1;
	return nv;
}

/* Check the area [off, off+len) of the image if it starts with a LUKS magic. */
static int probe_area(struct rp_image *img, const struct rp_luks_key *key, int partition,
		      uint64_t off, uint64_t len, struct rp_luks_result *res, struct rp_err *err)
{
	uint8_t buf[LUKS_PROBE_SIZE];
	struct luks_src s = {.img = img, .fd = -1, .off = off, .avail = len};
	struct rp_luks_volume *v;
	int rc;

	if (len < sizeof(buf))
		return 0;
	rc = rp_image_read(img, buf, sizeof(buf), off, err);
	if (rc)
		return rc;
	if (memcmp(buf, luks_magic, sizeof(luks_magic)) != 0)
		return 0;
	v = res_add(res, err);
	if (!v)
		return RP_EIO;
	v->partition = partition;
	v->offset = off;
	probe_facts(buf, sizeof(buf), v);
	check_volume(&s, key, v);
	return 0;
}

static int walk_read(void *ctx, uint8_t *buf, size_t len, uint64_t off, struct rp_err *err)
{
	return rp_image_read(ctx, buf, len, off, err);
}

/*
 * The partitions of img: the first table that passes every check (formats/parttable.h,
 * PT_WALK_FIRST_VALID). A damaged table gives no partitions and no message: `inspect` is the
 * tool that explains partition tables.
 */
static int list_partitions(struct rp_image *img, struct pt_table *t, struct rp_err *err)
{
	struct pt_disk disk = {.read = walk_read,
			       .ctx = img,
			       .size = rp_image_virtual_size(img),
			       .sector_size = rp_image_sector_size(img)};

	return pt_walk(&disk, PT_WALK_FIRST_VALID, t, err);
}

static int check_detached(struct rp_image *img, const struct rp_luks_key *key, const char *header,
			  const struct pt_partition *part, struct rp_luks_result *res,
			  struct rp_err *err)
{
	struct luks_src s = {.fd = -1};
	struct rp_luks_volume *v;
	uint8_t buf[LUKS_PROBE_SIZE];
	struct stat st;
	struct rp_err e;
	size_t got;

	(void)img;
	s.fd = open(header, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0)
		return rp_err_errno(err, errno, "cannot open header '%s'", header);
	if (fstat(s.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(s.fd);
		return rp_err_set(err, RP_EUSAGE, "header '%s' is not a regular file", header);
	}
	s.avail = (uint64_t)st.st_size;
	v = res_add(res, err);
	if (!v) {
		close(s.fd);
		return RP_EIO;
	}
	v->detached = true;
	v->partition = part ? (int)part->index : 0;
	v->offset = part ? part->offset : 0;
	got = s.avail < sizeof(buf) ? (size_t)s.avail : sizeof(buf);
	memset(buf, 0, sizeof(buf));
	rp_err_init(&e);
	if (src_read(&s, buf, got, 0, &e) != 0) {
		vol_set_error(v, e.code, e.msg);
	} else if (memcmp(buf, luks_magic, sizeof(luks_magic)) != 0) {
		vol_set_error(v, RP_EFORMAT, "no LUKS header at the start of the file");
	} else {
		probe_facts(buf, sizeof(buf), v);
		check_volume(&s, key, v);
	}
	close(s.fd);
	return 0;
}

/* "partition 1 (LUKS2 uuid ...)" into out. */
static void vol_name(const struct rp_luks_volume *v, const struct rp_luks_result *res, char *out,
		     size_t outsz)
{
	char where[4200], what[96];

	if (v->detached)
		snprintf(where, sizeof(where), "header '%s'", res->header);
	else if (v->partition > 0)
		snprintf(where, sizeof(where), "partition %d", v->partition);
	else
		snprintf(where, sizeof(where), "the whole disk");
	if (v->version && v->uuid[0])
		snprintf(what, sizeof(what), " (LUKS%u uuid %s)", v->version, v->uuid);
	else if (v->version)
		snprintf(what, sizeof(what), " (LUKS%u)", v->version);
	else
		what[0] = 0;
	snprintf(out, outsz, "%s%s", where, what);
}

/* The overall answer once every volume has its outcome (see luks.h). */
static int summarize(const struct rp_luks_result *res, struct rp_err *err)
{
	char name[4400];
	size_t i, used;
	int first_error = -1;

	for (i = 0; i < res->count; i++) {
		if (res->vol[i].outcome == RP_LUKS_OPENED)
			return 0;
		if (res->vol[i].outcome == RP_LUKS_ERROR && first_error < 0)
			first_error = (int)i;
	}
	if (first_error >= 0) {
		const struct rp_luks_volume *v = &res->vol[first_error];

		vol_name(v, res, name, sizeof(name));
		return rp_err_set(err, v->code ? v->code : RP_EFORMAT, "%s: %s", name, v->message);
	}
	/* every volume answered "no key": name them all (the message is bounded by err) */
	rp_err_set(err, RP_EVERIFY, "%s", "");
	for (i = 0; err && i < res->count; i++) {
		vol_name(&res->vol[i], res, name, sizeof(name));
		used = strlen(err->msg);
		snprintf(err->msg + used, sizeof(err->msg) - used, "%s%s: %s", i ? "; " : "", name,
			 res->vol[i].message);
	}
	return RP_EVERIFY;
}

int rp_luks_check_image(struct rp_image *img, const struct rp_luks_key *key, const char *header,
			int partition, struct rp_luks_result *res, struct rp_err *err)
{
	const struct pt_partition *part = NULL, *parts;
	struct pt_table *t;
	unsigned count, i;
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->image, sizeof(res->image), "%s", rp_image_path(img));
	snprintf(res->header, sizeof(res->header), "%s", header ? header : "");
	res->key_kind = key->kind;
	/* process-wide: our copies are private, so libcryptsetup's file locks add nothing */
	crypt_metadata_locking(NULL, 0);
	crypt_set_log_callback(NULL, log_silent, NULL);
	t = calloc(1, sizeof(*t));
	if (!t)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = list_partitions(img, t, err);
	if (rc)
		goto out;
	parts = t->part;
	count = t->count;
	for (i = 0; partition > 0 && i < count; i++)
		if (parts[i].index == (unsigned)partition)
			part = &parts[i];
	if (partition > 0 && !part) {
		rc = rp_err_set(err, RP_EUSAGE, "'%s' has no partition %d (it has %u)", res->image,
				partition, count);
		goto out;
	}
	if (header) {
		rc = check_detached(img, key, header, part, res, err);
	} else {
		if (partition <= 0)
			rc = probe_area(img, key, 0, 0, rp_image_virtual_size(img), res, err);
		for (i = 0; rc == 0 && i < count; i++)
			if (partition < 0 || parts[i].index == (unsigned)partition)
				rc = probe_area(img, key, (int)parts[i].index, parts[i].offset,
						parts[i].length, res, err);
	}
	if (rc)
		goto out;
	if (res->count == 0) {
		if (partition > 0)
			rc = rp_err_set(err, RP_EFORMAT, "no LUKS header in partition %d of '%s'",
					partition, res->image);
		else if (partition == 0)
			rc = rp_err_set(err, RP_EFORMAT,
					"no LUKS header at the start of '%s' (whole disk)",
					res->image);
		else
			rc = rp_err_set(
			    err, RP_EFORMAT,
			    "no LUKS volume in '%s' (whole disk and %u partitions looked at)",
			    res->image, count);
		goto out;
	}
	rc = summarize(res, err);
out:
	free(t);
	return rc;
}

void rp_luks_result_release(struct rp_luks_result *res)
{
	free(res->vol);
	res->vol = NULL;
	res->count = 0;
}

const char *rp_luks_outcome_name(enum rp_luks_outcome o)
{
	switch (o) {
	case RP_LUKS_OPENED:
		return "opened";
	case RP_LUKS_NO_KEY:
		return "no-key-opened";
	case RP_LUKS_ERROR:
		return "error";
	}
	return "error";
}

struct rp_json *rp_luks_volume_json(const struct rp_luks_volume *v)
{
	struct rp_json *o = rp_json_new_object(), *slots = rp_json_new_array();
	unsigned i;
	int bad = !o || !slots;

	for (i = 0; !bad && i < v->keyslot_count; i++)
		bad |= rp_json_append(slots, rp_json_new_u64(v->keyslots[i])) != 0;
	if (bad) {
		rp_json_free(o);
		rp_json_free(slots);
		return NULL;
	}
	bad |= rp_json_set(o, "partition",
			   v->partition > 0 ? rp_json_new_u64((uint64_t)v->partition)
					    : rp_json_new_null());
	bad |= rp_json_set_u64(o, "offset", v->offset);
	bad |= rp_json_set_bool(o, "detached_header", v->detached);
	bad |= rp_json_set(o, "version",
			   v->version ? rp_json_new_u64(v->version) : rp_json_new_null());
	bad |= rp_json_set_str(o, "uuid", v->uuid);
	bad |= rp_json_set_str(o, "label", v->label);
	bad |= rp_json_set_str(o, "cipher", v->cipher);
	bad |= rp_json_set_u64(o, "key_bits", v->key_bits);
	bad |= rp_json_set(o, "keyslots", slots);
	bad |= rp_json_set(o, "opened_keyslot",
			   v->opened_keyslot >= 0 ? rp_json_new_u64((uint64_t)v->opened_keyslot)
						  : rp_json_new_null());
	bad |= rp_json_set_str(o, "result", rp_luks_outcome_name(v->outcome));
	bad |= rp_json_set_str(o, "message", v->message);
	if (bad) {
		rp_json_free(o);
		return NULL;
	}
	return o;
}

struct rp_json *rp_luks_result_json(const struct rp_luks_result *res)
{
	struct rp_json *o = rp_json_new_object(), *arr = rp_json_new_array();
	size_t i;
	int bad = !o || !arr;

	for (i = 0; !bad && i < res->count; i++)
		bad |= rp_json_append(arr, rp_luks_volume_json(&res->vol[i])) != 0;
	if (bad) {
		rp_json_free(o);
		rp_json_free(arr);
		return NULL;
	}
	bad |= rp_json_set_str(o, "image", RP_URL(res->image));
	if (res->header[0])
		bad |= rp_json_set_str(o, "header", res->header);
	bad |= rp_json_set_str(o, "key", rp_luks_key_kind_name(res->key_kind));
	bad |= rp_json_set(o, "volumes", arr);
	if (bad) {
		rp_json_free(o);
		return NULL;
	}
	return o;
}
