/*
 * session.c — the main loop of postern-smtpd: greet, split the client's
 * bytes into command lines (cmdline.h), hand each to the command table
 * (commands.c), flush replies at the end of each pipelined group, enforce
 * the deadlines and the error limit, and log the end.
 *
 * Descriptors: 0 the client (non-blocking), 2 the log pipe, 4/5 through
 * auth_client.c and queue_client.c.  Runs inside the sandbox: no
 * allocation, no file access.  Failure policy: any read or write failure
 * on the client ends the session; timeouts get 421 4.4.2 first
 * (RFC 5321 §4.5.3.2), too many errors 421 4.7.0.  Command lines leave
 * the input buffer zeroed (bufin_consume_wipe) and their copy is wiped
 * after the command: an AUTH line or response may carry a password.
 *
 * Deadlines (RFC 5321 §4.5.3.2), all on clock_ms() (CLOCK_MONOTONIC, the
 * clock_gettime the sandbox already allows), each with its 421 4.4.2 text
 * and log kind (table `deadlines`):
 *   idle     -t: each wait for the client, read or write
 *   command  -c: one whole command line or AUTH response, from the moment
 *            smtpd starts waiting for it; trickled bytes do not extend it
 *   preauth  -P: from start until a successful AUTH; STARTTLS does not
 *            reset it (the handshake time counts)
 *   session  -T: from start, the whole session
 * DATA has no command deadline: its reads are bounded by the idle timeout
 * and the message as a whole by the session deadline.  Requests to authd
 * and queued have their own limit (PEER_TIMEOUT_MS, capped by the session
 * deadline): an AUTH whose verification is under way is answered even if
 * the pre-AUTH deadline passes meanwhile.
 */
#include "session.h"

#include "commands.h"
#include "fds.h"
#include "log.h"
#include "queue_client.h"
#include "reply.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

/* HTTP request methods: a browser or proxy probe aimed at the port. */
static const char *const HTTP_VERBS[] = {
	"GET ", "POST ", "HEAD ", "PUT ", "CONNECT ", "OPTIONS ", "DELETE ", "PATCH ",
};

void session_init(struct session *s, const struct smtpd_args *args)
{
	int64_t now;

	memset(s, 0, sizeof *s);
	s->args = args;
	s->state = ST_GREETED;
	/* On a tls listener tlsd handshakes before relaying anything, and
	 * the session runs on the post-TLS pair from the start. */
	s->tls_active = args->mode == MODE_TLS;
	bufin_init(&s->in, s->tls_active ? SMTPD_FD_POSTTLS : SMTPD_FD_CLIENT,
	           s->inbuf, sizeof s->inbuf);
	bufout_init(&s->out, s->tls_active ? SMTPD_FD_POSTTLS : SMTPD_FD_CLIENT,
	            s->outbuf, sizeof s->outbuf);
	cmdline_init(&s->cl, SMTP_AUTH_LINE_MAX);
	/* Both run from here, smtpd's start: on a tls listener the
	 * handshake counts, and STARTTLS does not reset them. */
	now = clock_ms();
	s->session_deadline = now + (int64_t)args->session_s * 1000;
	s->preauth_deadline = now + (int64_t)args->preauth_s * 1000;
}

/* Name of a state for trace lines. */
static const char *state_name(enum smtp_state st)
{
	static const char *const names[] = { "greeted", "ready", "mail", "rcpt", "data" };
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

void session_enter_state(struct session *s, enum smtp_state next)
{
#ifdef SMTPD_TRACE
	log_event("state", "from=%s to=%s", state_name(s->state), state_name(next));
#else
	(void)state_name;
#endif
	s->state = next;
}

void session_end(struct session *s, enum session_end why)
{
	if (s->end == END_NONE)
		s->end = why;
}

/* The earlier of two deadlines. */
static int64_t earlier(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int64_t session_io_deadline(const struct session *s)
{
	int64_t d = clock_ms() + (int64_t)s->args->idle_s * 1000;

	d = earlier(d, s->session_deadline);
	if (!s->authenticated)
		d = earlier(d, s->preauth_deadline);
	if (s->command_deadline != 0)
		d = earlier(d, s->command_deadline);
	return d;
}

void session_command_start(struct session *s)
{
	s->command_deadline = clock_ms() + (int64_t)s->args->command_s * 1000;
}

void session_command_done(struct session *s)
{
	s->command_deadline = 0;
}

int64_t session_peer_deadline(const struct session *s)
{
	int64_t d = clock_ms() + PEER_TIMEOUT_MS;
	return d < s->session_deadline ? d : s->session_deadline;
}

/* Each deadline's end reason, log kind and reply (documented in
 * INSTALL.md); the idle timeout is the default when no other expired. */
static const struct deadline {
	enum session_end end;
	const char *kind;
	const char *text;
} deadlines[] = {
	{ END_IDLE_TIMEOUT, "idle", "4.4.2 Idle timeout, closing connection" },
	{ END_COMMAND_TIMEOUT, "command", "4.4.2 Command timeout, closing connection" },
	{ END_PREAUTH_TIMEOUT, "preauth", "4.4.2 Authentication timeout, closing connection" },
	{ END_SESSION_TIMEOUT, "session", "4.4.2 Session time limit exceeded, closing connection" },
};

/* Which deadline a timed-out wait met: of those that have passed, the
 * one that passed first (a wait ends at the earliest one). */
static const struct deadline *expired(const struct session *s)
{
	const int64_t at[] = {
		INT64_MAX,
		s->command_deadline != 0 ? s->command_deadline : INT64_MAX,
		s->authenticated ? INT64_MAX : s->preauth_deadline,
		s->session_deadline,
	};
	int64_t now = clock_ms(), first = INT64_MAX;
	size_t pick = 0;

	_Static_assert(sizeof at / sizeof at[0] == sizeof deadlines / sizeof deadlines[0],
	               "one time per deadline");
	for (size_t i = 1; i < sizeof at / sizeof at[0]; i++) {
		if (at[i] <= now && at[i] < first) {
			first = at[i];
			pick = i;
		}
	}
	return &deadlines[pick];
}

void session_timed_out(struct session *s, int answer)
{
	const struct deadline *d = expired(s);

	if (answer)
		reply(s, 421, d->text);
	log_event("timeout", "kind=%s", d->kind);
	session_end(s, d->end);
}

void session_read_failed(struct session *s, long rc, int err)
{
	if (rc == 0)
		session_end(s, END_EOF);
	else if (err == ETIMEDOUT)
		session_timed_out(s, 1);
	else
		session_end(s, END_READ_ERROR);
}

void session_reset_txn(struct session *s)
{
	struct queue_reply r;

	if (s->queue_txn && !s->queue_dead &&
	    queue_simple(SMTPD_FD_QUEUE, "rset", session_peer_deadline(s), &r) < 0)
		s->queue_dead = 1;
	s->queue_txn = 0;
	s->smtputf8 = 0;
	s->rcpt_tried = 0;
	s->rcpt_ok = 0;
	if (s->state > ST_READY)
		session_enter_state(s, ST_READY);
}

/* Flush, then wait for more client bytes; 0 if some arrived. */
static int read_more(struct session *s)
{
	ssize_t rc;

	reply_flush(s);
	if (s->end != END_NONE)
		return -1;
	rc = bufin_fill(&s->in, session_io_deadline(s));
	if (rc > 0)
		return 0;
	session_read_failed(s, (long)rc, errno);
	return -1;
}

long session_read_line(struct session *s, size_t max, char *line, size_t cap)
{
	struct cmdline_reader cl;
	size_t linelen, used;

	cmdline_init(&cl, max);
	session_command_start(s);
	for (;;) {
		const unsigned char *p = bufin_data(&s->in);
		enum cl_result r = cmdline_next(&cl, p, bufin_avail(&s->in), &linelen, &used);
		long ret = -2;

		if (r == CL_LINE && linelen < cap) {
			memcpy(line, p, linelen);
			line[linelen] = '\0';
			ret = (long)linelen;
		}
		bufin_consume_wipe(&s->in, used);
		if (r != CL_MORE) {
			session_command_done(s);
			return r == CL_BAD ? -3 : ret;
		}
		if (read_more(s) < 0)
			return -1;
	}
}

/* 1 if the input at command position is an HTTP request line. */
static int looks_http(const unsigned char *p, size_t n)
{
	size_t i, len;

	for (i = 0; i < sizeof HTTP_VERBS / sizeof HTTP_VERBS[0]; i++) {
		len = strlen(HTTP_VERBS[i]);
		if (n >= len && memcmp(p, HTTP_VERBS[i], len) == 0)
			return 1;
	}
	return 0;
}

/* Send "220 HOSTNAME ESMTP postern <RFC 5322 date>" (RFC 5321 §4.3.1). */
static void greet(struct session *s)
{
	char line[ARGS_HOST_MAX + 96];
	size_t n, h = strlen(s->args->hostname);
	struct tm tm;
	struct timespec ts;
	time_t now;

	memcpy(line, s->args->hostname, h);
	memcpy(line + h, " ESMTP postern ", 15);
	n = h + 15;
	/* clock_gettime, not time(): one vDSO call for the allow-list. */
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		log_fatal("clock_gettime failed");
	now = ts.tv_sec;
	if (localtime_r(&now, &tm) == NULL)
		log_fatal("localtime_r failed");
	n += strftime(line + n, sizeof line - n, "%a, %d %b %Y %H:%M:%S %z", &tm);
	reply_line(s, 220, 0, line, n);
	reply_flush(s);
}

/* Handle one complete client line of linelen bytes at the input head. */
static void one_line(struct session *s, size_t linelen, size_t used)
{
	char line[SMTP_AUTH_LINE_MAX + 1];

	memcpy(line, bufin_data(&s->in), linelen);
	line[linelen] = '\0';
	bufin_consume_wipe(&s->in, used);
	commands_dispatch(s, line, linelen);
	/* An AUTH line may carry a password (initial response). */
	sodium_memzero(line, linelen);
}

/* Read and answer one command (or wait for more input). */
static void step(struct session *s)
{
	const unsigned char *p = bufin_data(&s->in);
	size_t n = bufin_avail(&s->in), linelen, used;

	if (!s->cl.draining && looks_http(p, n)) {
		log_event("http-request", "action=close");
		session_end(s, END_HTTP);
		return;
	}
	enum cl_result r = cmdline_next(&s->cl, p, n, &linelen, &used);

	/* The command deadline runs from the first wait for this line. */
	if (r != CL_MORE)
		session_command_done(s);
	else if (s->command_deadline == 0)
		session_command_start(s);
	switch (r) {
	case CL_MORE:
		bufin_consume_wipe(&s->in, used);
		(void)read_more(s);
		return;
	case CL_LINE:
		s->commands++;
		one_line(s, linelen, used);
		break;
	case CL_TOO_LONG:
		bufin_consume_wipe(&s->in, used);
		s->commands++;
		reply_error(s, 500, "5.5.2 Line too long");
		break;
	case CL_BAD:
		bufin_consume_wipe(&s->in, used);
		s->commands++;
		reply_error(s, 500, "5.5.2 Bad character or bare CR or LF in command");
		break;
	}
	if (s->errors >= SMTP_ERRORS_MAX && s->end == END_NONE) {
		reply(s, 421, "4.7.0 Too many errors, closing connection");
		log_event("too-many-errors", "errors=%llu", (unsigned long long)s->errors);
		session_end(s, END_TOO_MANY_ERRORS);
	}
}

/* Name of an end reason for the session-end line. */
static const char *end_name(enum session_end e)
{
	switch (e) {
	case END_NONE: return "none";
	case END_QUIT: return "quit";
	case END_EOF: return "eof";
	case END_IDLE_TIMEOUT: return "idle-timeout";
	case END_COMMAND_TIMEOUT: return "command-timeout";
	case END_PREAUTH_TIMEOUT: return "preauth-timeout";
	case END_SESSION_TIMEOUT: return "session-timeout";
	case END_TOO_MANY_ERRORS: return "too-many-errors";
	case END_HTTP: return "http-request";
	case END_WRITE_ERROR: return "write-error";
	case END_READ_ERROR: return "read-error";
	case END_QUEUE_LOST: return "queue-lost";
	case END_TLS_FAILED: return "tls-failed";
	}
	return "?";
}

void session_run(struct session *s)
{
	struct logline l;

	ll_begin(&l, "connect");
	ll_str(&l, "client", s->args->client_ip);
	ll_u64(&l, "port", s->args->client_port);
	ll_str(&l, "mode", args_mode_name(s->args->mode));
	ll_emit(&l);
	greet(s);
	while (s->end == END_NONE)
		step(s);
	reply_flush(s);
	ll_begin(&l, "session-end");
	ll_u64(&l, "commands", s->commands);
	ll_u64(&l, "errors", s->errors);
	ll_u64(&l, "messages", s->messages);
	ll_str(&l, "result", end_name(s->end));
	ll_emit(&l);
}
