/*
 * The HTML report (report_html.h). The page is built in one growing buffer; every string from the
 * document goes through esc(). The disk picture is a CSS grid of <i> cells generated here, so
 * the page needs no script: each cell shows the worst state of the chunks it stands for, and a
 * mismatched cell carries class "mismatch", data-chunk="FIRST[-LAST]" and a title with the chunk
 * range and its offset.
 */
#include "verify/report_html.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tables (mismatches, hash windows) longer than this show their first rows and say so. */
#define MAX_ROWS 10000u

static const char css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1f24;"
    "background:#f6f7f9}main{max-width:1100px;margin:0 auto;padding:16px 24px}"
    "h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid "
    "#ccd}h3{font-size:15px;margin:18px 0 6px}"
    ".verdict{font-size:30px;font-weight:700;padding:14px 20px;border-radius:8px;color:#fff;"
    "margin:12px 0}.verdict small{font-size:14px;font-weight:400;margin-left:16px}"
    ".v-pass{background:#1a7f37}.v-fail{background:#cf222e}.v-error{background:#9a6700}"
    ".badge{display:inline-block;padding:1px 10px;border-radius:10px;color:#fff;font-size:13px;"
    "margin-left:8px;vertical-align:middle}"
    "table{border-collapse:collapse;margin:4px 0 8px;background:#fff}"
    "th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#eef1f4;font-weight:600}table.kv th{width:190px}"
    "code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;"
    "word-break:break-all}.pre{white-space:pre-wrap}.note{color:#57606a}"
    ".grid{display:grid;gap:1px;background:#fff;padding:4px;border:1px solid #d0d7de;"
    "width:max-content}.grid i{display:block}"
    ".s-n{background:#e3e6ea}.s-v{background:#2da44e}.s-x{background:#cf222e}"
    ".s-u{background:#a8b1bb;background-image:repeating-linear-gradient(45deg,transparent 0 2px,"
    "#ffffff80 2px 3px)}"
    ".legend span{display:inline-block;margin-right:18px}.legend i{display:inline-block;width:12px;"
    "height:12px;margin-right:5px;vertical-align:-1px;border:1px solid #8884}"
    "details summary{cursor:pointer}";

struct hbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct hbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n >= b->cap - b->len || !b->p) {
		size_t cap = b->cap ? b->cap : 65536;
		char *np;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct hbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void pf(struct hbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only numbers and fixed words are formatted here; they always fit. */
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->oom = true;
		return;
	}
	put(b, tmp, (size_t)n);
}

static void esc(struct hbuf *b, const char *s)
{
	static const char specials[] = "&<>\"'";
	static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
	const char *run = s, *p;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *rep = NULL;

		if ((p = strchr(specials, c)) != NULL)
			rep = entities[p - specials];
		else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			rep = "&#xFFFD;";
		if (!rep)
			continue;
		put(b, run, (size_t)(s - run));
		puts_(b, rep);
		run = s + 1;
	}
	put(b, run, (size_t)(s - run));
}

char *rp_report_html_escape(const char *s)
{
	struct hbuf b = {0};

	put(&b, "", 0);
	esc(&b, s);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The states from least to most severe (a cell shows its worst chunk), and their classes. */
static const char states[] = ".v-X";
static const char *const state_classes[] = {"s-n", "s-v", "s-u", "s-x"};

static int state_rank(char c)
{
	const char *p = c ? strchr(states, c) : NULL;

	return p ? (int)(p - states) : -1;
}

int rp_report_html_count_states(const char *map, size_t len, struct rp_report_html_counts *out,
				struct rp_err *err)
{
	uint64_t n[4] = {0};
	size_t i;

	for (i = 0; i < len; i++) {
		int r = state_rank(map[i]);
		if (r < 0)
			return rp_err_set(err, RP_EFORMAT,
					  "chunk %zu has an unknown state (want one of . v X -)",
					  i);
		n[r]++;
	}
	out->never = n[0];
	out->verified = n[1];
	out->unchecked = n[2];
	out->mismatched = n[3];
	return 0;
}

uint64_t rp_report_html_grid_group(uint64_t chunks, uint64_t max_cells)
{
	uint64_t k;

	if (max_cells == 0)
		max_cells = 1;
	k = chunks / max_cells + (chunks % max_cells != 0);
	return k ? k : 1;
}

char rp_report_html_worst(const char *map, size_t len)
{
	int worst = 0;
	size_t i;

	for (i = 0; i < len && worst < 3; i++) {
		int r = state_rank(map[i]);
		if (r > worst)
			worst = r;
	}
	return states[worst];
}

/* ---- typed access: absent or null members are absent; a wrong type is RP_EFORMAT ---------- */

static const struct rp_json *member(const struct rp_json *o, const char *key)
{
	const struct rp_json *v = o ? rp_json_get(o, key) : NULL;

	return v && !rp_json_is_null(v) ? v : NULL;
}

static int get_str(const struct rp_json *o, const char *path, const char *key, const char **out,
		   struct rp_err *err)
{
	const struct rp_json *v = member(o, key);

	*out = NULL;
	if (v && !rp_json_is_string(v))
		return rp_err_set(err, RP_EFORMAT, "%s%s: not a string", path, key);
	*out = v ? rp_json_string(v) : NULL;
	return 0;
}

static int get_u64(const struct rp_json *o, const char *path, const char *key, bool *has,
		   uint64_t *out, struct rp_err *err)
{
	const struct rp_json *v = member(o, key);

	*has = false;
	if (!v)
		return 0;
	if (rp_json_u64(v, out) != 0)
		return rp_err_set(err, RP_EFORMAT, "%s%s: not a non-negative integer", path, key);
	*has = true;
	return 0;
}

static int get_kind(const struct rp_json *o, const char *path, const char *key, bool array,
		    const struct rp_json **out, struct rp_err *err)
{
	const struct rp_json *v = member(o, key);

	*out = NULL;
	if (v && (array ? !rp_json_is_array(v) : !rp_json_is_object(v)))
		return rp_err_set(err, RP_EFORMAT, "%s%s: not an %s", path, key,
				  array ? "array" : "object");
	*out = v;
	return 0;
}

/* ---- tables ------------------------------------------------------------------------------ */

enum kind { K_STR, K_TEXT, K_CODE, K_U64, K_SIZE, K_OFFSET, K_LIST };

struct field {
	const char *key;
	const char *label;
	enum kind kind;
};

static void human(struct hbuf *b, uint64_t v)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v;
	int u = -1;

	while (d >= 1024.0 && u < 5) {
		d /= 1024.0;
		u++;
	}
	if (u >= 0)
		pf(b, " <span class=\"note\">(%.1f %s)</span>", d, units[u]);
}

/* The value of field f of o as table cell content; *shown false if absent. */
static int cell(struct hbuf *b, const struct rp_json *o, const char *path, const struct field *f,
		bool *shown, struct rp_err *err)
{
	const struct rp_json *arr;
	const char *s;
	uint64_t v;
	size_t i;
	int rc;

	*shown = false;
	if (f->kind == K_STR || f->kind == K_TEXT || f->kind == K_CODE) {
		rc = get_str(o, path, f->key, &s, err);
		if (rc || !s)
			return rc;
		puts_(b, f->kind == K_TEXT   ? "<span class=\"pre\">"
			 : f->kind == K_CODE ? "<code>"
					     : "");
		esc(b, s);
		puts_(b, f->kind == K_TEXT ? "</span>" : f->kind == K_CODE ? "</code>" : "");
	} else if (f->kind == K_LIST) {
		rc = get_kind(o, path, f->key, true, &arr, err);
		if (rc || !arr)
			return rc;
		for (i = 0; i < rp_json_array_size(arr); i++) {
			if (rp_json_u64(rp_json_array_at(arr, i), &v) != 0)
				return rp_err_set(err, RP_EFORMAT,
						  "%s%s[%zu]: not a non-negative integer", path,
						  f->key, i);
			pf(b, "%s%llu", i ? ", " : "", (unsigned long long)v);
		}
	} else {
		rc = get_u64(o, path, f->key, shown, &v, err);
		if (rc || !*shown)
			return rc;
		pf(b, "%llu", (unsigned long long)v);
		if (f->kind == K_SIZE)
			human(b, v);
		else if (f->kind == K_OFFSET)
			pf(b, " <span class=\"note\">(0x%llx)</span>", (unsigned long long)v);
	}
	*shown = true;
	return 0;
}

/* Rows "label: value" for the fields of o that are present; the table opens at the first row
 * (*open), and kv_end() closes it. */
static int kv_rows(struct hbuf *b, const struct rp_json *o, const char *path,
		   const struct field *fs, size_t n, bool *open, struct rp_err *err)
{
	bool shown;
	size_t i;
	int rc;

	for (i = 0; i < n && o; i++) {
		size_t mark = b->len;
		if (!*open)
			puts_(b, "<table class=\"kv\">\n");
		pf(b, "<tr><th>%s</th><td>", fs[i].label);
		if ((rc = cell(b, o, path, &fs[i], &shown, err)))
			return rc;
		if (!shown) {
			b->len = b->oom ? b->len : mark; /* drop the empty row */
			continue;
		}
		puts_(b, "</td></tr>\n");
		*open = true;
	}
	return 0;
}

static void kv_end(struct hbuf *b, bool open)
{
	if (open)
		puts_(b, "</table>\n");
}

/* A table with one row per object of arr and a column per field that some row has. */
static int list_table(struct hbuf *b, const struct rp_json *arr, const char *path,
		      const struct field *fs, size_t n, struct rp_err *err)
{
	size_t i, j, count = rp_json_array_size(arr);
	bool used[16] = {false}, shown;
	char ipath[128];
	int rc;

	for (i = 0; i < count && i < MAX_ROWS; i++) {
		const struct rp_json *o = rp_json_array_at(arr, i);
		if (!rp_json_is_object(o))
			return rp_err_set(err, RP_EFORMAT, "%s[%zu]: not an object", path, i);
		for (j = 0; j < n && j < 16; j++)
			used[j] |= member(o, fs[j].key) != NULL;
	}
	if (!count)
		return 0;
	puts_(b, "<table>\n<tr>");
	for (j = 0; j < n && j < 16; j++)
		if (used[j])
			pf(b, "<th>%s</th>", fs[j].label);
	puts_(b, "</tr>\n");
	for (i = 0; i < count && i < MAX_ROWS; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%zu].", path, i);
		puts_(b, "<tr>");
		for (j = 0; j < n && j < 16; j++) {
			if (!used[j])
				continue;
			puts_(b, "<td>");
			if ((rc = cell(b, rp_json_array_at(arr, i), ipath, &fs[j], &shown, err)))
				return rc;
			puts_(b, "</td>");
		}
		puts_(b, "</tr>\n");
	}
	puts_(b, "</table>\n");
	if (count > MAX_ROWS)
		pf(b,
		   "<p class=\"note\">The first %u of %zu are shown; the JSON report has "
		   "all.</p>\n",
		   MAX_ROWS, count);
	return 0;
}

static int section_list(struct hbuf *b, const struct rp_json *o, const char *path, const char *key,
			const char *title, const struct field *fs, size_t n, struct rp_err *err)
{
	const struct rp_json *arr;
	char apath[96];
	int rc = get_kind(o, path, key, true, &arr, err);

	if (rc || !arr)
		return rc;
	snprintf(apath, sizeof(apath), "%s%s", path, key);
	pf(b, "<h3>%s (%zu)</h3>\n", title, rp_json_array_size(arr));
	if (!rp_json_array_size(arr))
		puts_(b, "<p class=\"note\">none</p>\n");
	return list_table(b, arr, apath, fs, n, err);
}

static int verdict_class(const char *v, const char *path, struct rp_err *err)
{
	if (!v)
		return rp_err_set(err, RP_EFORMAT, "%s" RP_RM_VERDICT ": missing", path);
	if (strcmp(v, RP_REPORT_PASS) != 0 && strcmp(v, RP_REPORT_FAIL) != 0 &&
	    strcmp(v, RP_REPORT_ERROR) != 0)
		return rp_err_set(err, RP_EFORMAT, "%s" RP_RM_VERDICT ": not pass, fail or error",
				  path);
	return 0;
}

/* ---- the disk picture -------------------------------------------------------------------- */

static const char *state_class(char c)
{
	int r = state_rank(c);

	return state_classes[r < 0 ? 0 : r];
}

static void legend(struct hbuf *b, const struct rp_report_html_counts *c, size_t n)
{
	static const char *const labels[] = {"mismatched", "not checked this run", "verified",
					     "never written"};
	const uint64_t counts[] = {c->mismatched, c->unchecked, c->verified, c->never};
	size_t i;

	puts_(b, "<p class=\"legend\">");
	for (i = 0; i < 4; i++) {
		pf(b, "<span><i class=\"%s\"></i>%s: %llu", state_classes[3 - i], labels[i],
		   (unsigned long long)counts[i]);
		if (counts[i] && counts[i] * 1000 < n)
			puts_(b, " (&lt;0.1%)");
		else if (n)
			pf(b, " (%.1f%%)", 100.0 * (double)counts[i] / (double)n);
		puts_(b, "</span>");
	}
	puts_(b, "</p>\n");
}

static int grid(struct hbuf *b, const struct rp_json *d, const char *path, struct rp_err *err)
{
	struct rp_report_html_counts c;
	uint64_t total, csize = 0, k, cells, cell_i;
	bool has_total, has_csize;
	unsigned cols, px;
	char range[48];
	const char *map;
	size_t n;
	int rc;

	if ((rc = get_str(d, path, RP_RM_DISK_CHUNK_MAP, &map, err)) ||
	    (rc = get_u64(d, path, RP_RM_DISK_CHUNKS_TOTAL, &has_total, &total, err)) ||
	    (rc = get_u64(d, path, RP_RM_DISK_CHUNK_SIZE, &has_csize, &csize, err)))
		return rc;
	puts_(b, "<h3>Chunk map</h3>\n");
	if (!map) {
		puts_(b, "<p class=\"note\">This report has no chunk map.</p>\n");
		return 0;
	}
	n = strlen(map);
	if (rp_report_html_count_states(map, n, &c, err) != 0) {
		rp_err_prefix(err, "%s" RP_RM_DISK_CHUNK_MAP, path);
		return RP_EFORMAT;
	}
	if (has_total && total != n)
		return rp_err_set(err, RP_EFORMAT,
				  "%s" RP_RM_DISK_CHUNK_MAP
				  ": length %zu differs from " RP_RM_DISK_CHUNKS_TOTAL " %llu",
				  path, n, (unsigned long long)total);
	k = rp_report_html_grid_group(n, RP_REPORT_HTML_MAX_CELLS);
	cells = n / k + (n % k != 0);
	cols = cells <= 256 ? 32 : cells <= 4096 ? 64 : 128;
	cols = cells < cols ? (unsigned)cells : cols;
	px = cells <= 256 ? 16 : cells <= 4096 ? 12 : 7;
	legend(b, &c, n);
	if (!n) {
		puts_(b, "<p class=\"note\">The chunk map is empty.</p>\n");
		return 0;
	}
	if (k == 1)
		puts_(b, "<p class=\"note\">Each cell is one chunk");
	else
		pf(b, "<p class=\"note\">Aggregated: each cell stands for %llu chunks",
		   (unsigned long long)k);
	if (has_csize && csize && k <= UINT64_MAX / csize) {
		pf(b, " of %llu bytes", (unsigned long long)(k * csize));
		human(b, k * csize);
	}
	if (k > 1)
		puts_(b, " and shows the worst of them (mismatched &gt; not checked &gt; verified "
			 "&gt; never written)");
	pf(b, "; %llu cells, %u per row, chunk 0 at the top left.</p>\n", (unsigned long long)cells,
	   cols);
	pf(b,
	   "<div class=\"grid\" role=\"img\" aria-label=\"chunk map\" "
	   "style=\"grid-template-columns:repeat(%u,%upx);grid-auto-rows:%upx\">",
	   cols, px, px);
	for (cell_i = 0; cell_i < cells; cell_i++) {
		uint64_t first = cell_i * k, len = n - first < k ? n - first : k;
		char st = rp_report_html_worst(map + first, (size_t)len);

		if (st != RP_CSTATE_MISMATCH) {
			pf(b, "<i class=\"%s\"></i>", state_class(st));
			continue;
		}
		if (len == 1)
			snprintf(range, sizeof(range), "%llu", (unsigned long long)first);
		else
			snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)first,
				 (unsigned long long)(first + len - 1));
		pf(b, "<i class=\"s-x mismatch\" data-chunk=\"%s\" title=\"chunk%s %s", range,
		   len == 1 ? "" : "s", range);
		if (has_csize && (csize == 0 || first <= UINT64_MAX / csize))
			pf(b, " at offset %llu (0x%llx)", (unsigned long long)(first * csize),
			   (unsigned long long)(first * csize));
		puts_(b, ": mismatched\"></i>");
	}
	puts_(b, "</div>\n");
	return 0;
}

/* ---- sections ---------------------------------------------------------------------------- */

static const struct field size_fields[] = {
    {RP_RM_DISK_FORMAT, "Format", K_STR},
    {RP_RM_DISK_VIRTUAL_SIZE, "Virtual size", K_SIZE},
    {RP_RM_DISK_IMAGE_SIZE, "Image size", K_SIZE},
    {RP_RM_DISK_CHUNK_SIZE, "Chunk size", K_SIZE},
    {RP_RM_DISK_CHUNKS_TOTAL, "Chunks", K_U64},
    {RP_RM_DISK_CHUNKS_CHECKED, "Chunks checked", K_U64},
    {RP_RM_DISK_BYTES_VERIFIED, "Bytes verified", K_SIZE},
};
static const struct field coverage_fields[] = {
    {RP_RM_COVERAGE_MODE, "Coverage mode", K_STR}, {RP_RM_COVERAGE_PERCENT, "Percent", K_U64},
    {RP_RM_COVERAGE_SEED, "Seed", K_U64},	   {RP_RM_COVERAGE_RUN, "Run", K_U64},
    {RP_RM_COVERAGE_RUNS, "Runs", K_U64},	   {RP_RM_COVERAGE_SHARD, "Shard", K_U64},
    {RP_RM_COVERAGE_SHARDS, "Shards", K_U64},
};
static const struct field digest_fields[] = {
    {"sha256", "SHA-256", K_CODE}, {"sha1", "SHA-1", K_CODE}, {"md5", "MD5", K_CODE}};
static const struct field reason_fields[] = {{RP_RM_REASON_CODE, "Code", K_CODE},
					     {RP_RM_REASON_MESSAGE, "Message", K_TEXT}};
static const struct field mismatch_fields[] = {
    {RP_RM_MISMATCH_INDEX, "Chunk", K_U64},	   {RP_RM_MISMATCH_OFFSET, "Offset", K_OFFSET},
    {RP_RM_MISMATCH_LENGTH, "Length", K_U64},	   {RP_RM_MISMATCH_REASON, "Reason", K_CODE},
    {RP_RM_MISMATCH_EXPECTED, "Expected", K_CODE}, {RP_RM_MISMATCH_ACTUAL, "Actual", K_CODE},
};
static const struct field partition_fields[] = {
    {RP_RM_PARTITION_INDEX, "#", K_U64},	{RP_RM_PARTITION_SCHEME, "Scheme", K_STR},
    {RP_RM_PARTITION_TYPE, "Type", K_STR},	{RP_RM_PARTITION_NAME, "Name", K_STR},
    {RP_RM_PARTITION_START, "Start", K_OFFSET}, {RP_RM_PARTITION_SIZE, "Size", K_SIZE},
};
static const struct field luks_fields[] = {
    {RP_RM_LUKS_PARTITION, "Partition", K_U64},
    {RP_RM_LUKS_VERSION, "LUKS", K_U64},
    {RP_RM_LUKS_UUID, "UUID", K_CODE},
    {RP_RM_LUKS_CIPHER, "Cipher", K_STR},
    {RP_RM_LUKS_KEY_BITS, "Key bits", K_U64},
    {RP_RM_LUKS_KEYSLOTS, "Keyslots", K_LIST},
    {RP_RM_LUKS_OPENED_KEYSLOT, "Opened keyslot", K_U64},
    {RP_RM_LUKS_RESULT, "Result", K_STR},
    {RP_RM_LUKS_MESSAGE, "Message", K_TEXT},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

static int hash_windows(struct hbuf *b, const struct rp_json *d, const char *path,
			struct rp_err *err)
{
	const struct rp_json *hw, *arr;
	uint64_t size = 0;
	char hpath[96];
	bool has_size;
	size_t i, n;
	int rc;

	if ((rc = get_kind(d, path, RP_RM_DISK_HASH_WINDOWS, false, &hw, err)) || !hw)
		return rc;
	snprintf(hpath, sizeof(hpath), "%s" RP_RM_DISK_HASH_WINDOWS ".", path);
	if ((rc = get_u64(hw, hpath, RP_RM_WINDOWS_SIZE, &has_size, &size, err)) ||
	    (rc = get_kind(hw, hpath, RP_RM_WINDOWS_SHA256, true, &arr, err)))
		return rc;
	n = arr ? rp_json_array_size(arr) : 0;
	pf(b, "<details><summary>Hash windows: %zu SHA-256 digests", n);
	if (has_size) {
		pf(b, " of %llu bytes", (unsigned long long)size);
		human(b, size);
		puts_(b, " each");
	}
	puts_(b, "</summary>\n<table>\n<tr><th>#</th><th>Offset</th><th>SHA-256</th></tr>\n");
	for (i = 0; i < n && i < MAX_ROWS; i++) {
		const char *s = rp_json_string(rp_json_array_at(arr, i));
		if (!s)
			return rp_err_set(err, RP_EFORMAT, "%ssha256[%zu]: not a string", hpath, i);
		pf(b, "<tr><td>%zu</td><td>", i);
		if (has_size && (size == 0 || i <= UINT64_MAX / size))
			pf(b, "%llu", (unsigned long long)(i * size));
		puts_(b, "</td><td><code>");
		esc(b, s);
		puts_(b, "</code></td></tr>\n");
	}
	puts_(b, "</table>\n");
	if (n > MAX_ROWS)
		pf(b,
		   "<p class=\"note\">The first %u of %zu are shown; the JSON report has "
		   "all.</p>\n",
		   MAX_ROWS, n);
	puts_(b, "</details>\n");
	return 0;
}

/* The object member key of o (path names o) as a table under heading h (if not NULL); with
 * open, its rows join the table already open instead. */
static int kv_member(struct hbuf *b, const struct rp_json *o, const char *path, const char *key,
		     const char *h, const struct field *fs, size_t n, bool *open,
		     struct rp_err *err)
{
	const struct rp_json *m;
	char mpath[96];
	bool mine = false;
	int rc;

	if ((rc = get_kind(o, path, key, false, &m, err)) || !m)
		return rc;
	snprintf(mpath, sizeof(mpath), "%s%s.", path, key);
	if (h)
		pf(b, "%s\n", h);
	if ((rc = kv_rows(b, m, mpath, fs, n, open ? open : &mine, err)))
		return rc;
	kv_end(b, mine);
	return 0;
}

static int disk(struct hbuf *b, const struct rp_json *d, size_t idx, struct rp_err *err)
{
	const char *name, *verdict;
	bool open = false;
	char path[64];
	int rc;

	snprintf(path, sizeof(path), RP_RM_DISKS "[%zu].", idx);
	if (!rp_json_is_object(d))
		return rp_err_set(err, RP_EFORMAT, RP_RM_DISKS "[%zu]: not an object", idx);
	if ((rc = get_str(d, path, RP_RM_DISK_NAME, &name, err)) ||
	    (rc = get_str(d, path, RP_RM_DISK_VERDICT, &verdict, err)) ||
	    (verdict && (rc = verdict_class(verdict, path, err))))
		return rc;
	puts_(b, "<section class=\"disk\">\n<h2>Disk ");
	esc(b, name ? name : "(unnamed)");
	if (verdict)
		pf(b, "<span class=\"badge v-%s\">%s</span>", verdict, verdict);
	puts_(b, "</h2>\n");
	if ((rc = kv_rows(b, d, path, size_fields, NF(size_fields), &open, err)) ||
	    (rc = kv_member(b, d, path, RP_RM_DISK_COVERAGE, NULL, coverage_fields,
			    NF(coverage_fields), &open, err)))
		return rc;
	kv_end(b, open);
	if ((rc = section_list(b, d, path, RP_RM_DISK_REASONS, "Reasons", reason_fields,
			       NF(reason_fields), err)) ||
	    (rc = grid(b, d, path, err)) ||
	    (rc = section_list(b, d, path, RP_RM_DISK_MISMATCHES, "Mismatches", mismatch_fields,
			       NF(mismatch_fields), err)) ||
	    (rc = kv_member(b, d, path, RP_RM_DISK_DIGESTS, "<h3>Digests of the disk</h3>",
			    digest_fields, NF(digest_fields), NULL, err)) ||
	    (rc = hash_windows(b, d, path, err)) ||
	    (rc = section_list(b, d, path, RP_RM_DISK_PARTITIONS, "Partitions", partition_fields,
			       NF(partition_fields), err)) ||
	    (rc = section_list(b, d, path, RP_RM_DISK_LUKS, "LUKS volumes", luks_fields,
			       NF(luks_fields), err)))
		return rc;
	puts_(b, "</section>\n");
	return 0;
}

static const struct field run_fields[] = {
    {RP_RM_COMMAND, "Command", K_STR},
    {RP_RM_STARTED, "Started (UTC)", K_STR},
    {RP_RM_ENDED, "Ended (UTC)", K_STR},
    {RP_RM_EXIT_CODE, "Exit code", K_U64},
};
static const struct field tool_fields[] = {{RP_RM_TOOL_NAME, "Tool", K_STR},
					   {RP_RM_TOOL_VERSION, "Version", K_STR}};
static const struct field case_fields[] = {
    {RP_RM_CASE_ID, "Case ID", K_STR},
    {RP_RM_CASE_EVIDENCE_ID, "Evidence ID", K_STR},
    {RP_RM_CASE_EXAMINER, "Examiner", K_STR},
    {RP_RM_CASE_NOTES, "Notes", K_TEXT},
};
static const struct field source_fields[] = {
    {RP_RM_SOURCE_KIND, "Kind", K_STR},
    {RP_RM_SOURCE_DISPLAY, "Source", K_CODE},
    {RP_RM_SOURCE_ETAG, "ETag", K_CODE},
    {RP_RM_SOURCE_RECOVERY_POINT, "Recovery point", K_STR},
};

static int body(struct hbuf *b, const struct rp_json *r, struct rp_err *err)
{
	const struct rp_json *o, *disks;
	const char *schema, *verdict, *case_id;
	bool open = false;
	size_t i, mark;
	int rc;

	if (!rp_json_is_object(r))
		return rp_err_set(err, RP_EFORMAT, "not a JSON object");
	if ((rc = get_str(r, "", RP_RM_SCHEMA, &schema, err)))
		return rc;
	if (!schema || strcmp(schema, RP_REPORT_SCHEMA) != 0)
		return rp_err_set(err, RP_EFORMAT, RP_RM_SCHEMA ": %s (want \"%s\")",
				  schema ? "unsupported" : "missing", RP_REPORT_SCHEMA);
	if ((rc = get_str(r, "", RP_RM_VERDICT, &verdict, err)) ||
	    (rc = verdict_class(verdict, "", err)))
		return rc;
	if ((rc = get_kind(r, "", RP_RM_CASE, false, &o, err)) ||
	    (rc = get_str(o, RP_RM_CASE ".", RP_RM_CASE_ID, &case_id, err)))
		return rc;
	puts_(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		 "style-src 'unsafe-inline'; script-src 'none'; img-src data:\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		 "<title>cvmrestore report: ");
	puts_(b, verdict);
	if (case_id) {
		puts_(b, " - case ");
		esc(b, case_id);
	}
	puts_(b, "</title>\n<style>");
	puts_(b, css);
	puts_(b, "</style>\n</head>\n<body>\n<main>\n<h1>cvmrestore report</h1>\n");
	pf(b, "<div class=\"verdict v-%s\" id=\"verdict\">%s", verdict,
	   strcmp(verdict, RP_REPORT_PASS) == 0	  ? "PASS"
	   : strcmp(verdict, RP_REPORT_FAIL) == 0 ? "FAIL"
						  : "ERROR");
	puts_(b, "<small>verdict of the whole run</small></div>\n");
	mark = b->len;
	puts_(b, "<h2>Run</h2>\n");
	if ((rc =
		 kv_member(b, r, "", RP_RM_TOOL, NULL, tool_fields, NF(tool_fields), &open, err)) ||
	    (rc = kv_rows(b, r, "", run_fields, NF(run_fields), &open, err)))
		return rc;
	kv_end(b, open);
	if (!open && !b->oom)
		b->len = mark; /* no heading over nothing */
	if ((rc = kv_member(b, r, "", RP_RM_CASE, "<h2>Case</h2>", case_fields, NF(case_fields),
			    NULL, err)) ||
	    (rc = kv_member(b, r, "", RP_RM_SOURCE, "<h2>Source</h2>", source_fields,
			    NF(source_fields), NULL, err)))
		return rc;
	if ((rc = get_kind(r, "", RP_RM_DISKS, true, &disks, err)))
		return rc;
	if (!disks || !rp_json_array_size(disks))
		puts_(b, "<p class=\"note\">This report has no disks.</p>\n");
	for (i = 0; disks && i < rp_json_array_size(disks); i++)
		if ((rc = disk(b, rp_json_array_at(disks, i), i, err)))
			return rc;
	puts_(b, "<p class=\"note\">Rendered from a " RP_REPORT_SCHEMA
		 " document by cvmrestore report.</p>\n</main>\n</body>\n</html>\n");
	return 0;
}

int rp_report_html_render(const struct rp_json *report, char **out, size_t *out_len,
			  struct rp_err *err)
{
	struct hbuf b = {0};
	int rc = body(&b, report, err);

	if (!rc && b.oom)
		rc = rp_err_set(err, RP_EIO, "out of memory rendering the page");
	if (rc) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

int rp_report_html_from_text(const char *text, size_t len, char **out, size_t *out_len,
			     struct rp_err *err)
{
	struct rp_json *r = NULL;
	int rc = rp_json_parse(text, len, &r, err);

	if (rc)
		return rc;
	rc = rp_report_html_render(r, out, out_len, err);
	rp_json_free(r);
	return rc;
}
