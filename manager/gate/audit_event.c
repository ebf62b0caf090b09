/*
 * Records the gate writes for kxd without a decision of the policy behind
 * them (docs/audit-log.md section 2):
 *   - a link whose library could not even be looked up (a name that is not
 *     a library name, no such file in any --libdir): DENY at stage
 *     "request", so a guest probing names leaves a trace like any refusal;
 *   - requests of one pVM refused without a record because it exceeded its
 *     rate (kxd's token bucket): one "suppressed" record with their count.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "manager/gate/internal.h"

int gate_link_unresolved(struct gate *g, const struct gate_subject *requester,
			 const struct gate_subject *target, const char *requested, const char *why,
			 struct gate_decision *out)
{
	struct gate_req r = {
		.op = KXP_OP_LINK, .subject = requester, .target = target,
		.requested = requested != NULL ? requested : "",
	};

	memset(out, 0, sizeof(*out));
	out->verdict = KXP_DENY;
	out->stage = GATE_STAGE_REQUEST;
	snprintf(out->reason, sizeof(out->reason), "%s", why != NULL ? why : "not found");
	if (g == NULL || requester == NULL)
		return -EINVAL;
	return gate_audit_append(g, &r, out);
}

int gate_audit_suppressed(struct gate *g, const struct gate_subject *pvm, uint64_t count,
			  const char *why)
{
	char reason[GATE_REASON_MAX];

	if (g == NULL || pvm == NULL || count == 0)
		return -EINVAL;
	snprintf(reason, sizeof(reason), "%llu request%s refused without %s own record: %s",
		 (unsigned long long)count, count == 1 ? "" : "s", count == 1 ? "its" : "their",
		 why != NULL ? why : "over the audit rate");
	return gate_audit_event(g, "suppressed", pvm, count, reason);
}
