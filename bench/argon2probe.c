/*
 * bench/argon2probe.c — machine limit: the time of one argon2id password
 * verification at libsodium's INTERACTIVE limits, the default of
 * postern-user.  Not a server process; never run by `make check`.
 *
 * Hashes one password with crypto_pwhash_str (OPSLIMIT/MEMLIMIT_INTERACTIVE),
 * then times N (default 7) crypto_pwhash_str_verify calls on one thread.
 * Prints `RESULT n=.. p50=.. min=.. max=..` in milliseconds.
 * Failure policy: exit 111 if libsodium fails or a verification is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

/* Monotonic clock in seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qsort comparator for doubles. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const char pw[] = "bench password";
	char hash[crypto_pwhash_STRBYTES];
	double t[64];
	int n = argc > 1 ? atoi(argv[1]) : 7;

	if (n < 1 || n > 64)
		return 2;
	if (sodium_init() < 0)
		return 111;
	if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return 111;
	for (int i = 0; i < n; i++) {
		double a = now();
		if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0)
			return 111;
		t[i] = now() - a;
	}
	qsort(t, (size_t)n, sizeof t[0], cmp_double);
	printf("RESULT n=%d p50=%.1f min=%.1f max=%.1f\n", n, t[n / 2] * 1e3, t[0] * 1e3,
	       t[n - 1] * 1e3);
	return 0;
}
