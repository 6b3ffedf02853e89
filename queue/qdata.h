/*
 * qdata.h — DATA, chunks, end and abort for one queued session (qdata.c);
 * internal to postern-queued's session handling (qsession.c).
 */
#ifndef POSTERN_QUEUE_QDATA_H
#define POSTERN_QUEUE_QDATA_H

#include <stddef.h>

#include "qsession.h"

/* The DATA requests of lib/queuechan.h, already parsed. */
enum qs_result qdata_begin(struct queued *d, struct qsession *s, struct qreply *r);
enum qs_result qdata_chunk(struct queued *d, struct qsession *s, const unsigned char *p,
                           size_t n);
enum qs_result qdata_end(struct queued *d, struct qsession *s, struct qreply *r);
enum qs_result qdata_abort(struct queued *d, struct qsession *s);

/* Shared with qsession.c. */
void qreply_set(struct qreply *r, int code, const char *text);
void qs_log_refused(const struct qsession *s, const char *what, int code, const char *why);

#endif
