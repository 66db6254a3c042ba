/* The engine's entry points: creation, the inputs (links, packets, time) and
 * the commands. Each one updates the tables, runs the decision step, sends
 * what is due, and only then delivers the collected outputs. */
#include <stdlib.h>
#include <string.h>

#include "../proto/advert.h"
#include "mn_internal.h"

#define MIP_ALL_AGENTS 0xe000000bu /* 224.0.0.11, where solicitations go */

static void wipe(void *p, size_t n)
{
    /* explicit_bzero is glibc's; a volatile store loop is not optimised out either. */
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

MipMn *mip_mn_new(const MipMnConfig *cfg, const MipMnDeps *deps)
{
    if (!cfg || !deps || !deps->wall_clock_usec || !deps->random_u32)
        return NULL;
    if (mip_mn_config_validate(cfg, NULL) != MIP_MN_OK)
        return NULL;
    MipMn *mn = calloc(1, sizeof *mn);
    if (!mn)
        return NULL;
    mn->cfg = *cfg;
    mn->deps = *deps;
    mip_links_init(&mn->links);
    mip_agents_init(&mn->agents);
    mip_out_init(&mn->out);
    mip_reg_init(&mn->reg);
    mip_reg_init(&mn->release);
    mn->state = MIP_MN_STATE_IDLE;
    mn->home_agent = cfg->home_agent;
    mn->encap = cfg->encapsulation == MIP_ENCAP_UDP ? MIP_ENCAP_IPIP : cfg->encapsulation;
    mn->retry_at = MIP_TIME_NEVER;
    mn->wait_until = MIP_TIME_NEVER;
    mn->last_reply_code = -1;
    return mn;
}

void mip_mn_free(MipMn *mn)
{
    if (!mn)
        return;
    mip_out_clear(&mn->out);
    wipe(mn, sizeof *mn);
    free(mn);
}

/* Sends whatever is due: solicitations and registration (re)transmissions. */
static void run_due(MipMn *mn, MipTime now)
{
    for (size_t i = 0; i < mn->links.n; i++) {
        MipLinkEntry *l = &mn->links.links[i];
        if (!mip_solicit_due(&l->solicit, now))
            continue;
        uint8_t buf[8];
        MipWriter w;
        mip_writer_init(&w, buf, sizeof buf);
        if (mip_solicit_encode(&w) != MIP_OK) {
            mip_solicit_stop(&l->solicit);
            continue;
        }
        /* TTL 1: solicitations never leave the link (RFC 5944 §2.2). */
        mip_out_icmp(&mn->out, l->info.ifindex, MIP_ALL_AGENTS, 1, buf, w.len);
        mip_solicit_sent(&l->solicit, now);
        mn->stats.solicitations_sent++;
    }

    if (mip_reg_exhausted(&mn->reg, now)) {
        char abuf[16];
        mip_out_event(&mn->out, MIP_MN_EV_GAVE_UP, mn->reg.params.ifindex, mn->reg.params.dst, -1,
                      "no answer to the deregistration sent to %s; the binding will expire",
                      mip_addr_str(mn->reg.params.dst, abuf));
        mip_reg_cancel(&mn->reg);
    } else if (mip_reg_due(&mn->reg, now)) {
        mip_mn_transmit(mn, now);
    }
    mip_mn_release_run(mn, now);
}

/* The tail of every entry point. */
static void process(MipMn *mn, MipTime now)
{
    mip_mn_evaluate(mn, now);
    run_due(mn, now);
    mip_mn_update_state(mn);
    mip_out_flush(&mn->out, &mn->deps);
}

/* Whether the new address lies in the old address's network (a changed
 * prefix length alone is not a move). */
static bool same_network(uint32_t old_addr, uint8_t old_len, uint32_t new_addr)
{
    uint32_t m = mip_prefix_mask(old_len);
    return (old_addr & m) == (new_addr & m);
}

void mip_mn_link_changed(MipMn *mn, const MipLinkInfo *link, MipTime now)
{
    MipLinkEntry *l = mip_links_find(&mn->links, link->ifindex);
    bool was_usable = false;
    MipLinkInfo old = {0};
    if (l) {
        was_usable = mip_link_usable(l);
        old = l->info;
    } else if (!(l = mip_links_add(&mn->links, link->ifindex))) {
        return;
    }
    l->info = *link;
    l->info.name[MIP_IFNAME_MAX - 1] = '\0'; /* IFNAMSIZ includes the NUL */
    mip_link_classify(l, &mn->cfg);
    bool usable = mip_link_usable(l);

    if (old.address != link->address || old.prefix_len != link->prefix_len) {
        l->address_since = now;
        /* A new network on the same link without a carrier change (a roam
         * between access points, say): what we heard there is stale. */
        if (was_usable && usable && old.address != 0 && link->address != 0 &&
            !same_network(old.address, old.prefix_len, link->address)) {
            mip_agents_remove_link(&mn->agents, link->ifindex);
            mip_solicit_stop(&l->solicit);
            mip_solicit_start_fresh(&l->solicit, now);
            l->usable_since = now;
        }
    }
    /* Back on another network than last time: a move, not a flap; the new
     * network's agents are looked for at once. */
    bool new_network = l->has_network && link->address != 0 &&
                       !same_network(l->network, l->network_len, link->address);
    if (usable && link->address != 0) {
        l->has_network = true;
        l->network = link->address;
        l->network_len = link->prefix_len;
    }
    if (!was_usable && usable) {
        l->usable_since = now;
        if (new_network)
            mip_solicit_start_fresh(&l->solicit, now);
        else
            mip_solicit_start(&l->solicit, now);
    } else if (was_usable && usable && new_network && old.address == 0 && l->solicit.active &&
               l->solicit.sent == 0) {
        /* The carrier came back before the address (the link is usable on
         * carrier alone), and the first solicitation was held to the 1 s
         * spacing of a flap; the lease shows another network: send it now. */
        mip_solicit_start_fresh(&l->solicit, now);
        mip_out_event(&mn->out, MIP_MN_EV_LINK_UP, link->ifindex, link->address, -1, "link %s up",
                      mip_mn_link_name(mn, link->ifindex));
    } else if (was_usable && !usable) {
        mip_solicit_stop(&l->solicit);
        mip_agents_remove_link(&mn->agents, link->ifindex);
        mip_out_event(&mn->out, MIP_MN_EV_LINK_DOWN, link->ifindex, 0, -1, "link %s down",
                      mip_mn_link_name(mn, link->ifindex));
    }
    process(mn, now);
}

void mip_mn_link_removed(MipMn *mn, int ifindex, MipTime now)
{
    MipLinkEntry *l = mip_links_find(&mn->links, ifindex);
    if (!l)
        return;
    if (mip_link_usable(l))
        mip_out_event(&mn->out, MIP_MN_EV_LINK_DOWN, ifindex, 0, -1, "link %s removed",
                      mip_mn_link_name(mn, ifindex));
    if (mn->override[0] && strncmp(l->info.name, mn->override, MIP_IFNAME_MAX) == 0)
        mn->override[0] = '\0';
    mip_agents_remove_link(&mn->agents, ifindex);
    mip_links_remove(&mn->links, ifindex);
    process(mn, now);
}

static bool binding_via(const MipMn *mn, const MipAttach *t, int ifindex, uint32_t agent)
{
    return t->kind == MIP_ATTACH_FA && t->ifindex == ifindex && t->agent == agent;
}

static void advert_received(MipMn *mn, int ifindex, uint32_t src, const MipAgentAdvert *adv,
                            MipTime now)
{
    char abuf[16];
    MipAgent *a = NULL;
    MipAgentUpdate upd = mip_agents_update(&mn->agents, ifindex, src, adv, now, &a);
    mn->stats.adverts_seen++;

    MipLinkEntry *l = mip_links_find(&mn->links, ifindex);
    if (l)
        mip_solicit_stop(&l->solicit);

    if (upd == MIP_AGENT_NEW)
        mip_out_event(&mn->out, MIP_MN_EV_AGENT_FOUND, ifindex, src, -1, "agent %s on %s (%s%s%s)",
                      mip_addr_str(src, abuf), mip_mn_link_name(mn, ifindex),
                      (adv->flags & MIP_ADV_H) ? "H" : "", (adv->flags & MIP_ADV_F) ? "F" : "",
                      (adv->flags & MIP_ADV_R) ? "R" : "");

    bool cur_via = mn->cur.valid && binding_via(mn, &mn->cur.target, ifindex, src);
    if (upd == MIP_AGENT_REBOOTED) {
        mn->stats.agent_reboots++;
        mip_out_event(&mn->out, MIP_MN_EV_AGENT_REBOOTED, ifindex, src, -1,
                      "agent %s rebooted (sequence %u): its bindings are gone",
                      mip_addr_str(src, abuf), (unsigned)adv->sequence);
        /* §2.4.3: it lost its visitor list; register again at once. */
        if (cur_via && !mn->reg.active && !mn->stopped && !mn->auth_blocked)
            mip_mn_start_attempt(mn, &mn->cur.target, now, MIP_REG_PACED);
        return;
    }

    /* Method 2 of §2.4.2: another agent on this link advertising another
     * network prefix means we left the network of the agent we use. */
    const MipAttach *uses[2] = {mn->cur.valid ? &mn->cur.target : NULL,
                                mn->reg.active ? &mn->target : NULL};
    for (size_t i = 0; i < 2; i++) {
        const MipAttach *t = uses[i];
        if (!t || t->kind != MIP_ATTACH_FA || t->ifindex != ifindex || t->agent == src)
            continue;
        MipAgent *used = mip_agents_find(&mn->agents, ifindex, t->agent);
        MipAgent *heard = mip_agents_find(&mn->agents, ifindex, src);
        if (used && heard && mip_agent_prefix_moved(used, heard)) {
            char ubuf[16];
            mip_out_event(&mn->out, MIP_MN_EV_AGENT_LOST, ifindex, t->agent, -1,
                          "agent %s left behind: agent %s advertises another network",
                          mip_addr_str(t->agent, ubuf), mip_addr_str(src, abuf));
            mip_agents_remove(&mn->agents, ifindex, t->agent);
        }
    }
    (void)a;
}

void mip_mn_icmp_received(MipMn *mn, int ifindex, uint32_t src, uint32_t dst, uint8_t ttl,
                          const uint8_t *buf, size_t len, MipTime now)
{
    (void)dst;
    if (len < 1 || buf[0] != MIP_ICMP_ROUTER_ADVERT)
        return;
    if (ttl != 1) {
        mn->stats.adverts_dropped[MIP_MN_ADV_DROP_TTL]++;
        return;
    }
    MipLinkEntry *l = mip_links_find(&mn->links, ifindex);
    if (!l || l->ignored) {
        mn->stats.adverts_dropped[MIP_MN_ADV_DROP_LINK]++;
        return;
    }
    MipAgentAdvert adv;
    if (mip_advert_decode(buf, len, &adv) != MIP_OK) {
        mn->stats.adverts_dropped[MIP_MN_ADV_DROP_MALFORMED]++;
        return;
    }
    if (!adv.has_mobility)
        return; /* a plain router advertisement */
    advert_received(mn, ifindex, src, &adv, now);
    process(mn, now);
}

void mip_mn_udp_received(MipMn *mn, int ifindex, uint32_t src, uint16_t sport, uint32_t dst,
                         uint16_t dport, const uint8_t *buf, size_t len, MipTime now)
{
    (void)ifindex;
    (void)src;
    (void)dst;
    (void)dport;
    mip_mn_handle_reply(mn, buf, len, sport, now);
    process(mn, now);
}

void mip_mn_timeout(MipMn *mn, MipTime now)
{
    process(mn, now);
}

static MipTime earlier(MipTime a, MipTime b)
{
    return a < b ? a : b;
}

MipTime mip_mn_next_deadline(const MipMn *mn)
{
    MipTime t = mip_agents_next_expiry(&mn->agents);
    for (size_t i = 0; i < mn->links.n; i++)
        t = earlier(t, mn->links.links[i].solicit.next_at);
    if (mn->reg.active)
        t = earlier(t, mn->reg.next_tx);
    t = earlier(t, mip_mn_release_deadline(mn));
    if (mn->cur.valid) {
        t = earlier(t, mn->cur.expires_at);
        if (!mn->reg.active && !mn->stopped && !mn->auth_blocked &&
            !mip_mn_denial_pending(mn, &mn->cur.target))
            t = earlier(t, mn->cur.renew_at);
    }
    t = earlier(t, mn->retry_at);
    t = earlier(t, mn->wait_until);
    return t;
}

/* ------------------------------------------------------------------------ */

MipMnError mip_mn_register(MipMn *mn, MipTime now)
{
    mn->stopped = false;
    mn->auth_blocked = false;
    mip_mn_reset_denials(mn);
    /* An explicit retry starts the encapsulation ladder over too. */
    mn->encap = mn->cfg.encapsulation == MIP_ENCAP_UDP ? MIP_ENCAP_IPIP : mn->cfg.encapsulation;
    if (mn->at_home)
        mip_mn_start_deregistration(mn, now, MIP_REG_PACED);
    else if (mn->cur.valid)
        mip_mn_start_attempt(mn, &mn->cur.target, now, MIP_REG_PACED);
    else if (mn->reg.active)
        mip_reg_cancel(&mn->reg); /* the decision step starts afresh */
    process(mn, now);
    return MIP_MN_OK;
}

MipMnError mip_mn_deregister(MipMn *mn, MipTime now)
{
    mn->stopped = true;
    if (mn->at_home || mn->cur.valid) {
        mip_mn_start_deregistration(mn, now, MIP_REG_PACED);
        if (!mn->at_home)
            mip_mn_drop_binding(mn, now);
    } else if (mn->reg.active) {
        mip_reg_cancel(&mn->reg);
    }
    process(mn, now);
    return MIP_MN_OK;
}

static bool link_can_attach(MipMn *mn, const MipLinkEntry *l, MipTime now)
{
    if (mip_mn_link_is_home(mn, l, now) || mip_mn_best_fa(mn, l->info.ifindex, now))
        return true;
    return mn->cfg.care_of_mode != MIP_CARE_OF_FOREIGN_AGENT && l->info.address != 0 &&
           !mip_mn_in_home_prefix(mn, l->info.address);
}

MipMnError mip_mn_handover(MipMn *mn, const char *ifname, MipTime now)
{
    if (!ifname || !ifname[0]) {
        mn->override[0] = '\0';
        process(mn, now);
        return MIP_MN_OK;
    }
    MipLinkEntry *l = mip_links_find_name(&mn->links, ifname);
    if (!l)
        return MIP_MN_ERR_NO_SUCH_LINK;
    if (l->ignored)
        return MIP_MN_ERR_LINK_IGNORED;
    if (!mip_link_usable(l) || !link_can_attach(mn, l, now))
        return MIP_MN_ERR_LINK_UNUSABLE;
    memcpy(mn->override, l->info.name, MIP_IFNAME_MAX);
    mn->override[MIP_IFNAME_MAX] = '\0';
    mn->override_at = now;
    process(mn, now);
    return MIP_MN_OK;
}

static bool binding_config_changed(const MipMnConfig *a, const MipMnConfig *b)
{
    return a->home_address != b->home_address || a->home_prefix_len != b->home_prefix_len ||
           a->home_agent != b->home_agent || a->spi != b->spi || a->algorithm != b->algorithm ||
           a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0 ||
           a->lifetime != b->lifetime || a->reverse_tunnel != b->reverse_tunnel ||
           a->encapsulation != b->encapsulation || a->udp_tunnel != b->udp_tunnel ||
           a->care_of_mode != b->care_of_mode || a->nai_len != b->nai_len ||
           memcmp(a->nai, b->nai, a->nai_len) != 0 || a->local_port != b->local_port;
}

static bool preferences_changed(const MipMnConfig *a, const MipMnConfig *b)
{
    if (a->n_prefer != b->n_prefer || a->n_ignore != b->n_ignore)
        return true;
    for (size_t i = 0; i < a->n_prefer && i < MIP_MN_MAX_PATTERNS; i++)
        if (strncmp(a->prefer[i], b->prefer[i], MIP_MN_PATTERN_MAX) != 0)
            return true;
    for (size_t i = 0; i < a->n_ignore && i < MIP_MN_MAX_PATTERNS; i++)
        if (strncmp(a->ignore[i], b->ignore[i], MIP_MN_PATTERN_MAX) != 0)
            return true;
    return false;
}

MipMnError mip_mn_reload(MipMn *mn, const MipMnConfig *cfg, MipTime now)
{
    if (mip_mn_config_validate(cfg, NULL) != MIP_MN_OK)
        return MIP_MN_ERR_INVALID_CONFIG;
    bool changed = binding_config_changed(&mn->cfg, cfg);
    if (preferences_changed(&mn->cfg, cfg))
        mn->prefs_at = now;
    wipe(mn->cfg.key, sizeof mn->cfg.key);
    mn->cfg = *cfg;

    for (size_t i = 0; i < mn->links.n; i++) {
        MipLinkEntry *l = &mn->links.links[i];
        bool was_usable = mip_link_usable(l);
        mip_link_classify(l, &mn->cfg);
        if (was_usable && !mip_link_usable(l)) {
            mip_solicit_stop(&l->solicit);
            mip_agents_remove_link(&mn->agents, l->info.ifindex);
        } else if (!was_usable && mip_link_usable(l)) {
            l->usable_since = now;
            mip_solicit_start(&l->solicit, now);
        }
    }
    if (changed) {
        /* Everything the binding was made of may differ: register afresh
         * (the old plan stays meanwhile if make-before-break is on). */
        mn->generation++;
        mn->home_agent = cfg->home_agent;
        mn->encap = cfg->encapsulation == MIP_ENCAP_UDP ? MIP_ENCAP_IPIP : cfg->encapsulation;
        mn->auth_blocked = false;
        mip_mn_reset_denials(mn);
        if (mn->at_home && !mn->stopped)
            mip_mn_start_deregistration(mn, now, MIP_REG_PACED);
    }
    process(mn, now);
    return MIP_MN_OK;
}
