/*
 * test_queue_trusted.c — the trusted header block (queue/trusted.h):
 * Received: per RFC 5321 §4.4 (an IPv6 client address is an
 * address-literal "[IPv6:...]", §4.1.3), ESMTPSA and the TLS comment only
 * with TLS facts, Message-ID:/Date: only when asked (RFC 6409 §8), and
 * "does not fit" as 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../queue/trusted.h"

/* A fixed input: 2024-01-01 00:00:00 UTC, TZ=UTC set in main. */
static struct trusted_in base(void)
{
	struct trusted_in t = { 0 };

	t.hostname = "mx.example.org";
	t.qid = "abcdefghijklmnopqrstuvwxyz";
	t.mode = "plain";
	t.now = 1704067200;
	return t;
}

/* No IP, no TLS, nothing missing: one Received: with ESMTPA. */
static void test_plain_block(void **state)
{
	char out[1024];
	struct trusted_in t = base();
	size_t n;

	(void)state;
	n = trusted_block(out, sizeof out, &t);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "Received: by mx.example.org (postern) with ESMTPA id "
	                         "abcdefghijklmnopqrstuvwxyz;\r\n"
	                         "\tMon, 01 Jan 2024 00:00:00 +0000\r\n");
}

/* Client IPs as RFC 5321 address literals. */
static void test_ip_literals(void **state)
{
	char out[1024];
	struct trusted_in t = base();

	(void)state;
	t.ip = "192.0.2.7";
	assert_true(trusted_block(out, sizeof out, &t) > 0);
	assert_non_null(strstr(out, "Received: from [192.0.2.7]\r\n\tby "));
	t.ip = "2001:db8::7";
	assert_true(trusted_block(out, sizeof out, &t) > 0);
	assert_non_null(strstr(out, "Received: from [IPv6:2001:db8::7]\r\n\tby "));
}

/* TLS facts give ESMTPSA and the comment; Message-ID and Date on demand. */
static void test_tls_and_missing_fields(void **state)
{
	char out[1024];
	struct trusted_in t = base();

	(void)state;
	t.tls_version = "TLSv1.3";
	t.tls_cipher = "TLS_AES_256_GCM_SHA384";
	t.need_message_id = t.need_date = 1;
	assert_true(trusted_block(out, sizeof out, &t) > 0);
	assert_non_null(strstr(out, " with ESMTPSA id "));
	assert_non_null(strstr(out, "\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384);"));
	assert_non_null(strstr(out, "\r\nMessage-ID: <abcdefghijklmnopqrstuvwxyz.1704067200"
	                            "@mx.example.org>\r\n"));
	assert_non_null(strstr(out, "\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n"));
	t.tls_cipher = "bad cipher";	/* not a token: refused, never written */
	assert_int_equal(trusted_block(out, sizeof out, &t), 0);
}

/* Too small a buffer: 0, at every size below the real length. */
static void test_does_not_fit(void **state)
{
	char out[1024];
	struct trusted_in t = base();
	size_t n;

	(void)state;
	t.need_message_id = t.need_date = 1;
	n = trusted_block(out, sizeof out, &t);
	assert_true(n > 0);
	for (size_t cap = 0; cap <= n; cap++)
		assert_int_equal(trusted_block(out, cap, &t), 0);
	assert_int_equal(trusted_block(out, n + 1, &t), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_block),
		cmocka_unit_test(test_ip_literals),
		cmocka_unit_test(test_tls_and_missing_fields),
		cmocka_unit_test(test_does_not_fit),
	};

	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
