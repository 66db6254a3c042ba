/* Driving registrations: turning a wanted attachment into requests, sending
 * them with fresh Identifications, and acting on replies (acceptance makes
 * the binding and its plan; each denial code gets its own policy). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../proto/ident.h"
#include "mn_internal.h"

void mip_mn_set_error(MipMn *mn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mn->last_error, sizeof mn->last_error, fmt, ap);
    va_end(ap);
}

void mip_mn_drop_binding(MipMn *mn, MipTime now)
{
    if (!mn->cur.valid)
        return;
    mn->cur.valid = false;
    mip_mn_plan_none(mn, now);
}

void mip_mn_reset_denials(MipMn *mn)
{
    mn->gave_up = false;
    mn->retry_at = MIP_TIME_NEVER;
    memset(&mn->denied, 0, sizeof mn->denied);
    mn->deny_count = 0;
    mn->resynced = false;
    mn->ha_switched = false;
    mn->rt_forced = false;
    mn->encap_tried = 0;
    mn->lifetime_cap = 0;
}

bool mip_mn_denial_pending(const MipMn *mn, const MipAttach *target)
{
    return (mn->gave_up || mn->retry_at != MIP_TIME_NEVER) && mip_attach_same(target, &mn->denied);
}

static bool agent_supports(const MipAgent *a, MipEncapsulation e)
{
    switch (e) {
    case MIP_ENCAP_GRE:
        return (a->flags & MIP_ADV_G) != 0;
    case MIP_ENCAP_MINIMAL:
        return (a->flags & MIP_ADV_M) != 0;
    case MIP_ENCAP_IPIP:
    case MIP_ENCAP_UDP:
        break;
    }
    return true;
}

void mip_mn_build_params(MipMn *mn, const MipAttach *t, bool deregister, MipRegParams *p)
{
    memset(p, 0, sizeof *p);
    p->ifindex = t->ifindex;
    p->deregister = deregister;
    p->home_address = mn->cfg.home_address;
    p->home_agent = mn->home_agent;
    p->sport = mn->cfg.local_port ? mn->cfg.local_port : MIP_REG_PORT;
    p->reverse_tunnel = mn->cfg.reverse_tunnel || mn->rt_forced;
    p->encap = mn->encap;
    p->udp = MIP_UDP_TUNNEL_OFF;
    uint16_t lifetime = mn->cfg.lifetime;
    if (mn->lifetime_cap && mn->lifetime_cap < lifetime)
        lifetime = mn->lifetime_cap;

    switch (t->kind) {
    case MIP_ATTACH_FA: {
        p->mode = MIP_PLAN_FOREIGN_AGENT;
        p->agent = t->agent;
        p->care_of = t->coa;
        p->gateway = t->agent;
        /* Via an agent: from the home address to the agent (§3.6.1.1). */
        p->src = mn->cfg.home_address;
        p->dst = t->agent;
        const MipAgent *a = mip_agents_find(&mn->agents, t->ifindex, t->agent);
        if (a) {
            if (a->reg_lifetime && a->reg_lifetime < lifetime)
                lifetime = a->reg_lifetime;
            if (!agent_supports(a, p->encap))
                p->encap = MIP_ENCAP_IPIP;
            memcpy(p->challenge, a->challenge, a->challenge_len);
            p->challenge_len = a->challenge_len;
        }
        break;
    }
    case MIP_ATTACH_COLOCATED:
        p->mode = MIP_PLAN_COLOCATED;
        p->care_of = t->coa;
        p->gateway = t->gateway;
        p->src = t->coa;
        p->dst = mn->home_agent;
        p->udp = mn->cfg.udp_tunnel;
        break;
    case MIP_ATTACH_HOME:
    case MIP_ATTACH_WAIT:
    case MIP_ATTACH_NONE:
        /* Deregistering at home: care-of address = home address (§3.6.1.2). */
        p->mode = MIP_PLAN_HOME;
        p->deregister = true;
        p->care_of = mn->cfg.home_address;
        p->src = mn->cfg.home_address;
        p->dst = mn->home_agent;
        break;
    }
    p->lifetime = p->deregister ? 0 : lifetime;
}

/* A request that went out with S for another care-of address than the one
 * in force may have made a binding at the home agent; it lasts at most the
 * lifetime asked for, counted from the last transmission. */
static void remember_if_bound(MipMn *mn, MipRelease *set, size_t *n)
{
    const MipRegistration *r = &mn->reg;
    if (!r->active || r->params.deregister || !r->params.simultaneous || r->transmissions == 0)
        return;
    if (mn->cur.valid && mn->cur.params.care_of == r->params.care_of)
        return;
    mip_mn_release_remember(mn, set, n, &mn->target,
                            r->last_tx + (MipTime)r->params.lifetime * MIP_TIME_S);
}

void mip_mn_abandon_attempt(MipMn *mn, MipTime now)
{
    /* Nothing else will be registered meanwhile: release it as soon as a
     * binding is in force to send it through. */
    remember_if_bound(mn, mn->releases, &mn->n_releases);
    mip_reg_cancel(&mn->reg);
    mip_mn_release_settle(mn, now);
}

void mip_mn_start_attempt(MipMn *mn, const MipAttach *target, MipTime now, MipRegPacing pacing)
{
    MipRegParams p;
    mip_mn_build_params(mn, target, false, &p);
    /* Make-before-break: the old binding must keep working until the new
     * plan is applied, so ask the home agent to keep it (S) and let it go
     * afterwards. The same care-of address (a renewal, another link behind
     * the same agent) is one binding: no S, and nothing to release. */
    p.simultaneous = mn->cfg.make_before_break && mn->cfg.simultaneous_bindings && mn->cur.valid &&
                     !mn->at_home && mn->cur.params.care_of != p.care_of;
    /* An attempt replaced after it went out with S may have made a
     * binding; its release waits for this one's answer. */
    if (!(mn->reg.active && mn->reg.params.care_of == p.care_of))
        remember_if_bound(mn, mn->overlap, &mn->n_overlap);
    if (p.simultaneous)
        mip_mn_release_remember(mn, mn->overlap, &mn->n_overlap, &mn->cur.target,
                                mn->cur.expires_at);
    mn->target = *target;
    mip_reg_start(&mn->reg, &p, now, pacing, 0);
    mip_mn_release_cancel_coa(mn, p.care_of);
    if (mip_reg_due(&mn->reg, now))
        mip_mn_transmit(mn, now);
}

void mip_mn_start_deregistration(MipMn *mn, MipTime now, MipRegPacing pacing)
{
    MipAttach t = {
        .kind = MIP_ATTACH_HOME, .ifindex = mn->home_ifindex, .generation = mn->generation};
    if (!mn->at_home) {
        if (!mn->cur.valid)
            return;
        t = mn->cur.target;
    }
    MipRegParams p;
    mip_mn_build_params(mn, &t, true, &p);
    mn->target = t;
    mip_reg_start(&mn->reg, &p, now, pacing, MIP_REG_DEREG_MAX_TX);
    if (mip_reg_due(&mn->reg, now))
        mip_mn_transmit(mn, now);
}

const char *mip_encap_name(MipEncapsulation e)
{
    switch (e) {
    case MIP_ENCAP_GRE:
        return "gre";
    case MIP_ENCAP_MINIMAL:
        return "minimal";
    case MIP_ENCAP_UDP:
        return "udp";
    case MIP_ENCAP_IPIP:
        break;
    }
    return "ipip";
}

void mip_mn_transmit(MipMn *mn, MipTime now)
{
    mip_mn_transmit_on(mn, &mn->reg, now);
}

void mip_mn_transmit_on(MipMn *mn, MipRegistration *r, MipTime now)
{
    bool release = r == &mn->release;
    uint64_t wall = mn->deps.wall_clock_usec(mn->deps.user);
    uint32_t rnd = mn->deps.random_u32(mn->deps.user);
    uint64_t ident = mip_ident_timestamp(wall, mn->ident_offset, rnd);
    /* A stalled or stepped-back wall clock must not repeat an Identification:
     * the home agent would take it for a replay. */
    if (ident <= mn->last_ident)
        ident = mn->last_ident + 1;
    mn->last_ident = ident;

    MipAuthKey key = {.spi = mn->cfg.spi,
                      .algorithm = mn->cfg.algorithm,
                      .key = mn->cfg.key,
                      .key_len = mn->cfg.key_len};
    uint8_t buf[MIP_REG_BUF_MAX];
    size_t len = mip_reg_build_request(&r->params, &key, mn->cfg.nai, mn->cfg.nai_len, ident, buf,
                                       sizeof buf);
    if (len == 0) {
        mip_mn_set_error(mn, "cannot encode a registration request");
        mip_reg_cancel(r);
        if (!release) {
            mn->gave_up = true;
            mn->denied = mn->target;
        }
        return;
    }

    bool first = r->transmissions == 0;
    char dst[16], coa[16];
    /* What `mipc status` shows while an agent stays silent. */
    if (!first && !release)
        mip_mn_set_error(mn, "no reply from %s on %s after %u requests",
                         mip_addr_str(r->params.dst, dst), mip_mn_link_name(mn, r->params.ifindex),
                         r->transmissions);
    mip_out_udp(&mn->out, r->params.ifindex, r->params.src, r->params.dst, r->params.sport,
                MIP_REG_PORT, buf, len);
    mip_reg_sent(r, ident, wall, now);
    mn->stats.requests_sent++;
    if (!first)
        mn->stats.retransmissions++;
    if (r->params.deregister)
        mn->stats.deregistrations_sent++;

    unsigned long long next_ms =
        r->next_tx == MIP_TIME_NEVER ? 0 : (unsigned long long)((r->next_tx - now) / MIP_TIME_MS);
    if (release) {
        mip_out_event(&mn->out, first ? MIP_MN_EV_REQUEST_SENT : MIP_MN_EV_RETRANSMIT,
                      r->params.ifindex, r->params.dst, -1,
                      "%srelease of the old care-of %s to %s on %s (lifetime 0, S), next try in "
                      "%llu ms",
                      first ? "" : "retransmitted ", mip_addr_str(r->params.care_of, coa),
                      mip_addr_str(r->params.dst, dst), mip_mn_link_name(mn, r->params.ifindex),
                      next_ms);
        return;
    }
    mip_out_event(&mn->out, first ? MIP_MN_EV_REQUEST_SENT : MIP_MN_EV_RETRANSMIT,
                  r->params.ifindex, r->params.dst, -1,
                  "%s%s to %s on %s: care-of %s, lifetime %u s, %s%s%s%s, next try in %llu ms",
                  first ? "" : "retransmitted ",
                  r->params.deregister ? "deregistration" : "registration request",
                  mip_addr_str(r->params.dst, dst), mip_mn_link_name(mn, r->params.ifindex),
                  mip_addr_str(r->params.care_of, coa), (unsigned)r->params.lifetime,
                  mip_encap_name(r->params.encap), r->params.reverse_tunnel ? ", reverse tunnel" : "",
                  r->params.udp == MIP_UDP_TUNNEL_OFF ? "" : ", udp tunnel requested",
                  r->params.simultaneous ? ", keeping the old binding (S)" : "", next_ms);
}

/* ------------------------------------------------------------------------ */

static void accept_reply(MipMn *mn, const MipRegReply *rep, const MipRegExtensions *ext,
                         const MipRegSent *sent, MipTime now)
{
    MipRegistration *r = &mn->reg;
    char abuf[16];
    mn->stats.replies_accepted++;
    mn->last_error[0] = '\0';

    if (r->params.deregister) {
        mip_out_event(&mn->out, MIP_MN_EV_DEREGISTERED, r->params.ifindex, mn->home_agent,
                      rep->code, "deregistered with home agent %s",
                      mip_addr_str(mn->home_agent, abuf));
        /* Announce ourselves again now that the home agent has stopped
         * proxying: one of its own proxy announcements may have gone out
         * after our first one (RFC 5944 §4.6 allows repeating these). */
        if (mn->at_home)
            mip_out_garp(&mn->out, r->params.ifindex, mn->cfg.home_address);
        mip_reg_cancel(r);
        return;
    }

    /* Never trust a grant longer than what we asked for. */
    uint16_t granted = rep->lifetime < r->params.lifetime ? rep->lifetime : r->params.lifetime;
    MipBinding *b = &mn->cur;
    b->valid = true;
    b->target = mn->target;
    b->params = r->params;
    b->granted = granted;
    b->sent_at = sent->sent_at;
    b->sent_wall = sent->wall_usec;
    /* The lifetime runs from when the request left, not from the reply:
     * the home agent started counting before we heard back (§3.6.2.2). */
    b->expires_at =
        granted == 0xffff ? MIP_TIME_NEVER : sent->sent_at + (MipTime)granted * MIP_TIME_S;
    b->renew_at = mip_reg_renew_at(sent->sent_at, granted);
    b->udp = ext->has_udp_tunnel_reply && ext->udp_tunnel_reply.reply_code == 0 &&
             r->params.udp != MIP_UDP_TUNNEL_OFF;
    b->udp_keepalive = b->udp ? ext->udp_tunnel_reply.keepalive : 0;
    b->trigger_at = mn->trigger_at;
    b->accepted_at = now;
    /* Code 1: the home agent ignored S and replaced the old binding. */
    bool kept_others = r->params.simultaneous && rep->code == MIP_CODE_ACCEPTED;
    mip_reg_cancel(r);

    /* The attempt series succeeded: a later 133 may resync again. */
    mn->resynced = false;
    mn->ha_switched = false;
    mn->deny_count = 0;
    mn->gave_up = false;
    mn->retry_at = MIP_TIME_NEVER;

    mip_out_event(&mn->out, MIP_MN_EV_ACCEPTED, b->params.ifindex, b->params.care_of, rep->code,
                  "registered care-of %s on %s for %u s%s", mip_addr_str(b->params.care_of, abuf),
                  mip_mn_link_name(mn, b->params.ifindex), (unsigned)granted,
                  b->udp ? " (udp tunnel)" : "");
    mip_mn_plan_binding(mn, b, now);
    /* Only now, with the new plan applied, may the old binding go. */
    mip_mn_release_after_accept(mn, kept_others, now);
}

static void back_off(MipMn *mn, MipTime now, const char *why)
{
    mn->deny_count++;
    MipTime wait = mip_reg_denial_backoff(mn->deny_count);
    mn->retry_at = now + wait;
    mn->denied = mn->target;
    mip_mn_set_error(mn, "%s; retrying in %llu s", why, (unsigned long long)(wait / MIP_TIME_S));
}

static void give_up(MipMn *mn, const char *why)
{
    mn->gave_up = true;
    mn->denied = mn->target;
    mip_mn_set_error(mn, "%s", why);
    mip_out_event(&mn->out, MIP_MN_EV_GAVE_UP, mn->target.ifindex, mn->home_agent,
                  mn->last_reply_code, "gave up registering: %s", why);
}

static bool next_encapsulation(MipMn *mn)
{
    static const MipEncapsulation order[] = {MIP_ENCAP_IPIP, MIP_ENCAP_GRE, MIP_ENCAP_MINIMAL};
    mn->encap_tried |= 1u << mn->reg.params.encap;
    const MipAgent *a = NULL;
    if (mn->target.kind == MIP_ATTACH_FA)
        a = mip_agents_find(&mn->agents, mn->target.ifindex, mn->target.agent);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (mn->encap_tried & (1u << order[i]))
            continue;
        if (a && !agent_supports(a, order[i]))
            continue;
        mn->encap = order[i];
        return true;
    }
    return false;
}

/* 133: follow the home agent's clock from now on (§5.7). */
void mip_mn_resync(MipMn *mn, uint64_t denied_ident, const MipRegReply *rep,
                   const MipRegParams *asked)
{
    mn->ident_offset = mip_ident_resync_offset(denied_ident, rep->identification, mn->ident_offset);
    /* The new offset may move our timestamps backwards. */
    mn->last_ident = 0;
    mn->stats.clock_resyncs++;
    mip_out_event(&mn->out, MIP_MN_EV_CLOCK_RESYNC, asked->ifindex, asked->home_agent, rep->code,
                  "identification clock offset now %lld s", (long long)mn->ident_offset);
}

static void resync(MipMn *mn, uint64_t denied_ident, const MipRegReply *rep)
{
    mn->resynced = true;
    mip_mn_resync(mn, denied_ident, rep, &mn->reg.params);
}

static void deny_reply(MipMn *mn, const MipRegReply *rep, const MipRegSent *sent, MipTime now)
{
    MipRegistration *r = &mn->reg;
    char why[96];
    mn->stats.replies_denied++;
    snprintf(why, sizeof why, "denied %u (%s)", (unsigned)rep->code, mip_reg_code_name(rep->code));
    mip_out_event(&mn->out, MIP_MN_EV_DENIED, r->params.ifindex, r->params.dst, rep->code,
                  "registration %s", why);

    if (r->params.deregister) {
        if (rep->code == MIP_CODE_HA_ID_MISMATCH && !mn->resynced) {
            MipRegParams again = r->params;
            resync(mn, sent->ident, rep);
            mip_reg_start(r, &again, now, MIP_REG_AT_ONCE, MIP_REG_DEREG_MAX_TX);
            mip_mn_transmit(mn, now);
            return;
        }
        /* Nothing else to try: the binding will expire by itself. */
        mip_mn_set_error(mn, "deregistration %s", why);
        mip_reg_cancel(r);
        return;
    }

    MipRegParams asked = r->params;
    uint64_t denied_ident = sent->ident;
    mip_reg_cancel(r);
    mn->last_error[0] = '\0';

    switch (mip_reg_denial_action(rep->code)) {
    case MIP_DENY_SHORTER_LIFETIME:
        if (rep->lifetime > 0 && rep->lifetime < asked.lifetime) {
            mn->lifetime_cap = rep->lifetime;
            mip_mn_set_error(mn, "%s; retrying with lifetime %u s", why, (unsigned)rep->lifetime);
            mip_mn_start_attempt(mn, &mn->target, now, MIP_REG_PACED);
            return;
        }
        break;
    case MIP_DENY_RESYNC:
        if (!mn->resynced) {
            resync(mn, denied_ident, rep);
            mip_mn_start_attempt(mn, &mn->target, now, MIP_REG_AT_ONCE);
            return;
        }
        break;
    case MIP_DENY_STOP:
        mn->auth_blocked = true;
        give_up(mn, why);
        return;
    case MIP_DENY_CHANGE_ENCAP:
        if (next_encapsulation(mn)) {
            mip_mn_set_error(mn, "%s; trying %s", why, mip_encap_name(mn->encap));
            mip_mn_start_attempt(mn, &mn->target, now, MIP_REG_PACED);
        } else {
            give_up(mn, "no encapsulation the agents accept");
        }
        return;
    case MIP_DENY_CHANGE_HA:
        if (!mn->ha_switched && rep->home_agent != 0 && rep->home_agent != asked.home_agent) {
            char abuf[16];
            mn->ha_switched = true;
            mn->home_agent = rep->home_agent;
            mip_mn_set_error(mn, "%s; retrying with home agent %s", why,
                             mip_addr_str(rep->home_agent, abuf));
            mip_mn_start_attempt(mn, &mn->target, now, MIP_REG_PACED);
            return;
        }
        break;
    case MIP_DENY_NEED_REVERSE_TUNNEL:
        if (!asked.reverse_tunnel) {
            mn->rt_forced = true;
            mip_mn_start_attempt(mn, &mn->target, now, MIP_REG_PACED);
            return;
        }
        break;
    case MIP_DENY_BACKOFF:
        break;
    }
    back_off(mn, now, why);
}

void mip_mn_handle_reply(MipMn *mn, const uint8_t *buf, size_t len, uint16_t sport, MipTime now)
{
    MipAuthKey key = {.spi = mn->cfg.spi,
                      .algorithm = mn->cfg.algorithm,
                      .key = mn->cfg.key,
                      .key_len = mn->cfg.key_len};
    MipRegReply rep;
    MipRegExtensions ext;
    const MipRegSent *sent = NULL;
    int drop = mip_reg_check_reply(&mn->reg, buf, len, sport, mn->cfg.home_address, &key, &rep,
                                   &ext, &sent);
    if (drop >= 0) {
        if ((drop == MIP_MN_DROP_UNSOLICITED || drop == MIP_MN_DROP_IDENT_MISMATCH) &&
            mip_mn_release_reply(mn, buf, len, sport, now))
            return;
        mn->stats.replies_dropped[drop]++;
        /* Dropped silently on the wire (RFC 5944 §3.6.2.1), but the user
         * should learn that the keys disagree. */
        if (drop == MIP_MN_DROP_AUTH_FAILED || drop == MIP_MN_DROP_AUTH_MISSING)
            mip_mn_set_error(mn, "dropped a reply that failed authentication: check spi, "
                                 "algorithm and key-file against the home agent's");
        return;
    }
    mn->last_reply_code = rep.code;
    /* sent points into reg, which the handlers reset: copy it. */
    MipRegSent s = *sent;
    if (mip_reg_code_accepted(rep.code) && rep.lifetime == 0 && !mn->reg.params.deregister) {
        /* "Accepted" for no time at all is no binding: treat it as a
         * denial that says "not now". */
        mn->stats.replies_denied++;
        mip_reg_cancel(&mn->reg);
        back_off(mn, now, "accepted with a zero lifetime");
        mip_out_event(&mn->out, MIP_MN_EV_DENIED, mn->target.ifindex, mn->home_agent, rep.code,
                      "registration accepted with a zero lifetime");
    } else if (mip_reg_code_accepted(rep.code)) {
        accept_reply(mn, &rep, &ext, &s, now);
    } else {
        deny_reply(mn, &rep, &s, now);
    }
}
