/*
 * The libcurl adapter (the only includer of <curl/curl.h>): transport policy, single requests
 * and the multi engine for ranged reads. Every easy handle goes through setup_easy(), so TLS
 * verification, protocol limits, --resolve pins and the private-address check apply to all.
 */
#include "net/http.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/util.h"

/* curl_global_init is not thread-safe; this once-flag is the only file-scope state. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- shared easy-handle setup ---- */

struct xfer_policy {
	const struct rp_http_opts *opts;
	bool refused;
	char refused_ip[64];
	uint64_t moved; /* body bytes of this transfer already accounted to the rate cap */
};

static int prereq_cb(void *clientp, char *conn_primary_ip, char *conn_local_ip,
		     int conn_primary_port, int conn_local_port)
{
	struct xfer_policy *p = clientp;

	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	if (p->opts->require_private && !rp_addr_is_private(p->opts, conn_primary_ip)) {
		p->refused = true;
		snprintf(p->refused_ip, sizeof(p->refused_ip), "%s", conn_primary_ip);
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* Header lists may hold "Authorization: Bearer ..." and URLs a SAS: wipe before freeing. */
static void slist_free_wiped(struct curl_slist *l)
{
	struct curl_slist *n;

	for (n = l; n; n = n->next)
		if (n->data)
			explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(l);
}

static void free_wiped(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static struct curl_slist *resolve_list(const struct rp_http_opts *o)
{
	struct curl_slist *l = NULL, *n;
	size_t i;

	for (i = 0; i < o->resolve_count; i++) {
		n = curl_slist_append(l, o->resolve[i]);
		if (!n) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

/*
 * Abandon a transfer once the stop flag is set: curl calls this about once a second even
 * while nothing arrives, so an interrupt is heard during a stalled request too. Under a
 * bandwidth cap (net/rate.h) the bytes moved since the last call are accounted to the shared
 * bucket, and the transfer waits here until the cap allows more: every transfer goes through
 * this callback, so the cap holds over all of them (docs/operations.md).
 */
static int xferinfo_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer_policy *p = clientp;
	const volatile sig_atomic_t *stop = p->opts->stop;
	uint64_t now = (uint64_t)dlnow + (uint64_t)ulnow;

	(void)dltotal, (void)ultotal;
	if (stop && *stop)
		return 1;
	if (p->opts->rate && p->opts->rate->bps && now > p->moved) {
		uint64_t wait = rp_rate_take(p->opts->rate, now - p->moved);

		p->moved = now;
		rp_sleep_ms(wait, stop);
	}
	return stop && *stop ? 1 : 0;
}

/* Under a cap, small socket buffers: what the kernel takes ahead of the bucket stays a small
 * part of any 10 s (the peer sees the cap too, not a burst into the buffers). */
static int sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	const struct rp_http_opts *o = clientp;
	uint64_t b = o->rate->bps / 32;
	int sz;

	(void)purpose;
	if (b < 4096)
		b = 4096;
	if (b > (1u << 20))
		b = 1u << 20;
	sz = (int)b;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return CURL_SOCKOPT_OK;
}

static void setup_easy(CURL *e, const struct rp_http_opts *o, struct curl_slist *resolve,
		       CURLSH *share, struct xfer_policy *policy, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, o->allow_http ? "https,http" : "https");
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
	if (resolve)
		curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
	if (share)
		curl_easy_setopt(e, CURLOPT_SHARE, share);
	/* A proxy from https_proxy would be the address the private check sees, while the
	 * request goes on to wherever the proxy sends it: with --require-private, no proxy. */
	if (o->require_private || o->no_proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, "");
	policy->moved = 0;
	if (o->stop || (o->rate && o->rate->bps)) {
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, policy);
	}
	if (o->rate && o->rate->bps) {
		curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
		curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, (void *)o);
	}
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_cb);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, policy);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
			 o->connect_timeout_s ? o->connect_timeout_s : 30L);
	/* Under a cap of R, 64 connections get R/64 each: the low-speed abort stays below that. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
			 o->rate && o->rate->bps && o->rate->bps / 128 < 1024
			     ? (long)(o->rate->bps / 128 ? o->rate->bps / 128 : 1)
			     : 1024L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
			 o->low_speed_time_s ? o->low_speed_time_s : 60L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "cvmrestore/" RP_VERSION);
	errbuf[0] = '\0';
}

/*
 * Which check a transport failure failed, from libcurl's code: the TLS handshake or the server's
 * certificate (RP_R_TLS), the address policy (RP_R_AUTH), else none said (the code's).
 */
static enum rp_reason transport_reason(CURLcode cc, const struct xfer_policy *p)
{
	if (p->refused)
		return RP_R_AUTH;
	switch (cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return RP_R_TLS;
	default:
		return RP_R_NONE;
	}
}

static void transport_error(char *msg, size_t msgsz, const char *url, CURLcode cc,
			    const char *errbuf, const struct xfer_policy *p)
{
	char safe[512], proxy[256], var[40];

	rp_url_redact(url, safe, sizeof(safe));
	if (p->refused)
		snprintf(msg, msgsz,
			 "refusing to send a request to %s at %s: not a private address", safe,
			 p->refused_ip);
	else if (!p->opts->require_private && !p->opts->no_proxy &&
		 rp_http_env_proxy(url, proxy, sizeof(proxy), var, sizeof(var)))
		snprintf(msg, msgsz, "%s: %s (through the proxy %s from %s)", safe,
			 errbuf[0] ? errbuf : curl_easy_strerror(cc), proxy, var);
	else
		snprintf(msg, msgsz, "%s: %s", safe, errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

/* ---- the request log (--log-file, -v) ---- */

void rp_http_log_init(struct rp_http_log *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->echo_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
}

/* Append " key=value" to b (at *n of sz): the value as it is when it is plain, else quoted with
 * \" \\ and \xNN for control and non-ASCII bytes, "-" when empty (logfmt, as journald and
 * kubectl logs show it). */
static void log_field(char *b, size_t sz, size_t *n, const char *key, const char *v)
{
	bool plain = v && *v;
	const char *q;

	if (*n >= sz)
		return;
	for (q = v; plain && *q; q++)
		if (*q <= ' ' || *q == '"' || *q == '=' || *q == '\\' || (unsigned char)*q >= 0x7f)
			plain = false;
	if (!v || !*v) {
		*n += (size_t)snprintf(b + *n, sz - *n, " %s=-", key);
		return;
	}
	if (plain) {
		*n += (size_t)snprintf(b + *n, sz - *n, " %s=%s", key, v);
		return;
	}
	*n += (size_t)snprintf(b + *n, sz - *n, " %s=\"", key);
	for (q = v; *q && *n + 6 < sz; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '"' || c == '\\')
			*n += (size_t)snprintf(b + *n, sz - *n, "\\%c", c);
		else if (c < ' ' || c >= 0x7f)
			*n += (size_t)snprintf(b + *n, sz - *n, "\\x%02x", c);
		else
			b[(*n)++] = (char)c;
	}
	if (*n + 1 < sz)
		b[(*n)++] = '"';
	if (*n < sz)
		b[*n] = '\0';
}

static void log_write(int fd, const char *line, size_t len)
{
	while (fd >= 0 && len > 0) {
		ssize_t w = write(fd, line, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a log that cannot be written does not stop the run */
		line += w;
		len -= (size_t)w;
	}
}

/* The value of "Range: bytes=A-B" or "x-ms-range: bytes=A-B" in headers, as "A-B"; or "". */
static void range_of(const char *const *headers, char *out, size_t outsz)
{
	out[0] = '\0';
	for (; headers && *headers; headers++) {
		const char *h = *headers, *v = NULL;

		if (strncasecmp(h, "Range:", 6) == 0)
			v = h + 6;
		else if (strncasecmp(h, "x-ms-range:", 11) == 0)
			v = h + 11;
		if (!v)
			continue;
		while (*v == ' ')
			v++;
		if (strncmp(v, "bytes=", 6) == 0)
			v += 6;
		snprintf(out, outsz, "%s", v);
		return;
	}
}

/* The end of a log line: its newline (cutting a line that filled the buffer), then one write
 * to each destination under the lock, so lines of parallel transfers never interleave. */
static void log_end(struct rp_http_log *l, char *line, size_t sz, size_t n)
{
	if (n > sz - 2)
		n = sz - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&l->lock);
	log_write(l->fd, line, n);
	log_write(l->echo_fd, line, n);
	pthread_mutex_unlock(&l->lock);
}

/* The start of a log line: the UTC time, then key=kind (method=GET, event=retry), then the
 * URL's host and path, never its query. Returns the length written. */
static size_t log_start(char *line, size_t sz, const char *key, const char *kind, const char *url)
{
	char safe[1024], host[256], when[40];
	const char *h, *path;
	struct timespec ts;
	struct tm tm;
	size_t n, hl;

	rp_url_redact(url, safe, sizeof(safe));
	h = strstr(safe, "://");
	h = h ? h + 3 : safe;
	hl = strcspn(h, "/");
	snprintf(host, sizeof(host), "%.*s", (int)(hl < sizeof(host) ? hl : sizeof(host) - 1), h);
	path = h[hl] ? h + hl : "/";
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n = (size_t)snprintf(line, sz, "time=%s.%03ldZ", when, ts.tv_nsec / 1000000);
	log_field(line, sz, &n, key, kind);
	log_field(line, sz, &n, "host", host);
	log_field(line, sz, &n, "path", path);
	return n;
}

/*
 * One line for a finished request: UTC time, method, host, path (never the query: a SAS lives
 * there), range, status (0: no answer), body bytes moved both ways, duration, the request ids
 * the service returned, what went wrong (the service's error code or the transport's failure:
 * the reason a caller's retry acts on) and the wait the service asked for.
 */
static void log_request(const struct rp_http_opts *o, CURL *e, const char *method, const char *url,
			const char *range, long status, const char *req_id, const char *client_id,
			const char *error, long retry_after_ms)
{
	struct rp_http_log *l = o->log;
	char line[2048], num[32], ms[32], err[256];
	curl_off_t down = 0, up = 0, total_us = 0;
	char *ip = NULL;
	size_t n;

	if (!l || (l->fd < 0 && l->echo_fd < 0))
		return;
	curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
	n = log_start(line, sizeof(line), "method", method, url);
	log_field(line, sizeof(line), &n, "range", range);
	snprintf(num, sizeof(num), "%ld", status);
	log_field(line, sizeof(line), &n, "status", num);
	snprintf(num, sizeof(num), "%lld", (long long)(down + up));
	log_field(line, sizeof(line), &n, "bytes", num);
	snprintf(ms, sizeof(ms), "%lld", (long long)(total_us / 1000));
	log_field(line, sizeof(line), &n, "ms", ms);
	log_field(line, sizeof(line), &n, "request_id", req_id);
	log_field(line, sizeof(line), &n, "client_request_id", client_id);
	snprintf(err, sizeof(err), "%s", error ? error : "");
	rp_text_redact(err);
	log_field(line, sizeof(line), &n, "error", err);
	if (retry_after_ms >= 0) {
		snprintf(num, sizeof(num), "%ld", retry_after_ms);
		log_field(line, sizeof(line), &n, "retry_after_ms", num);
	}
	if (l->verbose >= 2 && curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
		log_field(line, sizeof(line), &n, "ip", ip);
	log_end(l, line, sizeof(line), n);
}

void rp_http_log_retry(struct rp_http_log *l, const char *url, uint64_t off, uint64_t len,
		       unsigned attempt, double wait_s, const char *reason, const char *what)
{
	char line[2048], num[64], msg[512];
	size_t n;

	if (!l || (l->fd < 0 && l->echo_fd < 0))
		return;
	n = log_start(line, sizeof(line), "event", "retry", url);
	snprintf(num, sizeof(num), "%" PRIu64 "-%" PRIu64, off, len ? off + len - 1 : off);
	log_field(line, sizeof(line), &n, "range", num);
	snprintf(num, sizeof(num), "%u", attempt);
	log_field(line, sizeof(line), &n, "attempt", num);
	snprintf(num, sizeof(num), "%.0f", wait_s * 1000.0);
	log_field(line, sizeof(line), &n, "wait_ms", num);
	log_field(line, sizeof(line), &n, "reason", reason);
	snprintf(msg, sizeof(msg), "%s", what ? what : "");
	rp_text_redact(msg);
	log_field(line, sizeof(line), &n, "error", msg);
	log_end(l, line, sizeof(line), n);
}

/* The error word of an answer for the log: the service's code, else "HTTP <status>" for a
 * status that is not success. */
static const char *answer_error(long status, const char *code, char *buf, size_t bufsz)
{
	if (code && *code)
		return code;
	if (status >= 400 || (status > 0 && status < 200)) {
		snprintf(buf, bufsz, "HTTP %ld", status);
		return buf;
	}
	return NULL;
}

/* ---- single requests ---- */

struct rp_http {
	struct rp_http_opts opts;
	CURL *easy;
	struct curl_slist *resolve;
	struct xfer_policy policy;
	char errbuf[CURL_ERROR_SIZE];
	bool permanent; /* the last request failed in a way no retry can mend */
};

int rp_http_new(const struct rp_http_opts *o, struct rp_http **out, struct rp_err *err)
{
	struct rp_http *h;

	pthread_once(&curl_once, curl_init_once);
	h = calloc(1, sizeof(*h));
	if (!h)
		return rp_err_set(err, RP_EIO, "out of memory");
	h->opts = *o;
	h->policy.opts = &h->opts;
	h->easy = curl_easy_init();
	h->resolve = resolve_list(o);
	if (!h->easy || (o->resolve_count && !h->resolve)) {
		rp_http_free(h);
		return rp_err_set(err, RP_EIO, "cannot set up libcurl");
	}
	*out = h;
	return 0;
}

void rp_http_free(struct rp_http *h)
{
	if (!h)
		return;
	if (h->easy)
		curl_easy_cleanup(h->easy);
	curl_slist_free_all(h->resolve);
	free(h);
}

struct body_buf {
	struct rp_http_response *r;
	size_t max;
	size_t cap; /* bytes allocated for r->body, its final NUL included */
	bool too_big;
	/* rp_http_request_stream: a 2xx body goes to fn instead */
	CURL *easy;
	rp_http_body_fn fn;
	void *fn_ctx;
	struct rp_err *err;
	int fn_rc;
};

static size_t body_cb(char *p, size_t size, size_t n, void *ud)
{
	struct body_buf *b = ud;
	size_t len = size * n;
	char *nb;

	if (b->fn) {
		long status = 0;

		curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			b->fn_rc = b->fn(b->fn_ctx, p, len, b->err);
			return b->fn_rc ? 0 : len;
		}
	}

	if (b->r->body_len + len > b->max) {
		b->too_big = true;
		return 0;
	}
	/* Grow by hand rather than realloc: answers may hold tokens, and the old block is wiped
	 * before it is freed. Doubling keeps the copies linear in the body (curl hands it over
	 * 16 KiB at a time: growing by that much copied a 4 MiB range 256 times). */
	if (b->r->body_len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->r->body_len + len + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		nb = malloc(cap);
		if (!nb)
			return 0;
		if (b->r->body) {
			memcpy(nb, b->r->body, b->r->body_len);
			explicit_bzero(b->r->body, b->r->body_len);
			free(b->r->body);
		}
		b->r->body = nb;
		b->cap = cap;
	}
	memcpy(b->r->body + b->r->body_len, p, len);
	b->r->body_len += len;
	b->r->body[b->r->body_len] = '\0';
	return len;
}

static char *trim_dup(const char *p, size_t n)
{
	char *s;

	while (n > 0 &&
	       (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct rp_http_response *r = ud;
	size_t len = size * n;
	const char *colon = memchr(p, ':', len);
	struct rp_http_header *nh;
	size_t i;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new status line (after a 100 Continue, say): forget earlier headers. */
		for (i = 0; i < r->header_count; i++) {
			free(r->headers[i].name);
			free(r->headers[i].value);
		}
		r->header_count = 0;
		return len;
	}
	if (!colon || r->header_count >= 256)
		return len;
	nh = realloc(r->headers, (r->header_count + 1) * sizeof(*nh));
	if (!nh)
		return 0;
	r->headers = nh;
	nh[r->header_count].name = trim_dup(p, (size_t)(colon - p));
	nh[r->header_count].value = trim_dup(colon + 1, len - (size_t)(colon - p) - 1);
	if (!nh[r->header_count].name || !nh[r->header_count].value) {
		free(nh[r->header_count].name);
		free(nh[r->header_count].value);
		return 0;
	}
	r->header_count++;
	return len;
}

const char *rp_http_header(const struct rp_http_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->header_count; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void rp_http_response_release(struct rp_http_response *r)
{
	size_t i;

	for (i = 0; i < r->header_count; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	if (r->body)
		explicit_bzero(r->body, r->body_len);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static struct curl_slist *header_list(const char *const *headers, const char *x_ms_version,
				      bool *ok)
{
	struct curl_slist *l = NULL, *n;
	char ver[64];

	*ok = false;
	snprintf(ver, sizeof(ver), "x-ms-version: %s",
		 x_ms_version ? x_ms_version : RP_X_MS_VERSION);
	n = curl_slist_append(l, ver);
	if (!n)
		return NULL;
	l = n;
	for (; headers && *headers; headers++) {
		if (!**headers)
			continue;
		n = curl_slist_append(l, *headers);
		if (!n) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	*ok = true;
	return l;
}

static int perform(struct rp_http *h, const char *method, const char *url,
		   const char *const *headers, const void *body, size_t body_len,
		   struct body_buf *bbp, struct rp_http_response *resp, struct rp_err *err)
{
	struct body_buf bb = *bbp;
	struct curl_slist *hl;
	CURL *e = h->easy;
	char *ip = NULL;
	CURLcode cc;
	bool ok;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	curl_easy_reset(e);
	h->policy.refused = false;
	h->permanent = false;
	setup_easy(e, &h->opts, h->resolve, NULL, &h->policy, h->errbuf);
	hl = header_list(headers, h->opts.x_ms_version, &ok);
	if (!ok)
		return rp_err_set(err, RP_EIO, "out of memory");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
		snprintf(resp->primary_ip, sizeof(resp->primary_ip), "%s", ip);
	if (h->opts.log) {
		char range[96], eb[32], ra[32];
		const char *rah = rp_http_header(resp, "x-ms-retry-after-ms");
		long ra_ms = -1;

		range_of(headers, range, sizeof(range));
		if (!rah && (rah = rp_http_header(resp, "Retry-After")) != NULL) {
			snprintf(ra, sizeof(ra), "%s000", rah);
			rah = ra;
		}
		if (rah) {
			uint64_t v;
			if (rp_parse_u64(rah, &v, NULL) == 0 && v < 3600000)
				ra_ms = (long)v;
		}
		log_request(&h->opts, e, method, url, range, cc == CURLE_OK ? resp->status : 0,
			    rp_http_header(resp, "x-ms-request-id"),
			    rp_http_header(resp, "x-ms-client-request-id"),
			    cc != CURLE_OK ? (h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc))
					   : answer_error(resp->status,
							  rp_http_header(resp, "x-ms-error-code"),
							  eb, sizeof(eb)),
			    ra_ms);
	}
	if (cc != CURLE_OK) {
		char msg[RP_ERR_MSG_MAX];

		if (cc == CURLE_ABORTED_BY_CALLBACK && h->opts.stop && *h->opts.stop) {
			rc = rp_err_set(err, RP_EINTR, "interrupted");
		} else if (bb.fn_rc) {
			rc = bb.fn_rc; /* fn set err */
		} else if (bb.too_big) {
			char safe[512];
			rp_url_redact(url, safe, sizeof(safe));
			rc = rp_err_set(err, RP_EIO, "%s: answer larger than %zu bytes", safe,
					bb.max);
		} else {
			transport_error(msg, sizeof(msg), url, cc, h->errbuf, &h->policy);
			rc = rp_err_set_reason(err, h->policy.refused ? RP_EAUTH : RP_EIO,
					       transport_reason(cc, &h->policy), "%s", msg);
			if (err && h->policy.refused)
				err->hint = RP_H_PRIVATE_CIDR;
			/* An untrusted certificate or a refused protocol stays so: no retry. */
			h->permanent =
			    cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CERTPROBLEM ||
			    cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_ISSUER_ERROR ||
			    cc == CURLE_UNSUPPORTED_PROTOCOL;
		}
		rp_http_response_release(resp);
	}
	/* The easy handle keeps pointers to the list until the next reset. */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	slist_free_wiped(hl);
	return rc;
}

int rp_http_request(struct rp_http *h, const char *method, const char *url,
		    const char *const *headers, const void *body, size_t body_len, size_t max_body,
		    struct rp_http_response *resp, struct rp_err *err)
{
	struct body_buf bb = {.r = resp, .max = max_body};

	return perform(h, method, url, headers, body, body_len, &bb, resp, err);
}

int rp_http_request_stream(struct rp_http *h, const char *url, const char *const *headers,
			   size_t max_body, rp_http_body_fn fn, void *ctx,
			   struct rp_http_response *resp, struct rp_err *err)
{
	struct body_buf bb = {
	    .r = resp, .max = max_body, .easy = h->easy, .fn = fn, .fn_ctx = ctx, .err = err};

	return perform(h, "GET", url, headers, NULL, 0, &bb, resp, err);
}

bool rp_http_failed_for_good(const struct rp_http *h)
{
	return h->permanent;
}

/* ---- the multi engine ---- */

struct xfer {
	CURL *easy;
	struct curl_slist *headers;
	struct xfer_policy policy;
	char errbuf[CURL_ERROR_SIZE];
	char *url;
	uint8_t *buf;
	uint64_t off;
	size_t len;
	void *user;
	struct rp_http_xfer_result res;
	char errbody[4096];
	size_t errbody_len;
	bool busy;
};

struct rp_http_multi {
	struct rp_http_opts opts;
	CURLM *multi;
	CURLSH *share;
	struct curl_slist *resolve;
	unsigned max;
	struct xfer *x;
	unsigned running;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
	struct rp_http_multi *m = ud;

	(void)h;
	(void)a;
	pthread_mutex_lock(&m->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
	struct rp_http_multi *m = ud;

	(void)h;
	pthread_mutex_unlock(&m->share_lock[d]);
}

int rp_http_multi_new(const struct rp_http_opts *o, unsigned max_conns, struct rp_http_multi **out,
		      struct rp_err *err)
{
	struct rp_http_multi *m;
	unsigned i;

	pthread_once(&curl_once, curl_init_once);
	m = calloc(1, sizeof(*m));
	if (!m)
		return rp_err_set(err, RP_EIO, "out of memory");
	m->opts = *o;
	m->max = max_conns ? max_conns : 1;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&m->share_lock[i], NULL);
	m->x = calloc(m->max, sizeof(*m->x));
	m->multi = curl_multi_init();
	m->share = curl_share_init();
	m->resolve = resolve_list(o);
	if (!m->x || !m->multi || !m->share || (o->resolve_count && !m->resolve)) {
		rp_http_multi_free(m);
		return rp_err_set(err, RP_EIO, "cannot set up libcurl");
	}
	/* TLS sessions and DNS answers are shared by all transfers; connections are pooled by
	 * the multi handle itself. */
	curl_share_setopt(m->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(m->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(m->share, CURLSHOPT_USERDATA, m);
	curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)m->max);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)m->max);
	curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)m->max);
	for (i = 0; i < m->max; i++) {
		m->x[i].easy = curl_easy_init();
		if (!m->x[i].easy) {
			rp_http_multi_free(m);
			return rp_err_set(err, RP_EIO, "cannot set up libcurl");
		}
		m->x[i].policy.opts = &m->opts;
	}
	*out = m;
	return 0;
}

void rp_http_multi_free(struct rp_http_multi *m)
{
	unsigned i;

	if (!m)
		return;
	for (i = 0; m->x && i < m->max; i++) {
		if (m->x[i].busy)
			curl_multi_remove_handle(m->multi, m->x[i].easy);
		if (m->x[i].easy)
			curl_easy_cleanup(m->x[i].easy);
		slist_free_wiped(m->x[i].headers);
		free_wiped(m->x[i].url);
	}
	if (m->multi)
		curl_multi_cleanup(m->multi);
	if (m->share)
		curl_share_cleanup(m->share);
	curl_slist_free_all(m->resolve);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&m->share_lock[i]);
	free(m->x);
	free(m);
}

static void copy_value(char *dst, size_t dsz, const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n >= dsz)
		n = dsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static bool header_is(const char *p, size_t len, const char *name, const char **value, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return false;
	*value = p + n + 1;
	*vlen = len - n - 1;
	return true;
}

static size_t xfer_header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	struct rp_http_xfer_result *r = &x->res;
	size_t len = size * n, vlen;
	const char *v;
	char num[32];

	if (header_is(p, len, "ETag", &v, &vlen))
		copy_value(r->etag, sizeof(r->etag), v, vlen);
	else if (header_is(p, len, "Last-Modified", &v, &vlen))
		copy_value(r->last_modified, sizeof(r->last_modified), v, vlen);
	else if (header_is(p, len, "x-ms-content-crc64", &v, &vlen))
		copy_value(r->crc64, sizeof(r->crc64), v, vlen);
	else if (header_is(p, len, "Content-MD5", &v, &vlen))
		copy_value(r->md5, sizeof(r->md5), v, vlen);
	else if (header_is(p, len, "x-ms-error-code", &v, &vlen))
		copy_value(r->error_code, sizeof(r->error_code), v, vlen);
	else if (header_is(p, len, "Content-Range", &v, &vlen))
		copy_value(r->content_range, sizeof(r->content_range), v, vlen);
	else if (header_is(p, len, "x-ms-request-id", &v, &vlen))
		copy_value(r->request_id, sizeof(r->request_id), v, vlen);
	else if (header_is(p, len, "x-ms-client-request-id", &v, &vlen))
		copy_value(r->client_request_id, sizeof(r->client_request_id), v, vlen);
	else if (header_is(p, len, "x-ms-retry-after-ms", &v, &vlen)) {
		uint64_t ms;
		copy_value(num, sizeof(num), v, vlen);
		if (rp_parse_u64(num, &ms, NULL) == 0 && ms < 3600000)
			r->retry_after_ms = (long)ms;
	} else if (header_is(p, len, "Retry-After", &v, &vlen) && r->retry_after_ms < 0) {
		uint64_t s;
		copy_value(num, sizeof(num), v, vlen);
		if (rp_parse_u64(num, &s, NULL) == 0 && s < 3600)
			r->retry_after_ms = (long)(s * 1000);
	}
	return len;
}

static size_t xfer_body_cb(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		/* Keep the start of an error body (XML with <Code> and <Message>). */
		size_t room = sizeof(x->errbody) - 1 - x->errbody_len;
		size_t k = len < room ? len : room;
		memcpy(x->errbody + x->errbody_len, p, k);
		x->errbody_len += k;
		x->errbody[x->errbody_len] = '\0';
		return len;
	}
	if (x->res.received + len > x->len) {
		x->res.overflow = true;
		return 0;
	}
	memcpy(x->buf + x->res.received, p, len);
	x->res.received += len;
	return len;
}

int rp_http_multi_get_range(struct rp_http_multi *m, const char *url, const char *const *headers,
			    uint64_t off, size_t len, uint8_t *buf, long timeout_ms, void *user,
			    struct rp_err *err)
{
	struct xfer *x = NULL;
	char range[64];
	unsigned i;
	bool ok;

	for (i = 0; i < m->max; i++)
		if (!m->x[i].busy) {
			x = &m->x[i];
			break;
		}
	if (!x)
		return rp_err_set(err, RP_EUSAGE, "all %u transfers are busy", m->max);
	if (len == 0)
		return rp_err_set(err, RP_EUSAGE, "empty range");
	slist_free_wiped(x->headers);
	free_wiped(x->url);
	x->headers = header_list(headers, m->opts.x_ms_version, &ok);
	x->url = strdup(url);
	if (!ok || !x->url)
		return rp_err_set(err, RP_EIO, "out of memory");
	x->buf = buf;
	x->off = off;
	x->len = len;
	x->user = user;
	x->errbody_len = 0;
	x->errbody[0] = '\0';
	memset(&x->res, 0, sizeof(x->res));
	x->res.retry_after_ms = -1;
	x->policy.refused = false;
	curl_easy_reset(x->easy);
	setup_easy(x->easy, &m->opts, m->resolve, m->share, &x->policy, x->errbuf);
	snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_RANGE, range);
	/* Under a cap, a range shares it with up to max others: its deadline grows by the time
	 * that share takes, or the cap would turn into timeouts and retries. */
	if (timeout_ms > 0 && m->opts.rate && m->opts.rate->bps)
		timeout_ms += (long)((uint64_t)len * m->max * 1000 / m->opts.rate->bps);
	if (timeout_ms > 0)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, xfer_body_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, xfer_header_cb);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	/* Large receive buffers: fewer reads and callbacks per 4 MiB chunk. */
	curl_easy_setopt(
	    x->easy, CURLOPT_BUFFERSIZE,
	    m->opts.rate && m->opts.rate->bps && m->opts.rate->bps / 16 < 512 * 1024
		? (long)(m->opts.rate->bps / 16 > 16384 ? m->opts.rate->bps / 16 : 16384)
		: 512L * 1024);
	if (curl_multi_add_handle(m->multi, x->easy) != CURLM_OK)
		return rp_err_set(err, RP_EIO, "cannot start a transfer");
	x->busy = true;
	m->running++;
	return 0;
}

/* <Code>X</Code> from an XML error body: enough for a message; the full parser lives in
 * formats/ and is used for page lists. */
static void code_from_body(struct xfer *x)
{
	const char *a = strstr(x->errbody, "<Code>"), *b;

	if (x->res.error_code[0] || !a)
		return;
	a += 6;
	b = strstr(a, "</Code>");
	if (b)
		copy_value(x->res.error_code, sizeof(x->res.error_code), a, (size_t)(b - a));
}

static void message_from_body(struct xfer *x)
{
	const char *a = strstr(x->errbody, "<Message>"), *b;

	if (!a)
		return;
	a += 9;
	b = strstr(a, "</Message>");
	if (!b)
		return;
	/* Azure's messages carry a RequestId and Time on further lines: keep the first line. */
	copy_value(x->res.msg, sizeof(x->res.msg), a,
		   strcspn(a, "\r\n") < (size_t)(b - a) ? strcspn(a, "\r\n") : (size_t)(b - a));
}

int rp_http_multi_run(struct rp_http_multi *m, int timeout_ms, rp_http_done_fn done, void *ctx,
		      struct rp_err *err)
{
	CURLMsg *msg;
	int still = 0, left;
	CURLMcode mc;

	mc = curl_multi_perform(m->multi, &still);
	if (mc == CURLM_OK && timeout_ms > 0)
		mc = curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL);
	if (mc == CURLM_OK)
		mc = curl_multi_perform(m->multi, &still);
	if (mc != CURLM_OK)
		return rp_err_set(err, RP_EIO, "libcurl: %s", curl_multi_strerror(mc));
	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct xfer *x = NULL;
		char *ip = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->res.status);
		if (curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
			snprintf(x->res.primary_ip, sizeof(x->res.primary_ip), "%s", ip);
		if (msg->data.result != CURLE_OK && !x->res.overflow) {
			CURLcode cc = msg->data.result;
			transport_error(x->res.msg, sizeof(x->res.msg), x->url, cc, x->errbuf,
					&x->policy);
			x->res.code = x->policy.refused ? RP_EAUTH : RP_EIO;
			x->res.reason = transport_reason(cc, &x->policy);
			x->res.hint = x->policy.refused ? RP_H_PRIVATE_CIDR : RP_H_NONE;
			x->res.timed_out = cc == CURLE_OPERATION_TIMEDOUT;
			x->res.permanent =
			    x->policy.refused || cc == CURLE_PEER_FAILED_VERIFICATION ||
			    cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM ||
			    cc == CURLE_SSL_ISSUER_ERROR || cc == CURLE_UNSUPPORTED_PROTOCOL;
		} else if (x->res.status < 200 || x->res.status > 299) {
			code_from_body(x);
			message_from_body(x);
		}
		if (m->opts.log) {
			char range[64], eb[32];

			snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)x->off,
				 (unsigned long long)(x->off + x->len - 1));
			log_request(
			    &m->opts, x->easy, "GET", x->url, range,
			    msg->data.result == CURLE_OK ? x->res.status : 0, x->res.request_id,
			    x->res.client_request_id,
			    msg->data.result != CURLE_OK
				? (x->res.overflow
				       ? "the server sent more than asked for"
				       : (x->errbuf[0] ? x->errbuf
						       : curl_easy_strerror(msg->data.result)))
				: answer_error(x->res.status, x->res.error_code, eb, sizeof(eb)),
			    x->res.retry_after_ms);
		}
		curl_multi_remove_handle(m->multi, x->easy);
		x->busy = false;
		m->running--;
		done(ctx, x->user, &x->res);
	}
	return (int)m->running;
}

void rp_http_multi_wakeup(struct rp_http_multi *m)
{
	curl_multi_wakeup(m->multi);
}
