/* Outputs collected while the engine works and delivered through the
 * callbacks only once it is consistent again (see mn.h for why). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mn.h"

typedef enum MipOutKind {
    MIP_OUT_ICMP,
    MIP_OUT_UDP,
    MIP_OUT_PLAN,
    MIP_OUT_STATE,
    MIP_OUT_EVENT,
    MIP_OUT_GARP,
} MipOutKind;

typedef struct MipOutItem {
    MipOutKind kind;
    int ifindex;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t ttl;
    uint8_t *data; /* packet bytes or the event's message, owned */
    size_t len;
    MipPlan plan;
    MipMnState old_state, new_state;
    MipMnEvent event;
} MipOutItem;

typedef struct MipOutbox {
    MipOutItem *items;
    size_t n, cap;
    bool flushing;
    uint64_t dropped; /* items lost to allocation failure */
} MipOutbox;

void mip_out_init(MipOutbox *o);
void mip_out_clear(MipOutbox *o);

void mip_out_icmp(MipOutbox *o, int ifindex, uint32_t dst, uint8_t ttl, const uint8_t *buf,
                  size_t len);
void mip_out_udp(MipOutbox *o, int ifindex, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport, const uint8_t *buf, size_t len);
void mip_out_plan(MipOutbox *o, const MipPlan *plan);
void mip_out_state(MipOutbox *o, MipMnState old_state, MipMnState new_state);
void mip_out_garp(MipOutbox *o, int ifindex, uint32_t address);
/* Returns the queued event, for the fields the arguments do not cover (a
 * handover's), or NULL if it could not be queued. */
MipMnEvent *mip_out_event(MipOutbox *o, MipMnEventType type, int ifindex, uint32_t address,
                          int code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Delivers everything queued, in order, through deps. Re-entrant: a callback
 * that feeds the engine again only appends, and this loop delivers it. */
void mip_out_flush(MipOutbox *o, const MipMnDeps *deps);
