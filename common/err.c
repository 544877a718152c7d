#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rp_err_init(struct rp_err *err)
{
	if (!err)
		return;
	err->code = RP_OK;
	err->msg[0] = '\0';
}

int rp_err_set(struct rp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void rp_err_prefix(struct rp_err *err, const char *fmt, ...)
{
	char pre[RP_ERR_MSG_MAX];
	char old[RP_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old);
}

int rp_err_errno(struct rp_err *err, int e, const char *fmt, ...)
{
	char ctx[RP_ERR_MSG_MAX / 2];
	va_list ap;

	if (!err)
		return RP_EIO;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	return rp_err_set(err, RP_EIO, "%s: %s", ctx, strerror(e));
}

int rp_code_exit(int code)
{
	switch (code) {
	case RP_OK:
		return 0;
	case RP_EVERIFY:
		return 1;
	case RP_EUSAGE:
		return 2;
	case RP_EFORMAT:
		return 3;
	case RP_EAUTH:
		return 5;
	case RP_EINTR:
		return 130;
	case RP_EIO:
	default:
		return 4;
	}
}
