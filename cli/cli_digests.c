#include "cli/cli_digests.h"

#include <string.h>

int cli_parse_digests(const struct cli_cmd *cmd, const char *arg, unsigned *mask)
{
	char name[16];
	const char *p = arg;

	*mask = 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		enum rp_digest_alg alg;

		if (n == 0 || n >= sizeof(name))
			return cli_usage(
			    cmd, "--digests takes a list of sha256, md5, sha1, not '%s'", arg);
		memcpy(name, p, n);
		name[n] = '\0';
		if (rp_digest_from_name(name, &alg, NULL) != 0)
			return cli_usage(cmd, "unknown digest '%s' (expected sha256, md5 or sha1)",
					 name);
		*mask |= 1u << alg;
		p += n;
		if (*p == ',')
			p++;
	}
	if (*mask == 0)
		return cli_usage(cmd, "--digests needs at least one of sha256, md5, sha1");
	return 0;
}

int cli_set_digests(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	(void)o;
	return cli_parse_digests(cmd, arg, field);
}

struct rp_json *cli_digests_json(const struct rp_scan_result *r)
{
	struct rp_json *o = rp_json_new_object();
	unsigned i;

	for (i = 0; i < RP_DIGEST_COUNT; i++) {
		char hex[2 * RP_DIGEST_MAX + 1];

		if (!r->pipe.whole_done[i])
			continue;
		rp_hex(r->pipe.whole[i], rp_digest_size((enum rp_digest_alg)i), hex);
		rp_json_set_str(o, rp_digest_name((enum rp_digest_alg)i), hex);
	}
	return o;
}
