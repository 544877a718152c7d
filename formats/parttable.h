/*
 * Partition tables (MBR and GPT, UEFI 2.x chapter 5) and LUKS header detection.
 *
 * Pure parsers over caller buffers, and pt_walk, the one walk from a disk to its partitions
 * (`inspect` and the LUKS key check both use it), which reads through a caller's function. The
 * sector size is 512 unless the caller says otherwise (a GPT header is looked for at LBA 1 for
 * the given sector size). Thread-safe.
 */
#ifndef RP_FORMATS_PARTTABLE_H
#define RP_FORMATS_PARTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PT_MAX_PARTITIONS 128

enum pt_kind {
	PT_NONE = 0,
	PT_MBR = 1,
	PT_GPT = 2,
};

struct pt_partition {
	unsigned index;	       /* 1-based, as tools number them */
	uint64_t first_lba;    /* in sectors */
	uint64_t last_lba;     /* inclusive */
	uint64_t offset;       /* bytes */
	uint64_t length;       /* bytes */
	uint8_t mbr_type;      /* MBR only */
	uint8_t type_guid[16]; /* GPT only, as stored */
	uint8_t part_guid[16]; /* GPT only, as stored */
	uint64_t attributes;
	char name[109];	       /* GPT name (36 UTF-16LE units) as UTF-8 */
	const char *type_name; /* a well-known name for the type, or "unknown" */
};

/* The MBR at LBA 0 (512 bytes): signature 0x55AA; a protective MBR (type 0xEE) is reported as such.
 */
struct pt_mbr {
	bool valid;
	bool protective;
	uint32_t disk_signature;
	unsigned count;
	struct pt_partition part[4];
};

/* Parse an MBR from buf[0..len) (len >= 512); disk_size bounds the partitions. */
int pt_mbr_parse(const uint8_t *buf, size_t len, uint64_t disk_size, struct pt_mbr *out,
		 struct rp_err *err);

struct pt_gpt_header {
	uint32_t revision;
	uint32_t header_size;
	uint32_t header_crc_stored;
	uint32_t header_crc_computed;
	bool header_crc_ok;
	uint64_t current_lba;
	uint64_t backup_lba;
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	uint8_t disk_guid[16];
	uint64_t entries_lba;
	uint32_t entry_count;
	uint32_t entry_size;
	uint32_t entries_crc;
};

enum pt_flags {
	PT_IGNORE_CHECKSUMS = 1,
};

/*
 * Parse a GPT header from buf[0..len) (one sector). Checks: signature "EFI PART", revision
 * 1.0, header size in [92, sector], CRC-32 of the header, entry size a multiple of 128 and at
 * most 4096, entry count at most 4096, entries array and usable range inside disk_sectors.
 */
int pt_gpt_header_parse(const uint8_t *buf, size_t len, uint32_t sector_size, uint64_t disk_sectors,
			unsigned flags, struct pt_gpt_header *out, struct rp_err *err);

/*
 * The CRC-32 of the partition entries array of header h (entry_count * entry_size bytes in buf)
 * against h->entries_crc: 0 when it matches; 1 when it does not, err naming stored and computed
 * values (code RP_EFORMAT); RP_EUSAGE or RP_EFORMAT (negative) when the array cannot be checked
 * (sizes out of bounds in h, fewer bytes than the array). A mismatch is data, not text: callers
 * tell it by the 1.
 */
int pt_gpt_entries_crc_check(const uint8_t *buf, size_t len, const struct pt_gpt_header *h,
			     struct rp_err *err);

/*
 * Parse the partition entries array (entry_count * entry_size bytes in buf) of header h:
 * CRC-32 checked against h->entries_crc (pt_gpt_entries_crc_check, unless flags has
 * PT_IGNORE_CHECKSUMS); used entries (non-zero type GUID) kept, up to PT_MAX_PARTITIONS; each
 * must lie in the usable range with first <= last.
 */
int pt_gpt_entries_parse(const uint8_t *buf, size_t len, const struct pt_gpt_header *h,
			 uint32_t sector_size, unsigned flags, struct pt_partition *parts,
			 unsigned *count, struct rp_err *err);

/* Name of a well-known GPT type GUID (Linux filesystem, EFI system, LUKS, ...) or "unknown". */
const char *pt_gpt_type_name(const uint8_t type_guid[16]);

/* Read len bytes at byte offset off of the disk into buf: 0, or an RP_E* code with err set. */
typedef int (*pt_read_fn)(void *ctx, uint8_t *buf, size_t len, uint64_t off, struct rp_err *err);

/*
 * A problem pt_walk found in a table; e->msg names where ("GPT header at 0x200: ..."). fatal:
 * the table cannot be used as it is. checksum: the problem is a CRC-32 mismatch (then the table
 * is used anyway when the walk has PT_IGNORE_CHECKSUMS).
 */
typedef void (*pt_problem_fn)(void *ctx, const struct rp_err *e, bool fatal, bool checksum);

struct pt_disk {
	pt_read_fn read;
	void *ctx;
	uint64_t size;	       /* bytes */
	uint32_t sector_size;  /* the disk's logical sector size; 4096 is tried after it */
	pt_problem_fn problem; /* NULL: problems are not told */
	void *problem_ctx;
};

enum pt_walk_flags {
	/* PT_IGNORE_CHECKSUMS (1): use a GPT header or entries array whose CRC-32 is wrong. */
	/*
	 * Take the first table that passes every check: the primary GPT (header and entries), else
	 * the backup GPT header (at the primary's alternate LBA, or the last LBA) and its entries,
	 * for the disk's sector size and then 4096, else a non-protective MBR. For finding volumes
	 * (verify/luks.c).
	 * Without it the walk describes (formats/image_describe.c): a GPT signature at LBA 1 makes
	 * the disk GPT; a damaged primary header is replaced by a good backup, and a damaged
	 * entries array gives no partitions, each problem told through disk->problem; when no GPT
	 * header is usable the table is PT_NONE and the MBR is not used.
	 */
	PT_WALK_FIRST_VALID = 2,
};

struct pt_table {
	enum pt_kind kind;	 /* PT_NONE: no table (or a GPT none of whose headers is usable) */
	uint32_t sector_size;	 /* GPT: the sector size the table was found with */
	uint32_t disk_signature; /* MBR */
	/* GPT: the header at LBA 1 as parsed (CRC-32 not enforced); zero if it did not parse */
	struct pt_gpt_header primary;
	struct pt_gpt_header header; /* GPT: the header whose entries are listed */
	bool backup_used;	     /* GPT: header is the backup header */
	/* GPT: the backup header parsed with a correct CRC-32 (not read when PT_WALK_FIRST_VALID
	 * found the primary good) */
	bool backup_ok;
	unsigned count;
	struct pt_partition part[PT_MAX_PARTITIONS];
};

/*
 * Find the partition table of a disk (the MBR at LBA 0 first, then a GPT; flags as above,
 * PT_IGNORE_CHECKSUMS too) into *out (large: allocate it). Problems with the tables are not
 * errors: they go to disk->problem, in the order met. Returns 0, or the code of a failed read.
 */
int pt_walk(const struct pt_disk *disk, unsigned flags, struct pt_table *out, struct rp_err *err);

#define LUKS_PROBE_SIZE 4096

struct luks_probe {
	unsigned version; /* 1 or 2 */
	char uuid[41];
	char label[49];	   /* LUKS2 only */
	char cipher[65];   /* LUKS1: cipher-mode from the header; LUKS2: empty (it lives in JSON) */
	uint64_t hdr_size; /* LUKS2 header size; LUKS1: payload offset in bytes */
};

/*
 * Detect a LUKS header at the start of buf[0..len) (len >= 4096 for LUKS2 fields): magic
 * "LUKS\xba\xbe" and version 1 or 2. Returns 1 if found (out filled), 0 if not a LUKS header,
 * RP_EFORMAT if the magic is there but the header is malformed.
 */
int luks_probe_parse(const uint8_t *buf, size_t len, struct luks_probe *out, struct rp_err *err);

#endif
