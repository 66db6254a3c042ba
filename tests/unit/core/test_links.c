/* Links and handover policy: preference order, ignore patterns, make-before-
 * break, the handover and reload commands, links going away, and callbacks
 * that call back into the engine. */
#include <glib.h>
#include <string.h>

#include "core_test.h"

static MipLinkInfo eth(uint32_t addr)
{
    return ct_link(2, "eth0", MIP_LINK_ETHERNET, addr, 24, CT_LEASE_GW);
}

static MipLinkInfo wifi(void)
{
    return ct_link(3, "wlan0", MIP_LINK_WIFI, CT_NAT_LEASE, 24, 0xc6130301);
}

static void prefer_ethernet_then_wifi(MipMnConfig *c)
{
    g_strlcpy(c->prefer[0], "ethernet", sizeof c->prefer[0]);
    g_strlcpy(c->prefer[1], "wifi", sizeof c->prefer[1]);
    c->n_prefer = 2;
    g_strlcpy(c->ignore[0], "docker*", sizeof c->ignore[0]);
    g_strlcpy(c->ignore[1], "veth*", sizeof c->ignore[1]);
    c->n_ignore = 2;
}

static void break_before_make(MipMnConfig *c)
{
    prefer_ethernet_then_wifi(c);
    c->make_before_break = false;
}

static void test_prefers_links_in_configured_order_and_makes_before_breaking(void)
{
    Ct ct;
    ct_init(&ct, prefer_ethernet_then_wifi);
    ct_link_up(&ct, wifi());
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 3);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 3);

    /* The better link appears: register there at once, keeping wlan0's plan. */
    ct_advance(&ct, S(10));
    ct_link_up(&ct, eth(CT_LEASE));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmpint(p->ifindex, ==, 2);
    g_assert_cmphex(p->src, ==, CT_LEASE);
    g_assert_cmpuint(ct_n_plans(&ct), ==, 1);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_accept_last(&ct);
    g_assert_cmpuint(ct_n_plans(&ct), ==, 2);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 2);
    g_assert_cmphex(ct_last_plan(&ct)->plan.care_of_address, ==, CT_LEASE);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_HANDOVER), ==, 1);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_MOVED), ==, 1);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.handovers, ==, 1);
    /* wlan0's care-of address is released (test_handover.c has the rules). */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    g_assert_cmphex(ct_last_udp(&ct)->src, ==, CT_NAT_LEASE);
    ct_accept_last(&ct);

    MipMnLinkStatus ls;
    g_assert_cmpuint(mip_mn_link_count(ct.mn), ==, 2);
    g_assert_true(mip_mn_link_get(ct.mn, 1, &ls));
    g_assert_cmpint(ls.info.ifindex, ==, 2);
    g_assert_cmpint(ls.preference, ==, 0);
    g_assert_true(ls.in_use);
    g_assert_true(mip_mn_link_get(ct.mn, 0, &ls));
    g_assert_cmpint(ls.preference, ==, 1);
    g_assert_false(ls.in_use);
    g_assert_false(mip_mn_link_get(ct.mn, 2, &ls));

    /* The better link goes: back to wlan0 (break: its plan is gone). */
    MipLinkInfo e = eth(CT_LEASE);
    ct_link_down(&ct, e);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 3);
    ct_fini(&ct);
}

static void test_break_before_make_drops_the_plan_when_moving(void)
{
    Ct ct;
    ct_init(&ct, break_before_make);
    ct_link_up(&ct, wifi());
    ct_accept_last(&ct);
    ct_advance(&ct, S(1));
    ct_link_up(&ct, eth(CT_LEASE));
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 2);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 2);
    /* A change through NONE is still one handover. */
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.handovers, ==, 1);
    ct_fini(&ct);
}

static void test_ignored_links_are_never_used(void)
{
    Ct ct;
    ct_init(&ct, prefer_ethernet_then_wifi);
    ct_link_up(&ct, ct_link(7, "docker0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    ct_link_up(&ct, ct_link(8, "veth1a2b", MIP_LINK_ETHERNET, CT_LEASE2, 24, CT_LEASE_GW));
    ct_advance(&ct, S(100));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 0);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_IDLE);
    g_assert_cmpint(mip_mn_handover(ct.mn, "docker0", ct.now), ==, MIP_MN_ERR_LINK_IGNORED);
    ct_fini(&ct);
}

static void test_handover_command_moves_to_the_named_link(void)
{
    Ct ct;
    ct_init(&ct, prefer_ethernet_then_wifi);
    ct_link_up(&ct, eth(CT_LEASE));
    ct_link_up(&ct, wifi());
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 2);
    ct_accept_last(&ct);
    ct_advance(&ct, S(5));

    g_assert_cmpint(mip_mn_handover(ct.mn, "wlan0", ct.now), ==, MIP_MN_OK);
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 3);
    ct_accept_last(&ct);
    /* eth0's binding is released through eth0. */
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 2);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 3);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpstr(st.ifname, ==, "wlan0");

    g_assert_cmpint(mip_mn_handover(ct.mn, "nope0", ct.now), ==, MIP_MN_ERR_NO_SUCH_LINK);
    MipLinkInfo dead = ct_link(9, "wwan0", MIP_LINK_WWAN, 0, 0, 0);
    ct_link_up(&ct, dead);
    g_assert_cmpint(mip_mn_handover(ct.mn, "wwan0", ct.now), ==, MIP_MN_ERR_LINK_UNUSABLE);
    ct_link_down(&ct, dead);
    g_assert_cmpint(mip_mn_handover(ct.mn, "wwan0", ct.now), ==, MIP_MN_ERR_LINK_UNUSABLE);

    /* Clearing the override goes back to the configured order. */
    ct_advance(&ct, S(5));
    g_assert_cmpint(mip_mn_handover(ct.mn, NULL, ct.now), ==, MIP_MN_OK);
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 2);

    /* The override ends when its link goes away. */
    ct_accept_last(&ct);
    ct_accept_last(&ct); /* the release of wlan0's care-of address */
    ct_advance(&ct, S(5));
    g_assert_cmpint(mip_mn_handover(ct.mn, "wlan0", ct.now), ==, MIP_MN_OK);
    ct_accept_last(&ct);
    ct_accept_last(&ct);
    ct_advance(&ct, S(5));
    mip_mn_link_removed(ct.mn, 3, ct.now);
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 2);
    g_assert_cmpuint(mip_mn_link_count(ct.mn), ==, 2);
    ct_fini(&ct);
}

static void colocated(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
}

static void test_losing_the_only_link_drops_the_binding(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    MipLinkInfo l = eth(CT_LEASE);
    ct_link_up(&ct, l);
    ct_accept_last(&ct);
    ct_link_down(&ct, l);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_IDLE);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmphex(ct_last_plan(&ct)->plan.home_address, ==, CT_HOME);
    g_assert_cmpuint(mip_mn_next_deadline(ct.mn), ==, MIP_TIME_NEVER);
    ct_advance(&ct, S(3600));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    /* Back with the same lease: a fresh registration. */
    ct_link_up(&ct, l);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_a_new_colocated_address_is_registered_at_once(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, eth(CT_LEASE));
    ct_accept_last(&ct);
    ct_advance(&ct, S(20));
    ct_link_up(&ct, eth(CT_LEASE2));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_cmphex(req.care_of_address, ==, CT_LEASE2);
    /* The old address is gone from the link: its plan is useless. */
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    ct_accept_last(&ct);
    g_assert_cmphex(ct_last_plan(&ct)->plan.care_of_address, ==, CT_LEASE2);

    /* Another network on the same link without a carrier change: agents
     * heard there are forgotten and solicitation starts over. */
    size_t sols = ct_n_icmp(&ct);
    ct_link_up(&ct, ct_link(2, "eth0", MIP_LINK_ETHERNET, CT_NAT_LEASE, 24, 0xc6130301));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, sols + 1);
    ct_fini(&ct);
}

static void test_reload_of_binding_settings_reregisters_keeping_the_plan(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, eth(CT_LEASE));
    ct_accept_last(&ct);
    ct_advance(&ct, S(20));

    MipMnConfig c = ct.cfg;
    c.lifetime = 300;
    g_assert_cmpint(mip_mn_reload(ct.mn, &c, ct.now), ==, MIP_MN_OK);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_cmpuint(req.lifetime, ==, 300);
    g_assert_cmpuint(ct_n_plans(&ct), ==, 1);

    /* An invalid configuration changes nothing. */
    MipMnConfig bad = c;
    bad.spi = 3;
    g_assert_cmpint(mip_mn_reload(ct.mn, &bad, ct.now), ==, MIP_MN_ERR_INVALID_CONFIG);
    /* Preferences alone do not re-register. */
    MipMnConfig prefs = c;
    g_strlcpy(prefs.prefer[0], "wifi", sizeof prefs.prefer[0]);
    prefs.n_prefer = 1;
    ct_accept_last(&ct);
    ct_advance(&ct, S(5));
    g_assert_cmpint(mip_mn_reload(ct.mn, &prefs, ct.now), ==, MIP_MN_OK);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    /* Ignoring the link in use drops it. */
    MipMnConfig ign = prefs;
    g_strlcpy(ign.ignore[0], "eth*", sizeof ign.ignore[0]);
    ign.n_ignore = 1;
    g_assert_cmpint(mip_mn_reload(ct.mn, &ign, ct.now), ==, MIP_MN_OK);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_IDLE);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    ct_fini(&ct);
}

static void reenter(Ct *ct, const MipMnEvent *ev)
{
    if (ev->type != MIP_MN_EV_ACCEPTED)
        return;
    /* A shell that reacts to an event by asking and poking the engine. */
    MipMnStatus st;
    mip_mn_get_status(ct->mn, &st);
    g_assert_cmpint(st.state, ==, MIP_MN_STATE_REGISTERED);
    MipPlan plan;
    g_assert_true(mip_mn_get_plan(ct->mn, &plan));
    g_assert_cmpint(plan.mode, ==, MIP_PLAN_COLOCATED);
    mip_mn_timeout(ct->mn, ct->now);
    g_assert_cmpint(mip_mn_register(ct->mn, ct->now), ==, MIP_MN_OK);
}

static void test_callbacks_see_a_consistent_engine_and_may_call_back_in(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct.on_event = reenter;
    ct_link_up(&ct, eth(CT_LEASE));
    ct_advance(&ct, S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_accept_last(&ct);
    /* The register call from inside the callback renewed (after 1 s). */
    g_assert_cmpuint(ct_n_plans(&ct), ==, 1);
    ct_advance(&ct, S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    /* Outputs keep their order: the plan came before the state change. */
    const CtPlan *plan = ct_last_plan(&ct);
    const CtState *last_state = &g_array_index(ct.states, CtState, ct.states->len - 1);
    g_assert_cmpint(last_state->to, ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpuint(plan->at, <=, last_state->at);
    ct_fini(&ct);
}

static void test_state_changes_are_reported_in_order(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    MipLinkInfo l = eth(CT_LEASE);
    ct_link_up(&ct, l);
    ct_accept_last(&ct);
    ct_link_down(&ct, l);
    const MipMnState want[][2] = {
        {MIP_MN_STATE_IDLE, MIP_MN_STATE_REGISTERING},
        {MIP_MN_STATE_REGISTERING, MIP_MN_STATE_REGISTERED},
        {MIP_MN_STATE_REGISTERED, MIP_MN_STATE_IDLE},
    };
    g_assert_cmpuint(ct.states->len, ==, G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        CtState s = g_array_index(ct.states, CtState, i);
        g_assert_cmpint(s.from, ==, want[i][0]);
        g_assert_cmpint(s.to, ==, want[i][1]);
    }
    ct_fini(&ct);
}

static void test_no_secret_reaches_an_event(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, eth(CT_LEASE));
    ct_advance(&ct, S(3));
    ct_accept_last(&ct);
    g_assert_cmpuint(ct.events->len, >, 3);
    char hex[33];
    for (size_t i = 0; i < sizeof ct_key; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", ct_key[i]);
    for (guint i = 0; i < ct.events->len; i++) {
        const char *m = g_array_index(ct.events, CtEvent, i).message;
        g_assert_null(strstr(m, "mipd-lab-key"));
        g_assert_null(strstr(m, hex));
    }
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/links/preference-and-make-before-break",
                    test_prefers_links_in_configured_order_and_makes_before_breaking);
    g_test_add_func("/core/links/break-before-make",
                    test_break_before_make_drops_the_plan_when_moving);
    g_test_add_func("/core/links/ignored", test_ignored_links_are_never_used);
    g_test_add_func("/core/links/handover-command", test_handover_command_moves_to_the_named_link);
    g_test_add_func("/core/links/only-link-lost", test_losing_the_only_link_drops_the_binding);
    g_test_add_func("/core/links/new-address", test_a_new_colocated_address_is_registered_at_once);
    g_test_add_func("/core/links/reload",
                    test_reload_of_binding_settings_reregisters_keeping_the_plan);
    g_test_add_func("/core/links/reentrant-callbacks",
                    test_callbacks_see_a_consistent_engine_and_may_call_back_in);
    g_test_add_func("/core/links/state-order", test_state_changes_are_reported_in_order);
    g_test_add_func("/core/links/no-secrets", test_no_secret_reaches_an_event);
    return g_test_run();
}
