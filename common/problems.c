#include "problems.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rp_problems_init(struct rp_problems *p)
{
	memset(p, 0, sizeof(*p));
}

void rp_problems_release(struct rp_problems *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static struct rp_problem *grow(struct rp_problems *p)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct rp_problem *v;

		if (cap > SIZE_MAX / sizeof(*v))
			return NULL;
		v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	return &p->v[p->n++];
}

int rp_problems_add(struct rp_problems *p, int code, bool checksum, const char *fmt, ...)
{
	struct rp_problem *e = grow(p);
	va_list ap;

	if (!e)
		return RP_EIO;
	e->code = code;
	e->checksum = checksum;
	e->hint = RP_H_NONE;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return 0;
}

int rp_problems_add_err(struct rp_problems *p, const struct rp_err *err, bool checksum)
{
	int rc = rp_problems_add(p, err->code, checksum, "%s", err->msg);

	if (rc == 0)
		p->v[p->n - 1].hint = err->hint;
	return rc;
}
