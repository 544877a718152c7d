/*
 * nbdkit-cvmrestore-plugin: one disk of a recovery point served read-only over NBD, every
 * chunk verified before a client sees it (docs/nbd.md). The work is nbd/served.c's; this file
 * maps nbdkit's keys and callbacks to it. The network keys are the command line's options
 * (cli/cli_net.h, one implementation): resolve=, require-private=true, cacert=, ...
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_net.h"
#include "common/secret.h"
#include "common/text.h"
#include "common/util.h"
#include "nbd/served.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL
#define MAX_KEPT 128

static const struct cli_cmd plugin_cmd = {.name = "nbdkit-cvmrestore"};

static struct {
	struct rp_served_opts o;
	struct rp_net_opts net;
	char *source; /* owned, wiped: may hold a SAS */
	char *seal;
	char *disk;
	const char *parents[32];
	size_t nparents;
	char *kept[MAX_KEPT]; /* copies of values the options point to */
	size_t nkept;
	struct rp_served *served;
} g;

static const char *keep(const char *v)
{
	char *c;

	if (g.nkept >= MAX_KEPT || !(c = strdup(v))) {
		nbdkit_error("too many options");
		return NULL;
	}
	g.kept[g.nkept++] = c;
	return c;
}

static int flag(const char *key, const char *value, bool *out)
{
	int r = nbdkit_parse_bool(value);

	if (r < 0)
		return -1;
	(void)key;
	*out = r;
	return 0;
}

static void plugin_load(void)
{
	cli_net_defaults(&g.net);
	g.net.http.stop = NULL;
	g.o.readahead = RP_SERVED_READAHEAD_DEFAULT;
	g.o.retries = RP_SERVED_RETRIES_DEFAULT;
}

static void plugin_unload(void)
{
	size_t k;

	rp_served_free(g.served);
	if (g.source) {
		rp_wipe(g.source, strlen(g.source));
		free(g.source);
	}
	free(g.seal);
	free(g.disk);
	for (k = 0; k < g.nkept; k++)
		free(g.kept[k]);
}

/* The source: inline (no SAS: nbdkit -v logs every value), or +FILE / - / -FD as
 * nbdkit_read_password reads them (the file's content is never logged). */
static int set_source(const char *value)
{
	char *v = NULL;

	if (g.source) {
		nbdkit_error("source given twice");
		return -1;
	}
	if (value[0] == '+' || value[0] == '-') {
		if (nbdkit_read_password(value, &v) == -1)
			return -1;
	} else {
		const char *q = strchr(value, '?');

		if (q && (strcasestr(q, "sig=") || strcasestr(q, "&sig") != NULL)) {
			char shown[1024];

			nbdkit_error(
			    "source=%s holds a SAS, and nbdkit -v logs every value: put the "
			    "URL in a file and give source=+FILE",
			    rp_show_path(value, shown, sizeof(shown)));
			return -1;
		}
		v = strdup(value);
	}
	if (!v) {
		nbdkit_error("out of memory");
		return -1;
	}
	g.source = v;
	return 0;
}

static int plugin_config(const char *key, const char *value)
{
	const char *v;
	bool b;
	int rc;

	if (strcmp(key, "source") == 0)
		return set_source(value);
	if (strcmp(key, "seal") == 0 || strcmp(key, "disk") == 0) {
		char **dst = key[0] == 's' ? &g.seal : &g.disk;

		free(*dst);
		*dst = strdup(value);
		return *dst ? 0 : -1;
	}
	if (strcmp(key, "parent") == 0) {
		if (g.nparents >= sizeof(g.parents) / sizeof(g.parents[0])) {
			nbdkit_error("at most %zu parents",
				     sizeof(g.parents) / sizeof(g.parents[0]));
			return -1;
		}
		if (!(v = keep(value)))
			return -1;
		g.parents[g.nparents++] = v;
		return 0;
	}
	if (strcmp(key, "unverified") == 0)
		return flag(key, value, &g.o.unverified);
	if (strcmp(key, "allow-outside-sources") == 0)
		return flag(key, value, &g.o.allow_outside);
	if (strcmp(key, "cache") == 0 || strcmp(key, "cache-dir-size") == 0) {
		uint64_t *dst = key[5] ? &g.o.cache_dir_bytes : &g.o.cache_bytes;
		struct rp_err err;

		rp_err_init(&err);
		if (rp_parse_size(value, dst, &err) != 0 || (key[5] && *dst == 0)) {
			nbdkit_error("%s=%s: %s", key, value, err.msg[0] ? err.msg : "must be > 0");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "cache-dir") == 0) {
		/* absolute: nbdkit changes to / when it runs in the background */
		char *abs = nbdkit_absolute_path(value);

		if (!abs)
			return -1;
		v = keep(abs);
		free(abs);
		if (!v)
			return -1;
		g.o.cache_dir = v;
		return 0;
	}
	if (strcmp(key, "readahead") == 0)
		return nbdkit_parse_unsigned("readahead", value, &g.o.readahead);
	if (strcmp(key, "verify-retries") == 0)
		return nbdkit_parse_unsigned("verify-retries", value, &g.o.retries);
	/* The command line's network options, by the same names. */
	if (strcmp(key, "require-private") == 0 || strcmp(key, "identity") == 0 ||
	    strcmp(key, "client-credentials") == 0 || strcmp(key, "allow-http") == 0) {
		if (flag(key, value, &b) != 0)
			return -1;
		if (!b)
			return 0;
		rc = cli_net_set(&plugin_cmd, &g.net, key, NULL);
	} else {
		if (!(v = keep(value)))
			return -1;
		rc = cli_net_set(&plugin_cmd, &g.net, key, v);
	}
	if (rc == 1) {
		nbdkit_error("unknown parameter '%s' (nbdkit cvmrestore --help lists them)", key);
		return -1;
	}
	if (rc) {
		nbdkit_error("%s: see the message above", key);
		return -1;
	}
	return 0;
}

static int plugin_config_complete(void)
{
	if (!g.source) {
		nbdkit_error("give source=URL, source=+FILE, source=IMAGE or source=DESCRIPTOR "
			     "disk=NAME");
		return -1;
	}
	return 0;
}

static void served_log(void *ctx, enum rp_served_log level, const char *msg)
{
	(void)ctx;
	if (level == RP_SERVED_LOG_DEBUG)
		nbdkit_debug("%s", msg);
	else
		nbdkit_error("%s%s", level == RP_SERVED_LOG_WARN ? "warning: " : "", msg);
}

static int plugin_get_ready(void)
{
	struct rp_err err;
	int rc;

	if (strncasecmp(g.source, "http://", 7) == 0 &&
	    cli_net_check_url(&plugin_cmd, &g.net, g.source) != 0)
		return -1;
	rp_err_init(&err);
	g.o.source = g.source;
	g.o.disk = g.disk;
	g.o.seal_path = g.seal;
	g.o.parents = g.parents;
	g.o.parent_count = g.nparents;
	g.o.net = &g.net;
	g.o.log = served_log;
	rc = rp_served_open(&g.o, &g.served, &err);
	if (rc) {
		rp_text_wipe_secrets(err.msg);
		nbdkit_error("%s", err.msg);
		return -1;
	}
	if (!rp_served_sealed(g.served))
		nbdkit_error("warning: serving %s UNVERIFIED (unverified=true): no seal; the "
			     "transport hash and the ETag pin still apply to a blob",
			     rp_served_name(g.served));
	nbdkit_debug("serving %s: %llu bytes in chunks of %llu, %s", rp_served_name(g.served),
		     (unsigned long long)rp_served_size(g.served),
		     (unsigned long long)rp_served_chunk_size(g.served), rp_served_mode(g.served));
	return 0;
}

static void plugin_cleanup(void)
{
	struct rp_served_stats st;

	if (!g.served)
		return;
	rp_served_stats(g.served, &st);
	nbdkit_debug("chunks: %llu fetched and verified, %llu from the cache, %llu zeros from the "
		     "seal, %llu ahead, %llu failed checks; cache %llu chunks, %llu bytes",
		     (unsigned long long)st.fetches, (unsigned long long)st.hits,
		     (unsigned long long)st.zero_chunks, (unsigned long long)st.readaheads,
		     (unsigned long long)st.failures, (unsigned long long)st.cache_slots,
		     (unsigned long long)st.cache_bytes);
	if (g.o.cache_dir)
		nbdkit_debug("cache directory: %llu chunks read back and verified, %llu failed the "
			     "check (removed), %llu written, %llu removed for room",
			     (unsigned long long)st.disk_hits, (unsigned long long)st.disk_bad,
			     (unsigned long long)st.disk_writes,
			     (unsigned long long)st.disk_evicted);
}

static void *plugin_open(int readonly)
{
	(void)readonly;
	return &g; /* one disk for every connection */
}

static int64_t plugin_get_size(void *h)
{
	(void)h;
	return (int64_t)rp_served_size(g.served);
}

static int plugin_can_write(void *h)
{
	(void)h;
	return 0;
}

static int plugin_can_multi_conn(void *h)
{
	(void)h;
	return 1; /* read-only: every connection sees the same bytes */
}

static int plugin_can_extents(void *h)
{
	(void)h;
	return 1;
}

static int plugin_can_cache(void *h)
{
	(void)h;
	return NBDKIT_CACHE_EMULATE; /* a cache request reads (fetches and verifies) the chunks */
}

static int plugin_pread(void *h, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	struct rp_err err;
	int rc;

	(void)h;
	(void)flags;
	rp_err_init(&err);
	rc = rp_served_read(g.served, buf, count, offset, &err);
	if (rc) {
		rp_text_wipe_secrets(err.msg);
		nbdkit_error("read of %u bytes at %llu: %s", count, (unsigned long long)offset,
			     err.msg);
		nbdkit_set_error(rc == RP_EUSAGE ? EINVAL : EIO);
		return -1;
	}
	return 0;
}

static int plugin_extents(void *h, uint32_t count, uint64_t offset, uint32_t flags,
			  struct nbdkit_extents *extents)
{
	uint64_t end = offset + count, size = rp_served_size(g.served);

	(void)h;
	if (end > size)
		end = size;
	while (offset < end) {
		enum rp_served_kind kind;
		struct rp_err err;
		uint64_t run;

		rp_err_init(&err);
		if (rp_served_extent(g.served, offset, end, &kind, &run, &err) != 0) {
			nbdkit_error("extents at %llu: %s", (unsigned long long)offset, err.msg);
			nbdkit_set_error(EIO);
			return -1;
		}
		if (nbdkit_add_extent(
			extents, offset, run,
			kind == RP_SERVED_ZERO ? NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO : 0) == -1)
			return -1;
		offset += run;
		if (flags & NBDKIT_FLAG_REQ_ONE)
			break;
	}
	return 0;
}

#define CONFIG_HELP                                                                                \
	"source=URL|+FILE|IMAGE|DESCRIPTOR (required) the disk: a blob URL (a SAS only as "        \
	"+FILE),\n"                                                                                \
	"                        a raw/VHD/VHDX image, or a recovery point descriptor with "       \
	"disk=\n"                                                                                  \
	"seal=SEAL.json          check every chunk against this seal before it is served\n"        \
	"disk=NAME               the descriptor's disk (its seal is used unless seal= is given)\n" \
	"parent=PATH             parent of a differencing image (repeat, nearest first)\n"         \
	"unverified=true         serve without a seal (logged)\n"                                  \
	"cache=SIZE              verified chunks kept in memory (default 256M)\n"                  \
	"cache-dir=DIR           verified chunks also kept in DIR (needs a seal; checked again)\n" \
	"cache-dir-size=SIZE     at most this much of a seal's chunks in DIR (default 4G)\n"       \
	"readahead=N             chunks fetched ahead of sequential reads (default 4)\n"           \
	"verify-retries=N        fetches of a failing chunk after the first (default 2)\n"         \
	"allow-outside-sources=true  a descriptor's local sources may lie outside its folder\n"    \
	"connections= chunk-size= retries= retry-base-ms= transport-hash= low-speed-time=\n"       \
	"range-timeout= allow-http=true resolve= require-private=true private-cidr= cacert=\n"     \
	"bearer-token-file= identity=true imds-endpoint= identity-client-id=\n"                    \
	"client-credentials=true authority-host=   as cvmrestore restore's options"

static struct nbdkit_plugin plugin = {
    .name = "cvmrestore",
    .longname = "cvmrestore verified recovery point disk",
    .version = RP_VERSION,
    .description = "Serve one disk of a recovery point read-only, every chunk verified.",
    .load = plugin_load,
    .unload = plugin_unload,
    .config = plugin_config,
    .config_complete = plugin_config_complete,
    .config_help = CONFIG_HELP,
    .magic_config_key = "source",
    .get_ready = plugin_get_ready,
    .cleanup = plugin_cleanup,
    .open = plugin_open,
    .get_size = plugin_get_size,
    .can_write = plugin_can_write,
    .can_multi_conn = plugin_can_multi_conn,
    .can_extents = plugin_can_extents,
    .can_cache = plugin_can_cache,
    .pread = plugin_pread,
    .extents = plugin_extents,
};

NBDKIT_REGISTER_PLUGIN(plugin)
