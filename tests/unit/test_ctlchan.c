/*
 * test_ctlchan.c — unit tests of lib/ctlchan.c, the master <-> daemon
 * control grammar that the master, postern-authd and postern-queued all
 * link: each verb written reads back the same; the descriptor count, the
 * session id, the mode, the TLS facts and the worker kind are checked;
 * the writer refuses what a reader would refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ctlchan.h"
#include "netstring.h"

/* A frame of the given fields (not through the writer: raw input). */
static size_t frame(unsigned char *out, size_t cap, const char *const *f)
{
	unsigned char inner[1024];
	struct frame_writer w;
	const unsigned char *p;
	size_t n;

	fw_init(&w, inner, sizeof inner);
	for (int i = 0; f[i]; i++)
		fw_str(&w, f[i]);
	p = fw_finish(&w, &n);
	assert_non_null(p);
	assert_true(n <= cap);
	memcpy(out, p, n);
	return n;
}

/* Write m, parse it back with nfds descriptors. */
static int round_trip(const struct ctl_msg *m, size_t nfds, struct ctl_msg *out)
{
	unsigned char buf[CTLCHAN_FRAME_MAX];
	const unsigned char *f;
	size_t n;

	f = ctlchan_write(buf, sizeof buf, &n, m);
	assert_non_null(f);
	return ctlchan_parse(f, n, nfds, out);
}

static void test_every_verb_round_trips(void **state)
{
	struct ctl_msg m = { .verb = CTL_SESSION, .id = "abcdefghijklmnopqrs2", .ip = "::1",
	                     .port = 465, .listener = "[::1]:465", .mode = "tls" }, out;

	(void)state;
	assert_int_equal(round_trip(&m, 1, &out), 0);
	assert_int_equal(out.verb, CTL_SESSION);
	assert_string_equal(out.id, m.id);
	assert_string_equal(out.ip, "::1");
	assert_int_equal(out.port, 465);
	assert_string_equal(out.listener, "[::1]:465");
	assert_false(out.plain);
	assert_int_equal(round_trip(&m, 0, &out), -1);	/* no descriptor */
	m = (struct ctl_msg){ .verb = CTL_TLS, .id = "abcdefghijklmnopqrs2",
	                      .tls_version = "TLSv1.3", .tls_cipher = "TLS_AES_256_GCM_SHA384" };
	assert_int_equal(round_trip(&m, 0, &out), 0);
	assert_string_equal(out.tls_cipher, "TLS_AES_256_GCM_SHA384");
	m = (struct ctl_msg){ .verb = CTL_WORKER, .kind = "maildir", .route = "maildir:/var/mail/a" };
	assert_int_equal(round_trip(&m, 1, &out), 0);
	assert_string_equal(out.route, "maildir:/var/mail/a");
	m = (struct ctl_msg){ .verb = CTL_TABLE, .table = "routes" };
	assert_int_equal(round_trip(&m, 1, &out), 0);
	assert_string_equal(out.table, "routes");
	m = (struct ctl_msg){ .verb = CTL_KEY };
	memset(m.key, 0xab, sizeof m.key);
	assert_int_equal(round_trip(&m, 0, &out), 0);
	assert_memory_equal(out.key, m.key, sizeof m.key);
	m = (struct ctl_msg){ .verb = CTL_READY };
	assert_int_equal(round_trip(&m, 0, &out), 0);
	assert_int_equal(out.verb, CTL_READY);
	assert_int_equal(round_trip(&m, 1, &out), -1);
}

static void test_refused(void **state)
{
	unsigned char p[1024], buf[CTLCHAN_FRAME_MAX];
	struct ctl_msg m;
	size_t n;
	const char *const sess[] = { "session", "abcdefghijklmnopqrs2", "127.0.0.1", "4242",
	                             "127.0.0.1:587", "plain", NULL };
	const char *const bad_id[] = { "session", "ABCDEFGHIJKLMNOPQRS2", "127.0.0.1", "1",
	                               "l", "plain", NULL };
	const char *const bad_mode[] = { "session", "abcdefghijklmnopqrs2", "127.0.0.1", "1",
	                                 "l", "other", NULL };
	const char *const no_ip[] = { "session", "abcdefghijklmnopqrs2", "", "1", "l", "plain",
	                              NULL };
	const char *const bad_tls[] = { "tls", "abcdefghijklmnopqrs2", "SSLv3", "X", NULL };
	const char *const bad_kind[] = { "worker", "lmtp", "mx", NULL };
	const char *const shortkey[] = { "key", "abc", NULL };
	const char *const extra[] = { "ready", "x", NULL };
	const char *const other[] = { "shutdown", NULL };

	(void)state;
	n = frame(p, sizeof p, sess);
	assert_int_equal(ctlchan_parse(p, n, 1, &m), 0);
	assert_true(m.plain);
	assert_int_equal(m.port, 4242);
	assert_int_equal(ctlchan_parse(p, n - 1, 1, &m), -1);	/* short packet */
	n = frame(p, sizeof p, bad_id);
	assert_int_equal(ctlchan_parse(p, n, 1, &m), -1);
	n = frame(p, sizeof p, bad_mode);
	assert_int_equal(ctlchan_parse(p, n, 1, &m), -1);
	n = frame(p, sizeof p, no_ip);
	assert_int_equal(ctlchan_parse(p, n, 1, &m), -1);
	n = frame(p, sizeof p, bad_tls);
	assert_int_equal(ctlchan_parse(p, n, 0, &m), -1);
	n = frame(p, sizeof p, bad_kind);
	assert_int_equal(ctlchan_parse(p, n, 1, &m), -1);
	n = frame(p, sizeof p, shortkey);
	assert_int_equal(ctlchan_parse(p, n, 0, &m), -1);
	n = frame(p, sizeof p, extra);
	assert_int_equal(ctlchan_parse(p, n, 0, &m), -1);
	n = frame(p, sizeof p, other);
	assert_int_equal(ctlchan_parse(p, n, 0, &m), -1);
	/* the writer refuses the same */
	m = (struct ctl_msg){ .verb = CTL_SESSION, .id = "short", .ip = "1", .mode = "plain" };
	assert_null(ctlchan_write(buf, sizeof buf, &n, &m));
	m = (struct ctl_msg){ .verb = CTL_WORKER, .kind = "lmtp", .route = "x" };
	assert_null(ctlchan_write(buf, sizeof buf, &n, &m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_verb_round_trips),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
