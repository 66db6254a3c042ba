/* Which attachment the node should want (home, a foreign agent, a co-located
 * address, or waiting), the plans that follow from it, and the evaluation
 * step that turns the difference between wanted and current into actions. */
#include <stdio.h>
#include <string.h>

#include "mn_internal.h"

static const MipLinkEntry *link_of(const MipMn *mn, int ifindex)
{
    for (size_t i = 0; i < mn->links.n; i++) {
        if (mn->links.links[i].info.ifindex == ifindex)
            return &mn->links.links[i];
    }
    return NULL;
}

static const MipAgent *agent_of(const MipMn *mn, int ifindex, uint32_t address)
{
    for (size_t i = 0; i < mn->agents.n; i++) {
        const MipAgent *a = &mn->agents.agents[i];
        if (a->ifindex == ifindex && a->address == address)
            return a;
    }
    return NULL;
}

bool mip_mn_in_home_prefix(const MipMn *mn, uint32_t addr)
{
    uint32_t m = mip_prefix_mask(mn->cfg.home_prefix_len);
    return (addr & m) == (mn->cfg.home_address & m);
}

bool mip_mn_agent_is_home(const MipMn *mn, const MipAgent *a)
{
    if (!(a->flags & MIP_ADV_H))
        return false;
    return a->address == mn->home_agent || a->address == mn->cfg.home_agent ||
           mip_mn_in_home_prefix(mn, a->address);
}

/* In foreign-agent mode the tunnel plugin puts the home address on the
 * visited link, and a link plugin may report it back: that is our own doing,
 * not evidence of being home. */
static bool home_address_placed_by_us(const MipMn *mn, const MipLinkEntry *l)
{
    if (l->info.address != mn->cfg.home_address)
        return false;
    if (l->info.prefix_len == 32 && mn->cfg.home_prefix_len < 32)
        return true;
    return mn->plan_valid && mn->plan.mode == MIP_PLAN_FOREIGN_AGENT &&
           mn->plan.ifindex == l->info.ifindex;
}

bool mip_mn_link_is_home(const MipMn *mn, const MipLinkEntry *l, MipTime now)
{
    if (!mip_link_usable(l))
        return false;
    if (l->info.address != 0 && mip_mn_in_home_prefix(mn, l->info.address) &&
        !home_address_placed_by_us(mn, l))
        return true;
    for (size_t i = 0; i < mn->agents.n; i++) {
        const MipAgent *a = &mn->agents.agents[i];
        if (a->ifindex == l->info.ifindex && a->expires_at > now && mip_mn_agent_is_home(mn, a))
            return true;
    }
    return false;
}

const MipAgent *mip_mn_best_fa(const MipMn *mn, int ifindex, MipTime now)
{
    /* Stay with the agent we use (or are registering with) while it lasts,
     * so two agents on one link do not make us flap between them. */
    uint32_t in_use[2] = {0, 0};
    if (mn->cur.valid && mn->cur.target.kind == MIP_ATTACH_FA && mn->cur.target.ifindex == ifindex)
        in_use[0] = mn->cur.target.agent;
    if (mn->reg.active && mn->target.kind == MIP_ATTACH_FA && mn->target.ifindex == ifindex)
        in_use[1] = mn->target.agent;

    const MipAgent *best = NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < mn->agents.n; i++) {
            const MipAgent *a = &mn->agents.agents[i];
            if (a->ifindex != ifindex || a->expires_at <= now || !(a->flags & MIP_ADV_F) ||
                a->n_coa == 0)
                continue;
            if (in_use[pass] != 0 && a->address == in_use[pass])
                return a;
            /* A busy agent takes no new registrations (RFC 5944 §2.1.1). */
            if (a->flags & MIP_ADV_B)
                continue;
            if (!best || a->first_seen < best->first_seen ||
                (a->first_seen == best->first_seen && a->address < best->address))
                best = a;
        }
    }
    return best;
}

static int rank_of(const MipMn *mn, const MipLinkEntry *l, MipTime now)
{
    if (mn->override[0] && strncmp(l->info.name, mn->override, MIP_IFNAME_MAX) == 0)
        return 0;
    if (mip_mn_link_is_home(mn, l, now))
        return 1;
    if (l->preference >= 0)
        return 2 + l->preference;
    return 2 + MIP_MN_MAX_PATTERNS;
}

MipAttach mip_mn_choose(const MipMn *mn, MipTime now)
{
    MipAttach want = {
        .kind = MIP_ATTACH_NONE, .generation = mn->generation, .wait_until = MIP_TIME_NEVER};
    const MipLinkEntry *order[MIP_LINK_TABLE_MAX];
    int ranks[MIP_LINK_TABLE_MAX];
    size_t n = 0;

    for (size_t i = 0; i < mn->links.n; i++) {
        const MipLinkEntry *l = &mn->links.links[i];
        if (!mip_link_usable(l))
            continue;
        int r = rank_of(mn, l, now);
        size_t j = n++;
        while (j > 0 && (ranks[j - 1] > r ||
                         (ranks[j - 1] == r && order[j - 1]->info.ifindex > l->info.ifindex))) {
            order[j] = order[j - 1];
            ranks[j] = ranks[j - 1];
            j--;
        }
        order[j] = l;
        ranks[j] = r;
    }
    if (n == 0)
        return want;

    want.kind = MIP_ATTACH_WAIT;
    /* No wait by default: an address is registered as soon as the link has
     * one, and an agent that answers the solicitation sent when the link
     * came up then takes over (make-before-break on the same link). */
    MipTime wait = (MipTime)mn->cfg.agent_wait_ms * MIP_TIME_MS;

    for (size_t i = 0; i < n; i++) {
        const MipLinkEntry *l = order[i];
        want.ifindex = l->info.ifindex;
        if (mip_mn_link_is_home(mn, l, now)) {
            want.kind = MIP_ATTACH_HOME;
            want.gateway = mip_mn_in_home_prefix(mn, l->info.address) ? l->info.gateway : 0;
            return want;
        }
        const MipAgent *fa = mip_mn_best_fa(mn, l->info.ifindex, now);
        bool have_addr = l->info.address != 0 && !mip_mn_in_home_prefix(mn, l->info.address);
        bool use_fa = false, use_coloc = false;

        switch (mn->cfg.care_of_mode) {
        case MIP_CARE_OF_FOREIGN_AGENT:
            use_fa = fa != NULL;
            break;
        case MIP_CARE_OF_COLOCATED:
            /* R: this network wants registrations through its agent (§3.1). */
            use_fa = fa && (fa->flags & MIP_ADV_R);
            use_coloc = !use_fa && have_addr;
            break;
        case MIP_CARE_OF_AUTO:
            use_fa = fa != NULL;
            if (!use_fa && have_addr) {
                /* If configured, give an agent the chance to answer the
                 * solicitation sent when the link came up before settling
                 * for co-located. */
                if (wait == 0 || now >= l->usable_since + wait) {
                    use_coloc = true;
                } else {
                    want.kind = MIP_ATTACH_WAIT;
                    want.wait_until = l->usable_since + wait;
                    return want;
                }
            }
            break;
        }
        if (use_fa) {
            want.kind = MIP_ATTACH_FA;
            want.agent = fa->address;
            want.coa = fa->coa[0];
            want.gateway = fa->address;
            return want;
        }
        if (use_coloc) {
            want.kind = MIP_ATTACH_COLOCATED;
            want.coa = l->info.address;
            want.gateway = l->info.gateway;
            return want;
        }
    }
    want.kind = MIP_ATTACH_WAIT;
    want.ifindex = 0;
    return want;
}

bool mip_attach_same(const MipAttach *a, const MipAttach *b)
{
    return a->kind == b->kind && a->ifindex == b->ifindex && a->agent == b->agent &&
           a->coa == b->coa && a->generation == b->generation;
}

static bool plan_equal(const MipPlan *a, const MipPlan *b)
{
    return a->mode == b->mode && a->home_address == b->home_address &&
           a->home_prefix_len == b->home_prefix_len && a->home_agent == b->home_agent &&
           a->ifindex == b->ifindex && strncmp(a->ifname, b->ifname, MIP_IFNAME_MAX) == 0 &&
           a->care_of_address == b->care_of_address && a->gateway == b->gateway &&
           a->encap == b->encap && a->reverse_tunnel == b->reverse_tunnel &&
           a->udp_peer_port == b->udp_peer_port && a->udp_local_port == b->udp_local_port &&
           a->udp_inner == b->udp_inner && a->udp_keepalive == b->udp_keepalive;
}

static const char *plan_mode_name(MipPlanMode m)
{
    switch (m) {
    case MIP_PLAN_HOME:
        return "home";
    case MIP_PLAN_FOREIGN_AGENT:
        return "foreign agent";
    case MIP_PLAN_COLOCATED:
        return "co-located";
    case MIP_PLAN_NONE:
        break;
    }
    return "none";
}

/* "home on home0", "foreign agent 198.51.100.1 on fa0", ... */
static void describe_plan(const MipMn *mn, const MipPlan *p, char *out, size_t n)
{
    char a[16];
    if (p->mode == MIP_PLAN_HOME)
        snprintf(out, n, "home on %s", mip_mn_link_name(mn, p->ifindex));
    else
        snprintf(out, n, "%s %s on %s", plan_mode_name(p->mode),
                 mip_addr_str(p->care_of_address, a), mip_mn_link_name(mn, p->ifindex));
}

void mip_mn_set_plan(MipMn *mn, const MipPlan *plan, MipTime now, MipTime trigger_at,
                     MipTime accepted_at)
{
    if (mn->plan_valid && plan_equal(&mn->plan, plan))
        return;
    bool was_active = mn->plan_valid && mn->plan.mode != MIP_PLAN_NONE;
    mn->plan = *plan;
    mn->plan_valid = true;
    mip_out_plan(&mn->out, plan);

    /* A handover is a change of attachment between two working plans, even
     * with a break (NONE) between them. */
    if (plan->mode == MIP_PLAN_NONE) {
        if (was_active)
            mn->broken_at = now;
        return;
    }
    const MipPlan *last = &mn->last_active_plan;
    if (mn->last_active_valid && (last->mode != plan->mode || last->ifindex != plan->ifindex ||
                                  last->care_of_address != plan->care_of_address)) {
        char from[64], to[64];
        mn->stats.handovers++;
        describe_plan(mn, last, from, sizeof from);
        describe_plan(mn, plan, to, sizeof to);
        /* The event is queued after the plan: the shell has applied it
         * when the event arrives, and can tell when the tunnel switched. */
        MipMnEvent *ev = mip_out_event(&mn->out, MIP_MN_EV_HANDOVER, plan->ifindex,
                                       plan->care_of_address, -1, "handover from %s to %s",
                                       from, to);
        if (ev) {
            ev->trigger_at = trigger_at && trigger_at <= now ? trigger_at : now;
            ev->accepted_at = accepted_at;
            ev->break_before_make = !was_active;
            ev->broken_at = was_active ? 0 : mn->broken_at;
            ev->old_mode = last->mode;
            ev->new_mode = plan->mode;
            ev->old_care_of = last->care_of_address;
            memcpy(ev->old_ifname, last->ifname, MIP_IFNAME_MAX);
            memcpy(ev->new_ifname, plan->ifname, MIP_IFNAME_MAX);
            ev->old_ifname[MIP_IFNAME_MAX - 1] = ev->new_ifname[MIP_IFNAME_MAX - 1] = '\0';
        }
    }
    mn->last_active_plan = *plan;
    mn->last_active_valid = true;
    mn->broken_at = 0;
}

static void plan_base(const MipMn *mn, MipPlan *p, MipPlanMode mode, int ifindex)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->home_address = mn->cfg.home_address;
    p->home_prefix_len = mn->cfg.home_prefix_len;
    p->home_agent = mn->home_agent;
    p->encap = mn->encap;
    p->udp_inner = mn->encap;
    p->ifindex = ifindex;
    const MipLinkEntry *l = ifindex ? link_of(mn, ifindex) : NULL;
    if (l)
        memcpy(p->ifname, l->info.name, MIP_IFNAME_MAX);
}

void mip_mn_plan_none(MipMn *mn, MipTime now)
{
    MipPlan p;
    plan_base(mn, &p, MIP_PLAN_NONE, 0);
    mip_mn_set_plan(mn, &p, now, 0, 0);
}

void mip_mn_plan_home(MipMn *mn, int ifindex, MipTime now, MipTime trigger_at)
{
    MipPlan p;
    plan_base(mn, &p, MIP_PLAN_HOME, ifindex);
    const MipLinkEntry *l = link_of(mn, ifindex);
    if (l && l->info.address && mip_mn_in_home_prefix(mn, l->info.address))
        p.gateway = l->info.gateway;
    mip_mn_set_plan(mn, &p, now, trigger_at, 0);
}

void mip_mn_plan_binding(MipMn *mn, const MipBinding *b, MipTime now)
{
    MipPlan p;
    plan_base(mn, &p, b->params.mode, b->params.ifindex);
    p.home_agent = b->params.home_agent;
    p.care_of_address = b->params.care_of;
    p.gateway = b->params.gateway;
    p.encap = b->params.encap;
    p.udp_inner = b->params.encap;
    p.reverse_tunnel = b->params.reverse_tunnel;
    if (b->udp) {
        p.encap = MIP_ENCAP_UDP;
        p.udp_peer_port = MIP_REG_PORT;
        p.udp_local_port = b->params.sport;
        p.udp_keepalive = b->udp_keepalive;
    }
    mip_mn_set_plan(mn, &p, now, b->trigger_at, b->accepted_at);
}

MipTime mip_mn_attach_since(const MipMn *mn, const MipAttach *a, MipTime now)
{
    MipTime t = 0;
    const MipLinkEntry *l = link_of(mn, a->ifindex);
    if (l) {
        t = l->usable_since;
        if (a->kind == MIP_ATTACH_COLOCATED && l->address_since > t)
            t = l->address_since;
        if (mn->override[0] && strncmp(l->info.name, mn->override, MIP_IFNAME_MAX) == 0 &&
            mn->override_at > t)
            t = mn->override_at;
    }
    if (a->kind == MIP_ATTACH_FA) {
        const MipAgent *ag = agent_of(mn, a->ifindex, a->agent);
        if (ag && ag->first_seen > t)
            t = ag->first_seen;
    }
    if (mn->prefs_at > t)
        t = mn->prefs_at;
    return t == 0 || t > now ? now : t;
}

/* ------------------------------------------------------------------------ */

static bool binding_alive(const MipMn *mn, MipTime now)
{
    const MipBinding *b = &mn->cur;
    if (!b->valid)
        return false;
    const MipLinkEntry *l = link_of(mn, b->target.ifindex);
    if (!l || !mip_link_usable(l))
        return false;
    if (b->target.kind == MIP_ATTACH_FA) {
        const MipAgent *a = agent_of(mn, b->target.ifindex, b->target.agent);
        return a && a->expires_at > now;
    }
    return l->info.address == b->target.coa;
}

static bool link_has_agent(const MipMn *mn, int ifindex)
{
    for (size_t i = 0; i < mn->agents.n; i++) {
        if (mn->agents.agents[i].ifindex == ifindex)
            return true;
    }
    return false;
}

static void expire_agents(MipMn *mn, MipTime now)
{
    MipAgent a;
    char abuf[16];
    while (mip_agents_pop_expired(&mn->agents, now, &a)) {
        mip_out_event(&mn->out, MIP_MN_EV_AGENT_LOST, a.ifindex, a.address, -1,
                      "agent %s on %s lost: advertisement lifetime ran out",
                      mip_addr_str(a.address, abuf), mip_mn_link_name(mn, a.ifindex));
        /* Method 1 of §2.4.2: with no agent left, go looking again. */
        MipLinkEntry *l = mip_links_find(&mn->links, a.ifindex);
        if (l && mip_link_usable(l) && !link_has_agent(mn, a.ifindex))
            mip_solicit_start(&l->solicit, now);
    }
}

static void enter_home(MipMn *mn, const MipAttach *want, MipTime now)
{
    if (mn->at_home && mn->home_ifindex == want->ifindex)
        return;
    bool was_away =
        mn->cur.valid || mn->reg.active ||
        (mn->plan_valid && mn->plan.mode != MIP_PLAN_HOME && mn->plan.mode != MIP_PLAN_NONE);
    if (mn->reg.active)
        mip_reg_cancel(&mn->reg);
    mn->cur.valid = false;
    mn->retry_at = MIP_TIME_NEVER;
    mn->gave_up = false;
    mn->at_home = true;
    mn->home_ifindex = want->ifindex;
    /* The deregistration below (care-of = home address) removes every
     * binding, the ones waiting for release included. */
    mip_mn_release_forget(mn);
    mip_reg_cancel(&mn->release);

    mip_mn_plan_home(mn, want->ifindex, now, mip_mn_attach_since(mn, want, now));
    mip_out_garp(&mn->out, want->ifindex, mn->cfg.home_address);
    if (was_away)
        mip_out_event(&mn->out, MIP_MN_EV_RETURNED_HOME, want->ifindex, mn->home_agent, -1,
                      "returned home on %s", mip_mn_link_name(mn, want->ifindex));
    /* Deregister even when we never registered since start: a binding left
     * by a previous run would otherwise keep the home agent proxying. */
    if (!mn->stopped && !mn->auth_blocked)
        mip_mn_start_deregistration(mn, now, MIP_REG_NEW_ATTACHMENT);
}

static void leave_home(MipMn *mn, MipTime now)
{
    const MipLinkEntry *home = link_of(mn, mn->home_ifindex);
    bool home_still_up = home && mip_link_usable(home);
    mn->at_home = false;
    mn->home_ifindex = 0;
    if (mn->reg.active && mn->reg.params.mode == MIP_PLAN_HOME)
        mip_reg_cancel(&mn->reg);
    if (!(mn->cfg.make_before_break && home_still_up))
        mip_mn_plan_none(mn, now);
}

static const char *attach_kind_name(MipAttachKind k)
{
    switch (k) {
    case MIP_ATTACH_FA:
        return "foreign agent";
    case MIP_ATTACH_COLOCATED:
        return "co-located care-of address";
    case MIP_ATTACH_HOME:
        return "home";
    case MIP_ATTACH_WAIT:
        return "waiting";
    case MIP_ATTACH_NONE:
        break;
    }
    return "none";
}

static void act_away(MipMn *mn, const MipAttach *want, MipTime now)
{
    if (mn->stopped || mn->auth_blocked)
        return;
    if (mn->cur.valid && mip_attach_same(want, &mn->cur.target)) {
        /* Back where the binding is: drop an attempt elsewhere. */
        if (mn->reg.active && !mn->reg.params.deregister &&
            !mip_attach_same(&mn->target, &mn->cur.target))
            mip_mn_abandon_attempt(mn, now);
        return;
    }
    if (mn->reg.active && mip_attach_same(want, &mn->target))
        return;
    if (mip_mn_denial_pending(mn, want))
        return;

    if (!mip_attach_same(want, &mn->denied))
        mip_mn_reset_denials(mn);
    /* A move is a new attachment other than the last one that worked (a
     * re-registration after expiry, say, is none). */
    const MipPlan *last = &mn->last_active_plan;
    MipPlanMode mode = want->kind == MIP_ATTACH_FA ? MIP_PLAN_FOREIGN_AGENT : MIP_PLAN_COLOCATED;
    bool moved = mn->last_active_valid && (last->mode != mode || last->ifindex != want->ifindex ||
                                           last->care_of_address != want->coa);
    if (mn->cur.valid && !mn->cfg.make_before_break)
        mip_mn_drop_binding(mn, now);
    if (moved) {
        char abuf[16];
        mn->stats.movements++;
        mip_out_event(&mn->out, MIP_MN_EV_MOVED, want->ifindex, want->coa, -1,
                      "moving to %s: %s %s", mip_mn_link_name(mn, want->ifindex),
                      attach_kind_name(want->kind), mip_addr_str(want->coa, abuf));
    }
    /* A new attachment goes at once (RFC 5944 §3.6.3 paces retransmissions
     * of one request, and a move calls for a registration now); the same
     * attachment tried again keeps the 1 s floor. */
    bool again = mn->reg.ever_sent && mip_attach_same(want, &mn->target);
    mn->trigger_at = mip_mn_attach_since(mn, want, now);
    mip_mn_start_attempt(mn, want, now, again ? MIP_REG_PACED : MIP_REG_NEW_ATTACHMENT);
}

void mip_mn_evaluate(MipMn *mn, MipTime now)
{
    expire_agents(mn, now);

    if (mn->cur.valid && now >= mn->cur.expires_at) {
        char abuf[16];
        mn->stats.expiries++;
        mip_out_event(&mn->out, MIP_MN_EV_EXPIRED, mn->cur.target.ifindex, mn->cur.params.care_of,
                      -1, "binding for care-of %s expired unrenewed",
                      mip_addr_str(mn->cur.params.care_of, abuf));
        mip_mn_drop_binding(mn, now);
    }
    if (mn->retry_at != MIP_TIME_NEVER && now >= mn->retry_at)
        mn->retry_at = MIP_TIME_NEVER;

    MipAttach want = mip_mn_choose(mn, now);
    mn->wait_until = want.kind == MIP_ATTACH_WAIT ? want.wait_until : MIP_TIME_NEVER;

    if (want.kind == MIP_ATTACH_HOME) {
        enter_home(mn, &want, now);
        return;
    }
    if (mn->at_home)
        leave_home(mn, now);
    if (mn->cur.valid && !binding_alive(mn, now))
        mip_mn_drop_binding(mn, now);

    if (want.kind == MIP_ATTACH_FA || want.kind == MIP_ATTACH_COLOCATED) {
        act_away(mn, &want, now);
    } else if (mn->reg.active && !mn->reg.params.deregister &&
               !(mn->cur.valid && mip_attach_same(&mn->target, &mn->cur.target))) {
        /* Nothing to register with any more; a renewal of a live binding
         * goes on. */
        mip_mn_abandon_attempt(mn, now);
    }

    if (mn->cur.valid && !mn->reg.active && !mn->stopped && !mn->auth_blocked &&
        now >= mn->cur.renew_at && !mip_mn_denial_pending(mn, &mn->cur.target))
        mip_mn_start_attempt(mn, &mn->cur.target, now, MIP_REG_PACED);
    mip_mn_release_settle(mn, now);
}
