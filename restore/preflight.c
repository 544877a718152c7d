#include "restore/preflight.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/url.h"
#include "common/util.h"
#include "net/blob.h"
#include "net/dns.h"

static struct rp_check *add(struct rp_preflight *pf, const char *name)
{
	struct rp_check *c = &pf->check[pf->count++];

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->pass = true;
	return c;
}

static void failed(struct rp_check *c, int code, enum rp_hint flag, const char *hint,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void failed(struct rp_check *c, int code, enum rp_hint flag, const char *hint,
		   const char *fmt, ...)
{
	va_list ap;

	c->pass = false;
	c->code = code;
	c->flag = flag;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	snprintf(c->hint, sizeof(c->hint), "%s", hint);
}

/* host and port of an http(s) URL (the scheme's port when none is given) */
static int split_url(const char *url, char *host, size_t hsz, char *port, size_t psz)
{
	bool https = strncasecmp(url, "https", 5) == 0;
	struct rp_url_host u;

	if (!rp_url_host(url, &u))
		return -1;
	snprintf(host, hsz, "%.*s", (int)u.host_len, u.host);
	if (u.port)
		snprintf(port, psz, "%.*s", (int)u.port_len, u.port);
	else
		snprintf(port, psz, "%s", https ? "443" : "80");
	return 0;
}

static bool is_address(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* The first address the system's name service (getaddrinfo: /etc/hosts, DNS) gives host. */
static bool system_address(const char *host, const char *port, char *out, size_t outsz)
{
	struct addrinfo hints = {0}, *res = NULL;
	bool ok;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return false;
	ok = res->ai_family == AF_INET
		 ? inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, out,
			     (socklen_t)outsz) != NULL
		 : inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr,
			     out, (socklen_t)outsz) != NULL;
	freeaddrinfo(res);
	return ok;
}

/* A blob endpoint of Azure Storage or of a managed disk, in any of Azure's clouds. */
static bool azure_storage_host(const char *host)
{
	static const char *const suffix[] = {".blob.core.windows.net", ".blob.storage.azure.net",
					     ".blob.core.usgovcloudapi.net",
					     ".blob.core.chinacloudapi.cn"};
	size_t n = strlen(host), i;

	while (n && host[n - 1] == '.')
		n--;
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		size_t k = strlen(suffix[i]);

		if (n > k && strncasecmp(host + n - k, suffix[i], k) == 0)
			return true;
	}
	return false;
}

/* What a public answer for a blob host usually means, and where to look. */
static void public_hint(struct rp_check *c, const char *host)
{
	bool disk = strncmp(host, "md-", 3) == 0 && strstr(host, ".blob.storage.azure.net");

	snprintf(c->hint, sizeof(c->hint),
		 "the private endpoint's name is not used here: link the private DNS zone "
		 "privatelink.blob.core.windows.net to this VNet; a custom DNS server must forward "
		 "to Azure DNS (168.63.129.16); on premises, add a conditional forwarder for "
		 "blob.core.windows.net%s to a DNS forwarder in Azure%s",
		 disk ? " and blob.storage.azure.net" : "",
		 disk ? "; a managed disk is private only through a Disk Access resource with a "
			"private endpoint, and the disk set to use it"
		      : "");
}

static void check_dns(struct rp_preflight *pf, const char *url, const struct rp_http_opts *http,
		      const char *dns_server)
{
	struct rp_check *c = add(pf, "dns");
	char host[256], port[16], addr[RP_DNS_ADDR_MAX] = "", pin[300], chain[400] = "";
	char sys[RP_DNS_ADDR_MAX];
	struct rp_dns_answer ans;
	struct rp_err err;
	bool privlink, priv;
	size_t i, o = 0;
	int rc;

	if (split_url(url, host, sizeof(host), port, sizeof(port)) != 0) {
		failed(c, RP_EUSAGE, RP_H_NONE, "give an https:// URL",
		       "cannot read a host from the URL");
		return;
	}
	privlink = strstr(host, ".privatelink.") != NULL;
	snprintf(pin, sizeof(pin), "%s:%s:", host, port);
	for (i = 0; i < http->resolve_count; i++)
		if (strncmp(http->resolve[i], pin, strlen(pin)) == 0)
			snprintf(addr, sizeof(addr), "%s", http->resolve[i] + strlen(pin));
	if (addr[0]) {
		snprintf(c->detail, sizeof(c->detail), "%s resolves to %s%s%s (pinned)", host, addr,
			 rp_addr_is_private(http, addr) ? " (private)" : " (public)",
			 privlink ? ", a privatelink name" : "");
	} else if (is_address(host)) {
		snprintf(addr, sizeof(addr), "%s", host);
		snprintf(c->detail, sizeof(c->detail), "%s is an address, nothing to resolve%s",
			 host, rp_addr_is_private(http, addr) ? " (private)" : " (public)");
	} else {
		rp_err_init(&err);
		rc = rp_dns_resolve(host, dns_server, &ans, &err);
		/* Without --dns-server, what restore will use is the system's name service, which
		 * reads /etc/hosts too (a common private endpoint work-around): it decides. */
		if (!dns_server && system_address(host, port, sys, sizeof(sys))) {
			bool in_dns = false;

			for (i = 0; rc == 0 && i < ans.addr_count; i++)
				in_dns = in_dns || strcmp(ans.addrs[i], sys) == 0;
			if (!in_dns) {
				snprintf(addr, sizeof(addr), "%s", sys);
				snprintf(pf->pin, sizeof(pf->pin),
					 strchr(addr, ':') ? "%s[%s]" : "%s%s", pin, addr);
				snprintf(
				    c->detail, sizeof(c->detail),
				    "%s resolves to %s through the system's name service, not DNS "
				    "(/etc/hosts?)%s",
				    host, addr,
				    rp_addr_is_private(http, addr) ? " (private)" : " (public)");
				goto classify;
			}
		}
		if (rc) {
			failed(
			    c, rc, RP_H_RESOLVE,
			    "check the DNS servers in /etc/resolv.conf (a custom DNS server must "
			    "forward to Azure DNS, 168.63.129.16)",
			    "%s", err.msg);
			return;
		}
		for (i = 0; i < ans.chain_len; i++) {
			o += (size_t)snprintf(chain + o, sizeof(chain) - o, "%s -> ", ans.chain[i]);
			if (o >= sizeof(chain))
				o = sizeof(chain) - 1;
			if (strstr(ans.chain[i], ".privatelink."))
				privlink = true;
		}
		if (ans.addr_count == 0) {
			failed(c, RP_EIO, RP_H_RESOLVE,
			       "check the private DNS zone (privatelink.blob.core.windows.net) and "
			       "its link to this VNet",
			       "%s%s (%s)", chain, ans.rcode == 3 ? "no such name" : "no address",
			       ans.rcode == 3 ? "NXDOMAIN" : "empty answer");
			return;
		}
		snprintf(addr, sizeof(addr), "%s", ans.addrs[0]);
		snprintf(pf->pin, sizeof(pf->pin), strchr(addr, ':') ? "%s[%s]" : "%s%s", pin,
			 addr);
		snprintf(c->detail, sizeof(c->detail), "%s%s%s%s", chain, addr,
			 rp_addr_is_private(http, addr) ? " (private)" : " (public)",
			 privlink ? ", through a privatelink name" : "");
	}
classify:
	priv = rp_addr_is_private(http, addr);
	if (priv)
		return;
	if (http->require_private) {
		public_hint(c, host);
		c->pass = false;
		c->code = RP_EAUTH;
	} else if (azure_storage_host(host)) {
		/* Only Azure's storage names: a mirror on a public address is no finding. */
		public_hint(c, host);
		c->warn = true;
	}
}

static void check_sas(struct rp_preflight *pf, const char *url, const struct rp_auth_opts *auth)
{
	struct rp_check *c = add(pf, "sas");
	char perms[16] = "", when[RP_TIME_STR], policy[80];
	bool has = false, si;
	time_t se = 0;

	rp_sas_info(url, &has, &se, perms, sizeof(perms));
	si = rp_sas_policy(url, policy, sizeof(policy));
	if (!has) {
		c->skipped = true;
		snprintf(c->detail, sizeof(c->detail), "no SAS in the URL (%s)",
			 auth->bearer_token_file || auth->identity || auth->client_credentials
			     ? "a bearer credential is used"
			     : "no credential: the server must allow anonymous reads");
		return;
	}
	if (se) {
		rp_time_iso(se, when);
		if (se <= time(NULL)) {
			failed(c, RP_EAUTH, RP_H_NONE,
			       "get a new SAS (disk access is granted again with "
			       "beginGetAccess / az disk grant-access)",
			       "the SAS expired at %s (se=)", when);
			return;
		}
	}
	if (si) {
		/* The policy may hold the permissions, the expiry or both: what the SAS leaves
		 * out, only a request can tell (the properties check below makes one). */
		if (perms[0] && !strchr(perms, 'r')) {
			failed(c, RP_EAUTH, RP_H_NONE, "ask for a SAS with read permission (sp=r)",
			       "the SAS grants '%s' (sp=), without read", perms);
			return;
		}
		snprintf(c->detail, sizeof(c->detail),
			 "stored access policy '%s' (si=): %s%s, valid until %s; a request (the "
			 "properties check) tells whether it reads",
			 policy, perms[0] ? "sp=" : "permissions in the policy", perms,
			 se ? when : "the policy's expiry");
		return;
	}
	if (!strchr(perms, 'r')) {
		failed(c, RP_EAUTH, RP_H_NONE, "ask for a SAS with read permission (sp=r)",
		       "the SAS grants '%s' (sp=), without read", perms);
		return;
	}
	snprintf(c->detail, sizeof(c->detail), "read permission (sp=%s), valid until %s", perms,
		 se ? when : "(no se=)");
}

int rp_space_check(const char *out, uint64_t needed, uint64_t *avail, struct rp_err *err)
{
	struct statvfs vfs;
	char *copy = strdup(out);
	uint64_t free_bytes;

	if (!copy)
		return rp_err_set(err, RP_EIO, "out of memory");
	if (statvfs(dirname(copy), &vfs) != 0) {
		int e = errno;
		free(copy);
		return rp_err_errno(err, e, "cannot look at the file system of '%s'", out);
	}
	free(copy);
	free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail)
		*avail = free_bytes;
	if (free_bytes < needed)
		return rp_err_set(err, RP_EIO,
				  "not enough free space for '%s': %llu bytes needed, %llu free",
				  out, (unsigned long long)needed, (unsigned long long)free_bytes);
	return 0;
}

static void check_space(struct rp_preflight *pf, const char *out)
{
	struct rp_check *c = add(pf, "space");
	struct rp_err e;
	uint64_t avail = UINT64_MAX; /* stays so when the file system could not be read */
	int rc;

	if (!out) {
		c->skipped = true;
		snprintf(c->detail, sizeof(c->detail), "no -o OUT given");
		return;
	}
	rp_err_init(&e);
	rc = rp_space_check(out, pf->written + 512, &avail, &e);
	if (rc && avail == UINT64_MAX)
		failed(c, RP_EIO, RP_H_NONE, "check that the folder of OUT exists and is writable",
		       "cannot look at the file system of '%s'", out);
	else if (rc)
		failed(c, RP_EIO, RP_H_NONE, "free space, or restore to another file system",
		       "%llu bytes free where '%s' would go, %llu needed",
		       (unsigned long long)avail, out, (unsigned long long)pf->written);
	else
		snprintf(c->detail, sizeof(c->detail), "%llu bytes free, %llu needed",
			 (unsigned long long)avail, (unsigned long long)pf->written);
}

/*
 * Whether the disk asks for a Microsoft Entra ID token beside the SAS (Entra ID data access,
 * net/auth.h) and whether a credential answered it; failure: why properties failed, or NULL.
 */
static void check_entra(struct rp_preflight *pf, const struct rp_blob *b,
			const struct rp_auth_opts *auth, const char *failure)
{
	struct rp_check *c = add(pf, "entra-id");
	bool cred = auth && (auth->bearer_token_file || auth->identity || auth->client_credentials);
	const char *which = !cred		      ? "none"
			    : auth->bearer_token_file ? "a token file"
			    : auth->identity	      ? "the managed identity"
						      : "client credentials";

	if (!b->auth || !rp_auth_disk_challenged(b->auth)) {
		if (failure) {
			c->skipped = true;
			snprintf(c->detail, sizeof(c->detail), "skipped: no properties");
		} else {
			snprintf(c->detail, sizeof(c->detail),
				 "no Entra ID challenge: the %s alone is accepted",
				 strchr(pf->source, '?') ? "SAS" : "request");
		}
		return;
	}
	if (!failure) {
		snprintf(c->detail, sizeof(c->detail),
			 "the disk requires a token for %s (Entra ID data access); the "
			 "credential (%s) got one and the disk accepted it",
			 RP_AUDIENCE_DISK, which);
		return;
	}
	if (!cred)
		failed(c, RP_EAUTH, RP_H_TOKEN,
		       "the identity needs the role Data Operator for Managed Disks on the disk",
		       "the disk requires a token for %s (Entra ID data access, "
		       "dataAccessAuthMode AzureActiveDirectory) and no credential is configured",
		       RP_AUDIENCE_DISK);
	else
		failed(c, RP_EAUTH, RP_H_NONE,
		       "the identity needs the role Data Operator for Managed Disks on the disk; a "
		       "token file must hold a token for that audience",
		       "the disk requires a token for %s (Entra ID data access); the credential "
		       "(%s) is configured but was not accepted: %s",
		       RP_AUDIENCE_DISK, which, failure);
}

int rp_preflight_run(const char *url, const char *out, const struct rp_http_opts *http_in,
		     const struct rp_auth_opts *auth, const char *dns_server,
		     struct rp_preflight *pf)
{
	struct rp_blob b = {0};
	struct rp_http_opts token_http, pinned = *http_in, *http = &pinned;
	struct rp_check *c, *props;
	struct rp_err err;
	unsigned i;

	memset(pf, 0, sizeof(*pf));
	rp_url_redact(url, pf->source, sizeof(pf->source));
	check_dns(pf, url, http, dns_server);
	if (pf->pin[0] && pinned.resolve_count < RP_HTTP_MAX_RESOLVE)
		pinned.resolve[pinned.resolve_count++] = pf->pin;
	check_sas(pf, url, auth);
	rp_err_init(&err);
	c = add(pf, "tls+properties");
	token_http = *http;
	token_http.require_private = false; /* IMDS and the token authority are not storage */
	if (rp_http_new(http, &b.http, &err) != 0 ||
	    rp_auth_new(auth, &token_http, RP_AUDIENCE_STORAGE, &b.auth, &err) != 0) {
		failed(c, err.code, err.hint, "", "%s", err.msg);
	} else {
		b.url = url;
		b.retries = 1;
		b.retry_base_ms = 200;
		if (rp_blob_head(&b, &err) != 0) {
			bool tls = rp_err_reason_of(&err) == RP_R_TLS;

			failed(c, err.code, tls ? RP_H_CACERT : err.hint,
			       tls ? "the certificate does not match the name or is not trusted"
				   : "see the message",
			       "%s", err.msg);
		} else {
			pf->size = b.size;
			pf->written = b.size;
			snprintf(c->detail, sizeof(c->detail), "TLS ok; %llu bytes, ETag %s, %s",
				 (unsigned long long)b.size, b.etag,
				 b.blob_type[0] ? b.blob_type
						: "not an Azure blob (a plain server)");
		}
	}
	props = c;
	check_entra(pf, &b, auth, props->pass ? NULL : props->detail);
	c = add(pf, "page-ranges");
	if (!props->pass) {
		c->skipped = true;
		snprintf(c->detail, sizeof(c->detail), "skipped: no properties");
	} else if (strcmp(b.blob_type, "PageBlob") != 0) {
		c->skipped = true;
		snprintf(c->detail, sizeof(c->detail), "not a page blob: every byte will be read");
	} else {
		struct rp_page_plan *plan = NULL;
		uint64_t chunk = RP_CHUNK_DEFAULT, n = (b.size + chunk - 1) / chunk, k;
		bool alloc;
		int rc = rp_page_plan_new(&b, b.size, chunk, 1ull << 30, &plan, &err);

		for (k = 0; rc == 0 && k < n; k++)
			rc = rp_page_plan_chunk(plan, k, &alloc, &err);
		if (rc) {
			failed(c, err.code, err.hint,
			       "the SAS or role may lack read access to page ranges", "%s",
			       err.msg);
		} else {
			pf->written = rp_page_plan_written(plan);
			snprintf(c->detail, sizeof(c->detail), "%llu of %llu bytes written",
				 (unsigned long long)pf->written, (unsigned long long)b.size);
		}
		rp_page_plan_free(plan);
	}
	check_space(pf, out);
	rp_auth_free(b.auth);
	rp_http_free(b.http);
	for (i = 0; i < pf->count; i++)
		if (!pf->check[i].pass)
			return pf->check[i].code ? pf->check[i].code : RP_EIO;
	return 0;
}
