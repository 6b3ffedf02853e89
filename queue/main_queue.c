/*
 * main_queue.c — postern-queue, the queue admin tool (DESIGN §5):
 *
 *   postern-queue [-c DIR | -q QUEUE_DIR] list | stats | show ID |
 *                 delete ID | hold ID | release ID | flush [ID]
 *
 * Run by root or the queue user on the command line.  It never reads
 * queue files itself: it asks postern-queued over QUEUE_DIR/control
 * (SOCK_SEQPACKET, grammar in queue/control.h), which checks SO_PEERCRED.
 * QUEUE_DIR defaults to queue_dir of DIR/postern.conf (DIR defaults to
 * /etc/postern).  Everything printed is escaped: bytes outside printable
 * ASCII (but newline and tab) become \xNN, a CR before LF is dropped, so
 * a hostile message cannot drive the operator's terminal.
 * `flush` makes every waiting message (or ID) due now; the scheduler
 * tries it at once.
 * Exit status: 0 ok, 1 the request was refused (`err`), 111 no daemon or
 * broken reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../master/conf.h"
#include "bufio.h"
#include "chan.h"
#include "control.h"
#include "netstring.h"

#define TOOL_DEADLINE_MS 30000

/* Print p[0..n) escaped (see the header comment). */
static void print_escaped(const unsigned char *p, size_t n)
{
	static char out[4 * 65536 + 8];
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < sizeof out; i++) {
		unsigned char c = p[i];

		if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if ((c >= 0x20 && c < 0x7f && c != '\\') || c == '\n' || c == '\t') {
			out[o++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";

			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	fwrite(out, 1, o, stdout);
}

/* Connect to QUEUE_DIR/control. */
static int dial(const char *qdir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", qdir, CONTROL_SOCKET);
	int fd;

	if (n < 0 || (size_t)n >= sizeof sa.sun_path)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "postern-queue: %s: %s (is postern running?)\n", sa.sun_path,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send the request frame. */
static int request(int fd, const char *cmd, const char *id)
{
	unsigned char buf[256];
	struct frame_writer w;
	const unsigned char *f;
	size_t n;

	fw_init(&w, buf, sizeof buf);
	fw_str(&w, cmd);
	if (id != NULL)
		fw_str(&w, id);
	f = fw_finish(&w, &n);
	return f == NULL ? -1 : chan_send(fd, f, n, clock_ms() + TOOL_DEADLINE_MS);
}

/* Print `out` frames until `ok` or `err`; the exit status. */
static int replies(int fd)
{
	static unsigned char buf[FRAME_MAX];
	int64_t deadline = clock_ms() + TOOL_DEADLINE_MS;

	for (;;) {
		const unsigned char *payload, *p;
		struct frame_reader fr;
		size_t plen, n;

		if (chan_recv(fd, buf, sizeof buf, &payload, &plen, deadline) <= 0) {
			fprintf(stderr, "postern-queue: no complete answer from postern-queued\n");
			return 111;
		}
		fr_init(&fr, payload, plen);
		if (fr_is(&fr, "out") == 1 && fr_bytes(&fr, &p, &n, FRAME_MAX) == 0 &&
		    fr_end(&fr) == 0) {
			print_escaped(p, n);
			if (n == 0 || p[n - 1] != '\n')
				putchar('\n');
		} else if (fr_is(&fr, "ok") == 1 && fr_end(&fr) == 0) {
			return 0;
		} else if (fr_is(&fr, "err") == 1 && fr_bytes(&fr, &p, &n, 400) == 0 &&
		           fr_end(&fr) == 0) {
			fputs("postern-queue: ", stderr);
			fflush(stdout);
			fwrite(p, 1, n, stderr);
			fputc('\n', stderr);
			return 1;
		} else {
			fprintf(stderr, "postern-queue: malformed answer\n");
			return 111;
		}
	}
}

/* Print usage and return 1. */
static int usage(void)
{
	fprintf(stderr, "usage: postern-queue [-c DIR | -q QUEUE_DIR] "
	        "list | stats | show ID | delete ID | hold ID | release ID | flush [ID]\n");
	return 1;
}

int main(int argc, char *argv[])
{
	static struct master_conf conf;
	const char *dir = "/etc/postern", *qdir = NULL, *cmd, *id = NULL;
	char err[1024];
	int i = 1, fd, rc, needs_id;

	while (i + 1 < argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-q") == 0)) {
		if (argv[i][1] == 'c')
			dir = argv[i + 1];
		else
			qdir = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];
	needs_id = strcmp(cmd, "show") == 0 || strcmp(cmd, "delete") == 0 ||
	           strcmp(cmd, "hold") == 0 || strcmp(cmd, "release") == 0;
	if (!needs_id && strcmp(cmd, "list") != 0 && strcmp(cmd, "stats") != 0 &&
	    strcmp(cmd, "flush") != 0)
		return usage();
	if (needs_id || (strcmp(cmd, "flush") == 0 && i < argc)) {
		if (i >= argc)
			return usage();
		id = argv[i++];
	}
	if (i != argc)
		return usage();
	if (qdir == NULL) {
		if (conf_load(dir, &conf, err, sizeof err) != 0) {
			fprintf(stderr, "postern-queue: %s\n", err);
			return 1;
		}
		qdir = conf.queue_dir;
	}
	fd = dial(qdir);
	if (fd < 0)
		return 111;
	if (request(fd, cmd, id) < 0) {
		fprintf(stderr, "postern-queue: cannot send the request\n");
		return 111;
	}
	rc = replies(fd);
	close(fd);
	fflush(stdout);
	return rc;
}
