/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rules written the way an operator types them ("proto tcp dport 80"),
 * turned into a struct sl_match with the datapath's own field parsers, so
 * tests exercise the same spelling-to-match path as the daemon.
 */
#ifndef SLUICE_TEST_RULE_SPEC_H
#define SLUICE_TEST_RULE_SPEC_H

#include "match.h"
#include "sl_err.h"

/* Fields: src, dst, proto, sport, dport, ether-type; returns 0 or -EINVAL. */
int rule_spec_parse(const char *text, struct sl_match *m, struct sl_err *err);

#endif
