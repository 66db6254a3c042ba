/* The mobile node engine's public API: a sans-I/O Mobile IPv4 mobile node
 * (RFC 5944, RFC 3024 reverse tunnelling, RFC 3519 UDP tunnelling) that is fed
 * link events, received packets and the time, and answers through callbacks.
 *
 * Shape of the API, and why.
 *
 *  - Inputs are plain calls that carry `now` (a monotonic clock in
 *    microseconds, MipTime). The core never reads a clock of its own, so a test
 *    drives every RFC timer with a fake clock in microseconds of real time.
 *    The only other things it cannot compute are injected through MipMnDeps:
 *    the wall clock (Identification timestamps, RFC 5944 §5.7) and randomness
 *    (the low bits of those timestamps).
 *
 *  - Outputs (packets to send, the tunnel/route plan, state changes, events,
 *    gratuitous ARP requests) go out through a table of callbacks, as in
 *    ngtcp2 and mptcpd, rather than through an output queue the caller drains.
 *    A callback table keeps the shell trivial (each callback is a socket send
 *    or a plugin call, nothing to poll, no ownership of queued buffers to
 *    explain), and tests simply record the calls.  The usual weakness of
 *    callbacks -- the engine being observed half-way through a change, or
 *    re-entered from inside a callback -- is removed by construction: the core
 *    collects its outputs while it works and delivers them, in order, only
 *    when the state change is complete, just before the input call returns.
 *    So a callback always sees a consistent engine through the query
 *    functions, and may even call input or command functions (the resulting
 *    outputs are appended and delivered by the same outer flush, in order).
 *    It must not call mip_mn_free().
 *
 *  - Every buffer passed to a callback is borrowed for the duration of the
 *    call only.
 *
 *  - After an input call returns, the caller re-arms its single timer with
 *    mip_mn_next_deadline() and calls mip_mn_timeout() when it fires. Calling
 *    mip_mn_timeout() early or late is harmless.
 *
 * Nothing here is thread-safe: one MipMn belongs to one thread (the main loop).
 * Addresses are IPv4 in host byte order throughout, as in client/proto. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/auth.h"
#include "link.h"
#include "plan.h"

/* ------------------------------------------------------------------------ */
/* Time                                                                     */

/* Monotonic time in microseconds (CLOCK_MONOTONIC or a test's fake clock).
 * Only differences matter; the origin is the caller's. */
typedef uint64_t MipTime;

#define MIP_TIME_NEVER UINT64_MAX
#define MIP_TIME_MS ((MipTime)1000)
#define MIP_TIME_S ((MipTime)1000000)

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

typedef enum MipMnError {
    MIP_MN_OK = 0,
    MIP_MN_ERR_INVALID_CONFIG, /* see the `why` of mip_mn_config_validate() */
    MIP_MN_ERR_NO_SUCH_LINK,   /* handover to a link the core has not been told about */
    MIP_MN_ERR_LINK_IGNORED,   /* the link matches an ignore pattern */
    MIP_MN_ERR_LINK_UNUSABLE,  /* no carrier, not active, or neither agent nor address */
    MIP_MN_ERR_NO_MEMORY,
} MipMnError;

/* A short English description, never NULL. */
const char *mip_mn_strerror(MipMnError err);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */

typedef enum MipCareOfMode {
    /* Use a foreign agent when one is heard (always when it sets R), else the
     * link's own address (co-located) once agent_wait_ms has passed without an
     * agent answering our solicitation. */
    MIP_CARE_OF_AUTO,
    MIP_CARE_OF_FOREIGN_AGENT, /* only through foreign agents */
    MIP_CARE_OF_COLOCATED,     /* only co-located (unless an agent sets R) */
} MipCareOfMode;

/* RFC 3519 UDP tunnelling, co-located care-of addresses only. */
typedef enum MipUdpTunnelMode {
    MIP_UDP_TUNNEL_OFF,  /* never ask */
    MIP_UDP_TUNNEL_AUTO, /* ask without F: the home agent uses UDP if it detects a NAT */
    MIP_UDP_TUNNEL_ON,   /* ask with F: always UDP */
} MipUdpTunnelMode;

enum {
    MIP_MN_KEY_MAX = 64,      /* bytes of shared secret */
    MIP_MN_NAI_MAX = 72,      /* RFC 2794 NAI, as bytes (no NUL needed) */
    MIP_MN_MAX_PATTERNS = 16, /* entries in prefer[] and ignore[] */
    MIP_MN_PATTERN_MAX = 32,  /* bytes per pattern, NUL included */
};

typedef struct MipMnConfig {
    uint32_t home_address;
    uint8_t home_prefix_len; /* 1..32 */
    uint32_t home_agent;

    /* The mobility security association with the home agent. The core copies
     * the key and wipes its copy in mip_mn_free(); it is used only to compute
     * and verify authenticators and never appears in events or status. */
    uint32_t spi; /* >= 256 */
    MipAuthAlgorithm algorithm;
    uint8_t key[MIP_MN_KEY_MAX];
    size_t key_len; /* 1..MIP_MN_KEY_MAX */

    uint16_t lifetime;   /* requested registration lifetime, s, 1..65534 */
    bool reverse_tunnel; /* RFC 3024: set T */
    /* Tunnel encapsulation to ask for: IPIP, GRE or MINIMAL. A config file's
     * "encapsulation=udp" maps to IPIP here plus udp_tunnel = ON. */
    MipEncapsulation encapsulation;
    MipUdpTunnelMode udp_tunnel;
    MipCareOfMode care_of_mode;

    /* Link preference, best first. Each entry is a link type ("ethernet",
     * "wifi", "wwan") or an fnmatch(3) pattern on the interface name
     * ("wlan*", "enp0s31f6"). Unlisted links rank after listed ones. */
    char prefer[MIP_MN_MAX_PATTERNS][MIP_MN_PATTERN_MAX];
    size_t n_prefer;
    /* fnmatch(3) patterns on interface names: links the core never uses,
     * never solicits on and whose advertisements it drops. */
    char ignore[MIP_MN_MAX_PATTERNS][MIP_MN_PATTERN_MAX];
    size_t n_ignore;

    /* On handover, keep the old binding's plan until the new registration is
     * accepted (true), or drop to MIP_PLAN_NONE as soon as the move is
     * decided (false). */
    bool make_before_break;

    uint8_t nai[MIP_MN_NAI_MAX]; /* RFC 2794 NAI extension if nai_len > 0 */
    size_t nai_len;

    uint16_t local_port; /* UDP source port of requests; 0 = 434 */
    /* AUTO care-of mode: how long a link with an address waits for an agent
     * before registering co-located. 0 (the default) = not at all: the node
     * registers the address at once and moves to an agent if one answers the
     * solicitation sent when the link came up (a make-before-break handover
     * on the same link). */
    uint32_t agent_wait_ms;

    /* With make_before_break: ask the home agent to keep the old binding
     * while the new care-of address is registered (the S bit, RFC 5944
     * §3.6.1.1), so both receive traffic during the switch; once the new
     * binding is in force, deregister the old care-of address alone. A home
     * agent without simultaneous bindings answers code 1 and replaces the
     * old binding in one step. Default true. */
    bool simultaneous_bindings;
} MipMnConfig;

/* Fills defaults: lifetime 600, IPIP, UDP tunnelling auto, care-of auto,
 * HMAC-MD5, make-before-break and simultaneous bindings on; addresses, SPI
 * and key zero. */
void mip_mn_config_init(MipMnConfig *cfg);

/* MIP_MN_OK, or MIP_MN_ERR_INVALID_CONFIG with *why (if why) set to a static
 * English sentence naming the field. */
MipMnError mip_mn_config_validate(const MipMnConfig *cfg, const char **why);

/* ------------------------------------------------------------------------ */
/* State, events                                                            */

typedef enum MipMnState {
    MIP_MN_STATE_IDLE,          /* no usable link */
    MIP_MN_STATE_AT_HOME,       /* on the home link, no binding needed */
    MIP_MN_STATE_DISCOVERING,   /* away, soliciting / waiting for an agent or an address */
    MIP_MN_STATE_REGISTERING,   /* away, request outstanding, no valid binding yet */
    MIP_MN_STATE_REGISTERED,    /* away, binding valid (renewals included) */
    MIP_MN_STATE_DEREGISTERING, /* deregistration outstanding (returning home, or by command) */
    MIP_MN_STATE_DENIED,        /* last request denied: waiting to retry, or stopped (see status) */
    MIP_MN_STATE_STOPPED,       /* deregistered by command; mip_mn_register() resumes */
} MipMnState;

const char *mip_mn_state_name(MipMnState s); /* "idle", "at-home", ... */
const char *mip_link_type_name(MipLinkType t); /* "ethernet", "wifi", "wwan", "unknown" */
const char *mip_encap_name(MipEncapsulation e); /* "ipip", "gre", "minimal", "udp" */

typedef enum MipMnEventType {
    MIP_MN_EV_LINK_UP, /* a link became usable */
    MIP_MN_EV_LINK_DOWN,
    MIP_MN_EV_AGENT_FOUND,    /* first advertisement from an agent */
    MIP_MN_EV_AGENT_LOST,     /* its advertisement lifetime ran out */
    MIP_MN_EV_AGENT_REBOOTED, /* sequence fell below 256 */
    MIP_MN_EV_MOVED,          /* movement detected: new agent, prefix or link */
    MIP_MN_EV_REQUEST_SENT,   /* first transmission of a registration attempt */
    MIP_MN_EV_RETRANSMIT,
    MIP_MN_EV_ACCEPTED,
    MIP_MN_EV_DENIED,
    MIP_MN_EV_CLOCK_RESYNC, /* 133: Identification offset adjusted */
    MIP_MN_EV_GAVE_UP,      /* stopped retrying: needs a command, reload or move */
    MIP_MN_EV_EXPIRED,      /* binding lifetime ran out unrenewed */
    MIP_MN_EV_RETURNED_HOME,
    MIP_MN_EV_DEREGISTERED,
    MIP_MN_EV_HANDOVER, /* a new binding (or home) replaced the old one */
    MIP_MN_EV_RELEASED, /* the old care-of address of a make-before-break
                         * handover was deregistered (code 0/1), refused
                         * (other code) or went unanswered (-1) */
} MipMnEventType;

const char *mip_mn_event_name(MipMnEventType t); /* "accepted", ... */

/* One registration-level event. `message` is one human line (no trailing
 * newline, no secrets), valid during the callback only. */
typedef struct MipMnEvent {
    MipMnEventType type;
    int ifindex;      /* 0 if none */
    uint32_t address; /* the agent, care-of address or home agent concerned; 0 if none */
    int code;         /* registration reply code, or -1 */
    const char *message;

    /* MIP_MN_EV_HANDOVER only; zero in every other event. The event follows
     * the apply_plan call that made the new plan real, so the shell knows
     * when the tunnel was switched. */
    MipTime trigger_at;     /* what made the node move, the latest of: the new link
                             * became usable or changed address, its agent was
                             * first heard, a handover command named it, a
                             * reload changed the preferences */
    MipTime accepted_at;    /* the accepted reply that made the new binding; 0 on
                             * return home (no registration needed first) */
    bool break_before_make; /* the old plan was withdrawn (MIP_PLAN_NONE) before
                             * the new one: there was an outage */
    MipTime broken_at;      /* when the old plan was withdrawn; 0 if it was not */
    MipPlanMode old_mode, new_mode;
    uint32_t old_care_of; /* 0 for home */
    char old_ifname[MIP_IFNAME_MAX];
    char new_ifname[MIP_IFNAME_MAX];
} MipMnEvent;

/* ------------------------------------------------------------------------ */
/* Dependencies and outputs                                                 */

typedef struct MipMnDeps {
    void *user; /* passed back to every callback */

    /* Required. Wall clock, microseconds since 1970 (Identification). */
    uint64_t (*wall_clock_usec)(void *user);
    /* Required. Uniformly random 32 bits (Identification low bits). */
    uint32_t (*random_u32)(void *user);

    /* The rest may be NULL (output dropped). */

    /* An ICMP message (no IP header) to send on ifindex to dst with the
     * given IP TTL: agent solicitations, to 224.0.0.11 with TTL 1. */
    void (*send_icmp)(void *user, int ifindex, uint32_t dst, uint8_t ttl, const uint8_t *buf,
                      size_t len);
    /* A UDP payload to send from src:sport to dst:dport out of ifindex
     * (registration requests; dport is 434). In foreign-agent mode src is the
     * home address, which need not be configured on ifindex: the shell binds
     * or uses IP_PKTINFO as it must. */
    void (*send_udp)(void *user, int ifindex, uint32_t src, uint32_t dst, uint16_t sport,
                     uint16_t dport, const uint8_t *buf, size_t len);
    /* The tunnel/route plan to make real. Delivered only when it changes. */
    void (*apply_plan)(void *user, const MipPlan *plan);
    void (*state_changed)(void *user, MipMnState old_state, MipMnState new_state);
    void (*event)(void *user, const MipMnEvent *ev);
    /* RFC 5944 §4.6: broadcast a gratuitous ARP for address on ifindex (on
     * return home, after the HOME plan has been delivered). */
    void (*gratuitous_arp)(void *user, int ifindex, uint32_t address);
} MipMnDeps;

typedef struct MipMn MipMn;

/* NULL if cfg is invalid (check with mip_mn_config_validate first), a
 * required dependency is missing, or memory runs out. Both structs are copied. */
MipMn *mip_mn_new(const MipMnConfig *cfg, const MipMnDeps *deps);
/* Wipes the key. Sends nothing: deregister first if that is wanted. NULL ok. */
void mip_mn_free(MipMn *mn);

/* ------------------------------------------------------------------------ */
/* Inputs                                                                   */

/* A link appeared or changed (carrier, activation, address). */
void mip_mn_link_changed(MipMn *mn, const MipLinkInfo *link, MipTime now);
void mip_mn_link_removed(MipMn *mn, int ifindex, MipTime now);

/* An ICMP message (IP header stripped) received on ifindex from src to dst
 * (224.0.0.1, 255.255.255.255 or ours) with the IP TTL it arrived with.
 * Advertisements not sent with TTL 1 are dropped (RFC 5944 §2.1); anything
 * that is not an advertisement is ignored. */
void mip_mn_icmp_received(MipMn *mn, int ifindex, uint32_t src, uint32_t dst, uint8_t ttl,
                          const uint8_t *buf, size_t len, MipTime now);

/* A UDP payload received on ifindex (0 if unknown) from src:sport to
 * dst:dport: registration replies. Invalid replies are dropped silently
 * (no event: a flood of forgeries must not flood the log) and counted in
 * stats.replies_dropped by reason. */
void mip_mn_udp_received(MipMn *mn, int ifindex, uint32_t src, uint16_t sport, uint32_t dst,
                         uint16_t dport, const uint8_t *buf, size_t len, MipTime now);

/* Runs every timer due at or before now. */
void mip_mn_timeout(MipMn *mn, MipTime now);
/* The earliest time mip_mn_timeout() has work, or MIP_TIME_NEVER. */
MipTime mip_mn_next_deadline(const MipMn *mn);

/* ------------------------------------------------------------------------ */
/* Commands (D-Bus methods, mipc)                                           */

/* Register (or renew) now on the best attachment; also resumes after a
 * denial that stopped retrying, or after mip_mn_deregister(). At home it
 * (re)sends the deregistration. */
MipMnError mip_mn_register(MipMn *mn, MipTime now);
/* Away: deregister the binding (lifetime 0) and stay STOPPED until
 * mip_mn_register(). At home: deregister, then STOPPED as well. */
MipMnError mip_mn_deregister(MipMn *mn, MipTime now);
/* Prefer this interface over the configured order until it goes away, and
 * move to it now. NULL (or "") clears the override. */
MipMnError mip_mn_handover(MipMn *mn, const char *ifname, MipTime now);
/* Replace the configuration. A change to anything the binding depends on
 * re-registers; other changes (preferences) just re-evaluate links. On error
 * nothing changes. */
MipMnError mip_mn_reload(MipMn *mn, const MipMnConfig *cfg, MipTime now);

/* ------------------------------------------------------------------------ */
/* Queries (D-Bus properties, mipc status/agents/links)                     */

typedef enum MipMnDropReason {
    MIP_MN_DROP_MALFORMED,      /* the decoder rejected it, or not a reply */
    MIP_MN_DROP_UNSOLICITED,    /* no request outstanding */
    MIP_MN_DROP_IDENT_MISMATCH, /* low 32 bits match no outstanding request */
    MIP_MN_DROP_HOME_ADDRESS,   /* not our home address */
    MIP_MN_DROP_AUTH_MISSING,   /* no Mobile-Home authenticator where one is required */
    MIP_MN_DROP_AUTH_FAILED,    /* authenticator, SPI or trailing extensions wrong */
    MIP_MN_DROP_BAD_PORT,       /* source port is not 434 */
    MIP_MN_DROP_COUNT
} MipMnDropReason;

const char *mip_mn_drop_reason_name(MipMnDropReason r); /* "ident-mismatch", ... */

typedef enum MipMnAdvertDrop {
    MIP_MN_ADV_DROP_MALFORMED, /* decoder error, checksum included */
    MIP_MN_ADV_DROP_TTL,       /* IP TTL was not 1 */
    MIP_MN_ADV_DROP_LINK,      /* unknown or ignored link */
    MIP_MN_ADV_DROP_COUNT
} MipMnAdvertDrop;

typedef struct MipMnStats {
    uint64_t requests_sent; /* every registration request, retransmissions included */
    uint64_t retransmissions;
    uint64_t deregistrations_sent; /* lifetime-0 requests, included in requests_sent */
    uint64_t replies_accepted;
    uint64_t replies_denied;
    uint64_t replies_dropped[MIP_MN_DROP_COUNT];
    uint64_t adverts_seen; /* valid mobility agent advertisements */
    uint64_t adverts_dropped[MIP_MN_ADV_DROP_COUNT];
    uint64_t solicitations_sent;
    uint64_t agent_reboots;
    uint64_t movements;
    uint64_t handovers;
    uint64_t expiries;
    uint64_t clock_resyncs;
} MipMnStats;

void mip_mn_get_stats(const MipMn *mn, MipMnStats *out);

typedef struct MipMnStatus {
    MipMnState state;
    MipPlanMode mode; /* of the binding in force (HOME, FA, CO-LOCATED or NONE) */
    uint32_t home_address;
    uint32_t home_agent;      /* in use (a 136 denial may have changed it) */
    uint32_t care_of_address; /* 0 if none */
    uint32_t foreign_agent;   /* the agent's address, FA mode; else 0 */
    int ifindex;              /* 0 if none */
    char ifname[MIP_IFNAME_MAX];
    MipEncapsulation encapsulation;
    bool reverse_tunnel;
    bool udp_tunnel; /* RFC 3519 in use */
    uint16_t requested_lifetime;
    uint16_t granted_lifetime;   /* 0 if no binding */
    MipTime registered_at;       /* monotonic: when the accepted request was sent; 0 if none */
    MipTime expires_at;          /* monotonic; MIP_TIME_NEVER for an infinite lifetime; 0 if none */
    uint64_t registered_at_wall; /* unix usec, for D-Bus RegisteredAt; 0 if none */
    uint64_t expires_at_wall;    /* unix usec; UINT64_MAX infinite; 0 if none */
    bool request_outstanding;    /* a request (or renewal) awaits its reply */
    MipTime next_attempt_at;     /* DENIED: when we retry; MIP_TIME_NEVER if stopped */
    int last_reply_code;         /* -1 if none yet */
    char last_error[128];        /* "" if none; one English line, no secrets */
} MipMnStatus;

void mip_mn_get_status(const MipMn *mn, MipMnStatus *out);

/* The plan last delivered through apply_plan; false if none yet. */
bool mip_mn_get_plan(const MipMn *mn, MipPlan *out);

enum { MIP_MN_AGENT_MAX_COA = 8 };

typedef struct MipMnAgentInfo {
    int ifindex;
    uint32_t address; /* source of its advertisements */
    uint16_t flags;   /* MIP_ADV_* */
    uint16_t sequence;
    uint16_t reg_lifetime; /* longest registration it accepts, s */
    uint16_t adv_lifetime; /* advertisement lifetime, s */
    uint32_t coa[MIP_MN_AGENT_MAX_COA];
    size_t n_coa;
    int prefix_len; /* from extension 19, -1 if absent */
    MipTime first_seen;
    MipTime last_seen;
    MipTime expires_at; /* last_seen + adv_lifetime */
    bool home_agent;    /* it is our home agent / on our home network */
    bool in_use;        /* our current or pending binding goes through it */
} MipMnAgentInfo;

size_t mip_mn_agent_count(const MipMn *mn);
/* false if i >= count. Order is stable between input calls only. */
bool mip_mn_agent_get(const MipMn *mn, size_t i, MipMnAgentInfo *out);

typedef struct MipMnLinkStatus {
    MipLinkInfo info;
    bool ignored;                /* matches an ignore pattern */
    int preference;              /* index in prefer[] that matched, -1 if none */
    bool usable;                 /* carrier, active, not ignored */
    bool home;                   /* the home network is on this link */
    bool in_use;                 /* the current binding uses it */
    unsigned solicitations_sent; /* in the current schedule */
    MipTime next_solicitation;   /* MIP_TIME_NEVER when not soliciting */
} MipMnLinkStatus;

size_t mip_mn_link_count(const MipMn *mn);
bool mip_mn_link_get(const MipMn *mn, size_t i, MipMnLinkStatus *out);
