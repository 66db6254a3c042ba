/* Home: detecting the home network (by address, by the home agent's
 * advertisement), returning to it, deregistering (RFC 5944 §3.6.1.2, §4.6),
 * and the deregister/register commands. */
#include <glib.h>
#include <string.h>

#include "core_test.h"

static MipLinkInfo home_link(void)
{
    return ct_link(1, "home0", MIP_LINK_ETHERNET, CT_HOME, 24, CT_HOME_GW);
}

static MipLinkInfo visited_link(void)
{
    return ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW);
}

static void colocated(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
}

static void assert_deregistration(const CtPacket *p, int ifindex)
{
    g_assert_cmpint(p->ifindex, ==, ifindex);
    g_assert_cmphex(p->src, ==, CT_HOME);
    g_assert_cmphex(p->dst, ==, CT_HA);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    g_assert_cmpuint(req.lifetime, ==, 0);
    g_assert_cmphex(req.care_of_address, ==, CT_HOME);
    g_assert_cmphex(req.home_agent, ==, CT_HA);
    g_assert_cmphex(req.flags, ==, 0);
}

static void test_returns_home_and_deregisters(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, visited_link());
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    size_t plans = ct_n_plans(&ct);

    ct_advance(&ct, S(30));
    ct_link_up(&ct, home_link());
    /* At once: the home plan, then the gratuitous ARP, then the request. */
    g_assert_cmpuint(ct_n_plans(&ct), ==, plans + 1);
    const MipPlan *plan = &ct_last_plan(&ct)->plan;
    g_assert_cmpint(plan->mode, ==, MIP_PLAN_HOME);
    g_assert_cmpint(plan->ifindex, ==, 1);
    g_assert_cmpstr(plan->ifname, ==, "home0");
    g_assert_cmphex(plan->home_address, ==, CT_HOME);
    g_assert_cmphex(plan->gateway, ==, CT_HOME_GW);
    g_assert_cmpuint(ct.garps->len, ==, 1);
    CtGarp g = g_array_index(ct.garps, CtGarp, 0);
    g_assert_cmpint(g.ifindex, ==, 1);
    g_assert_cmphex(g.address, ==, CT_HOME);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    assert_deregistration(ct_last_udp(&ct), 1);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DEREGISTERING);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_RETURNED_HOME), ==, 1);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_HANDOVER), ==, 1);

    ct_advance(&ct, MS(10));
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_AT_HOME);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_DEREGISTERED), ==, 1);
    /* Announced again once the home agent stopped proxying, in case one of
     * its proxy announcements went out after ours. */
    g_assert_cmpuint(ct.garps->len, ==, 2);
    g_assert_cmphex(g_array_index(ct.garps, CtGarp, 1).address, ==, CT_HOME);
    g_assert_cmpint(g_array_index(ct.garps, CtGarp, 1).ifindex, ==, 1);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.deregistrations_sent, ==, 1);
    g_assert_cmpuint(st.handovers, ==, 1);
    MipMnStatus status;
    mip_mn_get_status(ct.mn, &status);
    g_assert_cmpint(status.mode, ==, MIP_PLAN_HOME);
    g_assert_cmpstr(status.ifname, ==, "home0");

    /* At home nothing renews, even long after the old binding's time. */
    ct_advance(&ct, S(3600));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(ct_n_plans(&ct), ==, plans + 1);

    /* Leaving home again: register from the visited link at once. */
    MipLinkInfo h = home_link();
    ct_link_down(&ct, h);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_HA);
    g_assert_cmphex(ct_last_udp(&ct)->src, ==, CT_LEASE);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    ct_fini(&ct);
}

static void test_starts_at_home_without_a_tunnel_and_clears_a_stale_binding(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, home_link());
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DEREGISTERING);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_HOME);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_RETURNED_HOME), ==, 0);
    assert_deregistration(ct_last_udp(&ct), 1);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_AT_HOME);
    ct_fini(&ct);
}

static void test_a_133_to_the_deregistration_resyncs_and_retries_at_once(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, home_link());
    CtPacket p = *ct_last_udp(&ct);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(&p, &req, &ext);
    ct_reply(&ct, &p, MIP_CODE_HA_ID_MISMATCH, 0,
             &(CtReply){.set_ident = true, .ident = req.identification - (30ull << 32)});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    assert_deregistration(ct_last_udp(&ct), 1);
    MipRegRequest again;
    ct_request(ct_last_udp(&ct), &again, &ext);
    g_assert_cmpuint(again.identification >> 32, ==, (req.identification >> 32) - 30);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_AT_HOME);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_DEREGISTERED), ==, 1);
    ct_fini(&ct);
}

static void test_home_deregistration_gives_up_after_five_tries(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipTime t0 = ct.now;
    ct_link_up(&ct, home_link());
    ct_run_until(&ct, t0 + S(60));
    const unsigned want[] = {0, 1, 3, 7, 15};
    g_assert_cmpuint(ct_n_udp(&ct), ==, G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        g_assert_cmpuint(ct_udp(&ct, i)->at, ==, t0 + S(want[i]));
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_GAVE_UP), ==, 1);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_AT_HOME);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_HOME);
    ct_fini(&ct);
}

static void test_home_detected_by_the_home_agents_advertisement(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    /* A link without an address yet: the advertisement says it is home. */
    ct_link_up(&ct, ct_link(1, "home0", MIP_LINK_ETHERNET, 0, 0, 0));
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DISCOVERING);
    ct_advert(&ct, 1, CT_HA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_H});
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_HOME);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 1);
    assert_deregistration(ct_last_udp(&ct), 1);
    MipMnAgentInfo ai;
    g_assert_true(mip_mn_agent_get(ct.mn, 0, &ai));
    g_assert_true(ai.home_agent);

    /* An H|F agent of another network is just a foreign agent. */
    Ct ct2;
    ct_init(&ct2, NULL);
    ct_link_up(&ct2, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct2, 2, CT_FA,
              &(CtAdvert){.sequence = 300, .flags = MIP_ADV_H | MIP_ADV_F | MIP_ADV_R});
    g_assert_cmpint(ct_state(&ct2), ==, MIP_MN_STATE_REGISTERING);
    g_assert_cmphex(ct_last_udp(&ct2)->dst, ==, CT_FA);
    ct_fini(&ct2);
    ct_fini(&ct);
}

static void test_home_beats_a_preferred_foreign_link(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    g_strlcpy(ct.cfg.prefer[0], "wifi", sizeof ct.cfg.prefer[0]);
    ct.cfg.n_prefer = 1;
    g_assert_cmpint(mip_mn_reload(ct.mn, &ct.cfg, ct.now), ==, MIP_MN_OK);
    ct_link_up(&ct, ct_link(4, "wlan0", MIP_LINK_WIFI, CT_LEASE, 24, CT_LEASE_GW));
    /* Alone, the wireless lease is registered at once... */
    size_t before_home = ct_n_udp(&ct);
    g_assert_cmpuint(before_home, ==, 1);
    ct_link_up(&ct, home_link());
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_HOME);
    ct_advance(&ct, S(5));
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_HOME);
    /* ...but once home is there, only the home link is used. */
    for (size_t i = before_home; i < ct_n_udp(&ct); i++)
        g_assert_cmpint(ct_udp(&ct, i)->ifindex, ==, 1);
    ct_fini(&ct);
}

static void test_the_home_address_placed_on_an_agents_link_is_not_home(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .lifetime = 9000});
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    /* The tunnel plugin put the home address on fa0; the link plugin says so. */
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, CT_HOME, 24, 0));
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, CT_HOME, 32, 0));
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    g_assert_cmpuint(ct.garps->len, ==, 0);
    ct_fini(&ct);
}

static void test_deregister_command_away_stops_until_register(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, visited_link());
    ct_accept_last(&ct);
    ct_advance(&ct, S(10));
    g_assert_cmpint(mip_mn_deregister(ct.mn, ct.now), ==, MIP_MN_OK);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmphex(p->src, ==, CT_LEASE);
    g_assert_cmphex(p->dst, ==, CT_HA);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    g_assert_cmpuint(req.lifetime, ==, 0);
    g_assert_cmphex(req.care_of_address, ==, CT_LEASE);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DEREGISTERING);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_STOPPED);

    ct_advance(&ct, S(3600));
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE2, 24, CT_LEASE_GW));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_STOPPED);

    g_assert_cmpint(mip_mn_register(ct.mn, ct.now), ==, MIP_MN_OK);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    g_assert_cmphex(ct_last_udp(&ct)->src, ==, CT_LEASE2);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    ct_fini(&ct);
}

static void test_register_command_renews_at_once(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, visited_link());
    ct_accept_last(&ct);
    ct_advance(&ct, S(10));
    mip_mn_register(ct.mn, ct.now);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/home/returns-and-deregisters", test_returns_home_and_deregisters);
    g_test_add_func("/core/home/starts-at-home",
                    test_starts_at_home_without_a_tunnel_and_clears_a_stale_binding);
    g_test_add_func("/core/home/deregistration-133",
                    test_a_133_to_the_deregistration_resyncs_and_retries_at_once);
    g_test_add_func("/core/home/deregistration-gives-up",
                    test_home_deregistration_gives_up_after_five_tries);
    g_test_add_func("/core/home/by-advertisement",
                    test_home_detected_by_the_home_agents_advertisement);
    g_test_add_func("/core/home/beats-preference", test_home_beats_a_preferred_foreign_link);
    g_test_add_func("/core/home/placed-home-address",
                    test_the_home_address_placed_on_an_agents_link_is_not_home);
    g_test_add_func("/core/home/deregister-command",
                    test_deregister_command_away_stops_until_register);
    g_test_add_func("/core/home/register-command", test_register_command_renews_at_once);
    return g_test_run();
}
