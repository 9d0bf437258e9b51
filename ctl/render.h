/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Printing daemon results. Human output is for people and may change;
 * scripts use --json, which is the daemon's result object verbatim.
 */
#ifndef SLUICECTL_RENDER_H
#define SLUICECTL_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Prints result for people. args is what was sent, for results that do not
 * repeat it. Returns 0, -EPROTO when result lacks what the protocol promises
 * for the command, or -ENOMEM.
 */
typedef int (*ctl_render_fn)(FILE *out, const json_t *args, const json_t *result);

int ctl_render_hello(FILE *out, const json_t *args, const json_t *result);
int ctl_render_status(FILE *out, const json_t *args, const json_t *result);
int ctl_render_added(FILE *out, const json_t *args, const json_t *result); /* any add-* */
int ctl_render_list(FILE *out, const json_t *args, const json_t *result);
int ctl_render_deleted(FILE *out, const json_t *args, const json_t *result);
int ctl_render_stats(FILE *out, const json_t *args, const json_t *result);
/* conntrack: the flows, or how many a flush removed. */
int ctl_render_conntrack(FILE *out, const json_t *args, const json_t *result);

/* render_doc.c: export prints the document; apply and flush what changed. */
int ctl_render_export(FILE *out, const json_t *args, const json_t *result);
int ctl_render_apply(FILE *out, const json_t *args, const json_t *result);
int ctl_render_flush(FILE *out, const json_t *args, const json_t *result);

/* --json: the result on one line. Returns 0 or -EIO. */
int ctl_render_json(FILE *out, const json_t *result);

/*
 * A JSON value as a table cell: strings as they are, numbers in decimal,
 * "-" for null or absent. Returns either the string inside v or buf.
 */
const char *ctl_json_text(const json_t *v, char *buf, size_t len);

/* "src 10.0.0.0/8 proto tcp dport 80"; "-" when no match field is set. */
void ctl_format_match(const json_t *rule, char *buf, size_t len);

/* "52s", "4m 05s", "3h 07m", "2d 5h". */
void ctl_format_duration(uint64_t seconds, char *buf, size_t len);

#endif
