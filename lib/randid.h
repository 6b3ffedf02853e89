/*
 * randid.h — random identifiers (queue ids, session ids): RANDID_LEN
 * characters of the lowercase base32 alphabet "a-z2-7", 100 bits from
 * libsodium's randombytes_buf, safe as file names.
 *
 * sodium_init() must have been called before the sandbox: it may open
 * /dev/urandom or probe getrandom, which the sandbox forbids.
 */
#ifndef POSTERN_RANDID_H
#define POSTERN_RANDID_H

#define RANDID_LEN 20

/* Write a fresh id and a terminating NUL into out. */
void randid_make(char out[RANDID_LEN + 1]);

#endif
