#include "verify/version.h"

#include <openssl/crypto.h>

#ifndef RP_CRYPTSETUP_VERSION
#define RP_CRYPTSETUP_VERSION "unknown" /* CMakeLists.txt passes pkg-config's version */
#endif

size_t rp_verify_versions(struct rp_libversion *out, size_t max)
{
	size_t n = 0;

	if (n < max)
#ifdef OPENSSL_VERSION_STRING /* OpenSSL 3: "3.0.15"; before, the whole banner */
		out[n++] = (struct rp_libversion){"OpenSSL",
						  OpenSSL_version(OPENSSL_VERSION_STRING), false};
#else
		out[n++] =
		    (struct rp_libversion){"OpenSSL", OpenSSL_version(OPENSSL_VERSION), false};
#endif
	if (n < max)
		out[n++] = (struct rp_libversion){"libcryptsetup", RP_CRYPTSETUP_VERSION, true};
	return n;
}
