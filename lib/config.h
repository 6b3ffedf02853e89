/*
 * config.h — reading "key = value" files (postern.conf and the text
 * tables).  Blank lines and lines whose first non-blank byte is '#' are
 * skipped; a value runs to the end of the line with surrounding blanks
 * removed.  Every error names the file and the line: "FILE:LINE: reason".
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONF_LINE_MAX 1024
#define CONF_ERR_MAX 512

/* Called once per "key = value" line.  Return 0 to go on, or -1 after
 * writing the reason (without file and line) into err[errcap]. */
typedef int (*conf_cb)(void *ctx, const char *key, const char *value,
                       char *err, size_t errcap);

/* Parse path; 0 on success, -1 with "path:line: reason" in err. */
int conf_parse_file(const char *path, conf_cb cb, void *ctx, char *err, size_t errcap);
/* The same over a buffer; name is used in messages. */
int conf_parse_buf(const char *name, const char *buf, size_t len, conf_cb cb,
                   void *ctx, char *err, size_t errcap);

/* Value helpers: 0 on success, -1 with a reason in err. */
int conf_u64(const char *value, uint64_t min, uint64_t max, uint64_t *out,
             char *err, size_t errcap);
/* Sizes with an optional K, M or G suffix (powers of 1024). */
int conf_size(const char *value, uint64_t min, uint64_t max, uint64_t *out,
              char *err, size_t errcap);
/* Durations: a number with s, m, h or d (seconds if no suffix). */
int conf_duration(const char *value, uint64_t min_s, uint64_t max_s,
                  uint64_t *out_s, char *err, size_t errcap);
int conf_bool(const char *value, int *out, char *err, size_t errcap);

#endif
