#include "net/version.h"

#include <curl/curl.h>

size_t rp_net_versions(struct rp_libversion *out, size_t max)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (max < 1)
		return 0;
	out[0] = (struct rp_libversion){"libcurl", v && v->version ? v->version : "unknown", false};
	return 1;
}
