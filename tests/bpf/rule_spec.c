// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rule_spec.h"

#define RULE_SPEC_MAX 256

static int set_field(struct sl_match *m, const char *name, const char *value,
		     struct sl_err *err)
{
	if (!strcmp(name, "src")) {
		m->has_src = true;
		return sl_parse_prefix(value, &m->src, err);
	}
	if (!strcmp(name, "dst")) {
		m->has_dst = true;
		return sl_parse_prefix(value, &m->dst, err);
	}
	if (!strcmp(name, "proto")) {
		m->has_proto = true;
		return sl_parse_proto(value, &m->proto, err);
	}
	if (!strcmp(name, "sport")) {
		m->has_sport = true;
		return sl_parse_port_range(value, &m->sport, err);
	}
	if (!strcmp(name, "dport")) {
		m->has_dport = true;
		return sl_parse_port_range(value, &m->dport, err);
	}
	if (!strcmp(name, "ether-type")) {
		m->has_ether_type = true;
		return sl_parse_ether_type(value, &m->ether_type, err);
	}
	return sl_err_set(err, EINVAL, "unknown match field '%s'", name);
}

int rule_spec_parse(const char *text, struct sl_match *m, struct sl_err *err)
{
	char buf[RULE_SPEC_MAX], *save = NULL, *name, *value;
	int rc;

	memset(m, 0, sizeof(*m));
	if (strlen(text) >= sizeof(buf))
		return sl_err_set(err, EINVAL, "rule text too long");
	snprintf(buf, sizeof(buf), "%s", text);

	for (name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		value = strtok_r(NULL, " ", &save);
		if (!value)
			return sl_err_set(err, EINVAL, "field '%s' has no value", name);
		rc = set_field(m, name, value, err);
		if (rc)
			return rc;
	}
	return sl_match_validate(m, err);
}
