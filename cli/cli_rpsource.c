#include "cli/cli_rpsource.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/descriptor.h"
#include "formats/image.h"
#include "restore/restore.h"

bool cli_is_descriptor(const char *path)
{
	uint8_t head[512], tail[8];
	ssize_t n = 0, t = 0;
	struct stat st;
	int fd;

	/* Decided by the first bytes, not by whether the file parses: a descriptor that is cut,
	 * damaged or too large must be refused as one (rp_descriptor_load says where and why),
	 * never read as a raw disk whose bytes are JSON text. A disk image never starts like
	 * JSON (rp_image_open refuses one that does). */
	if (rp_is_url(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	do
		n = read(fd, head, sizeof(head));
	while (n < 0 && errno == EINTR);
	/* A VHD (its footer at the end) or a VHDX is a disk whatever its data starts with. */
	if (n > 0 && fstat(fd, &st) == 0 && st.st_size >= 512)
		t = pread(fd, tail, sizeof(tail), st.st_size - 512);
	close(fd);
	if ((t == 8 && memcmp(tail, "conectix", 8) == 0) ||
	    (n >= 8 && (memcmp(head, "conectix", 8) == 0 || memcmp(head, "vhdxfile", 8) == 0)))
		return false;
	return n > 0 && rp_image_looks_like_json(head, (size_t)n);
}

int cli_descriptor_source(const char *desc_path, const char *source, bool allow_outside, char **out,
			  struct rp_err *err)
{
	return rp_descriptor_local_source(desc_path, source, allow_outside, out, err);
}
