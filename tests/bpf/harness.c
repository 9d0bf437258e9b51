// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <string.h>

#include <bpf/bpf.h>

#include "harness.h"
#include "rule_spec.h"

int harness_open(struct tcase *t, enum sl_hook_kind kind, struct sl_err *err)
{
	struct sl_dp_opts opts = { .rule_slots = HARNESS_RULE_SLOTS };

	t->kind = kind;
	t->h = NULL;
	return sl_dp_hook_open_detached(kind, &opts, &t->h, err);
}

void harness_close(struct tcase *t)
{
	sl_dp_hook_close(t->h);
	t->h = NULL;
}

int harness_run(const struct tcase *t, const void *data, size_t len, int *retval)
{
	/* test_run copies the frame back out and fails with ENOSPC when it does not fit. */
	static unsigned char out[FRAME_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = (__u32)len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1);
	int rc;

	rc = bpf_prog_test_run_opts(sl_dp_hook_prog_fd(t->h), &opts);
	if (rc)
		return rc < 0 ? rc : -EIO;
	*retval = (int)opts.retval;
	return 0;
}

int harness_retval(enum sl_hook_kind kind, enum verdict want)
{
	if (kind == SL_HOOK_XDP)
		return want == V_DROP ? XDP_DROP : XDP_PASS;
	/* UNSPEC, not OK: sluice defers to filters behind it when it does not drop. */
	return want == V_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

int harness_rule_try(struct tcase *t, const char *spec, uint32_t *slot, struct sl_err *err)
{
	struct sl_match m;
	int rc;

	rc = rule_spec_parse(spec, &m, err);
	if (rc)
		return rc;
	return sl_dp_rule_add(t->h, &m, slot, err);
}

bool case_rule(struct tcase *t, const char *spec, uint32_t *slot, const char *file, int line)
{
	struct sl_err err = { 0 };
	uint32_t ignored;
	int rc;

	rc = harness_rule_try(t, spec, slot ? slot : &ignored, &err);
	return check_report(rc == 0, file, line, "rule added", NULL, "add rule '%s': %s", spec,
			    rc ? err.msg : "ok");
}

bool case_del(struct tcase *t, uint32_t slot, const char *file, int line)
{
	struct sl_err err = { 0 };
	int rc = sl_dp_rule_del(t->h, slot, &err);

	return check_report(rc == 0, file, line, "rule deleted", NULL, "delete slot %u: %s", slot,
			    rc ? err.msg : "ok");
}

static const char *verdict_name(enum sl_hook_kind kind, int retval)
{
	if (retval == harness_retval(kind, V_DROP))
		return "drop";
	if (retval == harness_retval(kind, V_PASS))
		return "pass";
	return "unexpected";
}

bool case_expect(struct tcase *t, const struct frame *f, enum verdict want, const char *what,
		 const char *bug, const char *file, int line)
{
	int retval = 0, rc;

	rc = harness_run(t, f->data, f->len, &retval);
	if (rc)
		return check_report(false, file, line, "test_run succeeded", bug,
				    "%s (%zu bytes): BPF_PROG_TEST_RUN failed: %s", what, f->len,
				    strerror(-rc));
	return check_report(retval == harness_retval(t->kind, want), file, line,
			    "verdict matches", bug, "%s (%zu bytes): want %s, got %s (retval %d)",
			    what, f->len, want == V_DROP ? "drop" : "pass",
			    verdict_name(t->kind, retval), retval);
}

bool case_expect_sane(struct tcase *t, const struct frame *f, const char *what,
		      const char *file, int line)
{
	int retval = 0, rc;

	rc = harness_run(t, f->data, f->len, &retval);
	if (rc)
		return check_report(false, file, line, "test_run succeeded", NULL,
				    "%s (%zu bytes): BPF_PROG_TEST_RUN failed: %s", what, f->len,
				    strerror(-rc));
	return check_report(retval == harness_retval(t->kind, V_DROP) ||
				    retval == harness_retval(t->kind, V_PASS),
			    file, line, "verdict is pass or drop", NULL,
			    "%s (%zu bytes): got %s (retval %d)", what, f->len,
			    verdict_name(t->kind, retval), retval);
}

bool case_build(const struct frame_spec *s, struct frame *f, const char *what, const char *file,
		int line)
{
	int rc = frame_build(s, f);

	if (rc)
		return check_report(false, file, line, "frame built", NULL,
				    "cannot build frame { %s }: %s", what, strerror(-rc));
	return true;
}

bool case_expect_spec(struct tcase *t, const struct frame_spec *s, enum verdict want,
		      const char *what, const char *bug, const char *file, int line)
{
	static struct frame f; /* large; one at a time is all the cases need */

	if (!case_build(s, &f, what, file, line))
		return false;
	return case_expect(t, &f, want, what, bug, file, line);
}
