// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_err.h"
#include "table.h"

#define COL_GAP 2

void ctl_table_init(struct ctl_table *t, const char *const *headers, size_t ncols,
		   unsigned int right)
{
	memset(t, 0, sizeof(*t));
	t->headers = headers;
	t->ncols = ncols;
	t->right = right;
}

static const char *cell_text(const char *cell)
{
	return cell && cell[0] ? cell : "-";
}

int ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	size_t i, base;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		t->cells = grown;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(cell_text(cells[i]));
		if (!t->cells[base + i]) {
			while (i--)
				free(t->cells[base + i]);
			return -ENOMEM;
		}
		ctl_sanitize(t->cells[base + i]);
	}
	t->nrows++;
	return 0;
}

/* Columns on a terminal, not bytes: UTF-8 continuation bytes take none. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void print_cell(FILE *out, const char *text, size_t width, int right, int last)
{
	size_t pad = width - text_width(text);

	if (right)
		fprintf(out, "%*s%s", (int)pad, "", text);
	else if (last)
		fputs(text, out);
	else
		fprintf(out, "%s%*s", text, (int)pad, "");
	if (!last)
		fprintf(out, "%*s", COL_GAP, "");
}

void ctl_table_print(const struct ctl_table *t, FILE *out, const char *indent)
{
	size_t widths[32] = { 0 };
	size_t ncols = t->ncols < 32 ? t->ncols : 32;
	size_t r, i;

	for (i = 0; i < ncols; i++)
		widths[i] = text_width(t->headers[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < ncols; i++) {
			size_t w = text_width(t->cells[r * t->ncols + i]);

			if (w > widths[i])
				widths[i] = w;
		}

	fputs(indent, out);
	for (i = 0; i < ncols; i++)
		print_cell(out, t->headers[i], widths[i], (t->right >> i) & 1, i + 1 == ncols);
	fputc('\n', out);
	for (r = 0; r < t->nrows; r++) {
		fputs(indent, out);
		for (i = 0; i < ncols; i++)
			print_cell(out, t->cells[r * t->ncols + i], widths[i],
				   (t->right >> i) & 1, i + 1 == ncols);
		fputc('\n', out);
	}
}

void ctl_table_free(struct ctl_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
