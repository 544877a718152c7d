/* Unit tests for common/outfile: every name that may be planted is refused with its message, and
 * the victim a link points at keeps its bytes. Runs in a fresh folder under RP_BUILD_DIR (not
 * /tmp: its sticky bit would let fs.protected_symlinks hide a defect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "common/outfile.h"

static char dir[4096];

static const char *at(const char *name)
{
	static char p[8][4200];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void put(const char *name, const char *text)
{
	unit_write(at(name), text, strlen(text));
}

static void expect_text(const char *name, const char *text)
{
	size_t n;
	char *got = (char *)unit_read(at(name), &n);

	assert_string_equal(got, text);
	free(got);
}

static int setup(void **state)
{
	(void)state;
	unit_tmpdir(dir, sizeof(dir), "test_outfile");
	put("victim", "precious");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_rmtree(dir);
	return 0;
}

static void test_create_refuses_planted_names(void **state)
{
	static const struct {
		const char *kind;
		const char *msg;
	} cases[] = {
	    {"link", "is a symbolic link; refusing to write through it"},
	    {"dangling", "is a symbolic link; refusing to write through it"},
	    {"file", "exists; refusing to overwrite it"},
	};
	struct rp_err err;
	struct stat st;
	size_t i;
	int fd = -1;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = at("planted");
		unlink(p);
		if (strcmp(cases[i].kind, "link") == 0)
			assert_int_equal(symlink(at("victim"), p), 0);
		else if (strcmp(cases[i].kind, "dangling") == 0)
			assert_int_equal(symlink(at("nothing-yet"), p), 0);
		else
			put("planted", "theirs");
		rp_err_init(&err);
		assert_int_equal(rp_outfile_create(p, 0600, true, &fd, &err), RP_EIO);
		assert_int_equal(fd, -1);
		assert_non_null(strstr(err.msg, cases[i].msg));
		assert_non_null(strstr(err.msg, p));
		expect_text("victim", "precious");
		assert_int_not_equal(access(at("nothing-yet"), F_OK), 0);
	}
	unlink(at("planted"));
	rp_err_init(&err);
	assert_int_equal(rp_outfile_create(at("new"), 0640, false, &fd, &err), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
}

static void test_reopen_only_our_regular_file(void **state)
{
	struct rp_err err;
	int fd = -1;

	(void)state;
	put("ours", "data");
	rp_err_init(&err);
	assert_int_equal(rp_outfile_reopen(at("ours"), &fd, &err), 0);
	close(fd);
	fd = -1;
	assert_int_equal(symlink(at("victim"), at("link")), 0);
	assert_int_equal(rp_outfile_reopen(at("link"), &fd, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	assert_int_equal(rp_outfile_reopen(at("fifo"), &fd, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	assert_int_equal(link(at("victim"), at("hard")), 0);
	assert_int_equal(rp_outfile_reopen(at("hard"), &fd, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "has 2 hard links"));
	assert_int_equal(fd, -1);
	unlink(at("hard"));
	expect_text("victim", "precious");
}

static void test_replace(void **state)
{
	struct rp_outfile a, b;
	struct rp_err err;
	struct stat st;

	(void)state;
	rp_err_init(&err);
	/* two writers get two temporary names, neither predictable from the final name */
	assert_int_equal(rp_outfile_begin(&a, at("doc.json"), 0644, true, &err), 0);
	assert_int_equal(rp_outfile_begin(&b, at("doc.json"), 0644, true, &err), 0);
	assert_string_not_equal(a.tmp, b.tmp);
	assert_int_equal(strncmp(a.tmp, at("doc.json.tmp-"), strlen(at("doc.json.tmp-"))), 0);
	rp_outfile_abort(&b);
	assert_int_equal(rp_outfile_write_all(a.fd, "v1", 2, a.tmp, &err), 0);
	assert_int_equal(rp_outfile_commit(&a, &err), 0);
	expect_text("doc.json", "v1");
	assert_int_equal(rp_outfile_replace(at("doc.json"), "v2", 2, 0644, true, &err), 0);
	expect_text("doc.json", "v2");
	/* without replace, an existing name is a usage error */
	assert_int_equal(rp_outfile_replace(at("doc.json"), "v3", 2, 0644, false, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "exists; use --force to replace it"));
	expect_text("doc.json", "v2");
	/* a link at the final name is refused, the victim untouched */
	assert_int_equal(symlink(at("victim"), at("m.prom")), 0);
	assert_int_equal(rp_outfile_replace(at("m.prom"), "x", 1, 0644, true, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "is a symbolic link; refusing to write through it"));
	expect_text("victim", "precious");
	assert_int_equal(mkdir(at("adir"), 0755), 0);
	assert_int_equal(rp_outfile_replace(at("adir"), "x", 1, 0644, true, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "is a directory"));
	assert_int_equal(rp_outfile_check_target(at("adir"), &err), RP_EUSAGE);
	assert_int_equal(rp_outfile_check_target(at("doc.json"), &err), 0);
	/* no temporary file is left behind */
	assert_int_equal(stat(a.tmp ? a.tmp : at("none"), &st), -1);
}

static void test_append(void **state)
{
	struct rp_err err;
	int fd = -1;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(symlink(at("victim"), at("audit.link")), 0);
	assert_int_equal(rp_outfile_append(at("audit.link"), 0600, &fd, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	assert_int_equal(mkfifo(at("audit.fifo"), 0600), 0);
	assert_int_equal(rp_outfile_append(at("audit.fifo"), 0600, &fd, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	assert_int_equal(rp_outfile_append(at("audit.log"), 0600, &fd, &err), 0);
	assert_int_equal(write(fd, "a", 1), 1);
	close(fd);
	assert_int_equal(rp_outfile_append(at("audit.log"), 0600, &fd, &err), 0);
	assert_int_equal(write(fd, "b", 1), 1);
	close(fd);
	expect_text("audit.log", "ab");
	expect_text("victim", "precious");
}

static void test_lock_names_the_holder(void **state)
{
	struct rp_err err;
	char want[64], msg[RP_ERR_MSG_MAX] = "";
	int fd = -1, pipefd[2], status = 0;
	pid_t child;
	ssize_t n;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_outfile_lock(at("out.lock"), "'out'", &fd, &err), 0);
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int cfd = -1;
		struct rp_err cerr;
		rp_err_init(&cerr);
		int rc = rp_outfile_lock(at("out.lock"), "'out'", &cfd, &cerr);
		n = write(pipefd[1], cerr.msg, strlen(cerr.msg));
		_exit(rc == RP_EIO && n > 0 ? 0 : 1);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	assert_true(n > 0);
	msg[n] = '\0';
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(want, sizeof(want), "(pid %ld, lock '", (long)getpid());
	assert_non_null(strstr(msg, "'out' is in use by another cvmrestore"));
	assert_non_null(strstr(msg, want));
	rp_outfile_unlock(at("out.lock"), fd);
	assert_int_not_equal(access(at("out.lock"), F_OK), 0);
	/* a link planted at the lock's name is refused */
	assert_int_equal(symlink(at("victim"), at("x.lock")), 0);
	assert_int_equal(rp_outfile_lock(at("x.lock"), "'x'", &fd, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	expect_text("victim", "precious");
}

static void test_mode_like(void **state)
{
	(void)state;
	put("secret", "s");
	assert_int_equal(chmod(at("secret"), 0600), 0);
	assert_int_equal(rp_outfile_mode_like(at("secret")), 0600);
	assert_int_equal(chmod(at("secret"), 0666), 0);
	assert_int_equal(rp_outfile_mode_like(at("secret")), 0644);
	assert_int_equal(rp_outfile_mode_like(at("missing")), 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_refuses_planted_names),
	    cmocka_unit_test(test_reopen_only_our_regular_file),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_lock_names_the_holder),
	    cmocka_unit_test(test_mode_like),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
