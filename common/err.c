#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rp_err_init(struct rp_err *err)
{
	if (!err)
		return;
	err->code = RP_OK;
	err->reason = RP_R_NONE;
	err->hint = RP_H_NONE;
	err->hint_value[0] = '\0';
	err->msg[0] = '\0';
}

int rp_err_set(struct rp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->reason = RP_R_NONE;
	err->hint = RP_H_NONE;
	err->hint_value[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int rp_err_set_reason(struct rp_err *err, int code, enum rp_reason reason, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->reason = reason;
	err->hint = RP_H_NONE;
	err->hint_value[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int rp_err_set_hint(struct rp_err *err, int code, enum rp_hint hint, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->reason = RP_R_NONE;
	err->hint = hint;
	err->hint_value[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void rp_err_hint(struct rp_err *err, enum rp_hint hint)
{
	if (err) {
		err->hint = hint;
		err->hint_value[0] = '\0';
	}
}

void rp_err_hint_value(struct rp_err *err, enum rp_hint hint, const char *value)
{
	if (err) {
		err->hint = hint;
		snprintf(err->hint_value, sizeof(err->hint_value), "%s", value ? value : "");
	}
}

enum rp_reason rp_reason_of_code(int code)
{
	switch (code) {
	case RP_OK:
		return RP_R_NONE;
	case RP_EVERIFY:
		return RP_R_SEAL_MISMATCH;
	case RP_EUSAGE:
		return RP_R_USAGE;
	case RP_EFORMAT:
		return RP_R_FORMAT;
	case RP_EAUTH:
		return RP_R_AUTH;
	case RP_EINTR:
		return RP_R_INTERRUPTED;
	default:
		return RP_R_IO;
	}
}

enum rp_reason rp_err_reason_of(const struct rp_err *err)
{
	if (!err)
		return RP_R_NONE;
	return err->reason != RP_R_NONE ? err->reason : rp_reason_of_code(err->code);
}

const char *rp_reason_name(enum rp_reason r)
{
	static const char *const names[RP_R_COUNT] = {
	    [RP_R_NONE] = "none",
	    [RP_R_SEAL_MISMATCH] = "seal-mismatch",
	    [RP_R_TRANSPORT_HASH] = "transport-hash",
	    [RP_R_DECRYPT_TAG] = "decrypt-tag",
	    [RP_R_SOURCE_CHANGED] = "source-changed",
	    [RP_R_FOOTER] = "footer-invalid",
	    [RP_R_FORMAT] = "format-error",
	    [RP_R_AUTH] = "auth-error",
	    [RP_R_TLS] = "tls-error",
	    [RP_R_IO] = "io-error",
	    [RP_R_INTERRUPTED] = "interrupted",
	    [RP_R_USAGE] = "usage-error",
	};

	return (unsigned)r < RP_R_COUNT && names[r] ? names[r] : "io-error";
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
