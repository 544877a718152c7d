/*
 * The report model (docs/report.md): the schema name, the members of the cvmrestore-report/1
 * document and the chunk states of its chunk map, defined once. The command line writes the
 * document with these names (cli/cli_report_json.c) and the HTML renderer reads it with them
 * (verify/report_html.c); neither spells a member itself.
 *
 * RP_RM_<OBJECT>_<MEMBER> is the key of a member of an object of the document. The envelope's
 * members have no object part.
 */
#ifndef RP_VERIFY_REPORT_H
#define RP_VERIFY_REPORT_H

#define RP_REPORT_SCHEMA "cvmrestore-report/1"

/* The verdicts: of the run (exit code 0, 1, other) and of each disk. */
#define RP_REPORT_PASS "pass"
#define RP_REPORT_FAIL "fail"
#define RP_REPORT_ERROR "error"

/* The envelope. */
#define RP_RM_SCHEMA "schema" /* RP_REPORT_SCHEMA */
#define RP_RM_TOOL "tool"     /* object: RP_RM_TOOL_* */
#define RP_RM_COMMAND "command"
#define RP_RM_STARTED "started" /* ISO 8601 UTC */
#define RP_RM_ENDED "ended"
#define RP_RM_CASE "case"	/* object: RP_RM_CASE_* */
#define RP_RM_SOURCE "source"	/* object: RP_RM_SOURCE_* */
#define RP_RM_OUTPUT "output"	/* object: RP_RM_OUTPUT_* (restore) */
#define RP_RM_VERDICT "verdict" /* RP_REPORT_PASS, _FAIL or _ERROR; also of each disk */
#define RP_RM_EXIT_CODE "exit_code"
#define RP_RM_DISKS "disks" /* array of disk objects: RP_RM_DISK_* */

#define RP_RM_TOOL_NAME "name"
#define RP_RM_TOOL_VERSION "version"

#define RP_RM_CASE_ID "case_id"
#define RP_RM_CASE_EVIDENCE_ID "evidence_id"
#define RP_RM_CASE_EXAMINER "examiner"
#define RP_RM_CASE_NOTES "notes"

#define RP_RM_SOURCE_KIND "kind" /* "url", "file" or "descriptor" */
#define RP_RM_SOURCE_DISPLAY "display"
#define RP_RM_SOURCE_ETAG "etag"
#define RP_RM_SOURCE_RECOVERY_POINT "recovery_point"

#define RP_RM_OUTPUT_PATH "path"
#define RP_RM_OUTPUT_FORMAT "format"

/* A disk. */
#define RP_RM_DISK_NAME "name"
#define RP_RM_DISK_VIRTUAL_SIZE "virtual_size"
#define RP_RM_DISK_IMAGE_SIZE "image_size"
#define RP_RM_DISK_FORMAT "format"
#define RP_RM_DISK_CHUNK_SIZE "chunk_size"
#define RP_RM_DISK_CHUNKS_TOTAL "chunks_total"
#define RP_RM_DISK_CHUNKS_CHECKED "chunks_checked"
#define RP_RM_DISK_BYTES_VERIFIED "bytes_verified"
#define RP_RM_DISK_COVERAGE "coverage"		   /* object: RP_RM_COVERAGE_* */
#define RP_RM_DISK_CHUNK_MAP "chunk_map"	   /* one enum rp_report_chunk_state per chunk */
#define RP_RM_DISK_MISMATCHES "mismatches"	   /* array: RP_RM_MISMATCH_* */
#define RP_RM_DISK_MISMATCH_COUNT "mismatch_count" /* when more than are listed */
#define RP_RM_DISK_DIGESTS "digests"		   /* object: digest name -> hex, computed */
#define RP_RM_DISK_IDENTITY "identity"		   /* object: "seal-sha256" -> hex */
#define RP_RM_DISK_SEAL_CLAIMS "seal_claims"	   /* object: digest name -> hex, the seal's */
#define RP_RM_DISK_HASH_WINDOWS "hash_windows"	   /* object: RP_RM_WINDOWS_* */
#define RP_RM_DISK_PARTITIONS "partitions"	   /* array: RP_RM_PARTITION_* */
#define RP_RM_DISK_LUKS "luks"			   /* array: RP_RM_LUKS_* */
#define RP_RM_DISK_PROBLEMS "problems"		   /* array of strings */
#define RP_RM_DISK_WARNING "warning"
#define RP_RM_DISK_VERDICT RP_RM_VERDICT
#define RP_RM_DISK_REASONS "reasons" /* array: RP_RM_REASON_* */

#define RP_RM_COVERAGE_MODE "mode"
#define RP_RM_COVERAGE_PERCENT "percent"
#define RP_RM_COVERAGE_SEED "seed"
#define RP_RM_COVERAGE_RUN "run"
#define RP_RM_COVERAGE_RUNS "runs"
#define RP_RM_COVERAGE_SHARD "shard"
#define RP_RM_COVERAGE_SHARDS "shards"

#define RP_RM_MISMATCH_INDEX "index"
#define RP_RM_MISMATCH_OFFSET "offset"
#define RP_RM_MISMATCH_LENGTH "length"
#define RP_RM_MISMATCH_REASON "reason" /* a reason code (common/err.h rp_reason_name) */
#define RP_RM_MISMATCH_EXPECTED "expected"
#define RP_RM_MISMATCH_ACTUAL "actual"

#define RP_RM_WINDOWS_SIZE "size"
#define RP_RM_WINDOWS_SHA256 "sha256" /* array of hex digests */

#define RP_RM_PARTITION_INDEX "index"
#define RP_RM_PARTITION_SCHEME "scheme"
#define RP_RM_PARTITION_TYPE "type"
#define RP_RM_PARTITION_NAME "name"
#define RP_RM_PARTITION_START "start"
#define RP_RM_PARTITION_SIZE "size"

#define RP_RM_LUKS_PARTITION "partition"
#define RP_RM_LUKS_VERSION "version"
#define RP_RM_LUKS_UUID "uuid"
#define RP_RM_LUKS_CIPHER "cipher"
#define RP_RM_LUKS_KEY_BITS "key_bits"
#define RP_RM_LUKS_KEYSLOTS "keyslots"
#define RP_RM_LUKS_OPENED_KEYSLOT "opened_keyslot"
#define RP_RM_LUKS_RESULT "result"
#define RP_RM_LUKS_MESSAGE "message"

#define RP_RM_REASON_CODE "code" /* a reason code (common/err.h rp_reason_name, or luks-*) */
#define RP_RM_REASON_MESSAGE "message"

/* Chunk states of a disk's chunk map, one character per chunk. */
enum rp_report_chunk_state {
	RP_CSTATE_NEVER = '.',	   /* never written (unallocated or zero per the seal) */
	RP_CSTATE_VERIFIED = 'v',  /* read and equal to the seal */
	RP_CSTATE_MISMATCH = 'X',  /* read and different from the seal */
	RP_CSTATE_UNCHECKED = '-', /* not checked in this run */
};

#endif
