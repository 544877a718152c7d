#include "common/version.h"

#include <jansson.h>

size_t rp_common_versions(struct rp_libversion *out, size_t max)
{
	if (max < 1)
		return 0;
		/* jansson_version_str() exists since jansson 2.13; older ones only know their
		 * headers. */
#if JANSSON_VERSION_HEX >= 0x020d00
	out[0] = (struct rp_libversion){"jansson", jansson_version_str(), false};
#else
	out[0] = (struct rp_libversion){"jansson", JANSSON_VERSION, true};
#endif
	return 1;
}
