/* Builds the GVariants of org.mipd.MobileNode1 from the core's queries. */
#include "variants.h"

#include <string.h>

#include "client/proto/advert.h"

const char *mip_ip4_str(uint32_t host, char buf[INET_ADDRSTRLEN])
{
    if (!host) {
        buf[0] = '\0';
        return buf;
    }
    struct in_addr a = {.s_addr = htonl(host)};
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

const char *mip_plan_mode_name(MipPlanMode m)
{
    switch (m) {
    case MIP_PLAN_HOME:
        return "home";
    case MIP_PLAN_FOREIGN_AGENT:
        return "foreign-agent";
    case MIP_PLAN_COLOCATED:
        return "co-located";
    case MIP_PLAN_NONE:
        break;
    }
    return "none";
}

/* Monotonic microseconds to wall-clock microseconds. */
static guint64 to_wall(MipTime t)
{
    if (!t)
        return 0;
    gint64 now_mono = g_get_monotonic_time(), now_wall = g_get_real_time();
    return (guint64)(now_wall - (now_mono - (gint64)t));
}

GVariant *mip_variant_statistics(const MipMn *mn, guint64 tunnel_tx, guint64 tunnel_rx)
{
    MipMnStats st;
    mip_mn_get_stats(mn, &st);
    guint64 dropped = 0;
    for (int i = 0; i < MIP_MN_DROP_COUNT; i++)
        dropped += st.replies_dropped[i];
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
#define T(key, v) g_variant_builder_add(&b, "{sv}", key, g_variant_new_uint64(v))
    T("requests-sent", st.requests_sent);
    T("retransmissions", st.retransmissions);
    T("deregistrations-sent", st.deregistrations_sent);
    T("replies-accepted", st.replies_accepted);
    T("replies-denied", st.replies_denied);
    T("replies-dropped", dropped);
    T("adverts-seen", st.adverts_seen);
    T("solicitations-sent", st.solicitations_sent);
    T("agent-reboots", st.agent_reboots);
    T("movements", st.movements);
    T("handovers", st.handovers);
    T("expiries", st.expiries);
    T("clock-resyncs", st.clock_resyncs);
    T("tunnel-tx-packets", tunnel_tx);
    T("tunnel-rx-packets", tunnel_rx);
#undef T
    return g_variant_builder_end(&b);
}

static GVariant *flag_list(uint16_t flags)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {{MIP_ADV_R, "R"}, {MIP_ADV_B, "B"}, {MIP_ADV_H, "H"},
                 {MIP_ADV_F, "F"}, {MIP_ADV_M, "M"}, {MIP_ADV_G, "G"},
                 {MIP_ADV_T, "T"}, {MIP_ADV_U, "U"}, {MIP_ADV_X, "X"}};
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (flags & names[i].bit)
            g_variant_builder_add(&b, "s", names[i].name);
    return g_variant_builder_end(&b);
}

static const char *ifname_of(const MipMn *mn, int ifindex)
{
    MipMnLinkStatus ls;
    for (size_t i = 0; mip_mn_link_get(mn, i, &ls); i++)
        if (ls.info.ifindex == ifindex) {
            static char name[MIP_IFNAME_MAX];
            g_strlcpy(name, ls.info.name, sizeof name);
            return name;
        }
    return "";
}

GVariant *mip_variant_agents(const MipMn *mn)
{
    GVariantBuilder all;
    g_variant_builder_init(&all, G_VARIANT_TYPE("aa{sv}"));
    MipTime now = (MipTime)g_get_monotonic_time();
    MipMnAgentInfo a;
    char buf[INET_ADDRSTRLEN];
    for (size_t i = 0; mip_mn_agent_get(mn, i, &a); i++) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "address",
                              g_variant_new_string(mip_ip4_str(a.address, buf)));
        g_variant_builder_add(&b, "{sv}", "interface",
                              g_variant_new_string(ifname_of(mn, a.ifindex)));
        GVariantBuilder coas;
        g_variant_builder_init(&coas, G_VARIANT_TYPE_STRING_ARRAY);
        for (size_t k = 0; k < a.n_coa; k++)
            g_variant_builder_add(&coas, "s", mip_ip4_str(a.coa[k], buf));
        g_variant_builder_add(&b, "{sv}", "care-of-addresses", g_variant_builder_end(&coas));
        g_variant_builder_add(&b, "{sv}", "flags", flag_list(a.flags));
        g_variant_builder_add(&b, "{sv}", "sequence", g_variant_new_uint16(a.sequence));
        g_variant_builder_add(&b, "{sv}", "registration-lifetime",
                              g_variant_new_uint16(a.reg_lifetime));
        guint32 left = a.expires_at > now ? (guint32)((a.expires_at - now) / MIP_TIME_S) : 0;
        g_variant_builder_add(&b, "{sv}", "lifetime-left", g_variant_new_uint32(left));
        g_variant_builder_add(&b, "{sv}", "last-seen", g_variant_new_uint64(to_wall(a.last_seen)));
        g_variant_builder_add(&b, "{sv}", "home-agent", g_variant_new_boolean(a.home_agent));
        g_variant_builder_add(&b, "{sv}", "in-use", g_variant_new_boolean(a.in_use));
        g_variant_builder_add_value(&all, g_variant_builder_end(&b));
    }
    return g_variant_builder_end(&all);
}

GVariant *mip_variant_links(const MipMn *mn)
{
    GVariantBuilder all;
    g_variant_builder_init(&all, G_VARIANT_TYPE("aa{sv}"));
    MipMnStatus st;
    mip_mn_get_status(mn, &st);
    MipMnLinkStatus ls;
    char buf[INET_ADDRSTRLEN];
    for (size_t i = 0; mip_mn_link_get(mn, i, &ls); i++) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(ls.info.name));
        g_variant_builder_add(&b, "{sv}", "type",
                              g_variant_new_string(mip_link_type_name(ls.info.type)));
        g_variant_builder_add(&b, "{sv}", "carrier", g_variant_new_boolean(ls.info.carrier));
        g_variant_builder_add(&b, "{sv}", "active", g_variant_new_boolean(ls.info.active));
        g_autofree char *addr =
            ls.info.address ? g_strdup_printf("%s/%u", mip_ip4_str(ls.info.address, buf),
                                              ls.info.prefix_len)
                            : g_strdup("");
        g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(addr));
        g_variant_builder_add(&b, "{sv}", "gateway",
                              g_variant_new_string(mip_ip4_str(ls.info.gateway, buf)));
        g_variant_builder_add(&b, "{sv}", "care-of-address",
                              g_variant_new_string(ls.in_use ? mip_ip4_str(st.care_of_address, buf)
                                                             : ""));
        const char *state = ls.in_use    ? "in-use"
                            : ls.home    ? "home"
                            : ls.ignored ? "ignored"
                            : ls.usable  ? "usable"
                                         : "down";
        g_variant_builder_add(&b, "{sv}", "state", g_variant_new_string(state));
        g_variant_builder_add(&b, "{sv}", "preference", g_variant_new_int32(ls.preference));
        g_variant_builder_add_value(&all, g_variant_builder_end(&b));
    }
    return g_variant_builder_end(&all);
}

GVariant *mip_variant_event(const MipMn *mn, const MipMnEvent *ev)
{
    char buf[INET_ADDRSTRLEN];
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "type", g_variant_new_string(mip_mn_event_name(ev->type)));
    g_variant_builder_add(&b, "{sv}", "message", g_variant_new_string(ev->message));
    g_variant_builder_add(&b, "{sv}", "interface",
                          g_variant_new_string(ev->ifindex ? ifname_of(mn, ev->ifindex) : ""));
    g_variant_builder_add(&b, "{sv}", "address",
                          g_variant_new_string(mip_ip4_str(ev->address, buf)));
    g_variant_builder_add(&b, "{sv}", "code", g_variant_new_int32(ev->code));
    g_variant_builder_add(&b, "{sv}", "time", g_variant_new_uint64((guint64)g_get_real_time()));
    return g_variant_builder_end(&b);
}

/* Whole milliseconds for the documented keys, microseconds beside them:
 * lab handovers take a few ms. */
static void add_interval(GVariantBuilder *b, const char *name, MipTime from, MipTime to)
{
    guint64 us = to > from ? to - from : 0;
    g_autofree char *ms_key = g_strdup_printf("%s-ms", name);
    g_autofree char *us_key = g_strdup_printf("%s-usec", name);
    g_variant_builder_add(b, "{sv}", ms_key,
                          g_variant_new_uint32((guint32)MIN((us + 500) / 1000, G_MAXUINT32)));
    g_variant_builder_add(b, "{sv}", us_key, g_variant_new_uint64(us));
}

GVariant *mip_variant_handover(const char *old_ifname, const MipMnStatus *st, const MipMnEvent *ev,
                               MipTime switched_at)
{
    char buf[INET_ADDRSTRLEN];
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    /* The core names the interface it left; the remembered one is for a
     * core that did not (an event without handover fields). */
    if (ev->old_ifname[0])
        old_ifname = ev->old_ifname;
    g_variant_builder_add(&b, "{sv}", "old-interface", g_variant_new_string(old_ifname));
    g_variant_builder_add(&b, "{sv}", "new-interface", g_variant_new_string(st->ifname));
    g_variant_builder_add(&b, "{sv}", "care-of-address",
                          g_variant_new_string(mip_ip4_str(st->care_of_address, buf)));
    g_variant_builder_add(&b, "{sv}", "mode", g_variant_new_string(mip_plan_mode_name(st->mode)));
    g_variant_builder_add(&b, "{sv}", "message", g_variant_new_string(ev->message));
    g_variant_builder_add(&b, "{sv}", "old-care-of-address",
                          g_variant_new_string(mip_ip4_str(ev->old_care_of, buf)));
    g_variant_builder_add(&b, "{sv}", "old-mode",
                          g_variant_new_string(mip_plan_mode_name(ev->old_mode)));
    g_variant_builder_add(
        &b, "{sv}", "handover-mode",
        g_variant_new_string(ev->break_before_make ? "break-before-make" : "make-before-break"));
    /* No registration precedes the switch on return home. */
    if (ev->accepted_at)
        add_interval(&b, "trigger-to-accepted", ev->trigger_at, ev->accepted_at);
    add_interval(&b, "trigger-to-switched", ev->trigger_at, switched_at);
    if (ev->break_before_make && ev->broken_at)
        add_interval(&b, "outage", ev->broken_at, switched_at);
    return g_variant_builder_end(&b);
}
