/* Letting the old binding go after a make-before-break handover: the care-of
 * addresses the home agent may hold beside the binding in force (registered
 * with S, RFC 5944 §3.6.1.1), each deregistered alone -- lifetime 0, S, that
 * care-of address -- once the new binding is in force and its plan applied.
 * Releases go one at a time from a registration slot of their own, so they
 * never disturb the attempt in reg, its retransmission schedule or its
 * reply matching. */
#include <string.h>

#include "mn_internal.h"

static void forget_at(MipRelease *set, size_t *n, size_t i)
{
    memmove(&set[i], &set[i + 1], (*n - i - 1) * sizeof set[0]);
    (*n)--;
}

void mip_mn_release_remember(MipMn *mn, MipRelease *set, size_t *n, const MipAttach *t,
                             MipTime until)
{
    (void)mn;
    /* The home agent knows a binding by its care-of address alone; the
     * latest way to reach it is the one to use. */
    for (size_t i = 0; i < *n; i++) {
        if (set[i].target.coa == t->coa) {
            set[i].target = *t;
            if (until > set[i].until)
                set[i].until = until;
            return;
        }
    }
    /* Full: the oldest is forgotten and lapses at the home agent by itself. */
    if (*n == MIP_MN_RELEASE_MAX)
        forget_at(set, n, 0);
    set[(*n)++] = (MipRelease){.target = *t, .until = until};
}

static void forget_coa(MipRelease *set, size_t *n, uint32_t coa)
{
    for (size_t i = *n; i-- > 0;) {
        if (set[i].target.coa == coa)
            forget_at(set, n, i);
    }
}

void mip_mn_release_cancel_coa(MipMn *mn, uint32_t coa)
{
    /* Registered again: releasing it now would remove the new binding. A
     * release already sent has a lower Identification than the new request,
     * so if the home agent sees it second it refuses it as a replay. */
    forget_coa(mn->overlap, &mn->n_overlap, coa);
    forget_coa(mn->releases, &mn->n_releases, coa);
    if (mn->release.active && mn->release.params.care_of == coa)
        mip_reg_cancel(&mn->release);
}

void mip_mn_release_forget(MipMn *mn)
{
    mn->n_overlap = 0;
    mn->n_releases = 0;
}

void mip_mn_release_after_accept(MipMn *mn, bool simultaneous, MipTime now)
{
    if (!simultaneous) {
        /* Without S the new binding replaced every other one. */
        mip_mn_release_forget(mn);
        return;
    }
    for (size_t i = 0; i < mn->n_overlap; i++) {
        const MipRelease *o = &mn->overlap[i];
        if (o->target.coa != mn->cur.params.care_of)
            mip_mn_release_remember(mn, mn->releases, &mn->n_releases, &o->target, o->until);
    }
    mn->n_overlap = 0;
    forget_coa(mn->releases, &mn->n_releases, mn->cur.params.care_of);
    mip_mn_release_run(mn, now);
}

static void expire(MipRelease *set, size_t *n, MipTime now)
{
    for (size_t i = *n; i-- > 0;) {
        if (set[i].until <= now)
            forget_at(set, n, i);
    }
}

/* A registration is on its way to the home agent: a release sent now has a
 * higher Identification and, overtaking it, would get it refused as a
 * replay (133). If it is accepted without S, it replaces every binding and
 * nothing is left to release anyway. */
static bool registering(const MipMn *mn)
{
    return mn->reg.active && !mn->reg.params.deregister;
}

void mip_mn_release_settle(MipMn *mn, MipTime now)
{
    expire(mn->overlap, &mn->n_overlap, now);
    expire(mn->releases, &mn->n_releases, now);
    /* The attempt those waited for is over (abandoned or denied) and a
     * binding is in force to send through: release them now. */
    if (mn->n_overlap == 0 || registering(mn) || !mn->cur.valid)
        return;
    for (size_t i = 0; i < mn->n_overlap; i++) {
        const MipRelease *o = &mn->overlap[i];
        if (o->target.coa != mn->cur.params.care_of)
            mip_mn_release_remember(mn, mn->releases, &mn->n_releases, &o->target, o->until);
    }
    mn->n_overlap = 0;
}

static const MipLinkEntry *usable_link(const MipMn *mn, int ifindex)
{
    for (size_t i = 0; i < mn->links.n; i++) {
        const MipLinkEntry *l = &mn->links.links[i];
        if (l->info.ifindex == ifindex)
            return mip_link_usable(l) ? l : NULL;
    }
    return NULL;
}

static bool agent_alive(const MipMn *mn, int ifindex, uint32_t address, MipTime now)
{
    for (size_t i = 0; i < mn->agents.n; i++) {
        const MipAgent *a = &mn->agents.agents[i];
        if (a->ifindex == ifindex && a->address == address)
            return a->expires_at > now;
    }
    return false;
}

/* The release goes the way its binding was registered while that way still
 * exists (through the old foreign agent, which then drops its visitor entry
 * too; or from the old co-located address). Otherwise it names the old
 * care-of address but leaves as the binding in force sends: from its
 * co-located address, or from the home address through its agent's link. */
static bool release_params(MipMn *mn, const MipAttach *t, MipTime now, MipRegParams *p)
{
    mip_mn_build_params(mn, t, true, p);
    p->simultaneous = true;
    const MipLinkEntry *l = usable_link(mn, t->ifindex);
    bool old_way = l && (t->kind == MIP_ATTACH_FA ? agent_alive(mn, t->ifindex, t->agent, now)
                                                  : l->info.address == t->coa);
    if (old_way)
        return true;
    if (!mn->cur.valid)
        return false;
    p->mode = MIP_PLAN_COLOCATED; /* no agent on the way: no challenge, sent to the HA */
    p->ifindex = mn->cur.params.ifindex;
    p->dst = mn->home_agent;
    p->src =
        mn->cur.target.kind == MIP_ATTACH_COLOCATED ? mn->cur.target.coa : mn->cfg.home_address;
    p->agent = 0;
    p->challenge_len = 0;
    return true;
}

static long long seconds_left(const MipMn *mn, MipTime now)
{
    return mn->release_until > now ? (long long)((mn->release_until - now) / MIP_TIME_S) : 0;
}

void mip_mn_release_run(MipMn *mn, MipTime now)
{
    MipRegistration *r = &mn->release;
    if (mip_reg_exhausted(r, now)) {
        char abuf[16];
        mip_out_event(&mn->out, MIP_MN_EV_RELEASED, r->params.ifindex, r->params.care_of, -1,
                      "no answer to the release of the old care-of %s; it lapses in %lld s",
                      mip_addr_str(r->params.care_of, abuf), seconds_left(mn, now));
        mip_reg_cancel(r);
    }
    while (!r->active && mn->n_releases > 0 && !registering(mn)) {
        MipRelease next = mn->releases[0];
        MipRegParams p;
        if (!release_params(mn, &next.target, now, &p))
            return; /* no way to send it yet: it waits (or lapses) */
        forget_at(mn->releases, &mn->n_releases, 0);
        mn->release_target = next.target;
        mn->release_until = next.until;
        mn->release_resynced = false;
        mip_reg_start(r, &p, now, MIP_REG_AT_ONCE, MIP_MN_RELEASE_MAX_TX);
    }
    if (mip_reg_due(r, now))
        mip_mn_transmit_on(mn, r, now);
}

bool mip_mn_release_reply(MipMn *mn, const uint8_t *buf, size_t len, uint16_t sport, MipTime now)
{
    MipRegistration *r = &mn->release;
    if (!r->active)
        return false;
    MipAuthKey key = {.spi = mn->cfg.spi,
                      .algorithm = mn->cfg.algorithm,
                      .key = mn->cfg.key,
                      .key_len = mn->cfg.key_len};
    MipRegReply rep;
    MipRegExtensions ext;
    const MipRegSent *sent = NULL;
    if (mip_reg_check_reply(r, buf, len, sport, mn->cfg.home_address, &key, &rep, &ext, &sent) >= 0)
        return false;
    uint64_t ident = sent->ident;
    char abuf[16];
    mip_addr_str(r->params.care_of, abuf);

    if (mip_reg_code_accepted(rep.code)) {
        mn->stats.replies_accepted++;
        mip_out_event(&mn->out, MIP_MN_EV_RELEASED, r->params.ifindex, r->params.care_of, rep.code,
                      "released the old care-of %s at the home agent", abuf);
        mip_reg_cancel(r);
    } else if (rep.code == MIP_CODE_HA_ID_MISMATCH && !mn->release_resynced) {
        /* The same release again with the home agent's clock (§5.7). */
        MipRegParams again = r->params;
        mn->stats.replies_denied++;
        mn->release_resynced = true;
        mip_mn_resync(mn, ident, &rep, &again);
        mip_reg_start(r, &again, now, MIP_REG_AT_ONCE, MIP_MN_RELEASE_MAX_TX);
    } else {
        mn->stats.replies_denied++;
        mip_out_event(&mn->out, MIP_MN_EV_RELEASED, r->params.ifindex, r->params.care_of, rep.code,
                      "the home agent refused to release the old care-of %s (code %u, %s); it "
                      "lapses in %lld s",
                      abuf, (unsigned)rep.code, mip_reg_code_name(rep.code), seconds_left(mn, now));
        mip_reg_cancel(r);
    }
    mip_mn_release_run(mn, now);
    return true;
}

MipTime mip_mn_release_deadline(const MipMn *mn)
{
    return mn->release.active ? mn->release.next_tx : MIP_TIME_NEVER;
}
