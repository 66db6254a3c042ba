/* One registration attempt: request encoding, retransmission schedule, reply
 * matching and checking, denial classification (RFC 5944 §3.6). */
#include "attempt.h"

#include <string.h>

#include "../proto/ident.h"

void mip_reg_init(MipRegistration *r)
{
    memset(r, 0, sizeof *r);
    r->next_tx = MIP_TIME_NEVER;
}

void mip_reg_start(MipRegistration *r, const MipRegParams *p, MipTime now, MipRegPacing pacing,
                   unsigned max_transmissions)
{
    r->active = true;
    r->params = *p;
    r->n_sent = 0;
    r->transmissions = 0;
    r->max_transmissions = max_transmissions;
    /* RFC 5944 §3.6.3 caps the backoff at the requested lifetime; a
     * deregistration asks for 0 and gets a short cap of its own. */
    r->cap = p->deregister ? MIP_REG_DEREG_CAP : (MipTime)p->lifetime * MIP_TIME_S;
    if (r->cap < MIP_REG_MIN_INTERVAL)
        r->cap = MIP_REG_MIN_INTERVAL;
    r->next_tx = now;
    switch (pacing) {
    case MIP_REG_PACED:
        if (r->ever_sent && r->last_tx + MIP_REG_MIN_INTERVAL > now)
            r->next_tx = r->last_tx + MIP_REG_MIN_INTERVAL;
        break;
    case MIP_REG_NEW_ATTACHMENT:
        if (r->n_recent == MIP_REG_BURST && r->recent[0] + MIP_REG_MIN_INTERVAL > now)
            r->next_tx = r->recent[0] + MIP_REG_MIN_INTERVAL;
        break;
    case MIP_REG_AT_ONCE:
        break;
    }
}

void mip_reg_cancel(MipRegistration *r)
{
    r->active = false;
    r->n_sent = 0;
    r->next_tx = MIP_TIME_NEVER;
}

bool mip_reg_due(const MipRegistration *r, MipTime now)
{
    if (!r->active || now < r->next_tx)
        return false;
    return r->max_transmissions == 0 || r->transmissions < r->max_transmissions;
}

bool mip_reg_exhausted(const MipRegistration *r, MipTime now)
{
    return r->active && r->max_transmissions != 0 && r->transmissions >= r->max_transmissions &&
           now >= r->next_tx;
}

MipTime mip_reg_retransmit_interval(unsigned n, MipTime cap)
{
    MipTime gap = MIP_REG_MIN_INTERVAL;
    for (unsigned i = 1; i < n && gap < cap; i++)
        gap *= 2;
    return gap > cap ? cap : gap;
}

void mip_reg_sent(MipRegistration *r, uint64_t ident, uint64_t wall_usec, MipTime now)
{
    MipRegSent s = {.ident = ident, .sent_at = now, .wall_usec = wall_usec};
    if (r->n_sent == MIP_REG_SENT_MAX) {
        memmove(&r->sent[0], &r->sent[1], (MIP_REG_SENT_MAX - 1) * sizeof r->sent[0]);
        r->n_sent--;
    }
    r->sent[r->n_sent++] = s;
    if (r->n_recent == MIP_REG_BURST) {
        memmove(&r->recent[0], &r->recent[1], (MIP_REG_BURST - 1) * sizeof r->recent[0]);
        r->n_recent--;
    }
    r->recent[r->n_recent++] = now;
    r->transmissions++;
    r->last_tx = now;
    r->ever_sent = true;
    r->next_tx = now + mip_reg_retransmit_interval(r->transmissions, r->cap);
}

const MipRegSent *mip_reg_match(const MipRegistration *r, uint64_t reply_ident)
{
    if (!r->active)
        return NULL;
    for (size_t i = r->n_sent; i-- > 0;) {
        if (mip_ident_reply_matches(r->sent[i].ident, reply_ident))
            return &r->sent[i];
    }
    return NULL;
}

static uint8_t encap_flags(MipEncapsulation e)
{
    switch (e) {
    case MIP_ENCAP_GRE:
        return MIP_REQ_G;
    case MIP_ENCAP_MINIMAL:
        return MIP_REQ_M;
    case MIP_ENCAP_IPIP:
    case MIP_ENCAP_UDP:
        break;
    }
    return 0;
}

static uint8_t udp_next_header(MipEncapsulation e)
{
    switch (e) {
    case MIP_ENCAP_GRE:
        return MIP_UDPT_ENCAP_GRE;
    case MIP_ENCAP_MINIMAL:
        return MIP_UDPT_ENCAP_MINIMAL;
    case MIP_ENCAP_IPIP:
    case MIP_ENCAP_UDP:
        break;
    }
    return MIP_UDPT_ENCAP_IPIP;
}

size_t mip_reg_build_request(const MipRegParams *p, const MipAuthKey *key, const uint8_t *nai,
                             size_t nai_len, uint64_t ident, uint8_t *buf, size_t cap)
{
    MipRegRequest req = {
        .flags = 0,
        .lifetime = p->deregister ? 0 : p->lifetime,
        .home_address = p->home_address,
        .home_agent = p->home_agent,
        .care_of_address = p->care_of,
        .identification = ident,
    };
    if (!p->deregister) {
        if (p->mode == MIP_PLAN_COLOCATED)
            req.flags |= MIP_REQ_D;
        req.flags |= encap_flags(p->encap);
        if (p->reverse_tunnel)
            req.flags |= MIP_REQ_T;
    }
    if (p->simultaneous)
        req.flags |= MIP_REQ_S;

    MipWriter w;
    mip_writer_init(&w, buf, cap);
    if (mip_reg_request_write(&w, &req) != MIP_OK)
        return 0;
    /* Extensions the authenticator must cover come first (RFC 5944 §3.6.1.3). */
    if (nai_len > 0 && mip_ext_write_nai(&w, nai, nai_len) != MIP_OK)
        return 0;
    if (!p->deregister && p->mode == MIP_PLAN_COLOCATED && p->udp != MIP_UDP_TUNNEL_OFF) {
        MipUdpTunnelRequest u = {
            .subtype = 0,
            .flags = p->udp == MIP_UDP_TUNNEL_ON ? MIP_UDPT_F : 0,
            .encapsulation = udp_next_header(p->encap),
        };
        if (mip_ext_write_udp_tunnel_request(&w, &u) != MIP_OK)
            return 0;
    }
    if (p->mode == MIP_PLAN_FOREIGN_AGENT && p->challenge_len > 0 &&
        mip_ext_write_challenge(&w, p->challenge, p->challenge_len) != MIP_OK)
        return 0;
    if (mip_auth_write(&w, MIP_EXT_MH_AUTH, key) != MIP_OK)
        return 0;
    return w.len;
}

static bool foreign_agent_code(uint8_t code)
{
    return code >= 64 && code <= 127;
}

int mip_reg_check_reply(const MipRegistration *r, const uint8_t *buf, size_t len, uint16_t sport,
                        uint32_t home_address, const MipAuthKey *key, MipRegReply *rep,
                        MipRegExtensions *ext, const MipRegSent **sent)
{
    if (sport != MIP_REG_PORT)
        return MIP_MN_DROP_BAD_PORT;
    if (mip_reg_reply_decode(buf, len, rep, ext) != MIP_OK)
        return MIP_MN_DROP_MALFORMED;
    if (!r->active)
        return MIP_MN_DROP_UNSOLICITED;
    if (rep->home_address != home_address)
        return MIP_MN_DROP_HOME_ADDRESS;
    *sent = mip_reg_match(r, rep->identification);
    if (!*sent)
        return MIP_MN_DROP_IDENT_MISMATCH;
    /* A foreign agent cannot compute the Mobile-Home authenticator, so its
     * own denials come without one (§3.7.3); anything it relays from the home
     * agent, and every acceptance, must carry a valid one. */
    if (foreign_agent_code(rep->code) && !ext->mh.present)
        return -1;
    MipProtoError err = mip_auth_verify_mh(buf, len, ext, key);
    if (err == MIP_OK)
        return -1;
    return err == MIP_ERR_AUTH_MISSING ? MIP_MN_DROP_AUTH_MISSING : MIP_MN_DROP_AUTH_FAILED;
}

MipTime mip_reg_renew_at(MipTime sent_at, uint16_t granted)
{
    if (granted == 0xffff)
        return MIP_TIME_NEVER;
    MipTime life = (MipTime)granted * MIP_TIME_S;
    MipTime margin = life / 10;
    if (margin < MIP_REG_RENEW_MARGIN_MIN)
        margin = MIP_REG_RENEW_MARGIN_MIN;
    if (margin > life / 2)
        margin = life / 2;
    return sent_at + life - margin;
}

MipDenialAction mip_reg_denial_action(uint8_t code)
{
    switch (code) {
    case MIP_CODE_FA_LIFETIME_TOO_LONG:
    case MIP_CODE_HA_NO_RESOURCES:
        return MIP_DENY_SHORTER_LIFETIME;
    case MIP_CODE_HA_ID_MISMATCH:
        return MIP_DENY_RESYNC;
    case MIP_CODE_HA_MN_AUTH_FAILED:
    case MIP_CODE_FA_MN_AUTH_FAILED:
        return MIP_DENY_STOP;
    case MIP_CODE_FA_ENCAPSULATION_UNAVAILABLE:
    case MIP_CODE_HA_ENCAPSULATION_UNAVAILABLE:
        return MIP_DENY_CHANGE_ENCAP;
    case MIP_CODE_HA_UNKNOWN_HA_ADDRESS:
        return MIP_DENY_CHANGE_HA;
    case MIP_CODE_FA_REVERSE_TUNNEL_MANDATORY:
    case MIP_CODE_HA_REVERSE_TUNNEL_MANDATORY:
        return MIP_DENY_NEED_REVERSE_TUNNEL;
    default:
        return MIP_DENY_BACKOFF;
    }
}

MipTime mip_reg_denial_backoff(unsigned n)
{
    MipTime gap = MIP_REG_DENY_BACKOFF_FIRST;
    for (unsigned i = 1; i < n && gap < MIP_REG_DENY_BACKOFF_MAX; i++)
        gap *= 2;
    return gap > MIP_REG_DENY_BACKOFF_MAX ? MIP_REG_DENY_BACKOFF_MAX : gap;
}
