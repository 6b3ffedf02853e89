/*
 * randid.c — random filename-safe identifiers (randid.h).  Used by the
 * master (session ids) and queued (queue ids).  Each character takes the
 * low 5 bits of one random byte: 256 is a multiple of 32, so there is no
 * modulo bias.  Syscall: getrandom (inside libsodium).
 */
#include <sodium.h>

#include "randid.h"

/* Make a fresh id of RANDID_LEN characters (100 bits). */
void randid_make(char out[RANDID_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char rnd[RANDID_LEN];

	randombytes_buf(rnd, sizeof(rnd));
	for (size_t i = 0; i < RANDID_LEN; i++)
		out[i] = alphabet[rnd[i] & 31];
	out[RANDID_LEN] = '\0';
	sodium_memzero(rnd, sizeof(rnd));
}
