/* Denied registrations: each reply code gets its policy, and none of them
 * loops (RFC 5944 §3.6.3, §5.7; RFC 3024; RFC 3519). */
#include <glib.h>
#include <string.h>

#include "core_test.h"

static void colocated(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
}

static void start_colocated(Ct *ct, void (*tune)(MipMnConfig *))
{
    ct_init(ct, tune ? tune : colocated);
    ct_link_up(ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    g_assert_cmpuint(ct_n_udp(ct), ==, 1);
}

static void start_fa(Ct *ct, uint16_t flags)
{
    ct_init(ct, NULL);
    ct_link_up(ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .lifetime = 9000, .flags = flags});
    g_assert_cmpuint(ct_n_udp(ct), ==, 1);
}

static void deny_last(Ct *ct, uint8_t code, uint16_t lifetime, const CtReply *opt)
{
    CtPacket p = *ct_last_udp(ct);
    ct_reply(ct, &p, code, lifetime, opt);
}

static MipRegRequest last_request(Ct *ct)
{
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(ct), &req, &ext);
    return req;
}

static void test_69_retries_with_the_shorter_lifetime_the_agent_offers(void)
{
    Ct ct;
    start_fa(&ct, 0);
    MipTime t0 = ct.now;
    g_assert_cmpuint(last_request(&ct).lifetime, ==, 600);
    /* The agent's own denial carries no Mobile-Home authenticator. */
    ct_advance(&ct, MS(20));
    deny_last(&ct, MIP_CODE_FA_LIFETIME_TOO_LONG, 300, &(CtReply){.no_auth = true});
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_DENIED), ==, 1);
    /* At least 1 s after the previous request. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    ct_run_until(&ct, t0 + S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(last_request(&ct).lifetime, ==, 300);
    ct_accept_last(&ct);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpuint(st.granted_lifetime, ==, 300);
    g_assert_cmpuint(st.expires_at, ==, t0 + S(1) + S(300));
    ct_fini(&ct);
}

static void test_130_retries_with_the_shorter_lifetime_the_home_agent_offers(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    MipTime t0 = ct.now;
    deny_last(&ct, MIP_CODE_HA_NO_RESOURCES, 120, NULL);
    ct_run_until(&ct, t0 + S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(last_request(&ct).lifetime, ==, 120);
    /* The same offer again is not shorter: now it backs off (4 s). */
    deny_last(&ct, MIP_CODE_HA_NO_RESOURCES, 120, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    ct_run_until(&ct, t0 + S(5) - 1);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_run_until(&ct, t0 + S(5));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    ct_fini(&ct);
}

static void test_133_resyncs_and_retries_once(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    MipTime t0 = ct.now;
    MipRegRequest req = last_request(&ct);
    /* The home agent's clock is 1000 s ahead of ours. */
    uint64_t ha_ident = req.identification + (1000ull << 32);
    ct_advance(&ct, MS(50));
    deny_last(&ct, MIP_CODE_HA_ID_MISMATCH, 0, &(CtReply){.set_ident = true, .ident = ha_ident});
    /* Retried at once, not after the 1 s spacing. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, t0 + MS(50));
    MipRegRequest again = last_request(&ct);
    g_assert_cmpuint(again.identification >> 32, ==, (req.identification >> 32) + 1000);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_CLOCK_RESYNC), ==, 1);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.clock_resyncs, ==, 1);

    /* A second 133 does not resync again: it backs off. */
    deny_last(&ct, MIP_CODE_HA_ID_MISMATCH, 0,
              &(CtReply){.set_ident = true, .ident = again.identification + (7ull << 32)});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.clock_resyncs, ==, 1);
    ct_run_until(&ct, t0 + MS(50) + S(4));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    /* The offset learnt stays: later requests follow the home agent's clock. */
    g_assert_cmpuint(last_request(&ct).identification >> 32, ==,
                     (CT_WALL_BASE + ct.now) / 1000000u + 2208988800u + 1000);
    ct_fini(&ct);
}

static void test_131_stops_without_looping(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    deny_last(&ct, MIP_CODE_HA_MN_AUTH_FAILED, 0, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_GAVE_UP), ==, 1);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpint(st.last_reply_code, ==, 131);
    g_assert_cmpuint(st.next_attempt_at, ==, MIP_TIME_NEVER);
    g_assert_nonnull(strstr(st.last_error, "131"));

    /* An hour, a new lease and a new link: not one more request. */
    ct_advance(&ct, S(1800));
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE2, 24, CT_LEASE_GW));
    ct_link_up(&ct, ct_link(4, "wlan0", MIP_LINK_WIFI, CT_NAT_LEASE, 24, 0xc6130301));
    ct_advance(&ct, S(1800));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    g_assert_cmpuint(mip_mn_next_deadline(ct.mn), >, ct.now);

    /* Only a command (after fixing the key, say) tries again. */
    g_assert_cmpint(mip_mn_register(ct.mn, ct.now), ==, MIP_MN_OK);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_67_from_the_foreign_agent_stops_too(void)
{
    Ct ct;
    start_fa(&ct, 0);
    deny_last(&ct, MIP_CODE_FA_MN_AUTH_FAILED, 0, &(CtReply){.no_auth = true});
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    for (int i = 0; i < 100; i++) {
        ct_advance(&ct, S(3));
        ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = (uint16_t)(301 + i), .lifetime = 9000});
    }
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    ct_fini(&ct);
}

static void test_72_changes_encapsulation_then_gives_up(void)
{
    Ct ct;
    /* The agent offers GRE besides IPIP, not minimal encapsulation. */
    start_fa(&ct, MIP_ADV_F | MIP_ADV_R | MIP_ADV_G);
    g_assert_cmphex(last_request(&ct).flags & (MIP_REQ_G | MIP_REQ_M), ==, 0);
    deny_last(&ct, MIP_CODE_FA_ENCAPSULATION_UNAVAILABLE, 0, &(CtReply){.no_auth = true});
    ct_advance(&ct, S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(last_request(&ct).flags & (MIP_REQ_G | MIP_REQ_M), ==, MIP_REQ_G);
    deny_last(&ct, MIP_CODE_FA_ENCAPSULATION_UNAVAILABLE, 0, &(CtReply){.no_auth = true});
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_GAVE_UP), ==, 1);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    ct_advance(&ct, S(600));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_139_walks_ipip_gre_minimal_then_gives_up(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    const uint8_t want[] = {0, MIP_REQ_G, MIP_REQ_M};
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpuint(ct_n_udp(&ct), ==, i + 1);
        g_assert_cmphex(last_request(&ct).flags & (MIP_REQ_G | MIP_REQ_M), ==, want[i]);
        deny_last(&ct, MIP_CODE_HA_ENCAPSULATION_UNAVAILABLE, 0, NULL);
        ct_advance(&ct, S(1));
    }
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_GAVE_UP), ==, 1);
    ct_advance(&ct, S(600));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);

    /* The accepted encapsulation is the one planned. */
    Ct ct2;
    start_colocated(&ct2, NULL);
    deny_last(&ct2, MIP_CODE_HA_ENCAPSULATION_UNAVAILABLE, 0, NULL);
    ct_advance(&ct2, S(1));
    ct_accept_last(&ct2);
    g_assert_cmpint(ct_last_plan(&ct2)->plan.encap, ==, MIP_ENCAP_GRE);
    ct_fini(&ct2);
    ct_fini(&ct);
}

static void test_136_takes_the_home_agent_from_the_reply(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    deny_last(&ct, MIP_CODE_HA_UNKNOWN_HA_ADDRESS, 0,
              &(CtReply){.set_home_agent = true, .home_agent = CT_HA2});
    ct_advance(&ct, S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_HA2);
    g_assert_cmphex(last_request(&ct).home_agent, ==, CT_HA2);
    ct_accept_last(&ct);
    g_assert_cmphex(ct_last_plan(&ct)->plan.home_agent, ==, CT_HA2);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmphex(st.home_agent, ==, CT_HA2);
    ct_fini(&ct);
}

static void test_136_twice_backs_off_instead_of_bouncing(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    deny_last(&ct, MIP_CODE_HA_UNKNOWN_HA_ADDRESS, 0,
              &(CtReply){.set_home_agent = true, .home_agent = CT_HA2});
    ct_advance(&ct, S(1));
    deny_last(&ct, MIP_CODE_HA_UNKNOWN_HA_ADDRESS, 0,
              &(CtReply){.set_home_agent = true, .home_agent = CT_HA});
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    ct_advance(&ct, S(4) - 1);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_other_denials_back_off_exponentially_capped(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    const unsigned gaps[] = {4, 8, 16, 32, 64, 128, 256, 300, 300};
    for (size_t i = 0; i < G_N_ELEMENTS(gaps); i++) {
        MipTime denied_at = ct.now;
        deny_last(&ct, MIP_CODE_HA_PROHIBITED, 0, NULL);
        g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
        MipMnStatus st;
        mip_mn_get_status(ct.mn, &st);
        g_assert_cmpuint(st.next_attempt_at, ==, denied_at + S(gaps[i]));
        g_assert_cmpint(st.last_reply_code, ==, 129);
        g_assert_nonnull(strstr(st.last_error, "129"));
        ct_run_until(&ct, denied_at + S(gaps[i]) - 1);
        g_assert_cmpuint(ct_n_udp(&ct), ==, i + 1);
        ct_run_until(&ct, denied_at + S(gaps[i]));
        g_assert_cmpuint(ct_n_udp(&ct), ==, i + 2);
    }
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.replies_denied, ==, G_N_ELEMENTS(gaps));
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_DENIED), ==, G_N_ELEMENTS(gaps));
    /* Success resets the backoff. */
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    MipMnStatus status;
    mip_mn_get_status(ct.mn, &status);
    g_assert_cmpstr(status.last_error, ==, "");
    ct_fini(&ct);
}

static void test_a_move_retries_at_once_despite_a_backoff(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    deny_last(&ct, MIP_CODE_HA_PROHIBITED, 0, NULL);
    ct_advance(&ct, S(2));
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE2, 24, CT_LEASE_GW));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(last_request(&ct).care_of_address, ==, CT_LEASE2);
    ct_fini(&ct);
}

static void test_138_asks_again_with_reverse_tunnelling(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    g_assert_false(last_request(&ct).flags & MIP_REQ_T);
    deny_last(&ct, MIP_CODE_HA_REVERSE_TUNNEL_MANDATORY, 0, NULL);
    ct_advance(&ct, S(1));
    g_assert_true(last_request(&ct).flags & MIP_REQ_T);
    ct_accept_last(&ct);
    g_assert_true(ct_last_plan(&ct)->plan.reverse_tunnel);
    ct_fini(&ct);
}

static void test_a_denied_renewal_keeps_the_binding_until_it_expires(void)
{
    Ct ct;
    start_colocated(&ct, NULL);
    MipTime t0 = ct.now;
    deny_last(&ct, MIP_CODE_ACCEPTED, 100, NULL);
    ct_run_until(&ct, t0 + S(85));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    deny_last(&ct, MIP_CODE_HA_MN_AUTH_FAILED, 0, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_COLOCATED);
    ct_run_until(&ct, t0 + S(100));
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DENIED);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/denials/69-shorter-lifetime",
                    test_69_retries_with_the_shorter_lifetime_the_agent_offers);
    g_test_add_func("/core/denials/130-shorter-lifetime",
                    test_130_retries_with_the_shorter_lifetime_the_home_agent_offers);
    g_test_add_func("/core/denials/133-resync-once", test_133_resyncs_and_retries_once);
    g_test_add_func("/core/denials/131-stops", test_131_stops_without_looping);
    g_test_add_func("/core/denials/67-stops", test_67_from_the_foreign_agent_stops_too);
    g_test_add_func("/core/denials/72-encapsulation", test_72_changes_encapsulation_then_gives_up);
    g_test_add_func("/core/denials/139-encapsulation",
                    test_139_walks_ipip_gre_minimal_then_gives_up);
    g_test_add_func("/core/denials/136-home-agent", test_136_takes_the_home_agent_from_the_reply);
    g_test_add_func("/core/denials/136-twice", test_136_twice_backs_off_instead_of_bouncing);
    g_test_add_func("/core/denials/backoff", test_other_denials_back_off_exponentially_capped);
    g_test_add_func("/core/denials/move-retries", test_a_move_retries_at_once_despite_a_backoff);
    g_test_add_func("/core/denials/138-reverse-tunnel",
                    test_138_asks_again_with_reverse_tunnelling);
    g_test_add_func("/core/denials/denied-renewal",
                    test_a_denied_renewal_keeps_the_binding_until_it_expires);
    return g_test_run();
}
