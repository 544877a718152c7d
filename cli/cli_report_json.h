/*
 * The verify report (docs/report.md; its model, schema and members in verify/report.h): the
 * envelope, one object per disk with its chunk map, and the Prometheus textfile written from the
 * same numbers. Only public values go in: sources are shown without their query (no SAS), never a
 * key.
 */
#ifndef RP_CLI_REPORT_JSON_H
#define RP_CLI_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/cli_util.h"
#include "formats/seal.h"
#include "verify/digest.h"
#include "verify/report.h"
#include "verify/scan.h"

#define CLI_REPORT_MAX_REASONS 8

struct cli_case {
	const char *case_id, *evidence_id, *examiner, *notes; /* each may be NULL */
};

struct cli_report_source {
	const char *kind; /* "url", "file" or "descriptor" */
	const char *display;
	const char *etag;	    /* may be NULL */
	const char *recovery_point; /* descriptor id, may be NULL */
};

struct cli_reason {
	const char *code; /* a reason code of docs/report.md */
	char message[RP_ERR_MSG_MAX];
};

struct cli_disk_report {
	const char *name;
	const char *format;
	uint64_t virtual_size, image_size, chunk_size, chunk_count;
	bool ran;		/* the chunk pass completed: map and counts are meaningful */
	const uint8_t *checked; /* per chunk: checked this run */
	bool all_checked;	/* every chunk was checked (checked may be NULL) */
	bool no_chunk_map;	/* leave the chunk map out: the report goes nowhere that shows it */
	const struct rp_seal *expect; /* the seal (may be NULL) */
	const struct rp_seal *actual; /* the states found, for checked chunks */
	const struct rp_scan_mismatch *mismatches;
	size_t mismatch_count;	/* total; the first RP_SCAN_MAX_MISMATCHES are listed */
	const bool *whole_done; /* RP_DIGEST_COUNT flags, or NULL: no digests */
	const uint8_t (*whole)[RP_DIGEST_MAX];
	/* the whole-disk identity (seal-sha256, 32 bytes), or NULL: not computed */
	const uint8_t *identity;
	const uint8_t *windows; /* window_count SHA-256 digests */
	uint64_t window_count, window_size;
	const struct rp_json *describe; /* rp_image_describe() output (partitions, LUKS), or NULL */
	struct rp_json *coverage;	/* taken by cli_report_add_disk */
	struct rp_json *luks;		/* key checks (taken): replace describe's headers */
	const char *warning;		/* a caveat for people (nothing to check against) */
	struct cli_reason reasons[CLI_REPORT_MAX_REASONS];
	size_t nreasons;
};

/* Add a reason (code + formatted message); the disk fails. Extra reasons past the limit drop. */
void cli_disk_reason(struct cli_disk_report *d, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The generic reason word of an error code of the library ("io-error", "auth-error", ...);
 * where the failing struct rp_err is at hand, rp_reason_name(rp_err_reason_of(err)) says more. */
const char *cli_reason_for(int code);

/* Totals over the checked chunks. */
void cli_disk_totals(const struct cli_disk_report *d, uint64_t *checked, uint64_t *bytes);

/* The envelope without disks; verdict and exit code from exit_code. */
struct rp_json *cli_report_new(const char *command, time_t started, time_t ended,
			       const struct cli_case *c, const struct cli_report_source *src,
			       int exit_code);

/* Append a disk object to report["disks"]. */
void cli_report_add_disk(struct rp_json *report, struct cli_disk_report *d);

struct rp_restore_report;

/*
 * The report of a network restore (or verify) in the same envelope: command (e.g. "restore"),
 * one disk named name (NULL: the file name of the source) whose chunks were all checked when
 * the transfer got through them, out (may be NULL) in an extra "output" member. failure is the
 * run's error (NULL or code RP_OK on success): its code gives the verdict and exit code, its
 * reason (rp_err_reason_of; a changed source when it names none) and message the disk's reason.
 * Owned by the caller.
 */
struct rp_json *cli_report_restore(const char *command, const struct rp_restore_report *rep,
				   const struct rp_seal *seal, const char *out, const char *name,
				   time_t started, time_t ended, const struct rp_err *failure);

/*
 * The seal's own whole-disk digests, as "seal_claims": {"sha256": ...} in obj (nothing when
 * seal is NULL or records none). A seal's digest is a claim: it goes there and never under
 * "digests", which hold only what was computed from the bytes (docs/report.md).
 */
void cli_seal_claims_add(struct rp_json *obj, const struct rp_seal *seal);

/* For people: "seal says sha256 X (not computed)" for each claim in obj["seal_claims"] that
 * obj["digests"] does not hold with the same value, each line starting with indent. */
void cli_seal_claims_print(FILE *f, const struct rp_json *obj, const char *indent);

/*
 * The JSON contract (docs/schemas/README.md): every document a command prints with --json (or
 * writes with --report) names its schema, "cvmrestore-<name>/<version>"; docs/schemas holds a
 * JSON Schema for each. A version goes up when a member changes its meaning or a word changes.
 */
#define CLI_SCHEMA_VERSION "cvmrestore-version/1"
#define CLI_SCHEMA_CONVERT "cvmrestore-convert/1"
#define CLI_SCHEMA_INSPECT "cvmrestore-inspect/1"
#define CLI_SCHEMA_LUKS "cvmrestore-luks/1"
#define CLI_SCHEMA_PREFLIGHT "cvmrestore-preflight/2" /* 2: "ok": bool became "verdict" */
#define CLI_SCHEMA_RESTORE "cvmrestore-restore/2"     /* 2: "ok"/"failed" became pass/fail/error */
#define CLI_SCHEMA_RP "cvmrestore-rp/1"
#define CLI_SCHEMA_SEAL_RUN "cvmrestore-seal-run/1"
#define CLI_SCHEMA_STAGE "cvmrestore-stage/2" /* 2: as restore */
#define CLI_SCHEMA_UNWRAP "cvmrestore-unwrap/1"
#define CLI_SCHEMA_UPLOAD "cvmrestore-upload/2" /* 2: as restore */

/* A new document: "schema", "tool" {"name", "version"} and "command", as the report's envelope. */
struct rp_json *cli_doc_new(const char *schema, const char *command);

/* The same three members added to a document a library built (they come last). */
void cli_doc_envelope(struct rp_json *o, const char *schema, const char *command);

/* The verdict word of an exit code: RP_REPORT_PASS (0), _FAIL (1: checked and found wrong) or
 * _ERROR (anything else: the check could not be completed). */
const char *cli_verdict_word(int exit_code);

/* Set "verdict" (cli_verdict_word) and "exit_code" of o. */
void cli_doc_verdict(struct rp_json *o, int exit_code);

/* The libraries and their versions, as --version --json lists them: {name: {version,
 * build_time}}. */
struct rp_json *cli_libraries_json(void);

/*
 * What a forensic record needs besides the run (docs/report.md): "seal" {"path" (redacted like a
 * URL), "sha256" of the file's bytes, "from"}, "host" {"name", "os" {sysname, release, version,
 * machine}} and "libraries". seal_path NULL: no seal member; from is "file" or "descriptor" (the
 * seal inside the recovery point descriptor at seal_path).
 */
void cli_report_provenance(struct rp_json *report, const char *seal_path, const char *from);

/* Print a report for people (stdout). */
void cli_report_print(FILE *f, const struct rp_json *report);

struct cli_prom {
	const char *recovery_point, *disk;
	bool shard; /* add a shard="I/N" label (one textfile per shard of a disk) */
	unsigned shard_index, shards;
	bool success;
	time_t timestamp;
	uint64_t bytes_verified;
	uint64_t checked_chunks;
	uint64_t mismatched_chunks;
	double seconds;
};

/* Write the node_exporter textfile (docs/metrics.md) atomically (a new temporary file beside it,
 * fsync, rename; mode 0644). */
int cli_prom_write(const char *path, const struct cli_prom *p, struct rp_err *err);

/* Escape a label value per the text exposition format (\\, \", \n) into out. */
void cli_prom_escape(const char *in, char *out, size_t outsz);

#endif
