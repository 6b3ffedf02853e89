/*
 * sched_index.c — the scheduler's in-memory index: one small entry per
 * queued message in a binary min-heap on its due time (sched_int.h).
 * postern-queued; memory only (malloc).  Built at start by one scan of
 * new/ and cur/ (sched.c) without reading any file, so 100 000 messages
 * cost one getdents64 walk and 100 000 small allocations.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

/* A fresh entry (not in the heap).  NULL if out of memory. */
struct sentry *six_new(const char *id, int where, int64_t due)
{
	struct sentry *e = calloc(1, sizeof *e);

	if (e == NULL)
		return NULL;
	memcpy(e->id, id, RANDID_LEN);
	e->id[RANDID_LEN] = '\0';
	e->where = (unsigned char)where;
	e->due = due;
	return e;
}

/* Put heap slot i's entry at i and record its position. */
static void place(struct sindex *ix, size_t i, struct sentry *e)
{
	ix->heap[i] = e;
	e->pos = i;
}

/* Move the entry at i up while it is due before its parent. */
static void up(struct sindex *ix, size_t i)
{
	struct sentry *e = ix->heap[i];

	while (i > 0 && ix->heap[(i - 1) / 2]->due > e->due) {
		place(ix, i, ix->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(ix, i, e);
}

/* Move the entry at i down while a child is due before it. */
static void down(struct sindex *ix, size_t i)
{
	struct sentry *e = ix->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= ix->n)
			break;
		if (c + 1 < ix->n && ix->heap[c + 1]->due < ix->heap[c]->due)
			c++;
		if (ix->heap[c]->due >= e->due)
			break;
		place(ix, i, ix->heap[c]);
		i = c;
	}
	place(ix, i, e);
}

/* Add e.  0, or -1 if out of memory. */
int six_push(struct sindex *ix, struct sentry *e)
{
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 1024;
		struct sentry **h;

		if (cap > SIZE_MAX / sizeof *h)
			return -1;
		h = realloc(ix->heap, cap * sizeof *h);
		if (h == NULL)
			return -1;
		ix->heap = h;
		ix->cap = cap;
	}
	place(ix, ix->n, e);
	ix->n++;
	up(ix, ix->n - 1);
	return 0;
}

/* The earliest entry, or NULL. */
struct sentry *six_top(const struct sindex *ix)
{
	return ix->n ? ix->heap[0] : NULL;
}

/* Remove e from the heap. */
void six_remove(struct sindex *ix, struct sentry *e)
{
	size_t i = e->pos;
	struct sentry *moved;

	if (i >= ix->n || ix->heap[i] != e)
		return;
	ix->n--;
	if (i == ix->n)
		return;
	moved = ix->heap[ix->n];
	place(ix, i, moved);
	up(ix, i);
	down(ix, moved->pos);
}

/* Take the earliest entry out, or NULL. */
struct sentry *six_pop(struct sindex *ix)
{
	struct sentry *e = six_top(ix);

	if (e != NULL)
		six_remove(ix, e);
	return e;
}

/* e's due time changed: restore the heap order. */
void six_update(struct sindex *ix, struct sentry *e)
{
	if (e->pos < ix->n && ix->heap[e->pos] == e) {
		up(ix, e->pos);
		down(ix, e->pos);
	}
}
