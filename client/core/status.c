/* What the engine tells the outside: configuration defaults and validation,
 * names of its enums, its state, statistics, agent and link listings. */
#include <stdio.h>
#include <string.h>

#include "mn_internal.h"

const char *mip_mn_strerror(MipMnError err)
{
    switch (err) {
    case MIP_MN_OK:
        return "success";
    case MIP_MN_ERR_INVALID_CONFIG:
        return "invalid configuration";
    case MIP_MN_ERR_NO_SUCH_LINK:
        return "no such link";
    case MIP_MN_ERR_LINK_IGNORED:
        return "link is ignored by configuration";
    case MIP_MN_ERR_LINK_UNUSABLE:
        return "link is not usable";
    case MIP_MN_ERR_NO_MEMORY:
        return "out of memory";
    }
    return "unknown error";
}

void mip_mn_config_init(MipMnConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->home_prefix_len = 24;
    cfg->algorithm = MIP_AUTH_HMAC_MD5;
    cfg->lifetime = 600;
    cfg->reverse_tunnel = false;
    cfg->encapsulation = MIP_ENCAP_IPIP;
    cfg->udp_tunnel = MIP_UDP_TUNNEL_AUTO;
    cfg->care_of_mode = MIP_CARE_OF_AUTO;
    cfg->make_before_break = true;
    cfg->simultaneous_bindings = true;
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

MipMnError mip_mn_config_validate(const MipMnConfig *cfg, const char **why)
{
    const char *w = NULL;
    if (cfg->home_address == 0)
        w = "home-address is not set";
    else if (cfg->home_prefix_len < 1 || cfg->home_prefix_len > 32)
        w = "home-prefix-length must be 1-32";
    else if (cfg->home_agent == 0)
        w = "home-agent is not set";
    else if (cfg->home_agent == cfg->home_address)
        w = "home-agent equals home-address";
    else if (cfg->spi < MIP_SPI_MIN)
        w = "spi must be 256 or more (0-255 are reserved)";
    else if (cfg->algorithm != MIP_AUTH_HMAC_MD5 && cfg->algorithm != MIP_AUTH_KEYED_MD5)
        w = "algorithm must be hmac-md5 or keyed-md5";
    else if (cfg->key_len == 0 || cfg->key_len > MIP_MN_KEY_MAX)
        w = "key must be 1-64 bytes";
    else if (cfg->lifetime == 0 || cfg->lifetime == 0xffff)
        w = "lifetime must be 1-65534 s";
    else if (cfg->encapsulation > MIP_ENCAP_UDP)
        w = "encapsulation must be ipip, gre, minimal or udp";
    else if (cfg->udp_tunnel > MIP_UDP_TUNNEL_ON)
        w = "udp tunnelling must be off, auto or on";
    else if (cfg->care_of_mode > MIP_CARE_OF_COLOCATED)
        w = "care-of-mode must be auto, foreign-agent or co-located";
    else if (cfg->n_prefer > MIP_MN_MAX_PATTERNS || cfg->n_ignore > MIP_MN_MAX_PATTERNS)
        w = "too many link patterns (at most 16 each)";
    else if (cfg->nai_len > MIP_MN_NAI_MAX)
        w = "nai is longer than 72 bytes";
    if (!w) {
        for (size_t i = 0; i < cfg->n_prefer && !w; i++) {
            if (!terminated(cfg->prefer[i], MIP_MN_PATTERN_MAX) || !cfg->prefer[i][0])
                w = "a link preference is empty or longer than 31 bytes";
        }
        for (size_t i = 0; i < cfg->n_ignore && !w; i++) {
            if (!terminated(cfg->ignore[i], MIP_MN_PATTERN_MAX) || !cfg->ignore[i][0])
                w = "an ignore pattern is empty or longer than 31 bytes";
        }
    }
    if (why)
        *why = w;
    return w ? MIP_MN_ERR_INVALID_CONFIG : MIP_MN_OK;
}

const char *mip_mn_state_name(MipMnState s)
{
    switch (s) {
    case MIP_MN_STATE_IDLE:
        return "idle";
    case MIP_MN_STATE_AT_HOME:
        return "at-home";
    case MIP_MN_STATE_DISCOVERING:
        return "discovering";
    case MIP_MN_STATE_REGISTERING:
        return "registering";
    case MIP_MN_STATE_REGISTERED:
        return "registered";
    case MIP_MN_STATE_DEREGISTERING:
        return "deregistering";
    case MIP_MN_STATE_DENIED:
        return "denied";
    case MIP_MN_STATE_STOPPED:
        return "stopped";
    }
    return "unknown";
}

const char *mip_mn_event_name(MipMnEventType t)
{
    switch (t) {
    case MIP_MN_EV_LINK_UP:
        return "link-up";
    case MIP_MN_EV_LINK_DOWN:
        return "link-down";
    case MIP_MN_EV_AGENT_FOUND:
        return "agent-found";
    case MIP_MN_EV_AGENT_LOST:
        return "agent-lost";
    case MIP_MN_EV_AGENT_REBOOTED:
        return "agent-rebooted";
    case MIP_MN_EV_MOVED:
        return "moved";
    case MIP_MN_EV_REQUEST_SENT:
        return "request-sent";
    case MIP_MN_EV_RETRANSMIT:
        return "retransmit";
    case MIP_MN_EV_ACCEPTED:
        return "accepted";
    case MIP_MN_EV_DENIED:
        return "denied";
    case MIP_MN_EV_CLOCK_RESYNC:
        return "clock-resync";
    case MIP_MN_EV_GAVE_UP:
        return "gave-up";
    case MIP_MN_EV_EXPIRED:
        return "expired";
    case MIP_MN_EV_RETURNED_HOME:
        return "returned-home";
    case MIP_MN_EV_DEREGISTERED:
        return "deregistered";
    case MIP_MN_EV_HANDOVER:
        return "handover";
    case MIP_MN_EV_RELEASED:
        return "released";
    }
    return "unknown";
}

const char *mip_mn_drop_reason_name(MipMnDropReason r)
{
    switch (r) {
    case MIP_MN_DROP_MALFORMED:
        return "malformed";
    case MIP_MN_DROP_UNSOLICITED:
        return "unsolicited";
    case MIP_MN_DROP_IDENT_MISMATCH:
        return "ident-mismatch";
    case MIP_MN_DROP_HOME_ADDRESS:
        return "home-address-mismatch";
    case MIP_MN_DROP_AUTH_MISSING:
        return "auth-missing";
    case MIP_MN_DROP_AUTH_FAILED:
        return "auth-failed";
    case MIP_MN_DROP_BAD_PORT:
        return "bad-port";
    case MIP_MN_DROP_COUNT:
        break;
    }
    return "unknown";
}

const char *mip_addr_str(uint32_t addr, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24) & 0xff, (unsigned)(addr >> 16) & 0xff,
             (unsigned)(addr >> 8) & 0xff, (unsigned)addr & 0xff);
    return buf;
}

const char *mip_mn_link_name(const MipMn *mn, int ifindex)
{
    for (size_t i = 0; i < mn->links.n; i++) {
        if (mn->links.links[i].info.ifindex == ifindex)
            return mn->links.links[i].info.name[0] ? mn->links.links[i].info.name : "(unnamed)";
    }
    return ifindex ? "(gone)" : "(none)";
}

static bool any_usable(const MipMn *mn)
{
    for (size_t i = 0; i < mn->links.n; i++) {
        if (mip_link_usable(&mn->links.links[i]))
            return true;
    }
    return false;
}

void mip_mn_update_state(MipMn *mn)
{
    MipMnState s;
    if (mn->reg.active && mn->reg.params.deregister)
        s = MIP_MN_STATE_DEREGISTERING;
    else if (mn->stopped)
        s = MIP_MN_STATE_STOPPED;
    else if (mn->at_home)
        s = MIP_MN_STATE_AT_HOME;
    else if (!any_usable(mn))
        s = MIP_MN_STATE_IDLE;
    else if (mn->cur.valid)
        s = MIP_MN_STATE_REGISTERED;
    else if (mn->reg.active)
        s = MIP_MN_STATE_REGISTERING;
    else if (mn->auth_blocked || mn->gave_up || mn->retry_at != MIP_TIME_NEVER)
        s = MIP_MN_STATE_DENIED;
    else
        s = MIP_MN_STATE_DISCOVERING;
    if (s != mn->state) {
        mip_out_state(&mn->out, mn->state, s);
        mn->state = s;
    }
}

void mip_mn_get_stats(const MipMn *mn, MipMnStats *out)
{
    *out = mn->stats;
}

void mip_mn_get_status(const MipMn *mn, MipMnStatus *out)
{
    memset(out, 0, sizeof *out);
    out->state = mn->state;
    out->home_address = mn->cfg.home_address;
    out->home_agent = mn->home_agent;
    out->encapsulation = mn->encap;
    out->reverse_tunnel = mn->cfg.reverse_tunnel;
    out->requested_lifetime = mn->cfg.lifetime;
    out->last_reply_code = mn->last_reply_code;
    out->request_outstanding = mn->reg.active && mn->reg.transmissions > 0;
    out->next_attempt_at = MIP_TIME_NEVER;
    if (mn->retry_at != MIP_TIME_NEVER && !mn->auth_blocked)
        out->next_attempt_at = mn->retry_at;
    snprintf(out->last_error, sizeof out->last_error, "%s", mn->last_error);

    out->mode = MIP_PLAN_NONE;
    if (mn->at_home) {
        out->mode = MIP_PLAN_HOME;
        out->ifindex = mn->home_ifindex;
    } else if (mn->cur.valid) {
        const MipBinding *b = &mn->cur;
        out->mode = b->params.mode;
        out->ifindex = b->params.ifindex;
        out->care_of_address = b->params.care_of;
        out->foreign_agent = b->params.agent;
        out->encapsulation = b->udp ? MIP_ENCAP_UDP : b->params.encap;
        out->reverse_tunnel = b->params.reverse_tunnel;
        out->udp_tunnel = b->udp;
        out->requested_lifetime = b->params.lifetime;
        out->granted_lifetime = b->granted;
        out->registered_at = b->sent_at;
        out->expires_at = b->expires_at;
        out->registered_at_wall = b->sent_wall;
        out->expires_at_wall =
            b->granted == 0xffff ? UINT64_MAX : b->sent_wall + (uint64_t)b->granted * 1000000u;
    } else if (mn->reg.active) {
        out->ifindex = mn->reg.params.ifindex;
        out->care_of_address = mn->reg.params.deregister ? 0 : mn->reg.params.care_of;
        out->foreign_agent = mn->reg.params.agent;
        out->requested_lifetime = mn->reg.params.lifetime;
    }
    if (out->ifindex) {
        const char *name = mip_mn_link_name(mn, out->ifindex);
        snprintf(out->ifname, sizeof out->ifname, "%s", name[0] == '(' ? "" : name);
    }
}

bool mip_mn_get_plan(const MipMn *mn, MipPlan *out)
{
    if (!mn->plan_valid)
        return false;
    *out = mn->plan;
    return true;
}

size_t mip_mn_agent_count(const MipMn *mn)
{
    return mn->agents.n;
}

bool mip_mn_agent_get(const MipMn *mn, size_t i, MipMnAgentInfo *out)
{
    if (i >= mn->agents.n)
        return false;
    const MipAgent *a = &mn->agents.agents[i];
    memset(out, 0, sizeof *out);
    out->ifindex = a->ifindex;
    out->address = a->address;
    out->flags = a->flags;
    out->sequence = a->sequence;
    out->reg_lifetime = a->reg_lifetime;
    out->adv_lifetime = a->adv_lifetime;
    out->n_coa = a->n_coa;
    memcpy(out->coa, a->coa, a->n_coa * sizeof a->coa[0]);
    out->prefix_len = a->prefix_len;
    out->first_seen = a->first_seen;
    out->last_seen = a->last_seen;
    out->expires_at = a->expires_at;
    out->home_agent = mip_mn_agent_is_home(mn, a);
    out->in_use = (mn->cur.valid && mn->cur.target.kind == MIP_ATTACH_FA &&
                   mn->cur.target.ifindex == a->ifindex && mn->cur.target.agent == a->address) ||
                  (mn->reg.active && mn->target.kind == MIP_ATTACH_FA &&
                   mn->target.ifindex == a->ifindex && mn->target.agent == a->address);
    return true;
}

size_t mip_mn_link_count(const MipMn *mn)
{
    return mn->links.n;
}

bool mip_mn_link_get(const MipMn *mn, size_t i, MipMnLinkStatus *out)
{
    if (i >= mn->links.n)
        return false;
    const MipLinkEntry *l = &mn->links.links[i];
    memset(out, 0, sizeof *out);
    out->info = l->info;
    out->ignored = l->ignored;
    out->preference = l->preference;
    out->usable = mip_link_usable(l);
    /* Home by address only: agent expiry needs a time the query lacks, and
     * the engine's own view (at_home) covers the advertisement case. */
    out->home = (mn->at_home && mn->home_ifindex == l->info.ifindex) ||
                (l->info.address != 0 && mip_mn_in_home_prefix(mn, l->info.address));
    out->in_use = (mn->at_home && mn->home_ifindex == l->info.ifindex) ||
                  (mn->cur.valid && mn->cur.params.ifindex == l->info.ifindex);
    out->solicitations_sent = l->solicit.sent;
    out->next_solicitation = l->solicit.next_at;
    return true;
}
