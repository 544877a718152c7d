#include "formats/version.h"

#include <expat.h>
#include <libvhdi.h>
#include <string.h>
#include <zlib.h>

size_t rp_formats_versions(struct rp_libversion *out, size_t max)
{
	const char *expat = XML_ExpatVersion(); /* "expat_2.5.0" */
	size_t n = 0;

	if (strncmp(expat, "expat_", 6) == 0)
		expat += 6;
	if (n < max)
		out[n++] = (struct rp_libversion){"libvhdi", libvhdi_get_version(), false};
	if (n < max)
		out[n++] = (struct rp_libversion){"expat", expat, false};
	if (n < max)
		out[n++] = (struct rp_libversion){"zlib", zlibVersion(), false};
	return n;
}
