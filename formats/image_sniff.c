/*
 * Signatures of containers and compressed files that we do not read (docs/formats.md). A raw
 * disk has no signature, so "raw" may only be concluded when none of these matches: without
 * this table a qcow2 file was read as a raw disk whose bytes are the qcow2 container, and
 * `convert` wrapped those bytes into a VHD with exit 0.
 *
 * Each entry is checked at fixed offsets of the first and last 512 bytes of the file; the
 * offsets and values come from the formats' public descriptions (qemu's block drivers, the
 * compressors' format documents) and are listed in docs/formats.md.
 */
#include "formats/image.h"

#include <string.h>

#define HEAD 512

/* qemu-img's own name for each container format is what -f takes. */
static const struct rp_image_foreign foreign[] = {
    {"qcow2", "qcow2 image", "qemu-img convert -f qcow2 -O raw SOURCE disk.raw"},
    {"qcow", "qcow (version 1) image", "qemu-img convert -f qcow -O raw SOURCE disk.raw"},
    {"qed", "QED image", "qemu-img convert -f qed -O raw SOURCE disk.raw"},
    {"vmdk", "VMDK sparse extent", "qemu-img convert -f vmdk -O raw SOURCE disk.raw"},
    {"vmdk", "VMDK descriptor file", "qemu-img convert -f vmdk -O raw SOURCE disk.raw"},
    {"vmdk", "VMDK (COWD, version 3) sparse extent",
     "qemu-img convert -f vmdk -O raw SOURCE disk.raw"},
    {"vdi", "VirtualBox VDI image", "qemu-img convert -f vdi -O raw SOURCE disk.raw"},
    {"parallels", "Parallels image", "qemu-img convert -f parallels -O raw SOURCE disk.raw"},
    {"bochs", "Bochs image", "qemu-img convert -f bochs -O raw SOURCE disk.raw"},
    {"cloop", "cloop compressed image", "qemu-img convert -f cloop -O raw SOURCE disk.raw"},
    {"dmg", "Apple disk image (DMG)", "qemu-img convert -f dmg -O raw SOURCE disk.raw"},
    {"gzip", "gzip-compressed file", "zcat SOURCE > disk.raw"},
    {"xz", "xz-compressed file", "xz -dc SOURCE > disk.raw"},
    {"zstd", "zstd-compressed file", "zstd -dc SOURCE -o disk.raw"},
    {"bzip2", "bzip2-compressed file", "bzip2 -dc SOURCE > disk.raw"},
    {"json", "JSON document", NULL},
};

enum {
	F_QCOW2,
	F_QCOW,
	F_QED,
	F_VMDK_SPARSE,
	F_VMDK_DESC,
	F_VMDK_COWD,
	F_VDI,
	F_PARALLELS,
	F_BOCHS,
	F_CLOOP,
	F_DMG,
	F_GZIP,
	F_XZ,
	F_ZSTD,
	F_BZIP2,
	F_JSON,
};

_Static_assert(sizeof(foreign) / sizeof(foreign[0]) == F_JSON + 1, "one entry per signature");

static bool at(const uint8_t *buf, size_t len, size_t off, const void *sig, size_t n)
{
	return off <= len && n <= len - off && memcmp(buf + off, sig, n) == 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* JSON text holds no control byte but tab, LF and CR (RFC 8259: others are escaped in
 * strings); random sector data holds dozens. */
static bool json_text(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
	return true;
}

bool rp_image_looks_like_json(const uint8_t *head, size_t len)
{
	size_t i = 0;

	if (at(head, len, 0, "\xef\xbb\xbf", 3))
		i = 3;
	for (; i < len; i++) {
		if (head[i] == '{' || head[i] == '[')
			return json_text(head, len);
		if (head[i] != ' ' && head[i] != '\t' && head[i] != '\r' && head[i] != '\n')
			return false;
	}
	return false;
}

const struct rp_image_foreign *rp_image_sniff(const uint8_t *head, size_t head_len,
					      const uint8_t *tail, size_t tail_len)
{
	if (head_len > HEAD)
		head_len = HEAD;
	/* qcow and qcow2 share the magic "QFI\xfb"; the big-endian version after it tells them
	 * apart (1: qcow, 2 and 3: qcow2). */
	if (at(head, head_len, 0, "QFI\xfb", 4) && head_len >= 8)
		return &foreign[be32(head + 4) == 1 ? F_QCOW : F_QCOW2];
	if (at(head, head_len, 0, "QED\0", 4))
		return &foreign[F_QED];
	if (at(head, head_len, 0, "KDMV", 4))
		return &foreign[F_VMDK_SPARSE];
	if (at(head, head_len, 0, "COWD", 4))
		return &foreign[F_VMDK_COWD];
	if (at(head, head_len, 0, "# Disk DescriptorFile", 21))
		return &foreign[F_VMDK_DESC];
	/* VDI: 64 bytes of banner text, then the little-endian signature 0xbeda107f. */
	if (at(head, head_len, 0x40, "\x7f\x10\xda\xbe", 4))
		return &foreign[F_VDI];
	if (at(head, head_len, 0, "WithoutFreeSpace", 16) ||
	    at(head, head_len, 0, "WithouFreSpacExt", 16))
		return &foreign[F_PARALLELS];
	if (at(head, head_len, 0, "Bochs Virtual HD Image\0", 23))
		return &foreign[F_BOCHS];
	if (at(head, head_len, 0, "#!/bin/sh\n#V2.0 Format\n", 23))
		return &foreign[F_CLOOP];
	/* gzip: ID1 ID2 and CM 8 (deflate, the only method defined, RFC 1952). */
	if (at(head, head_len, 0, "\x1f\x8b\x08", 3))
		return &foreign[F_GZIP];
	if (at(head, head_len, 0,
	       "\xfd"
	       "7zXZ\0",
	       6))
		return &foreign[F_XZ];
	if (at(head, head_len, 0, "\x28\xb5\x2f\xfd", 4))
		return &foreign[F_ZSTD];
	/* bzip2: "BZh", the block size '1'..'9', then a block header (pi) or the end-of-stream
	 * marker (sqrt(pi)) of an empty stream. */
	if (at(head, head_len, 0, "BZh", 3) && head_len >= 10 && head[3] >= '1' && head[3] <= '9' &&
	    (at(head, head_len, 4, "\x31\x41\x59\x26\x53\x59", 6) ||
	     at(head, head_len, 4, "\x17\x72\x45\x38\x50\x90", 6)))
		return &foreign[F_BZIP2];
	if (rp_image_looks_like_json(head, head_len))
		return &foreign[F_JSON];
	/* DMG: the "koly" trailer fills the last 512 bytes. */
	if (tail_len == 512 && at(tail, tail_len, 0, "koly", 4))
		return &foreign[F_DMG];
	return NULL;
}
