/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Runs crafted frames through a detached sluice program with
 * BPF_PROG_TEST_RUN and checks verdicts, so cases read as "this rule, this
 * frame, dropped or passed" and run unchanged on the XDP and the TC program.
 */
#ifndef SLUICE_TEST_HARNESS_H
#define SLUICE_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "frames.h"
#include "hook.h"

/* Rule slots of a test hook: enough for every case, small to load fast. */
#define HARNESS_RULE_SLOTS 1024

struct tcase {
	enum sl_hook_kind kind;
	struct sl_dp_hook *h;
};

struct case_def {
	const char *name;
	void (*run)(struct tcase *t);
};

enum verdict { V_PASS, V_DROP };

/* Loads a fresh, empty program instance for one case. */
int harness_open(struct tcase *t, enum sl_hook_kind kind, struct sl_err *err);
void harness_close(struct tcase *t);

/* One BPF_PROG_TEST_RUN of the frame; returns 0 or a negative errno. */
int harness_run(const struct tcase *t, const void *data, size_t len, int *retval);

/* The program's return value meaning want, for this hook kind. */
int harness_retval(enum sl_hook_kind kind, enum verdict want);

/* Adds a rule from its text; on failure returns the negative errno, err says why. */
int harness_rule_try(struct tcase *t, const char *spec, uint32_t *slot, struct sl_err *err);

bool case_rule(struct tcase *t, const char *spec, uint32_t *slot, const char *file, int line);
bool case_del(struct tcase *t, uint32_t slot, const char *file, int line);
bool case_expect(struct tcase *t, const struct frame *f, enum verdict want, const char *what,
		 const char *bug, const char *file, int line);
bool case_expect_spec(struct tcase *t, const struct frame_spec *s, enum verdict want,
		      const char *what, const char *bug, const char *file, int line);
bool case_build(const struct frame_spec *s, struct frame *f, const char *what, const char *file,
		int line);
/* Where no verdict is promised: the run must succeed and say pass or drop. */
bool case_expect_sane(struct tcase *t, const struct frame *f, const char *what,
		      const char *file, int line);

#define RULE(t, spec, slotp) case_rule((t), (spec), (slotp), __FILE__, __LINE__)
#define DEL(t, slot) case_del((t), (slot), __FILE__, __LINE__)
/* Frame fields as designated initializers: EXPECT_DROP(t, .family = 4, .proto = 6). */
#define EXPECT_DROP(t, ...) \
	case_expect_spec((t), &(struct frame_spec){ __VA_ARGS__ }, V_DROP, #__VA_ARGS__, NULL, \
			 __FILE__, __LINE__)
#define EXPECT_PASS(t, ...) \
	case_expect_spec((t), &(struct frame_spec){ __VA_ARGS__ }, V_PASS, #__VA_ARGS__, NULL, \
			 __FILE__, __LINE__)
/* Same, for an expectation a known datapath bug breaks (see check.h CHECK_BUG). */
#define EXPECT_DROP_BUG(t, bug, ...) \
	case_expect_spec((t), &(struct frame_spec){ __VA_ARGS__ }, V_DROP, #__VA_ARGS__, (bug), \
			 __FILE__, __LINE__)
#define EXPECT_FRAME(t, f, want, what) \
	case_expect((t), (f), (want), (what), NULL, __FILE__, __LINE__)
#define EXPECT_SANE_FRAME(t, f, what) case_expect_sane((t), (f), (what), __FILE__, __LINE__)
#define BUILD(f, ...) \
	case_build(&(struct frame_spec){ __VA_ARGS__ }, (f), #__VA_ARGS__, __FILE__, __LINE__)

#endif
