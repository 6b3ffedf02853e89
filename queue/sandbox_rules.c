/*
 * sandbox_rules.c — the seccomp allow-list of postern-queued (DESIGN §1:
 * it holds the queue and may not use the network or spawn processes).
 * Its job is files, so it may open, write, sync, rename and unlink — but
 * only inside its chroot (the queue directory), as the queue user, and
 * every openat must carry O_NOFOLLOW (queue.c, commit.c, control.c all
 * do), so a planted symlink is never followed.  No socket, connect,
 * bind, execve, fork or clone: the admin socket is bound before the
 * sandbox, and sessions arrive as descriptors from the master.
 * sandbox_enter() adds the common rules (write, exit_group).
 * The scheduler (sched*.c) needs no call of its own: it reuses openat
 * (O_RDONLY cur/<id>, env/<id>, state/<id>; tmp/<id>.st), renameat
 * (new/ -> cur/, tmp/<id>.st -> state/, cur/ -> hold/), unlinkat,
 * fsync/fdatasync, sendmsg (a job frame with the message descriptor),
 * recvfrom (results), fcntl (O_NONBLOCK on worker channels) and
 * getdents64 (the index scan runs before the sandbox; `list` after).
 * The quota state file (quota_state.c) needs no call of its own either:
 * it is read before the sandbox, and saved with openat (O_NOFOLLOW |
 * O_CREAT | O_TRUNC, relative to the queue directory fd), write, fsync,
 * close, renameat and fsync of the directory, all allowed for commit.c.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "sandbox_rules.h"

const struct sandbox_rule queued_sandbox_rules[] = {
	/* commit.c: create tmp files, read messages and envelopes (control.c,
	 * cdb); always relative to a queue directory fd, always O_NOFOLLOW. */
	SB_RULE_ARG1(openat, SCMP_A2(SCMP_CMP_MASKED_EQ, O_NOFOLLOW, O_NOFOLLOW)),
	/* Reading a message for `show`; poll loop. */
	SB_RULE(read),
	SB_RULE(close),
	SB_RULE(poll),
	/* bounce_orig.c reads the original of a report without moving the
	 * file offset it may share with a delivery worker. */
	SB_RULE(pread64),
	/* commit.c: the durable commit (writeback hint and fdatasync of the
	 * files, fsync of directories, the two renames, removal of failed or
	 * deleted messages). */
	SB_RULE(fdatasync),
	SB_RULE(sync_file_range),
	SB_RULE(fsync),
	/* queue_sync = syncfs: steps 3 and 5 of a group commit */
	SB_RULE(syncfs),
	SB_RULE(renameat),
	SB_RULE(unlinkat),
	/* cdb_make_finish rewinds to write the header. */
	SB_RULE(lseek),
	/* cdb_init (fstat + mmap of an envelope or a table), recovery and the
	 * admin handler's existence checks (fstatat), queue_minfree (fstatfs). */
	SB_RULE(fstat),
	SB_RULE(newfstatat),
	SB_RULE(fstatfs),
	SB_RULE_ARG1(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SB_RULE(munmap),
	/* malloc: per-message header buffer, recipient lists, cdb_make. */
	SB_RULE(brk),
	SB_RULE_ARG1(mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SB_RULE(mremap),
	/* Directory listings (admin list/stats): fdopendir + readdir. */
	SB_RULE(getdents64),
	SB_RULE(fcntl),
	/* Frames: sessions (chan.c send/recv), control channel (fdpass.c),
	 * the scheduler's job channels (sched_worker.c: sendmsg with the
	 * message fd, recvfrom for results). */
	SB_RULE(sendto),
	SB_RULE(recvfrom),
	SB_RULE(sendmsg),
	SB_RULE(recvmsg),
	/* The admin socket: accept, then SO_PEERCRED (root or us). */
	SB_RULE(accept4),
	SB_RULE(getsockopt),
	SB_RULE(geteuid),
	/* Queue ids: libsodium randombytes_buf. */
	SB_RULE(getrandom),
	/* clock_ms(), time(): vDSO, with the syscall as fallback. */
	SB_RULE(clock_gettime),
	SB_RULE(shutdown),
};

const size_t queued_sandbox_nrules = sizeof queued_sandbox_rules / sizeof queued_sandbox_rules[0];
