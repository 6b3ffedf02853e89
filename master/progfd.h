/*
 * progfd.h — the programs the master execs as root, opened once at start
 * (O_PATH) and exec'd through that descriptor (execveat AT_EMPTY_PATH), so
 * what runs is exactly the file that was checked: no check-to-exec race,
 * and a file swapped in under libexec_dir later is never run (a new build
 * needs a restart of postern).
 *
 * The checks (as root; started without root only "a regular executable
 * file"): the file is a regular file owned by root and not writable by
 * group or other, and every directory from libexec_dir, and from the
 * file's real directory (symbolic links resolved), up to / is owned by
 * root and not writable by group or other unless it has the sticky bit
 * (/tmp: others may add entries there but not replace root's).  Whoever
 * could change one of them would choose what root runs.
 *
 * Process: postern (master); progfd_exec runs in a forked child.
 * Failure policy: progfd_open reports the first problem with the path in
 * err; a missing file is told apart (ENOENT in *missing) so a caller may
 * treat an optional program as absent.
 */
#ifndef POSTERN_MASTER_PROGFD_H
#define POSTERN_MASTER_PROGFD_H

#include <stddef.h>

/* Open dir/name as above.  The O_PATH|O_CLOEXEC descriptor, or -1 with
 * the reason in err[errcap] and *missing set when the file does not
 * exist (missing may be NULL). */
int progfd_open(const char *dir, const char *name, int root, int *missing,
                char *err, size_t errcap);

/* In a child: exec the program of fd with argv and an empty environment.
 * Returns only on failure (errno set).  A script (#!) cannot be exec'd
 * from a close-on-exec descriptor (its interpreter opens /dev/fd/N after
 * the exec), so after ENOENT the descriptor is made inheritable and the
 * exec retried: only a script (the test fakes) ever sees it. */
void progfd_exec(int fd, char *const argv[]);

#endif
