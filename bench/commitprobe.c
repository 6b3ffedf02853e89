/*
 * bench/commitprobe.c — machine limit: durable one-at-a-time commits/s
 * (bench/README.md).  Not a server process; never run by `make check`.
 *
 * In DIR (default /var/tmp, the disk the bench queue lives on) each commit
 * writes S bytes (default 4096) into tmp/N, fsyncs it, renames it into
 * new/N and fsyncs new/ — the least a queue that acknowledges one message
 * at a time must do.  Runs for T seconds (default 3) or 100000 commits.
 * Prints `RESULT commits=.. secs=.. rate=.. p50=.. p99=..` (ms).
 * Failure policy: any system error exits 111 with the call named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Monotonic clock in seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exit 111 naming the failed call. */
static void die(const char *what)
{
	fprintf(stderr, "commitprobe: %s: %s\n", what, strerror(errno));
	exit(111);
}

/* qsort comparator for doubles. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One commit: write, fsync, rename, fsync directory. */
static void commit(int tmpfd, int newfd, int i, const char *buf, size_t size)
{
	char name[32];

	snprintf(name, sizeof name, "m%d", i);
	int fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die("openat");
	if (write(fd, buf, size) != (ssize_t)size)
		die("write");
	if (fsync(fd) < 0)
		die("fsync");
	close(fd);
	if (renameat(tmpfd, name, newfd, name) < 0)
		die("renameat");
	if (fsync(newfd) < 0)
		die("fsync dir");
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "/var/tmp";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	size_t size = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 4096;
	enum { MAX = 100000 };
	char top[4096];

	if (size < 1 || size > (16u << 20) || secs <= 0 || secs > 600)
		return 2;
	if (snprintf(top, sizeof top, "%s/commitprobe.XXXXXX", base) >= (int)sizeof top)
		return 2;
	if (!mkdtemp(top))
		die("mkdtemp");
	int topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || mkdirat(topfd, "tmp", 0700) < 0 || mkdirat(topfd, "new", 0700) < 0)
		die("mkdir");
	int tmpfd = openat(topfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int newfd = openat(topfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *buf = malloc(size);
	double *lat = malloc(MAX * sizeof *lat);
	if (tmpfd < 0 || newfd < 0 || !buf || !lat)
		die("setup");
	memset(buf, 'x', size);
	int n = 0;
	double t0 = now(), end = t0 + secs;
	while (n < MAX && now() < end) {
		double a = now();
		commit(tmpfd, newfd, n, buf, size);
		lat[n++] = now() - a;
	}
	double took = now() - t0;
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "m%d", i);
		unlinkat(newfd, name, 0);
	}
	unlinkat(topfd, "tmp", AT_REMOVEDIR);
	unlinkat(topfd, "new", AT_REMOVEDIR);
	rmdir(top);
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	printf("RESULT commits=%d secs=%.3f rate=%.1f p50=%.3f p99=%.3f\n", n, took,
	       n / took, n ? lat[n / 2] * 1e3 : 0, n ? lat[(size_t)(n - 1) * 99 / 100] * 1e3 : 0);
	free(buf);
	free(lat);
	return 0;
}
