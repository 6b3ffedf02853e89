/*
 * tables.h — the table files only the master opens (DESIGN §5 "Tables"):
 * DIR/users.cdb (-> authd), DIR/senders.cdb, DIR/routes.cdb,
 * DIR/quotas.cdb (-> queued), DIR/relay-secrets.cdb (-> delivery workers).
 * Each is opened read-only at start, on SIGHUP and when the periodic stat
 * (every TABLES_CHECK_MS) sees the file replaced or changed; the consumer
 * gets a copy of the descriptor (daemon.c `table` frame, or authd's fd 4
 * at exec) and switches to it.
 *
 * As root a table must be a regular file owned by root and not writable
 * by group or other (whoever can write users.cdb can log in as anyone);
 * a file that fails these checks is refused and the previous descriptor
 * stays in service.  A missing file is "absent" (its consumer has no
 * table; authd then answers 454).
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_TABLES_H
#define POSTERN_MASTER_TABLES_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum table_id {
	TABLE_USERS,
	TABLE_SENDERS,
	TABLE_ROUTES,
	TABLE_QUOTAS,
	TABLE_RELAY_SECRETS,
	TABLE_COUNT
};

#define TABLE_BIT(t) (1u << (t))
#define TABLES_CHECK_MS 2000u

/* What was opened: the descriptor and the identity of the file behind it. */
struct table_file {
	int fd;				/* O_RDONLY, close-on-exec; -1 if absent */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct tables {
	struct table_file t[TABLE_COUNT];
	uint64_t next_check_ms;
};

/* "users", "senders", "routes", "quotas", "relay-secrets". */
const char *table_name(enum table_id id);

/* No table open. */
void tables_init(struct tables *t);

/* Stat each DIR/NAME.cdb; reopen those that changed (all when force).
 * Returns the TABLE_BIT()s whose descriptor changed (opened, replaced or
 * gone); logs event=table-open / table-gone / table-refused. */
unsigned tables_refresh(struct tables *t, const char *dir, int root, int force);

/* The current descriptor of id (still the master's), or -1. */
int tables_fd(const struct tables *t, enum table_id id);

#endif
