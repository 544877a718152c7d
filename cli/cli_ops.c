#include "cli/cli_ops.h"

#include <stdio.h>
#include <unistd.h>

#include "common/outfile.h"
#include "net/http.h"
#include "net/rate.h"

int cli_set_log_file(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		     const char *arg)
{
	struct rp_http_log *l = field;
	struct rp_err err;
	int fd;

	(void)o;
	rp_err_init(&err);
	/* Opened now, so that a log that cannot be written is a usage error before any request
	 * (and never a link another user planted: rp_outfile_append). */
	if (rp_outfile_append(arg, 0600, &fd, &err) != 0)
		return cli_usage(cmd, "--log-file: %s", err.msg);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	return 0;
}

int cli_set_verbose(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	struct rp_http_log *l = field;

	(void)cmd, (void)o, (void)arg;
	l->verbose++;
	l->echo_fd = STDERR_FILENO;
	return 0;
}

int cli_set_limit_rate(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		       const char *arg)
{
	struct rp_err err;

	(void)o;
	rp_err_init(&err);
	if (rp_rate_parse(arg, field, &err) != 0)
		return cli_usage(cmd, "--limit-rate: %s", err.msg);
	return 0;
}
