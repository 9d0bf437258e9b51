/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Text tables whose column widths come from their content. */
#ifndef SLUICECTL_TABLE_H
#define SLUICECTL_TABLE_H

#include <stdio.h>

struct ctl_table {
	size_t ncols, nrows, cap;
	const char *const *headers;
	unsigned int right; /* bit i set: column i is right-aligned (numbers) */
	char **cells; /* nrows * ncols, owned */
};

/* headers must outlive the table; at most 32 columns. */
void ctl_table_init(struct ctl_table *t, const char *const *headers, size_t ncols,
		   unsigned int right);

/*
 * Copies ncols cells; NULL or "" cells print as "-". Control characters
 * become '?' so a rule name cannot break the layout or drive the terminal.
 * Returns 0 or -ENOMEM.
 */
int ctl_table_add(struct ctl_table *t, const char *const *cells);

/* Header and rows, each line prefixed by indent; no trailing blanks. */
void ctl_table_print(const struct ctl_table *t, FILE *out, const char *indent);

void ctl_table_free(struct ctl_table *t);

#endif
