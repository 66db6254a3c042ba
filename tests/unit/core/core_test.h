/* The fake world the core's unit tests run in: a fake monotonic and wall
 * clock, predictable randomness, recorded outputs, and builders for the
 * advertisements and replies an agent would send (real bytes, real MHAE). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/core/mn.h"
#include "client/proto/advert.h"
#include "client/proto/registration.h"

#define CT_HOME 0xc6120032u       /* 198.18.0.50 */
#define CT_HA 0xc6120001u         /* 198.18.0.1 */
#define CT_HA2 0xc6120002u        /* 198.18.0.2 */
#define CT_HOME_GW 0xc61200feu    /* 198.18.0.254 */
#define CT_FA 0xc6336401u         /* 198.51.100.1 */
#define CT_FA2 0xcb007101u        /* 203.0.113.1 */
#define CT_FA_LEASE 0xc6336464u   /* 198.51.100.100 */
#define CT_LEASE 0xc0000264u      /* 192.0.2.100 */
#define CT_LEASE2 0xc0000265u     /* 192.0.2.101 */
#define CT_LEASE_GW 0xc0000201u   /* 192.0.2.1 */
#define CT_NAT_LEASE 0xc6130364u  /* 198.19.3.100 */
#define CT_ALL_AGENTS 0xe000000bu /* 224.0.0.11 */
#define CT_ALL_HOSTS 0xe0000001u  /* 224.0.0.1 */
#define CT_SPI 256
#define CT_WALL_BASE 1700000000000000ull /* unix usec, Nov 2023 */

#define S(x) ((MipTime)(x)*MIP_TIME_S)
#define MS(x) ((MipTime)(x)*MIP_TIME_MS)

extern const uint8_t ct_key[16];

typedef struct CtPacket {
    MipTime at;
    unsigned order; /* position among every output (packets, plans, events) */
    int ifindex;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t ttl;
    uint8_t buf[1500];
    size_t len;
} CtPacket;

typedef struct CtPlan {
    MipTime at;
    unsigned order;
    MipPlan plan;
} CtPlan;

typedef struct CtEvent {
    MipTime at;
    unsigned order;
    MipMnEventType type;
    int code;
    char message[256];
    MipMnEvent ev; /* a copy; ev.message is NULL (see message) */
} CtEvent;

typedef struct CtState {
    MipTime at;
    MipMnState from, to;
} CtState;

typedef struct CtGarp {
    MipTime at;
    int ifindex;
    uint32_t address;
} CtGarp;

typedef struct Ct Ct;
struct Ct {
    MipMn *mn;
    MipMnConfig cfg;
    MipTime now;
    int64_t wall_skew_usec; /* added to the wall clock */
    uint32_t rnd;
    GArray *icmp;   /* CtPacket */
    GArray *udp;    /* CtPacket */
    GArray *plans;  /* CtPlan */
    GArray *events; /* CtEvent */
    GArray *states; /* CtState */
    GArray *garps;  /* CtGarp */
    unsigned order; /* outputs delivered so far */
    /* Called from the event callback, for re-entrancy tests. */
    void (*on_event)(Ct *ct, const MipMnEvent *ev);
    bool verbose;
};

/* The lab's mobile node: home 198.18.0.50/24, HA 198.18.0.1, SPI 256
 * HMAC-MD5, lifetime 600, care-of auto. tune (may be NULL) edits it first. */
void ct_init(Ct *ct, void (*tune)(MipMnConfig *cfg));
void ct_fini(Ct *ct);

MipLinkInfo ct_link(int ifindex, const char *name, MipLinkType type, uint32_t address,
                    uint8_t prefix_len, uint32_t gateway);
/* Reports the link (carrier + active) at ct->now. */
void ct_link_up(Ct *ct, MipLinkInfo link);
void ct_link_down(Ct *ct, MipLinkInfo link);

/* Moves the clock to t (>= now), running every timer on the way as a main
 * loop would: at each deadline, exactly. */
void ct_run_until(Ct *ct, MipTime t);
void ct_advance(Ct *ct, MipTime dt);

typedef struct CtAdvert {
    uint16_t flags; /* MIP_ADV_*; 0 means F|R (the usual foreign agent) */
    uint16_t sequence;
    uint16_t lifetime;     /* advertisement lifetime; 0 means 9 s */
    uint16_t reg_lifetime; /* 0 means 600 */
    uint32_t coa;          /* 0 means the source */
    uint8_t prefix_len;    /* extension 19 if nonzero */
    const uint8_t *challenge;
    size_t challenge_len;
    uint8_t ttl; /* 0 means 1 */
} CtAdvert;

/* An advertisement from src on ifindex, as real ICMP bytes. */
void ct_advert(Ct *ct, int ifindex, uint32_t src, const CtAdvert *a);
/* Encodes only. */
size_t ct_advert_bytes(uint32_t src, const CtAdvert *a, uint8_t *buf, size_t cap);

const CtPacket *ct_udp(Ct *ct, size_t i);
const CtPacket *ct_last_udp(Ct *ct);
size_t ct_n_udp(Ct *ct);
size_t ct_n_icmp(Ct *ct);
const CtPlan *ct_last_plan(Ct *ct);
size_t ct_n_plans(Ct *ct);
size_t ct_n_events(Ct *ct, MipMnEventType type);
/* The last event of that type; fails the test if there is none. */
const CtEvent *ct_last_event(Ct *ct, MipMnEventType type);

/* Decodes a request the node sent; fails the test if it does not decode or
 * its MHAE does not verify with the lab key. */
void ct_request(const CtPacket *p, MipRegRequest *req, MipRegExtensions *ext);

typedef struct CtReply {
    bool set_ident;
    uint64_t ident;
    bool set_home_agent;
    uint32_t home_agent;
    bool set_home_address;
    uint32_t home_address;
    bool no_auth;
    bool wrong_key;
    uint16_t sport; /* 0 means 434 */
    bool udp_reply; /* add an RFC 3519 UDP Tunnel Reply */
    uint8_t udp_code;
    uint16_t udp_keepalive;
} CtReply;

/* The reply an agent gives to request p (defaults: same ident, home agent
 * and address, a valid MHAE), delivered to the node at ct->now. */
void ct_reply(Ct *ct, const CtPacket *p, uint8_t code, uint16_t lifetime, const CtReply *opt);
/* Accepts the last request with its own lifetime. */
void ct_accept_last(Ct *ct);

MipMnState ct_state(Ct *ct);
