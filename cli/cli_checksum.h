/*
 * --checksum-file FILE [--checksum-algs LIST]: after a command's file is complete (restore and
 * convert: the file written, synced; verify: the image file verified), every byte of it is read
 * back and its checksums are written to FILE in the tagged form of GNU coreutils
 * ("SHA256 (NAME) = HEX", one line per algorithm and file), which `sha256sum -c FILE`,
 * `md5sum -c FILE` and `cksum -c FILE` check. FILE is written atomically (common/outfile.h).
 */
#ifndef RP_CLI_CHECKSUM_H
#define RP_CLI_CHECKSUM_H

#include <stddef.h>

#include "cli/cli_util.h"
#include "common/err.h"

struct cli_checksum_args {
	const char *file; /* --checksum-file, or NULL */
	unsigned algs;	  /* 1u << enum rp_digest_alg; 0: sha256 */
};

/* CLI_SET for --checksum-algs: a list of sha256, md5, sha1 into an unsigned mask. */
int cli_set_checksum_algs(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg);

/* The two options, bound to struct cli_checksum_args m of T; what names the file read back. */
#define CLI_CHECKSUM_OPTS(T, m, what)                                                              \
	CLI_OPT_STR("checksum-file", 0, "FILE",                                                    \
		    "write the checksums of " what " to FILE (sha256sum -c FILE checks them); "    \
		    "reads every byte of it again at the end",                                     \
		    T, m.file),                                                                    \
	    CLI_OPT_SET("checksum-algs", 0, "LIST",                                                \
			"the checksums of --checksum-file: sha256,md5,sha1 (default sha256)", T,   \
			m.algs, cli_set_checksum_algs)

/*
 * Read each of files[0..n) from start to end and write a->file: per file, one line per
 * algorithm. A file in the same folder as a->file is named by its base name (run the check in
 * that folder), any other by its path as given. 0 or an error code (err says which file).
 */
int cli_checksum_write(const struct cli_checksum_args *a, const char *const *files, size_t n,
		       struct rp_err *err);

#endif
