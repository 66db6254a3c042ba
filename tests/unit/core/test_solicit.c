/* Agent solicitation (RFC 5944 §2.4): when the node solicits, how often,
 * and when it stops. */
#include <glib.h>
#include <string.h>

#include "client/proto/advert.h"
#include "core_test.h"

static MipTime icmp_at(Ct *ct, size_t i)
{
    g_assert_cmpuint(i, <, ct->icmp->len);
    return g_array_index(ct->icmp, CtPacket, i).at;
}

static void test_solicits_at_once_then_three_at_one_second_then_backs_off(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(2, "eth0", MIP_LINK_ETHERNET, 0, 0, 0));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 1); /* at once, in the same call */

    ct_run_until(&ct, t0 + S(400));
    /* 0, then 1 2 3 (one a second), then gaps of 2 4 8 16 32 64, then 64 on. */
    const unsigned want[] = {0, 1, 2, 3, 5, 9, 17, 33, 65, 129, 193, 257, 321, 385};
    g_assert_cmpuint(ct_n_icmp(&ct), ==, G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        const CtPacket *p = &g_array_index(ct.icmp, CtPacket, i);
        g_assert_cmpuint(p->at, ==, t0 + S(want[i]));
        g_assert_cmpint(p->ifindex, ==, 2);
        g_assert_cmphex(p->dst, ==, CT_ALL_AGENTS);
        g_assert_cmpuint(p->ttl, ==, 1);
        g_assert_cmpint(mip_solicit_decode(p->buf, p->len), ==, MIP_OK);
    }
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.solicitations_sent, ==, G_N_ELEMENTS(want));
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DISCOVERING);
    ct_fini(&ct);
}

static void test_stops_soliciting_once_an_agent_is_heard(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(2, "eth0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advance(&ct, MS(1500));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .lifetime = 9000});
    ct_run_until(&ct, t0 + S(3600));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);

    MipMnLinkStatus ls;
    g_assert_true(mip_mn_link_get(ct.mn, 0, &ls));
    g_assert_cmpuint(ls.next_solicitation, ==, MIP_TIME_NEVER);
    ct_fini(&ct);
}

static void test_solicits_again_when_the_agent_is_lost(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(2, "eth0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advance(&ct, MS(1500));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .lifetime = 9});
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 1);

    /* The advertisement lifetime runs out 9 s after it was heard. */
    ct_run_until(&ct, t0 + MS(1500) + S(9) - 1);
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);
    ct_run_until(&ct, t0 + MS(1500) + S(9));
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 0);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_AGENT_LOST), ==, 1);
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 3);
    g_assert_cmpuint(icmp_at(&ct, 2), ==, t0 + MS(10500));
    /* A fresh rapid series. */
    ct_run_until(&ct, t0 + MS(10500) + S(3));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 6);
    ct_fini(&ct);
}

static void ignore_docker(MipMnConfig *c)
{
    g_strlcpy(c->ignore[0], "docker*", sizeof c->ignore[0]);
    c->n_ignore = 1;
}

static void test_never_solicits_on_ignored_links_and_drops_their_adverts(void)
{
    Ct ct;
    ct_init(&ct, ignore_docker);
    ct_link_up(&ct, ct_link(5, "docker0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    ct_advert(&ct, 5, CT_FA, &(CtAdvert){.sequence = 300});
    ct_advance(&ct, S(120));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 0);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 0);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.adverts_dropped[MIP_MN_ADV_DROP_LINK], ==, 1);
    MipMnLinkStatus ls;
    g_assert_true(mip_mn_link_get(ct.mn, 0, &ls));
    g_assert_true(ls.ignored);
    g_assert_false(ls.usable);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_IDLE);
    ct_fini(&ct);
}

static void test_a_flapping_link_solicits_at_most_once_a_second(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipTime t0 = ct.now;
    MipLinkInfo l = ct_link(2, "eth0", MIP_LINK_ETHERNET, 0, 0, 0);
    ct_link_up(&ct, l);
    ct_advance(&ct, MS(200));
    ct_link_down(&ct, l);
    ct_advance(&ct, MS(100));
    ct_link_up(&ct, l);
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 1);
    ct_run_until(&ct, t0 + S(1));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);
    g_assert_cmpuint(icmp_at(&ct, 1), ==, t0 + S(1));
    ct_fini(&ct);
}

static void test_a_link_without_carrier_is_not_solicited_on(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipLinkInfo l = ct_link(2, "eth0", MIP_LINK_ETHERNET, 0, 0, 0);
    l.carrier = false;
    mip_mn_link_changed(ct.mn, &l, ct.now);
    ct_advance(&ct, S(10));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 0);
    g_assert_cmpuint(mip_mn_next_deadline(ct.mn), ==, MIP_TIME_NEVER);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/solicit/at-once-then-three-then-backoff",
                    test_solicits_at_once_then_three_at_one_second_then_backs_off);
    g_test_add_func("/core/solicit/stops-when-agent-heard",
                    test_stops_soliciting_once_an_agent_is_heard);
    g_test_add_func("/core/solicit/again-when-agent-lost",
                    test_solicits_again_when_the_agent_is_lost);
    g_test_add_func("/core/solicit/ignored-links",
                    test_never_solicits_on_ignored_links_and_drops_their_adverts);
    g_test_add_func("/core/solicit/flapping-link",
                    test_a_flapping_link_solicits_at_most_once_a_second);
    g_test_add_func("/core/solicit/no-carrier", test_a_link_without_carrier_is_not_solicited_on);
    return g_test_run();
}
