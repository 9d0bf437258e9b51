/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Translated flows in their protocol form (the conntrack command). */
#ifndef SLUICE_CONNTRACK_JSON_H
#define SLUICE_CONNTRACK_JSON_H

#include <jansson.h>

#include "conntrack.h"
#include "sl_err.h"

/* {"flows": [...], "count": N, "capacity": entries}; NULL with err set on failure. */
json_t *sl_ct_flows_json(struct sl_dp_ct *ct, struct sl_err *err);

#endif
