/*
 * LUKS key checks: does a passphrase, a key file or a volume key open the LUKS1/LUKS2 volumes of
 * a disk image? Nothing is activated and no root is needed: the header region of each volume
 * (LUKS1: the phdr and the key material of all eight slots; LUKS2: both binary headers, the
 * JSON areas and the keyslots area) is copied into a private temporary file (mkstemp in $TMPDIR
 * or /tmp, mode 0600, removed before returning, also on error) and libcryptsetup checks the key
 * against that copy. A detached header (cryptsetup --header, ADE's luks/osluksheader) is copied
 * the same way, so the caller's file is never written.
 *
 * Key material is read into locked, wiped buffers (common/secret.h) and never formatted into a
 * message or a report. libcryptsetup's own log is captured per volume (error level only) and
 * becomes the volume's message; it never contains key bytes.
 *
 * Not thread-safe: libcryptsetup keeps process-wide settings (log callback, metadata locking);
 * call from one thread at a time.
 */
#ifndef RP_VERIFY_LUKS_H
#define RP_VERIFY_LUKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"
#include "common/secret.h"
#include "formats/image.h"

/* Largest header region we copy (LUKS2 allows a 4 MiB JSON area and a large keyslots area). */
#define RP_LUKS_MAX_HEADER (64u * 1024 * 1024)

/* Largest passphrase or key file read (cryptsetup's compiled-in maximum, 8 MiB). */
#define RP_LUKS_MAX_KEYFILE (8u * 1024 * 1024)

/* Largest volume key (LUKS1 allows up to 512 bytes of key, e.g. 4096 bits). */
#define RP_LUKS_MAX_VOLUME_KEY 512u

enum rp_luks_key_kind {
	RP_LUKS_PASSPHRASE, /* text: the file up to its first newline (one line, see below) */
	RP_LUKS_KEY_FILE,   /* binary: every byte of the file, as cryptsetup --key-file F */
	RP_LUKS_VOLUME_KEY, /* binary: the raw volume (master) key, as luksDump --dump-volume-key */
};

struct rp_luks_key {
	enum rp_luks_key_kind kind;
	const char *path;      /* borrowed: named in messages (never the content) */
	struct rp_secret data; /* the key bytes actually used */
};

/*
 * Read a key of the given kind from path into key (key->path borrows path).
 *   RP_LUKS_PASSPHRASE: like `cryptsetup open` reading a passphrase from stdin, the passphrase
 *     ends at the first newline, which is dropped; a file with anything after that newline is
 *     refused (RP_EUSAGE) because cryptsetup would silently ignore it. A "\r" stays part of the
 *     passphrase, as for cryptsetup.
 *   RP_LUKS_KEY_FILE: the whole file, newlines included (cryptsetup --key-file F).
 *   RP_LUKS_VOLUME_KEY: the whole file, 1..512 bytes of raw key.
 * An empty key is RP_EUSAGE. Release with rp_luks_key_release().
 */
int rp_luks_key_read(enum rp_luks_key_kind kind, const char *path, struct rp_luks_key *key,
		     struct rp_err *err);

/* Wipe and free the key bytes; safe on a zeroed or already released key. */
void rp_luks_key_release(struct rp_luks_key *key);

/* "passphrase", "key file" or "volume key". */
const char *rp_luks_key_kind_name(enum rp_luks_key_kind kind);

enum rp_luks_outcome {
	RP_LUKS_OPENED, /* a keyslot opened (or the volume key matched the digest) */
	RP_LUKS_NO_KEY, /* the header is fine, the key opens nothing */
	RP_LUKS_ERROR,	/* the volume could not be checked: code and message say why */
};

#define RP_LUKS_MAX_KEYSLOTS 32 /* LUKS2's maximum; LUKS1 has 8 */

struct rp_luks_volume {
	int partition;	  /* partition number; 0 whole disk */
	uint64_t offset;  /* bytes from the start of the virtual disk */
	bool detached;	  /* the header came from a separate file (rp_luks_check_image header) */
	unsigned version; /* 1 or 2; 0 if unknown */
	char uuid[41];
	char label[49];				 /* LUKS2 label, may be empty */
	char cipher[96];			 /* "aes-xts-plain64"; empty if unknown */
	unsigned key_bits;			 /* volume key size in bits; 0 if unknown */
	unsigned keyslots[RP_LUKS_MAX_KEYSLOTS]; /* active keyslots, ascending */
	unsigned keyslot_count;
	int opened_keyslot; /* the keyslot that opened, -1 for none (and for a volume key) */
	enum rp_luks_outcome outcome;
	int code;		      /* 0, RP_EVERIFY (no key) or the error code */
	char message[RP_ERR_MSG_MAX]; /* why it did not open; empty when opened */
};

struct rp_luks_result {
	char image[4096];  /* the image path */
	char header[4096]; /* the detached header path, or empty */
	enum rp_luks_key_kind key_kind;
	struct rp_luks_volume *vol; /* count entries, owned */
	size_t count;
};

/*
 * Find the LUKS volumes of img and check key against each.
 *   header NULL: look at the whole disk and at every GPT (primary, else backup) or MBR partition
 *     for a LUKS1/LUKS2 header; partition > 0 limits the search to that partition, partition 0
 *     to the whole disk, partition < 0 means all.
 *   header set: the file is a detached LUKS header; it is checked once, and the volume is
 *     reported at partition (> 0: that partition's offset, which must exist; <= 0: the whole
 *     disk, offset 0). The image's own bytes are not read for the key check.
 * res (caller's, filled even on failure; release with rp_luks_result_release) lists every
 * volume with its facts and outcome. Returns:
 *   0            some volume opened;
 *   RP_EVERIFY   volumes were checked and none opened (err names them and the key file);
 *   RP_EFORMAT   no LUKS volume where we looked, or (when nothing opened) the first volume
 *                whose header libcryptsetup rejects, with its reason; a cipher that needs the
 *                kernel crypto API or device-mapper, which are not available, also says so;
 *   RP_EUSAGE    no such partition; RP_EIO read or temporary file failures.
 * When nothing opens, an error of a volume wins over "no key" (that volume may be the one the
 * key belongs to).
 */
int rp_luks_check_image(struct rp_image *img, const struct rp_luks_key *key, const char *header,
			int partition, struct rp_luks_result *res, struct rp_err *err);

void rp_luks_result_release(struct rp_luks_result *res);

/* "opened", "no-key-opened" or "error". */
const char *rp_luks_outcome_name(enum rp_luks_outcome o);

/*
 * The report as JSON: {"image", "header" (if any), "key": kind, "volumes": [{"partition" (null
 * for the whole disk), "offset", "detached_header", "version", "uuid", "label", "cipher",
 * "key_bits", "keyslots": [..], "opened_keyslot" (null for none), "result", "message"}]}. Caller
 * frees with rp_json_free; NULL if memory runs out. Contains no key material.
 */
struct rp_json *rp_luks_result_json(const struct rp_luks_result *res);

/* One volume of it, as in "volumes" (for reports that carry the volumes only). */
struct rp_json *rp_luks_volume_json(const struct rp_luks_volume *v);

/*
 * Pure parser: how many bytes from the start of a LUKS volume hold its header and key material,
 * from buf[0..len) = the first bytes of the volume. LUKS1 needs the 592-byte phdr: the end of
 * the furthest keyslot's key material (cryptsetup's LUKS_device_sectors), at least 4096.
 * LUKS2 needs the binary header and its JSON area (the header size at +8): 2 * header size +
 * config.keyslots_size (cryptsetup's LUKS2_hdr_and_areas_size). Returns 0 with *span set,
 * 1 with *need set when len is too short (call again with *need bytes), RP_EFORMAT naming the
 * field when the header is malformed or the span exceeds RP_LUKS_MAX_HEADER. A LUKS2
 * secondary header (magic "SKUL\xba\xbe") is accepted too and gives the same span.
 */
int rp_luks_header_span(const uint8_t *buf, size_t len, uint64_t *span, uint64_t *need,
			struct rp_err *err);

#endif
