/* One registration attempt (RFC 5944 §3.6): building the request, the
 * retransmission schedule with a fresh Identification each time, matching
 * and checking replies, and what a denial code asks us to do. No policy on
 * which binding to want: that is mn.c's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/auth.h"
#include "../proto/registration.h"
#include "agents.h"
#include "mn.h"

enum {
    MIP_REG_SENT_MAX = 8, /* requests of one attempt a late reply may answer */
    MIP_REG_BUF_MAX = 1024,
    MIP_REG_DEREG_MAX_TX = 5, /* home deregistration: 0, 1, 3, 7, 15 s then give up */
    /* A request for a new attachment goes at once unless this many requests
     * already left in the last MIP_REG_MIN_INTERVAL: a flapping link or agent
     * pair cannot push requests out faster than that. */
    MIP_REG_BURST = 3,
};

/* The floor between two requests of the same attachment: the first wait of
 * the retransmission back-off (RFC 5944 §3.6.3), and the pause before a
 * request for the same attachment is tried again (after a denial). It does
 * not hold back the first request for a new attachment after a move, which
 * is no retransmission (MIP_REG_NEW_ATTACHMENT below). */
#define MIP_REG_MIN_INTERVAL (1 * MIP_TIME_S)
#define MIP_REG_DEREG_CAP (8 * MIP_TIME_S)
/* Denials that only say "not now" are retried after 4 s, doubling to 5 min. */
#define MIP_REG_DENY_BACKOFF_FIRST (4 * MIP_TIME_S)
#define MIP_REG_DENY_BACKOFF_MAX (300 * MIP_TIME_S)
/* Renewal starts this long before expiry at least: the first request and
 * three retransmissions (after 1, 2, 4 s) plus the 8 s the last one waits. */
#define MIP_REG_RENEW_MARGIN_MIN (15 * MIP_TIME_S)

/* What one request asks for. */
typedef struct MipRegParams {
    MipPlanMode mode; /* FOREIGN_AGENT, COLOCATED, or HOME (deregistering at home) */
    bool deregister;  /* lifetime 0 */
    int ifindex;
    uint32_t src, dst; /* the request's IP source and destination */
    uint32_t home_address;
    uint32_t home_agent;
    uint32_t care_of; /* the home address when deregistering at home */
    uint32_t agent;   /* FA mode: the agent's address on the link */
    uint32_t gateway; /* for the plan: FA address or the lease's router */
    uint16_t lifetime;
    MipEncapsulation encap; /* IPIP, GRE or MINIMAL */
    bool reverse_tunnel;
    MipUdpTunnelMode udp; /* co-located only; OFF otherwise */
    uint16_t sport;
    uint8_t challenge[MIP_AGENT_CHALLENGE_MAX]; /* FA mode: the agent's RFC 3012 challenge */
    size_t challenge_len;
    /* S: keep the other bindings (registering), or remove just this care-of
     * address's binding (deregistering, lifetime 0). */
    bool simultaneous;
} MipRegParams;

typedef struct MipRegSent {
    uint64_t ident;
    MipTime sent_at;
    uint64_t wall_usec;
} MipRegSent;

typedef struct MipRegistration {
    bool active;
    MipRegParams params;
    MipRegSent sent[MIP_REG_SENT_MAX]; /* ring of the attempt's most recent requests */
    size_t n_sent;
    unsigned transmissions;
    unsigned max_transmissions; /* 0: until answered or cancelled */
    MipTime cap;                /* retransmission interval cap */
    MipTime next_tx;
    MipTime last_tx; /* of any attempt */
    bool ever_sent;
    MipTime recent[MIP_REG_BURST]; /* the last transmissions of any attempt, oldest first */
    size_t n_recent;
} MipRegistration;

/* When the first request of an attempt may leave. */
typedef enum MipRegPacing {
    /* MIP_REG_MIN_INTERVAL after the previous request of any attempt: the
     * same attachment tried again (a denial's retry, a renewal). */
    MIP_REG_PACED,
    /* Now: the same request again with a corrected Identification (133). */
    MIP_REG_AT_ONCE,
    /* Now, for a new attachment (another link, care-of address or agent),
     * unless MIP_REG_BURST requests left within the last
     * MIP_REG_MIN_INTERVAL; then when the oldest of them is that old. */
    MIP_REG_NEW_ATTACHMENT,
} MipRegPacing;

void mip_reg_init(MipRegistration *r);

/* Starts an attempt, its first request due as pacing says. */
void mip_reg_start(MipRegistration *r, const MipRegParams *p, MipTime now, MipRegPacing pacing,
                   unsigned max_transmissions);
void mip_reg_cancel(MipRegistration *r);
bool mip_reg_due(const MipRegistration *r, MipTime now);
/* All transmissions were made and the last one's wait ran out. */
bool mip_reg_exhausted(const MipRegistration *r, MipTime now);
/* Records a request just sent and schedules the retransmission. */
void mip_reg_sent(MipRegistration *r, uint64_t ident, uint64_t wall_usec, MipTime now);

/* The wait after the n-th transmission (n >= 1): 1 s, doubling, capped. */
MipTime mip_reg_retransmit_interval(unsigned n, MipTime cap);

/* The request of this attempt whose Identification the reply answers (low
 * 32 bits, RFC 5944 §5.7), or NULL. */
const MipRegSent *mip_reg_match(const MipRegistration *r, uint64_t reply_ident);

/* Encodes a request; returns its length, 0 if it does not fit. */
size_t mip_reg_build_request(const MipRegParams *p, const MipAuthKey *key, const uint8_t *nai,
                             size_t nai_len, uint64_t ident, uint8_t *buf, size_t cap);

/* Checks a reply against the attempt: -1 when it is valid (then *rep, *ext
 * and *sent are set), else the MipMnDropReason. Denials a foreign agent makes
 * itself (64-127) carry no Mobile-Home authenticator and are accepted without
 * one; every other reply must carry a valid one. */
int mip_reg_check_reply(const MipRegistration *r, const uint8_t *buf, size_t len, uint16_t sport,
                        uint32_t home_address, const MipAuthKey *key, MipRegReply *rep,
                        MipRegExtensions *ext, const MipRegSent **sent);

/* When to renew a binding of granted seconds whose request left at sent_at:
 * expiry minus min(lifetime/2, max(15 s, lifetime/10)); never for 0xffff. */
MipTime mip_reg_renew_at(MipTime sent_at, uint16_t granted);

typedef enum MipDenialAction {
    MIP_DENY_SHORTER_LIFETIME,    /* 69, 130: retry with the reply's lifetime if shorter */
    MIP_DENY_RESYNC,              /* 133: fix the clock offset, retry once at once */
    MIP_DENY_STOP,                /* 131, 67: credentials wrong; stop and report */
    MIP_DENY_CHANGE_ENCAP,        /* 72, 139: try the next encapsulation */
    MIP_DENY_CHANGE_HA,           /* 136: retry with the home agent the reply names */
    MIP_DENY_NEED_REVERSE_TUNNEL, /* 75, 138: retry with T */
    MIP_DENY_BACKOFF,             /* anything else: retry later, exponentially */
} MipDenialAction;

MipDenialAction mip_reg_denial_action(uint8_t code);
/* The wait before the n-th retry after "back off" denials (n >= 1). */
MipTime mip_reg_denial_backoff(unsigned n);
