/*
 * What the unit tests share (tests/unit/unit.c): fixtures under testdata/, fresh folders under
 * the build tree, whole-file reads and writes, hex. Each helper fails the running cmocka test
 * when it cannot do its job, so a test reads as a list of steps. Include it instead of the
 * headers cmocka needs before cmocka.h.
 */
#ifndef RP_TESTS_UNIT_H
#define RP_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* testdata/NAME of the source tree ($RP_SOURCE_DIR, else "."), whole; malloc'd, with a NUL
 * after the *len bytes so that text fixtures are strings. */
uint8_t *unit_testdata(const char *name, size_t *len);

/* The file at path, whole (it may be empty); malloc'd with a NUL after the *len bytes. */
uint8_t *unit_read(const char *path, size_t *len);

/* Create or replace the file at path with data[0..len), mode 0600. */
void unit_write(const char *path, const void *data, size_t len);

/*
 * A fresh, empty folder NAME.XXXXXX under $RP_BUILD_DIR/tmp (else under the working directory):
 * not /tmp, whose sticky bit would let fs.protected_symlinks hide a defect. Written to
 * dir[0..size).
 */
void unit_tmpdir(char *dir, size_t size, const char *name);

/*
 * A new file NAME.XXXXXX beside the folders of unit_tmpdir, holding data[0..len), mode 0600;
 * its path, malloc'd (unlink and free it).
 */
char *unit_tmpfile(const char *name, const void *data, size_t len);

/* Remove dir and everything in it. */
void unit_rmtree(const char *dir);

/* Decode the hex text into out[0..max); returns the number of bytes. */
size_t unit_unhex(const char *hex, uint8_t *out, size_t max);

#endif
