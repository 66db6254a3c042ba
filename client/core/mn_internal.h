/* The engine's private state, shared by the files that implement mn.h:
 * mn.c (inputs and commands), policy.c (which attachment to want, plans),
 * binding.c (driving registrations and replies), status.c (queries);
 * attempt.c holds one registration attempt. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "agents.h"
#include "links.h"
#include "mn.h"
#include "outbox.h"
#include "attempt.h"

/* Where the node wants to be attached. */
typedef enum MipAttachKind {
    MIP_ATTACH_NONE, /* no usable link */
    MIP_ATTACH_WAIT, /* usable links, but no agent or address yet */
    MIP_ATTACH_HOME,
    MIP_ATTACH_FA,
    MIP_ATTACH_COLOCATED,
} MipAttachKind;

typedef struct MipAttach {
    MipAttachKind kind;
    int ifindex;
    uint32_t agent; /* FA: the agent's address on the link */
    uint32_t coa;   /* FA: its care-of address; co-located: the link's address */
    uint32_t gateway;
    unsigned generation; /* configuration generation it was chosen under */
    MipTime wait_until;  /* WAIT: when the choice may change by itself */
} MipAttach;

/* A binding the home agent accepted. */
typedef struct MipBinding {
    bool valid;
    MipAttach target;
    MipRegParams params; /* what the accepted request asked for */
    uint16_t granted;
    MipTime sent_at;
    MipTime expires_at;
    MipTime renew_at;
    uint64_t sent_wall;
    bool udp; /* RFC 3519 tunnelling accepted */
    uint16_t udp_keepalive;
    MipTime trigger_at;  /* what made the node want this attachment (see MipMnEvent) */
    MipTime accepted_at; /* when its reply arrived */
} MipBinding;

enum {
    MIP_MN_RELEASE_MAX = 4,    /* care-of addresses remembered for release */
    MIP_MN_RELEASE_MAX_TX = 3, /* a release is sent at 0, 1 and 3 s, then left to expire */
};

/* A care-of address the home agent may hold beside the one in force: the
 * old binding of a make-before-break handover (registered again with S),
 * or an attempt with S that was abandoned after it went out. */
typedef struct MipRelease {
    MipAttach target;
    MipTime until; /* the home agent forgets it by itself by then */
} MipRelease;

struct MipMn {
    MipMnConfig cfg;
    MipMnDeps deps;
    MipLinkTable links;
    MipAgentTable agents;
    MipOutbox out;
    MipMnStats stats;
    MipMnState state;

    /* What we are doing. */
    MipRegistration reg;
    MipAttach target;   /* of the attempt in reg (if active) */
    MipTime trigger_at; /* what made us want target (see MipMnEvent) */
    MipBinding cur;     /* the binding in force (the "pending" one is reg) */

    /* Make-before-break with simultaneous bindings: care-of addresses the
     * home agent may still hold. `overlap` waits for the attempt in reg to
     * be accepted (a release sent earlier could overtake the request and get
     * it refused as a replay); `releases` are due, sent one at a time from
     * the second registration slot, each a lifetime-0 request with S for
     * that care-of address alone. */
    MipRelease overlap[MIP_MN_RELEASE_MAX];
    size_t n_overlap;
    MipRelease releases[MIP_MN_RELEASE_MAX];
    size_t n_releases;
    MipRegistration release;
    MipAttach release_target;
    MipTime release_until; /* when the one in flight lapses by itself */
    bool release_resynced;
    bool at_home;
    int home_ifindex;
    bool stopped; /* mip_mn_deregister() */
    char override[MIP_IFNAME_MAX + 1];
    MipTime override_at; /* when the handover command set it */
    MipTime prefs_at;    /* when a reload last changed the link preferences */
    unsigned generation; /* bumped by a reload that changes the binding */
    MipTime wait_until;  /* a WAIT choice's deadline */

    /* Denial handling: per target, reset when the target changes. */
    bool auth_blocked; /* 131/67: only a command or reload resumes */
    bool gave_up;      /* nothing left to try for denied */
    MipTime retry_at;  /* back-off retry, MIP_TIME_NEVER if none */
    MipAttach denied;  /* the target those apply to */
    unsigned deny_count;
    bool resynced;        /* 133 handled once in this attempt series */
    bool ha_switched;     /* 136 handled once */
    bool rt_forced;       /* 75/138 asked for T */
    unsigned encap_tried; /* bit per MipEncapsulation */
    MipEncapsulation encap;
    uint16_t lifetime_cap; /* 69/130 shortened it; 0 = none */
    uint32_t home_agent;   /* in use */

    /* Identification. */
    int64_t ident_offset;
    uint64_t last_ident;

    /* Reporting. */
    int last_reply_code;
    char last_error[128];
    MipPlan plan;
    bool plan_valid;
    MipPlan last_active_plan; /* the last plan other than NONE, for handovers */
    bool last_active_valid;
    MipTime broken_at; /* when NONE replaced an active plan; 0 if the last plan is active */
};

/* policy.c */
bool mip_mn_in_home_prefix(const MipMn *mn, uint32_t addr);
bool mip_mn_agent_is_home(const MipMn *mn, const MipAgent *a);
bool mip_mn_link_is_home(const MipMn *mn, const MipLinkEntry *l, MipTime now);
const MipAgent *mip_mn_best_fa(const MipMn *mn, int ifindex, MipTime now);
MipAttach mip_mn_choose(const MipMn *mn, MipTime now);
bool mip_attach_same(const MipAttach *a, const MipAttach *b);
/* Delivers plan if it differs from the last one delivered; a change of
 * attachment is reported as a handover with these times (see MipMnEvent). */
void mip_mn_set_plan(MipMn *mn, const MipPlan *plan, MipTime now, MipTime trigger_at,
                     MipTime accepted_at);
void mip_mn_plan_none(MipMn *mn, MipTime now);
void mip_mn_plan_home(MipMn *mn, int ifindex, MipTime now, MipTime trigger_at);
void mip_mn_plan_binding(MipMn *mn, const MipBinding *b, MipTime now);
/* When the attachment became possible (see MipMnEvent.trigger_at). */
MipTime mip_mn_attach_since(const MipMn *mn, const MipAttach *a, MipTime now);
/* The whole decision step: expiries, choice, acting on it, renewal. */
void mip_mn_evaluate(MipMn *mn, MipTime now);

/* binding.c */
void mip_mn_reset_denials(MipMn *mn);
void mip_mn_start_attempt(MipMn *mn, const MipAttach *target, MipTime now, MipRegPacing pacing);
void mip_mn_start_deregistration(MipMn *mn, MipTime now, MipRegPacing pacing);
/* Cancels the attempt in reg; one that went out with S for another care-of
 * address may have made a binding, which is then remembered for release. */
void mip_mn_abandon_attempt(MipMn *mn, MipTime now);
void mip_mn_transmit(MipMn *mn, MipTime now);
void mip_mn_handle_reply(MipMn *mn, const uint8_t *buf, size_t len, uint16_t sport, MipTime now);
bool mip_mn_denial_pending(const MipMn *mn, const MipAttach *target);
void mip_mn_set_error(MipMn *mn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mip_mn_drop_binding(MipMn *mn, MipTime now);

/* release.c: deregistering old care-of addresses after make-before-break. */
/* Remembers a care-of address the home agent may hold until `until`. */
void mip_mn_release_remember(MipMn *mn, MipRelease *set, size_t *n, const MipAttach *t,
                             MipTime until);
/* The attempt in reg was accepted: simultaneous says whether the home agent
 * kept the other bindings (S asked for and code 0). */
void mip_mn_release_after_accept(MipMn *mn, bool simultaneous, MipTime now);
/* Overlap entries whose attempt is over become due once a binding is in
 * force; entries past their time are forgotten. */
void mip_mn_release_settle(MipMn *mn, MipTime now);
/* The care-of address is being registered again: never release it. */
void mip_mn_release_cancel_coa(MipMn *mn, uint32_t coa);
/* Forgets every release (the home agent dropped every binding). */
void mip_mn_release_forget(MipMn *mn);
/* Sends what is due, gives up on an unanswered release, starts the next. */
void mip_mn_release_run(MipMn *mn, MipTime now);
/* A reply that answers the release in flight: true if it was one. */
bool mip_mn_release_reply(MipMn *mn, const uint8_t *buf, size_t len, uint16_t sport, MipTime now);
MipTime mip_mn_release_deadline(const MipMn *mn);
/* Shared with binding.c. */
void mip_mn_build_params(MipMn *mn, const MipAttach *t, bool deregister, MipRegParams *p);
void mip_mn_transmit_on(MipMn *mn, MipRegistration *r, MipTime now);
void mip_mn_resync(MipMn *mn, uint64_t denied_ident, const MipRegReply *rep,
                   const MipRegParams *asked);

/* status.c */
void mip_mn_update_state(MipMn *mn);
const char *mip_addr_str(uint32_t addr, char buf[16]);
const char *mip_mn_link_name(const MipMn *mn, int ifindex);
