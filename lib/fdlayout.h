/*
 * fdlayout.h — the first step of every program the master starts: check
 * that the documented descriptors (lib/fds.h) are open, and close every
 * descriptor above them.  A missing one would later be taken by something
 * else; an extra one, leaked by whoever exec'd us, would stay readable and
 * writable inside the sandbox, whose filters allow read/write by number.
 */
#ifndef POSTERN_FDLAYOUT_H
#define POSTERN_FDLAYOUT_H

/* Fatal (log_fatal, exit 111) unless 0..required-1 are open; then close
 * every descriptor from keep up (keep >= required: the ones between are
 * optional and left as they are). */
void fds_expect(int required, int keep);

#endif
