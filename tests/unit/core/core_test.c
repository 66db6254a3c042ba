/* The fake world of the core's unit tests (see core_test.h). */
#include "core_test.h"

#include <string.h>

#include "client/proto/advert.h"
#include "client/proto/auth.h"
#include "client/proto/extensions.h"

/* The lab's SPI 256 key, "mipd-lab-key-001". */
const uint8_t ct_key[16] = {0x6d, 0x69, 0x70, 0x64, 0x2d, 0x6c, 0x61, 0x62,
                            0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x30, 0x31};

static uint64_t cb_wall(void *user)
{
    Ct *ct = user;
    return (uint64_t)((int64_t)(CT_WALL_BASE + ct->now) + ct->wall_skew_usec);
}

static uint32_t cb_random(void *user)
{
    Ct *ct = user;
    ct->rnd = ct->rnd * 1103515245u + 12345u;
    return ct->rnd;
}

static void cb_icmp(void *user, int ifindex, uint32_t dst, uint8_t ttl, const uint8_t *buf,
                    size_t len)
{
    Ct *ct = user;
    CtPacket p = {.at = ct->now,
                  .order = ct->order++,
                  .ifindex = ifindex,
                  .dst = dst,
                  .ttl = ttl,
                  .len = len};
    g_assert_cmpuint(len, <=, sizeof p.buf);
    memcpy(p.buf, buf, len);
    g_array_append_val(ct->icmp, p);
}

static void cb_udp(void *user, int ifindex, uint32_t src, uint32_t dst, uint16_t sport,
                   uint16_t dport, const uint8_t *buf, size_t len)
{
    Ct *ct = user;
    CtPacket p = {.at = ct->now,
                  .order = ct->order++,
                  .ifindex = ifindex,
                  .src = src,
                  .dst = dst,
                  .sport = sport,
                  .dport = dport,
                  .len = len};
    g_assert_cmpuint(len, <=, sizeof p.buf);
    memcpy(p.buf, buf, len);
    g_array_append_val(ct->udp, p);
}

static void cb_plan(void *user, const MipPlan *plan)
{
    Ct *ct = user;
    CtPlan p = {.at = ct->now, .order = ct->order++, .plan = *plan};
    g_array_append_val(ct->plans, p);
}

static void cb_state(void *user, MipMnState from, MipMnState to)
{
    Ct *ct = user;
    CtState s = {.at = ct->now, .from = from, .to = to};
    g_array_append_val(ct->states, s);
    /* The engine is consistent when it reports: the query agrees. */
    MipMnStatus st;
    mip_mn_get_status(ct->mn, &st);
    g_assert_cmpint(st.state, ==, to);
}

static void cb_event(void *user, const MipMnEvent *ev)
{
    Ct *ct = user;
    CtEvent e = {
        .at = ct->now, .order = ct->order++, .type = ev->type, .code = ev->code, .ev = *ev};
    e.ev.message = NULL;
    g_assert_nonnull(ev->message);
    g_assert_null(strchr(ev->message, '\n'));
    g_snprintf(e.message, sizeof e.message, "%s", ev->message);
    g_array_append_val(ct->events, e);
    if (ct->verbose)
        g_test_message("%8.3f %-15s %s", (double)ct->now / 1e6, mip_mn_event_name(ev->type),
                       ev->message);
    if (ct->on_event)
        ct->on_event(ct, ev);
}

static void cb_garp(void *user, int ifindex, uint32_t address)
{
    Ct *ct = user;
    CtGarp g = {.at = ct->now, .ifindex = ifindex, .address = address};
    g_array_append_val(ct->garps, g);
}

void ct_init(Ct *ct, void (*tune)(MipMnConfig *cfg))
{
    memset(ct, 0, sizeof *ct);
    ct->now = S(1000); /* an arbitrary origin: nothing may assume 0 */
    ct->rnd = 42;
    ct->icmp = g_array_new(FALSE, TRUE, sizeof(CtPacket));
    ct->udp = g_array_new(FALSE, TRUE, sizeof(CtPacket));
    ct->plans = g_array_new(FALSE, TRUE, sizeof(CtPlan));
    ct->events = g_array_new(FALSE, TRUE, sizeof(CtEvent));
    ct->states = g_array_new(FALSE, TRUE, sizeof(CtState));
    ct->garps = g_array_new(FALSE, TRUE, sizeof(CtGarp));
    ct->verbose = g_test_verbose();

    MipMnConfig *c = &ct->cfg;
    mip_mn_config_init(c);
    c->home_address = CT_HOME;
    c->home_prefix_len = 24;
    c->home_agent = CT_HA;
    c->spi = CT_SPI;
    c->algorithm = MIP_AUTH_HMAC_MD5;
    memcpy(c->key, ct_key, sizeof ct_key);
    c->key_len = sizeof ct_key;
    c->lifetime = 600;
    c->udp_tunnel = MIP_UDP_TUNNEL_OFF;
    if (tune)
        tune(c);
    const char *why = NULL;
    g_assert_cmpint(mip_mn_config_validate(c, &why), ==, MIP_MN_OK);

    MipMnDeps d = {
        .user = ct,
        .wall_clock_usec = cb_wall,
        .random_u32 = cb_random,
        .send_icmp = cb_icmp,
        .send_udp = cb_udp,
        .apply_plan = cb_plan,
        .state_changed = cb_state,
        .event = cb_event,
        .gratuitous_arp = cb_garp,
    };
    ct->mn = mip_mn_new(c, &d);
    g_assert_nonnull(ct->mn);
}

void ct_fini(Ct *ct)
{
    mip_mn_free(ct->mn);
    g_array_free(ct->icmp, TRUE);
    g_array_free(ct->udp, TRUE);
    g_array_free(ct->plans, TRUE);
    g_array_free(ct->events, TRUE);
    g_array_free(ct->states, TRUE);
    g_array_free(ct->garps, TRUE);
}

MipLinkInfo ct_link(int ifindex, const char *name, MipLinkType type, uint32_t address,
                    uint8_t prefix_len, uint32_t gateway)
{
    MipLinkInfo l;
    memset(&l, 0, sizeof l);
    l.ifindex = ifindex;
    g_strlcpy(l.name, name, sizeof l.name);
    l.type = type;
    l.carrier = true;
    l.active = true;
    l.address = address;
    l.prefix_len = prefix_len;
    l.gateway = gateway;
    l.hwaddr[0] = 0x02;
    l.hwaddr[5] = (uint8_t)ifindex;
    return l;
}

void ct_link_up(Ct *ct, MipLinkInfo link)
{
    link.carrier = true;
    link.active = true;
    mip_mn_link_changed(ct->mn, &link, ct->now);
}

void ct_link_down(Ct *ct, MipLinkInfo link)
{
    link.carrier = false;
    link.active = false;
    mip_mn_link_changed(ct->mn, &link, ct->now);
}

void ct_run_until(Ct *ct, MipTime t)
{
    g_assert_cmpuint(t, >=, ct->now);
    for (int guard = 0; guard < 100000; guard++) {
        MipTime d = mip_mn_next_deadline(ct->mn);
        if (d > t)
            break;
        /* A deadline in the past would be a busy loop in a real main loop. */
        g_assert_cmpuint(d, >=, ct->now);
        ct->now = d;
        mip_mn_timeout(ct->mn, ct->now);
        g_assert_cmpuint(mip_mn_next_deadline(ct->mn), >, ct->now);
    }
    ct->now = t;
}

void ct_advance(Ct *ct, MipTime dt)
{
    ct_run_until(ct, ct->now + dt);
}

size_t ct_advert_bytes(uint32_t src, const CtAdvert *a, uint8_t *buf, size_t cap)
{
    MipRouterEntry router = {.address = src, .preference = 0};
    uint32_t coa = a->coa ? a->coa : src;
    uint8_t plen = a->prefix_len;
    MipAgentAdvertSpec spec = {
        .code = 0,
        .lifetime = a->lifetime ? a->lifetime : 9,
        .routers = &router,
        .n_routers = 1,
        .mobility = true,
        .sequence = a->sequence,
        .reg_lifetime = a->reg_lifetime ? a->reg_lifetime : 600,
        .flags = a->flags ? a->flags : (MIP_ADV_F | MIP_ADV_R),
        .coas = &coa,
        .n_coa = (a->flags && !(a->flags & MIP_ADV_F)) ? 0 : 1,
        .prefix_lengths = plen ? &plen : NULL,
        .n_prefix_lengths = plen ? 1 : 0,
        .challenge = a->challenge,
        .challenge_len = a->challenge_len,
    };
    MipWriter w;
    mip_writer_init(&w, buf, cap);
    g_assert_cmpint(mip_advert_encode(&w, &spec), ==, MIP_OK);
    return w.len;
}

void ct_advert(Ct *ct, int ifindex, uint32_t src, const CtAdvert *a)
{
    uint8_t buf[512];
    size_t len = ct_advert_bytes(src, a, buf, sizeof buf);
    mip_mn_icmp_received(ct->mn, ifindex, src, CT_ALL_HOSTS, a->ttl ? a->ttl : 1, buf, len,
                         ct->now);
}

const CtPacket *ct_udp(Ct *ct, size_t i)
{
    g_assert_cmpuint(i, <, ct->udp->len);
    return &g_array_index(ct->udp, CtPacket, i);
}

const CtPacket *ct_last_udp(Ct *ct)
{
    g_assert_cmpuint(ct->udp->len, >, 0);
    return ct_udp(ct, ct->udp->len - 1);
}

size_t ct_n_udp(Ct *ct)
{
    return ct->udp->len;
}

size_t ct_n_icmp(Ct *ct)
{
    return ct->icmp->len;
}

const CtPlan *ct_last_plan(Ct *ct)
{
    g_assert_cmpuint(ct->plans->len, >, 0);
    return &g_array_index(ct->plans, CtPlan, ct->plans->len - 1);
}

size_t ct_n_plans(Ct *ct)
{
    return ct->plans->len;
}

size_t ct_n_events(Ct *ct, MipMnEventType type)
{
    size_t n = 0;
    for (guint i = 0; i < ct->events->len; i++) {
        if (g_array_index(ct->events, CtEvent, i).type == type)
            n++;
    }
    return n;
}

const CtEvent *ct_last_event(Ct *ct, MipMnEventType type)
{
    for (guint i = ct->events->len; i-- > 0;) {
        const CtEvent *e = &g_array_index(ct->events, CtEvent, i);
        if (e->type == type)
            return e;
    }
    g_error("no %s event", mip_mn_event_name(type));
    return NULL;
}

void ct_request(const CtPacket *p, MipRegRequest *req, MipRegExtensions *ext)
{
    g_assert_cmpuint(p->dport, ==, MIP_REG_PORT);
    g_assert_cmpint(mip_reg_request_decode(p->buf, p->len, req, ext), ==, MIP_OK);
    MipAuthKey key = {
        .spi = CT_SPI, .algorithm = MIP_AUTH_HMAC_MD5, .key = ct_key, .key_len = sizeof ct_key};
    g_assert_cmpint(mip_auth_verify_mh(p->buf, p->len, ext, &key), ==, MIP_OK);
}

void ct_reply(Ct *ct, const CtPacket *p, uint8_t code, uint16_t lifetime, const CtReply *opt)
{
    static const CtReply none;
    if (!opt)
        opt = &none;
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);

    MipRegReply rep = {
        .code = code,
        .lifetime = lifetime,
        .home_address = opt->set_home_address ? opt->home_address : req.home_address,
        .home_agent = opt->set_home_agent ? opt->home_agent : req.home_agent,
        .identification = opt->set_ident ? opt->ident : req.identification,
    };
    uint8_t buf[512];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof buf);
    g_assert_cmpint(mip_reg_reply_write(&w, &rep), ==, MIP_OK);
    if (opt->udp_reply) {
        MipUdpTunnelReply u = {.reply_code = opt->udp_code, .keepalive = opt->udp_keepalive};
        g_assert_cmpint(mip_ext_write_udp_tunnel_reply(&w, &u), ==, MIP_OK);
    }
    if (!opt->no_auth) {
        uint8_t wrong[16];
        memcpy(wrong, ct_key, sizeof wrong);
        wrong[0] ^= 1;
        MipAuthKey key = {.spi = CT_SPI,
                          .algorithm = MIP_AUTH_HMAC_MD5,
                          .key = opt->wrong_key ? wrong : ct_key,
                          .key_len = sizeof ct_key};
        g_assert_cmpint(mip_auth_write(&w, MIP_EXT_MH_AUTH, &key), ==, MIP_OK);
    }
    mip_mn_udp_received(ct->mn, p->ifindex, p->dst, opt->sport ? opt->sport : MIP_REG_PORT, p->src,
                        p->sport, buf, w.len, ct->now);
}

void ct_accept_last(Ct *ct)
{
    const CtPacket *p = ct_last_udp(ct);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    CtPacket copy = *p; /* the reply may append to ct->udp and move it */
    ct_reply(ct, &copy, MIP_CODE_ACCEPTED, req.lifetime, NULL);
}

MipMnState ct_state(Ct *ct)
{
    MipMnStatus st;
    mip_mn_get_status(ct->mn, &st);
    return st.state;
}
