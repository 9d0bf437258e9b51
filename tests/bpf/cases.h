/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Case tables, one per concern; each ends with a { NULL } entry. */
#ifndef SLUICE_TEST_CASES_H
#define SLUICE_TEST_CASES_H

#include "harness.h"

extern const struct case_def cases_match[];     /* fields: proto, ports, ether type, prefixes */
extern const struct case_def cases_encap[];     /* tags, IPv4 options, IPv6 extensions, fragments */
extern const struct case_def cases_truncated[]; /* frames cut short, malformed headers */
extern const struct case_def cases_rules[];     /* overlaps, counters, shape limit */
extern const struct case_def cases_redirect[];  /* redirect verdicts, MACs, ranks, routing */
extern const struct case_def cases_nat[];       /* rewrite: translations, checksums, conntrack */

#endif
