/*
 * test_maildir.c — postern-maildir's modules (deliver/maildir_*.c, and
 * the shared job channel lib/jobchan.c as postern-maildir uses it: the
 * job frame reader with its "maildir" route check, and result frames), the command line, the maildir name
 * and host escaping, one delivery into a real directory (success, and an
 * unreadable message leaving nothing in tmp/), and the seccomp allow-list
 * in a forked child: a whole delivery passes; openat with other flags,
 * relative to another directory or to the working directory (the sandbox
 * probe's call), linkat elsewhere, pread of another descriptor and a
 * socket are SIGSYS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "sandbox_test.h"
#include "../../deliver/maildir_args.h"
#include "jobchan.h"
#include "../../deliver/maildir_sandbox_rules.h"
#include "../../deliver/maildir_store.h"
#include "fds.h"
#include "netstring.h"

/* ---- frames ---- */

/* Append one netstring of s[0..n) to out at *len. */
static void put(unsigned char *out, size_t *len, const char *s, size_t n)
{
	*len += (size_t)snprintf((char *)out + *len, 32, "%zu:", n);
	memcpy(out + *len, s, n);
	*len += n;
	out[(*len)++] = ',';
}

/* postern-maildir's acceptance of a job: the shared parser, then the
 * route must be exactly "maildir" (as main_maildir.c checks it). */
static int maildir_accepts(const unsigned char *p, size_t n, struct job *j)
{
	if (job_parse(j, p, n) != 0 || !job_route_is(j, "maildir"))
		return -1;
	return 0;
}

/* Payload of a job frame from NULL-terminated fields. */
static size_t payload_of(unsigned char *out, const char *const *fields)
{
	size_t len = 0;

	for (; *fields; fields++)
		put(out, &len, *fields, strlen(*fields));
	return len;
}

static void test_job_valid(void **state)
{
	const char *f[] = { "job", "42", "maildir", "example.org", "helo", "a@b", "", "",
		"Received: x\r\n", "2", "r1@x", "", "", "r2@x", "NEVER", "rfc822;r2@x", NULL };
	unsigned char p[1024];
	static struct job j;
	size_t n = payload_of(p, f);

	(void)state;
	assert_int_equal(maildir_accepts(p, n, &j), 0);
	assert_int_equal(j.id, 42);
	assert_int_equal(j.nrcpt, 2);
	assert_int_equal(j.header.n, 13);
	assert_memory_equal(j.header.p, "Received: x\r\n", 13);
}

static void test_job_malformed(void **state)
{
	const char *bad[][18] = {
		{ "jobs", "1", "maildir", "d", "h", "s", "", "", "H", "1", "r", "", "", NULL },
		{ "job", "1", "mx", "d", "h", "s", "", "", "H", "1", "r", "", "", NULL },
		{ "job", "1", "maildirx", "d", "h", "s", "", "", "H", "1", "r", "", "", NULL },
		{ "job", "01", "maildir", "d", "h", "s", "", "", "H", "1", "r", "", "", NULL },
		{ "job", "1", "maildir", "d", "h", "s", "", "", "H", "0", NULL },
		{ "job", "1", "maildir", "d", "h", "s", "", "", "H", "1001", "r", "", "", NULL },
		{ "job", "1", "maildir", "d", "h", "s", "", "", "H", "2", "r", "", "", NULL },
		{ "job", "1", "maildir", "d", "h", "s", "", "", "H", "1", "r", "", "", "x", NULL },
		{ "job", "1", "maildir", "d", "h", "s", "", "", "H", "1", "r", "", NULL },
		{ "job", "1", "maildir", NULL },
	};
	unsigned char p[1024];
	static struct job j;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = payload_of(p, bad[i]);

		if (maildir_accepts(p, n, &j) != -1)
			fail_msg("case %zu accepted", i);
	}
	/* a leftover byte that is not a field */
	{
		const char *f[] = { "job", "1", "maildir", "d", "h", "s", "", "", "H", "1",
			"r", "", "", NULL };
		size_t n = payload_of(p, f);

		p[n++] = 'x';
		assert_int_equal(maildir_accepts(p, n, &j), -1);
	}
}

static void test_result_frames(void **state)
{
	unsigned char buf[1024];
	char text[JOB_TEXT_MAX + 2];
	const unsigned char *f;
	size_t n;

	(void)state;
	f = frame_rcpt(buf, sizeof(buf), &n, 7, 1, "ok", 250, "2.0.0", "2.0.0 Ok");
	assert_non_null(f);
	assert_int_equal(n, strlen("45:4:rcpt,1:7,1:1,2:ok,3:250,5:2.0.0,8:2.0.0 Ok,,"));
	assert_memory_equal(f, "45:4:rcpt,1:7,1:1,2:ok,3:250,5:2.0.0,8:2.0.0 Ok,,", n);
	assert_null(frame_rcpt(buf, sizeof(buf), &n, 7, 1, "maybe", 250, "2.0.0", ""));
	assert_null(frame_rcpt(buf, sizeof(buf), &n, 7, 1, "temp", 600, "4.0.0", ""));
	assert_null(frame_rcpt(buf, sizeof(buf), &n, 7, 1, "temp", 199, "4.0.0", ""));
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_null(frame_rcpt(buf, sizeof(buf), &n, 7, 1, "temp", 451, "4.3.0", text));
	f = frame_done(buf, sizeof(buf), &n, 7);
	assert_non_null(f);
	assert_memory_equal(f, "11:4:done,1:7,,", n);
	f = frame_bye(buf, sizeof(buf), &n);
	assert_non_null(f);
	assert_memory_equal(f, "6:3:bye,,", n);
}

/* ---- command line ---- */

/* Parse a NULL-terminated argv. */
static int parse(struct maildir_args *a, const char *const *v)
{
	int argc = 0;
	const char *why = "";

	while (v[argc])
		argc++;
	return maildir_args_parse(argc, (char *const *)v, a, &why);
}

static void test_args(void **state)
{
	struct maildir_args a;
	const char *ok[] = { "p", "-u", "1001", "-g", "1001", "-r", "/srv/mail/bob", "-m", "1000",
		"-n", "50", "-h", "mx.example", NULL };
	const char *root[] = { "p", "-u", "0", "-g", "1001", "-r", "/m", "-m", "1000", "-n", "5",
		"-h", "h", NULL };
	const char *low[] = { "p", "-u", "999", "-g", "1001", "-r", "/m", "-m", "1000", "-n", "5",
		"-h", "h", NULL };
	const char *rel[] = { "p", "-u", "1001", "-g", "1001", "-r", "m", "-m", "1000", "-n", "5",
		"-h", "h", NULL };
	const char *missing[] = { "p", "-u", "1001", "-g", "1001", "-r", "/m", "-m", "1000", "-n",
		"5", NULL };
	const char *nojobs[] = { "p", "-u", "1001", "-g", "1001", "-r", "/m", "-m", "1000", "-n",
		"0", "-h", "h", NULL };

	(void)state;
	assert_int_equal(parse(&a, ok), 0);
	assert_int_equal(a.uid, 1001);
	assert_int_equal(a.jobs, 50);
	assert_string_equal(a.root, "/srv/mail/bob");
	assert_int_equal(parse(&a, root), -1);
	assert_int_equal(parse(&a, low), -1);
	assert_int_equal(parse(&a, rel), -1);
	assert_int_equal(parse(&a, missing), -1);
	assert_int_equal(parse(&a, nojobs), -1);
}

/* ---- names ---- */

static void test_host_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(maildir_host_escape("mx.example", out, sizeof(out)), 0);
	assert_string_equal(out, "mx.example");
	assert_int_equal(maildir_host_escape("a/b:c", out, sizeof(out)), 0);
	assert_string_equal(out, "a\\057b\\072c");
	assert_int_equal(maildir_host_escape("a b", out, sizeof(out)), -1);
	assert_int_equal(maildir_host_escape("a\\b", out, sizeof(out)), -1);
	assert_int_equal(maildir_host_escape("a\xc3\xa9", out, sizeof(out)), -1);
	assert_int_equal(maildir_host_escape("", out, sizeof(out)), -1);
	assert_int_equal(maildir_host_escape("abcd", out, 4), -1);
	assert_int_equal(maildir_host_escape("ab/", out, 6), -1);
}

static void test_name(void **state)
{
	struct timespec t = { 1700000000, 12345678 };
	char out[128];

	(void)state;
	assert_int_equal(maildir_name_make(out, sizeof(out), &t, 321, 9, 0xabcdef, "h.x"), 0);
	assert_string_equal(out, "1700000000.M012345P321Q9R00abcdef.h.x");
	assert_int_equal(maildir_name_make(out, 20, &t, 321, 9, 0xabcdef, "h.x"), -1);
}

/* ---- delivery in a directory ---- */

static char md[64];	/* a maildir-like directory with tmp/ and new/ */

/* Number of entries (besides . and ..) in md/sub. */
static int count(const char *sub)
{
	char path[128];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", md, sub);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Open md/sub as a directory. */
static int open_sub(const char *sub)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", md, sub);
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* A message file with body; its read-only descriptor. */
static int message_fd(const char *body)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/msg", md);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	return fd;
}

static int md_setup(void **state)
{
	char p[128];

	if (sbt_setup(state) != 0)
		return -1;
	memcpy(md, "/tmp/postern-maildir-XXXXXX", sizeof "/tmp/postern-maildir-XXXXXX");
	if (mkdtemp(md) == NULL)
		return -1;
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", md, i ? "new" : "tmp");
		if (mkdir(p, 0700) != 0)
			return -1;
		/* the sandboxed child runs as nobody when the test is root */
		if (geteuid() == 0 && chown(p, NOBODY, NOBODY) != 0)
			return -1;
	}
	return 0;
}

/* Remove every file of md/sub. */
static void empty(const char *sub)
{
	int d = open_sub(sub);
	DIR *dir = fdopendir(d);
	struct dirent *e;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(d, e->d_name, 0);
	closedir(dir);
}

static int md_teardown(void **state)
{
	char p[128];

	empty("tmp");
	empty("new");
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", md, i == 0 ? "new" : i == 1 ? "tmp" : "msg");
		if (i < 2)
			rmdir(p);
		else
			unlink(p);
	}
	rmdir(md);
	return sbt_teardown(state);
}

static void test_deliver_ok(void **state)
{
	struct maildir_store st = { .pid = 55 };
	struct maildir_result res;
	char path[1500], buf[256];
	struct stat sb;
	int msg = message_fd("Subject: t\r\n\r\nhello\r\n");
	int fd;
	ssize_t n;

	(void)state;
	memcpy(st.host, "h.test", 7);
	st.tmp_dir = open_sub("tmp");
	st.new_dir = open_sub("new");
	maildir_deliver(&st, msg, (const unsigned char *)"X-H: 1\r\n", 8, &res);
	assert_true(res.ok);
	assert_int_equal(res.code, 250);
	assert_int_equal(res.bytes, 8 + 21);
	assert_int_equal(count("tmp"), 0);
	assert_int_equal(count("new"), 1);
	snprintf(path, sizeof(path), "%s/new/%s", md, res.name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 29);
	assert_memory_equal(buf, "X-H: 1\r\nSubject: t\r\n\r\nhello\r\n", 29);
	assert_int_equal(fstat(fd, &sb), 0);
	close(fd);
	/* the sender's offset is untouched (pread) */
	assert_int_equal(lseek(msg, 0, SEEK_CUR), 0);
	close(msg);
	close(st.tmp_dir);
	close(st.new_dir);
	empty("new");
}

static void test_deliver_unreadable_message(void **state)
{
	struct maildir_store st = { .pid = 55 };
	struct maildir_result res;
	int msg = open(md, O_RDONLY | O_DIRECTORY);	/* pread: EISDIR */

	(void)state;
	memcpy(st.host, "h.test", 7);
	st.tmp_dir = open_sub("tmp");
	st.new_dir = open_sub("new");
	maildir_deliver(&st, msg, (const unsigned char *)"X-H: 1\r\n", 8, &res);
	assert_false(res.ok);
	assert_int_equal(res.code, 451);
	assert_string_equal(res.status, "4.3.0");
	assert_int_equal(count("tmp"), 0);
	assert_int_equal(count("new"), 0);
	close(msg);
	close(st.tmp_dir);
	close(st.new_dir);
}

/* ---- the allow-list ---- */

static int report;	/* the child's report descriptor, moved out of 3..8 */

/* Put tmp/ new/ and a message on fds 5, 6, 7 and enter the sandbox. */
static void enter_maildir(int report_fd)
{
	struct sandbox_spec s = sbt_spec(maildir_sandbox_rules, maildir_sandbox_nrules);
	int t, n, m;

	report = fcntl(report_fd, F_DUPFD, 20);
	close(report_fd);
	/* above 20 first, so the dup2s below cannot overwrite each other */
	t = fcntl(open_sub("tmp"), F_DUPFD, 21);
	n = fcntl(open_sub("new"), F_DUPFD, 21);
	m = fcntl(message_fd("Subject: s\r\n\r\nbody\r\n"), F_DUPFD, 21);
	close_range(3, 19, 0);
	if (report < 0 || t < 0 || n < 0 || m < 0 ||
	    dup2(t, MAILDIR_FD_TMP) != MAILDIR_FD_TMP || dup2(n, MAILDIR_FD_NEW) != MAILDIR_FD_NEW ||
	    dup2(m, MAILDIR_FD_MESSAGE) != MAILDIR_FD_MESSAGE)
		_exit(121);
	close(t);
	close(n);
	close(m);
	umask(077);
	sandbox_enter(&s);
	if (write(report, "entered", 7) != 7)
		_exit(121);
}

/* The worker's own delivery passes. */
static void child_deliver(int report_fd)
{
	struct maildir_store st = { .tmp_dir = MAILDIR_FD_TMP, .new_dir = MAILDIR_FD_NEW, .pid = 1 };
	struct maildir_result res;

	memcpy(st.host, "h.test", 7);
	enter_maildir(report_fd);
	maildir_deliver(&st, MAILDIR_FD_MESSAGE, (const unsigned char *)"", 0, &res);
	if (!res.ok)
		dprintf(report, " failed %u", res.code);
	else if (write(report, " delivered", 10) != 10)
		_exit(121);
}

static void child_open_read(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_openat, MAILDIR_FD_TMP, "x", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

static void child_open_follow(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_openat, MAILDIR_FD_TMP, "x", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	              0600);
}

static void child_open_new_dir(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_openat, MAILDIR_FD_NEW, "x", MAILDIR_OPEN_FLAGS, 0600);
}

static void child_open_cwd(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
}

static void child_open_mode(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_openat, MAILDIR_FD_TMP, "x", MAILDIR_OPEN_FLAGS, 0644);
}

static void child_link_back(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_linkat, MAILDIR_FD_NEW, "x", MAILDIR_FD_TMP, "x", 0);
}

static void child_pread_other(int report_fd)
{
	char c;

	enter_maildir(report_fd);
	if (pread(MAILDIR_FD_TMP, &c, 1, 0) > 0)
		_exit(122);
}

static void child_socket(int report_fd)
{
	enter_maildir(report_fd);
	(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void child_read(int report_fd)
{
	char c;

	enter_maildir(report_fd);
	(void)syscall(SYS_read, MAILDIR_FD_MESSAGE, &c, 1);
}

static void test_sandbox_allows_a_delivery(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_deliver, &r);
	r.out[r.outlen] = '\0';
	r.err[r.errlen] = '\0';
	if (!sbt_exited(&r, 0))
		fail_msg("status %#x: %s", (unsigned)r.status, r.err);
	assert_string_equal(r.out, "entered delivered");
	assert_int_equal(count("tmp"), 0);
	assert_int_equal(count("new"), 1);
	empty("new");
}

static void test_sandbox_kills_the_rest(void **state)
{
	static const struct { const char *name; child_body body; } cases[] = {
		{ "openat O_RDONLY", child_open_read },
		{ "openat without O_NOFOLLOW", child_open_follow },
		{ "openat in new/", child_open_new_dir },
		{ "openat AT_FDCWD (the probe)", child_open_cwd },
		{ "openat mode 0644", child_open_mode },
		{ "linkat new/ -> tmp/", child_link_back },
		{ "pread of tmp/", child_pread_other },
		{ "socket", child_socket },
		{ "read", child_read },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct child_run r;

		sbt_run(cases[i].body, &r);
		r.out[r.outlen] = '\0';
		if (!sbt_killed_by(&r, SIGSYS) || strcmp(r.out, "entered") != 0)
			fail_msg("%s: status %#x report \"%s\"", cases[i].name, (unsigned)r.status,
			         r.out);
	}
	assert_int_equal(count("tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_valid),
		cmocka_unit_test(test_job_malformed),
		cmocka_unit_test(test_result_frames),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_host_escape),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_deliver_ok),
		cmocka_unit_test(test_deliver_unreadable_message),
		cmocka_unit_test(test_sandbox_allows_a_delivery),
		cmocka_unit_test(test_sandbox_kills_the_rest),
	};

	return cmocka_run_group_tests(tests, md_setup, md_teardown);
}
