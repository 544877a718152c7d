/* Unit tests for formats/dnsmsg.c: answers as resolvers send them, and one defect per case. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "formats/dnsmsg.h"

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(m, b, 2);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");
		uint8_t len = (uint8_t)l;

		put(m, &len, 1);
		put(m, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	put(m, "", 1);
}

/* header (response, RD, RA, rcode) and the question for name */
static void start(struct msg *m, const char *name, unsigned rcode, unsigned ancount)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, name);
	put16(m, 1);
	put16(m, 1);
}

/* a record whose owner is the question's name (pointer 0xC00C) or owner, with rdata */
static void record(struct msg *m, const char *owner, unsigned type, const void *rdata, size_t rdlen)
{
	if (owner)
		put_name(m, owner);
	else
		put16(m, 0xC00C);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 60);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

static void cname(struct msg *m, const char *owner, const char *target)
{
	struct msg t = {.n = 0};

	put_name(&t, target);
	record(m, owner, 5, t.b, t.n);
}

static const uint8_t ADDR1[4] = {10, 1, 2, 3}, ADDR2[4] = {10, 1, 2, 4};

static void test_chain(void **state)
{
	struct rp_dns_answer a;
	struct rp_err err;
	struct msg m;

	(void)state;
	start(&m, "acct.blob.core.windows.net", 0, 4);
	cname(&m, NULL, "acct.privatelink.blob.core.windows.net");
	record(&m, "ACCT.privatelink.blob.core.windows.net", 1, ADDR1, 4);
	record(&m, "acct.privatelink.blob.core.windows.net", 1, ADDR2, 4);
	record(&m, "other.example", 1, ADDR2, 4); /* not on the chain: ignored */
	rp_err_init(&err);
	assert_int_equal(rp_dns_parse(m.b, m.n, "acct.blob.core.windows.net", &a, &err), 0);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.chain_len, 2);
	assert_string_equal(a.chain[1], "acct.privatelink.blob.core.windows.net");
	assert_int_equal(a.addr_count, 2);
	assert_string_equal(a.addrs[0], "10.1.2.3");
	assert_string_equal(a.addrs[1], "10.1.2.4");
}

static void test_nxdomain_and_printable(void **state)
{
	struct rp_dns_answer a;
	struct rp_err err;
	struct msg m;

	(void)state;
	start(&m, "nosuch.example", 3, 0);
	assert_int_equal(rp_dns_parse(m.b, m.n, "nosuch.example", &a, &err), 0);
	assert_int_equal(a.rcode, 3);
	assert_int_equal(a.chain_len, 1);
	assert_int_equal(a.addr_count, 0);
	start(&m, "x.example", 0, 1);
	cname(&m, NULL, "a\x1b[2J.example");
	assert_int_equal(rp_dns_parse(m.b, m.n, "x.example", &a, &err), 0);
	assert_string_equal(a.chain[1], "a??2J.example");
}

static void test_errors(void **state)
{
	static const char *const want[] = {
	    "shorter than a header",	"not a response",
	    "truncated (TC set)",	"does not point back",
	    "runs past the end",	"over 255 bytes",
	    "an address of 5 bytes",	"loops at",
	    "longer than 8 names",	"unknown label type",
	    "record data past the end",
	};
	struct rp_dns_answer a;
	struct rp_err err;
	struct msg m;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		start(&m, "q.example", 0, 1);
		switch (i) {
		case 0:
			m.n = 11;
			break;
		case 1:
			m.b[2] &= 0x7F;
			break;
		case 2:
			m.b[2] |= 0x02;
			break;
		case 3:
			put16(&m, 0xC000 | 200); /* a pointer forward */
			break;
		case 4:
			m.n -= 6; /* the question's name is cut */
			m.b[m.n - 1] = 9;
			break;
		case 5:
			for (k = 0; k < 5; k++)
				put(&m,
				    "\x3f"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "a",
				    64);
			put(&m, "", 1);
			break;
		case 6:
			record(&m, NULL, 1, "12345", 5);
			break;
		case 7:
			m.b[7] = 2;
			cname(&m, NULL, "r.example");
			cname(&m, "r.example", "q.example");
			break;
		case 8:
			m.b[7] = 8;
			cname(&m, NULL, "c1.example");
			for (k = 1; k < 8; k++) {
				char o[16], t[16];

				snprintf(o, sizeof(o), "c%zu.example", k);
				snprintf(t, sizeof(t), "c%zu.example", k + 1);
				cname(&m, o, t);
			}
			break;
		case 9:
			put16(&m, 0x4000);
			break;
		case 10:
			record(&m, NULL, 1, ADDR1, 4);
			m.n -= 2;
			break;
		}
		rp_err_init(&err);
		if (rp_dns_parse(m.b, m.n, "q.example", &a, &err) != RP_EFORMAT ||
		    !strstr(err.msg, want[i]))
			fail_msg("case %zu: want '%s', got '%s'", i, want[i], err.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain),
	    cmocka_unit_test(test_nxdomain_and_printable),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
