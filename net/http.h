/*
 * The HTTP adapter: the only file that includes <curl/curl.h> (http.c), for single requests
 * (HEAD, page lists, token endpoints, Key Vault) and the parallel ranged-read engine
 * (fetch.c uses the opaque multi handle through the functions below).
 *
 * Transport policy lives in struct rp_http_opts and is applied to every request: TLS
 * verification always on, TLS 1.2 or newer, optional CA file, http:// refused unless
 * allow_http, --resolve pins, and --require-private (the connected address is checked before a
 * single byte of the request is sent).
 *
 * URLs passed in may carry a SAS (a secret): this layer never puts a URL into a message
 * without rp_url_redact(). Thread safety: one struct rp_http per thread.
 */
#ifndef RP_NET_HTTP_H
#define RP_NET_HTTP_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/text.h" /* rp_url_redact(): messages name URLs in that form only */
#include "net/rate.h"

#define RP_HTTP_MAX_RESOLVE 16
#define RP_HTTP_MAX_CIDRS 16

struct rp_cidr {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned prefix;  /* over 128 bits */
};

/*
 * Where the request log goes (--log-file, -v): one line per request, appended to fd and to
 * echo_fd (stderr for -v); -1 for either: not there. Lines name the host and the path, never
 * the query (a SAS), a header or a body (docs/operations.md has the fields). Thread-safe.
 */
struct rp_http_log {
	int fd;
	int echo_fd;
	unsigned verbose; /* -v count: 2 and more add the connected address */
	pthread_mutex_t lock;
};

/* A log that writes nowhere (fd and echo_fd -1). */
void rp_http_log_init(struct rp_http_log *l);

/*
 * One line for a retry a caller decided above HTTP (a transport hash or seal that did not
 * match on a good answer, a stall, a short body): event=retry, the URL's host and path, the
 * range, the attempt it starts, the wait before it and why (a reason word, common/err.h, and
 * the message; both redacted). No-op for a NULL or silent log.
 */
void rp_http_log_retry(struct rp_http_log *l, const char *url, uint64_t off, uint64_t len,
		       unsigned attempt, double wait_s, const char *reason, const char *what);

struct rp_http_opts {
	const char *cacert;			  /* PEM bundle, or NULL for the system store */
	bool allow_http;			  /* permit http:// URLs */
	const char *resolve[RP_HTTP_MAX_RESOLVE]; /* "HOST:PORT:ADDR", as curl's --resolve */
	size_t resolve_count;
	bool require_private; /* refuse to talk to addresses outside private ranges (and
			       * never use a proxy: its address is not the one checked) */
	bool no_proxy;	      /* never use a proxy (IMDS: link-local, the SDKs' rule) */
	/* When set and non-zero (a signal handler sets it), a request under way is abandoned
	 * within a second: rp_http_request returns RP_EINTR. NULL: never. */
	const volatile sig_atomic_t *stop;
	struct rp_cidr private_extra[RP_HTTP_MAX_CIDRS]; /* --private-cidr additions */
	size_t private_extra_count;
	long connect_timeout_s;	  /* 0: 30 s */
	long low_speed_time_s;	  /* abort a transfer slower than 1 KiB/s for this long; 0: 60 s */
	const char *x_ms_version; /* 0: RP_X_MS_VERSION */
	struct rp_http_log *log;  /* the request log, or NULL */
	struct rp_rate *rate;	  /* the bandwidth cap shared by all transfers, or NULL */
};

#define RP_X_MS_VERSION "2021-08-06"

/* Parse "10.0.0.0/8" or "fc00::/7" into c; RP_EUSAGE on bad text. */
int rp_cidr_parse(const char *text, struct rp_cidr *c, struct rp_err *err);

/* Is the numeric address text (IPv4 or IPv6) inside the private ranges (docs/azure.md) or the
 * extra ones in o? */
bool rp_addr_is_private(const struct rp_http_opts *o, const char *addr);

/*
 * The proxy libcurl would take for url from the environment (https_proxy, HTTPS_PROXY,
 * all_proxy, ALL_PROXY; http_proxy for http; no_proxy/NO_PROXY exempt hosts): true, with the
 * proxy's display form (no user info, no query) in proxy and the variable's name in var, or
 * false when the request goes direct. Reads the environment; thread-safe while it is unchanged.
 */
bool rp_http_env_proxy(const char *url, char *proxy, size_t proxysz, char *var, size_t varsz);

struct rp_http_header {
	char *name;
	char *value;
};

struct rp_http_response {
	long status;
	char *body; /* NUL-terminated, body_len bytes before the NUL */
	size_t body_len;
	struct rp_http_header *headers;
	size_t header_count;
	char primary_ip[64]; /* the address the request went to */
};

/* A header of the response (case-insensitive name), or NULL. */
const char *rp_http_header(const struct rp_http_response *r, const char *name);

void rp_http_response_release(struct rp_http_response *r);

struct rp_http;

/* A handle that keeps connections and TLS sessions alive between requests. */
int rp_http_new(const struct rp_http_opts *o, struct rp_http **out, struct rp_err *err);
void rp_http_free(struct rp_http *h);

/*
 * One request. headers: NULL-terminated "Name: value" strings (may be NULL). A body larger than
 * max_body is an RP_EIO error. Transport failures are RP_EIO naming the redacted URL and curl's
 * error text, a TLS failure with reason RP_R_TLS; an address refused by require_private is
 * RP_EAUTH with hint RP_H_PRIVATE_CIDR; any HTTP status is success here (the caller interprets it).
 */
int rp_http_request(struct rp_http *h, const char *method, const char *url,
		    const char *const *headers, const void *body, size_t body_len, size_t max_body,
		    struct rp_http_response *resp, struct rp_err *err);

/*
 * A GET like rp_http_request whose 2xx body is not kept but handed to fn as it arrives (a page
 * list of millions of ranges). fn returns 0 to go on, or an error code with err set: the
 * transfer stops and that code is returned. Any other answer's body is kept in resp as
 * rp_http_request does, up to max_body (an error body). Whether the body arrived whole is the
 * caller's judgement (its format tells; a transport failure is RP_EIO as above).
 */
typedef int (*rp_http_body_fn)(void *ctx, const char *data, size_t len, struct rp_err *err);

int rp_http_request_stream(struct rp_http *h, const char *url, const char *const *headers,
			   size_t max_body, rp_http_body_fn fn, void *ctx,
			   struct rp_http_response *resp, struct rp_err *err);

/* True if the last rp_http_request failed in a way no retry can mend (an untrusted server
 * certificate, say). */
bool rp_http_failed_for_good(const struct rp_http *h);

/* ---- parallel ranged reads (libcurl multi, driven by one thread) ---- */

struct rp_http_xfer_result {
	int code;	       /* 0: an HTTP answer came (any status); else RP_EIO / RP_EAUTH */
	enum rp_reason reason; /* which check failed (RP_R_TLS for TLS), or RP_R_NONE */
	enum rp_hint hint;     /* what the caller could change (a refused address), or RP_H_NONE */
	bool permanent;	       /* a failure no retry can mend (an untrusted certificate, say) */
	bool timed_out;	       /* the transfer's deadline (timeout_ms) passed before it completed */
	long status;
	size_t received; /* body bytes written to the caller's buffer (2xx only) */
	bool overflow;	 /* the server sent more than asked for */
	char etag[128];
	char last_modified[64];
	char crc64[32];	     /* x-ms-content-crc64 */
	char md5[32];	     /* Content-MD5 */
	char error_code[64]; /* x-ms-error-code, or <Code> of an XML error body */
	char content_range[96];
	long retry_after_ms; /* Retry-After (seconds) or x-ms-retry-after-ms; -1 if neither */
	char msg[256];	     /* what went wrong in transport (curl's text), or the error message */
	char primary_ip[64];
	char request_id[64];	    /* x-ms-request-id, or "" */
	char client_request_id[64]; /* x-ms-client-request-id, or "" */
};

struct rp_http_multi;

/* An engine for up to max_conns concurrent transfers sharing connections and TLS sessions. */
int rp_http_multi_new(const struct rp_http_opts *o, unsigned max_conns, struct rp_http_multi **out,
		      struct rp_err *err);
void rp_http_multi_free(struct rp_http_multi *m);

/*
 * Start GET url with "Range: bytes=off-(off+len-1)" (plus headers, NULL-terminated) writing the
 * body into buf (len bytes). user comes back with the result. The URL is copied. timeout_ms > 0:
 * the whole transfer (connection included) must complete within it, else it ends with
 * timed_out set (a server that trickles above the low-speed limit would hold it for ever).
 */
int rp_http_multi_get_range(struct rp_http_multi *m, const char *url, const char *const *headers,
			    uint64_t off, size_t len, uint8_t *buf, long timeout_ms, void *user,
			    struct rp_err *err);

typedef void (*rp_http_done_fn)(void *ctx, void *user, const struct rp_http_xfer_result *r);

/*
 * Move bytes for at most timeout_ms; call done for every transfer that finished (from this
 * thread). Returns the number of transfers still running, or a negative error.
 */
int rp_http_multi_run(struct rp_http_multi *m, int timeout_ms, rp_http_done_fn done, void *ctx,
		      struct rp_err *err);

/* Wake a multi that is waiting in rp_http_multi_run (safe from any thread). */
void rp_http_multi_wakeup(struct rp_http_multi *m);

#endif
