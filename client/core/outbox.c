/* The output queue between the engine's work and the caller's callbacks. */
#include "outbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mip_out_init(MipOutbox *o)
{
    memset(o, 0, sizeof *o);
}

void mip_out_clear(MipOutbox *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->items[i].data);
    free(o->items);
    o->items = NULL;
    o->n = o->cap = 0;
}

static MipOutItem *push(MipOutbox *o, MipOutKind kind, const void *data, size_t len)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        MipOutItem *items = realloc(o->items, cap * sizeof *items);
        if (!items) {
            o->dropped++;
            return NULL;
        }
        o->items = items;
        o->cap = cap;
    }
    uint8_t *copy = NULL;
    if (data) {
        copy = malloc(len + 1);
        if (!copy) {
            o->dropped++;
            return NULL;
        }
        memcpy(copy, data, len);
        copy[len] = 0; /* event messages are used as C strings */
    }
    MipOutItem *it = &o->items[o->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->data = copy;
    it->len = len;
    return it;
}

void mip_out_icmp(MipOutbox *o, int ifindex, uint32_t dst, uint8_t ttl, const uint8_t *buf,
                  size_t len)
{
    MipOutItem *it = push(o, MIP_OUT_ICMP, buf, len);
    if (!it)
        return;
    it->ifindex = ifindex;
    it->dst = dst;
    it->ttl = ttl;
}

void mip_out_udp(MipOutbox *o, int ifindex, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport, const uint8_t *buf, size_t len)
{
    MipOutItem *it = push(o, MIP_OUT_UDP, buf, len);
    if (!it)
        return;
    it->ifindex = ifindex;
    it->src = src;
    it->dst = dst;
    it->sport = sport;
    it->dport = dport;
}

void mip_out_plan(MipOutbox *o, const MipPlan *plan)
{
    MipOutItem *it = push(o, MIP_OUT_PLAN, NULL, 0);
    if (it)
        it->plan = *plan;
}

void mip_out_state(MipOutbox *o, MipMnState old_state, MipMnState new_state)
{
    MipOutItem *it = push(o, MIP_OUT_STATE, NULL, 0);
    if (!it)
        return;
    it->old_state = old_state;
    it->new_state = new_state;
}

void mip_out_garp(MipOutbox *o, int ifindex, uint32_t address)
{
    MipOutItem *it = push(o, MIP_OUT_GARP, NULL, 0);
    if (!it)
        return;
    it->ifindex = ifindex;
    it->dst = address;
}

MipMnEvent *mip_out_event(MipOutbox *o, MipMnEventType type, int ifindex, uint32_t address,
                          int code, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        line[0] = '\0';
    MipOutItem *it = push(o, MIP_OUT_EVENT, line, strlen(line));
    if (!it)
        return NULL;
    it->event.type = type;
    it->event.ifindex = ifindex;
    it->event.address = address;
    it->event.code = code;
    return &it->event;
}

static void deliver(const MipOutItem *it, const MipMnDeps *d)
{
    switch (it->kind) {
    case MIP_OUT_ICMP:
        if (d->send_icmp)
            d->send_icmp(d->user, it->ifindex, it->dst, it->ttl, it->data, it->len);
        break;
    case MIP_OUT_UDP:
        if (d->send_udp)
            d->send_udp(d->user, it->ifindex, it->src, it->dst, it->sport, it->dport, it->data,
                        it->len);
        break;
    case MIP_OUT_PLAN:
        if (d->apply_plan)
            d->apply_plan(d->user, &it->plan);
        break;
    case MIP_OUT_STATE:
        if (d->state_changed)
            d->state_changed(d->user, it->old_state, it->new_state);
        break;
    case MIP_OUT_EVENT:
        if (d->event) {
            MipMnEvent ev = it->event;
            ev.message = (const char *)it->data;
            d->event(d->user, &ev);
        }
        break;
    case MIP_OUT_GARP:
        if (d->gratuitous_arp)
            d->gratuitous_arp(d->user, it->ifindex, it->dst);
        break;
    }
}

void mip_out_flush(MipOutbox *o, const MipMnDeps *deps)
{
    if (o->flushing)
        return;
    o->flushing = true;
    /* Index, not pointer: a callback may append and move the array. */
    for (size_t i = 0; i < o->n; i++) {
        MipOutItem it = o->items[i];
        deliver(&it, deps);
    }
    for (size_t i = 0; i < o->n; i++)
        free(o->items[i].data);
    o->n = 0;
    o->flushing = false;
}
