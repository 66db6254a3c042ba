/* The table of mobility agents heard on each link, and the movement rules
 * that compare advertisements (RFC 5944 §2.4.2-2.4.3). */
#include "agents.h"

#include <string.h>

uint32_t mip_prefix_mask(unsigned prefix_len)
{
    if (prefix_len == 0)
        return 0;
    if (prefix_len >= 32)
        return 0xffffffffu;
    return 0xffffffffu << (32 - prefix_len);
}

void mip_agents_init(MipAgentTable *t)
{
    t->n = 0;
}

MipAgent *mip_agents_find(MipAgentTable *t, int ifindex, uint32_t address)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->agents[i].ifindex == ifindex && t->agents[i].address == address)
            return &t->agents[i];
    }
    return NULL;
}

bool mip_agent_seq_rebooted(uint16_t old_seq, uint16_t new_seq)
{
    return new_seq < MIP_AGENT_SEQ_BOOT_LIMIT && new_seq < old_seq;
}

bool mip_agent_prefix_moved(const MipAgent *current, const MipAgent *heard)
{
    if (current->prefix_len < 0 || heard->prefix_len < 0)
        return false;
    return current->network != heard->network || current->prefix_len != heard->prefix_len;
}

static void fill(MipAgent *a, uint32_t src, const MipAgentAdvert *adv, MipTime now)
{
    a->flags = adv->flags;
    a->sequence = adv->sequence;
    a->reg_lifetime = adv->reg_lifetime;
    a->adv_lifetime = adv->lifetime;
    a->n_coa = 0;
    for (size_t i = 0; i < adv->n_coa && i < MIP_MN_AGENT_MAX_COA; i++)
        a->coa[a->n_coa++] = mip_advert_coa(adv, i);

    a->prefix_len = -1;
    a->network = 0;
    if (adv->has_prefix_lengths && adv->n_prefix_lengths > 0 && adv->prefix_lengths[0] <= 32) {
        /* The prefix length belongs to the first router address (§2.1.2);
         * a mobility-only advertisement may list none, then the source. */
        uint32_t base = adv->num_addrs > 0 ? mip_advert_router(adv, 0).address : src;
        a->prefix_len = adv->prefix_lengths[0];
        a->network = base & mip_prefix_mask((unsigned)a->prefix_len);
    }

    a->challenge_len = 0;
    if (adv->challenge && adv->challenge_len > 0) {
        size_t n = adv->challenge_len;
        if (n > MIP_AGENT_CHALLENGE_MAX)
            n = MIP_AGENT_CHALLENGE_MAX;
        memcpy(a->challenge, adv->challenge, n);
        a->challenge_len = n;
    }

    a->last_seen = now;
    a->expires_at = now + (MipTime)adv->lifetime * MIP_TIME_S;
}

MipAgentUpdate mip_agents_update(MipAgentTable *t, int ifindex, uint32_t src,
                                 const MipAgentAdvert *adv, MipTime now, MipAgent **out)
{
    MipAgent *a = mip_agents_find(t, ifindex, src);
    MipAgentUpdate result = MIP_AGENT_REFRESHED;

    if (a) {
        if (mip_agent_seq_rebooted(a->sequence, adv->sequence))
            result = MIP_AGENT_REBOOTED;
    } else {
        if (t->n == MIP_AGENT_TABLE_MAX) {
            size_t oldest = 0;
            for (size_t i = 1; i < t->n; i++) {
                if (t->agents[i].last_seen < t->agents[oldest].last_seen)
                    oldest = i;
            }
            t->agents[oldest] = t->agents[--t->n];
        }
        a = &t->agents[t->n++];
        memset(a, 0, sizeof *a);
        a->ifindex = ifindex;
        a->address = src;
        a->first_seen = now;
        result = MIP_AGENT_NEW;
    }
    fill(a, src, adv, now);
    if (out)
        *out = a;
    return result;
}

bool mip_agents_pop_expired(MipAgentTable *t, MipTime now, MipAgent *out)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->agents[i].expires_at <= now) {
            *out = t->agents[i];
            t->agents[i] = t->agents[--t->n];
            return true;
        }
    }
    return false;
}

void mip_agents_remove(MipAgentTable *t, int ifindex, uint32_t address)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->agents[i].ifindex == ifindex && t->agents[i].address == address) {
            t->agents[i] = t->agents[--t->n];
            return;
        }
    }
}

size_t mip_agents_remove_link(MipAgentTable *t, int ifindex)
{
    size_t removed = 0;
    for (size_t i = 0; i < t->n;) {
        if (t->agents[i].ifindex == ifindex) {
            t->agents[i] = t->agents[--t->n];
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

MipTime mip_agents_next_expiry(const MipAgentTable *t)
{
    MipTime next = MIP_TIME_NEVER;
    for (size_t i = 0; i < t->n; i++) {
        if (t->agents[i].expires_at < next)
            next = t->agents[i].expires_at;
    }
    return next;
}
