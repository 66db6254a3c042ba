/* The agent table and movement detection (RFC 5944 §2.4.2-2.4.3):
 * advertisement lifetimes, reboots by sequence number, moves by prefix, and
 * what is dropped. */
#include <glib.h>
#include <string.h>

#include "core_test.h"

/* Registered through CT_FA on fa0 (adverts last 9000 s unless told). */
static void registered_via_fa(Ct *ct, uint16_t seq, uint8_t prefix_len)
{
    ct_init(ct, NULL);
    ct_link_up(ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(ct, 2, CT_FA,
              &(CtAdvert){.sequence = seq, .lifetime = 9000, .prefix_len = prefix_len});
    ct_accept_last(ct);
    g_assert_cmpint(ct_state(ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpuint(ct_n_udp(ct), ==, 1);
}

static void test_sequence_below_256_triggers_reregistration(void)
{
    Ct ct;
    registered_via_fa(&ct, 300, 0);
    ct_advance(&ct, S(20));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 301, .lifetime = 9000});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    /* The agent reboots: it forgot its visitors, so register again now. */
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 0, .lifetime = 9000});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, ct.now);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_FA);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_AGENT_REBOOTED), ==, 1);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.agent_reboots, ==, 1);
    /* The binding holds meanwhile: the plan stays. */
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpuint(ct_n_plans(&ct), ==, 1);
    ct_accept_last(&ct);
    /* Counting up from 0 again is no reboot. */
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 1, .lifetime = 9000});
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 2, .lifetime = 9000});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_sequence_wrapping_to_256_is_not_a_reboot(void)
{
    Ct ct;
    registered_via_fa(&ct, 0xfffe, 0);
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 0xffff, .lifetime = 9000});
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 256, .lifetime = 9000});
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 257, .lifetime = 9000});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_AGENT_REBOOTED), ==, 0);
    ct_fini(&ct);
}

static void test_a_lost_agent_drops_the_binding_and_another_one_is_used(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .lifetime = 9});
    ct_accept_last(&ct);
    MipTime heard = ct.now;
    /* A second agent on the link keeps advertising; the first falls silent. */
    for (int i = 1; i <= 4; i++) {
        ct_run_until(&ct, heard + S(2 * i));
        ct_advert(&ct, 2, CT_FA2, &(CtAdvert){.sequence = (uint16_t)(300 + i), .lifetime = 9});
    }
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1); /* we stay with the first meanwhile */
    ct_run_until(&ct, heard + S(9));
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_AGENT_LOST), ==, 1);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_FA2);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_cmphex(req.care_of_address, ==, CT_FA2);
    ct_accept_last(&ct);
    g_assert_cmphex(ct_last_plan(&ct)->plan.care_of_address, ==, CT_FA2);
    ct_fini(&ct);
}

static void test_another_agents_prefix_means_we_moved(void)
{
    Ct ct;
    registered_via_fa(&ct, 300, 24);
    ct_advance(&ct, S(5));
    /* Same link, another agent, another network: the old agent is behind us. */
    ct_advert(&ct, 2, CT_FA2, &(CtAdvert){.sequence = 400, .lifetime = 9000, .prefix_len = 24});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_FA2);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_MOVED), ==, 1);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.movements, ==, 1);
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 1);
    ct_fini(&ct);
}

static void test_another_agent_in_the_same_network_is_no_move(void)
{
    Ct ct;
    registered_via_fa(&ct, 300, 24);
    ct_advert(&ct, 2, CT_FA + 1, &(CtAdvert){.sequence = 400, .lifetime = 9000, .prefix_len = 24});
    /* Without prefix lengths nothing can be concluded either. */
    ct_advert(&ct, 2, CT_FA2, &(CtAdvert){.sequence = 400, .lifetime = 9000});
    ct_advance(&ct, S(60));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 3);
    ct_fini(&ct);
}

static void test_a_busy_agent_is_not_chosen(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F | MIP_ADV_B});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    ct_advert(&ct, 2, CT_FA2, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_FA2);
    ct_fini(&ct);
}

static void test_advertisements_not_sent_with_ttl_1_are_dropped(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .ttl = 64});
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 0);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.adverts_dropped[MIP_MN_ADV_DROP_TTL], ==, 1);
    g_assert_cmpuint(st.adverts_seen, ==, 0);
    ct_fini(&ct);
}

static void test_malformed_advertisements_are_counted_and_ignored(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    uint8_t buf[256];
    size_t len = ct_advert_bytes(CT_FA, &(CtAdvert){.sequence = 300}, buf, sizeof buf);
    buf[len - 1] ^= 0xff; /* the checksum no longer verifies */
    mip_mn_icmp_received(ct.mn, 2, CT_FA, CT_ALL_HOSTS, 1, buf, len, ct.now);
    for (size_t l = 0; l < len; l++) {
        uint8_t *copy = g_memdup2(buf, l ? l : 1);
        mip_mn_icmp_received(ct.mn, 2, CT_FA, CT_ALL_HOSTS, 1, copy, l, ct.now);
        g_free(copy);
    }
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.adverts_dropped[MIP_MN_ADV_DROP_MALFORMED], ==, len);
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 0);
    /* Other ICMP (our own solicitation echoed, say) is ignored silently. */
    const CtPacket *sol = &g_array_index(ct.icmp, CtPacket, 0);
    mip_mn_icmp_received(ct.mn, 2, CT_HOME, CT_ALL_AGENTS, 1, sol->buf, sol->len, ct.now);
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.adverts_dropped[MIP_MN_ADV_DROP_MALFORMED], ==, len);
    /* Advertisements for links we were never told about are dropped. */
    len = ct_advert_bytes(CT_FA, &(CtAdvert){.sequence = 300}, buf, sizeof buf);
    mip_mn_icmp_received(ct.mn, 9, CT_FA, CT_ALL_HOSTS, 1, buf, len, ct.now);
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.adverts_dropped[MIP_MN_ADV_DROP_LINK], ==, 1);
    ct_fini(&ct);
}

static void test_agent_listing_reports_what_was_advertised(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    MipTime t0 = ct.now;
    ct_advert(&ct, 2, CT_FA,
              &(CtAdvert){.sequence = 777,
                          .lifetime = 30,
                          .reg_lifetime = 300,
                          .prefix_len = 24,
                          .flags = MIP_ADV_F | MIP_ADV_T | MIP_ADV_G});
    ct_advance(&ct, S(5));
    ct_advert(&ct, 2, CT_FA,
              &(CtAdvert){.sequence = 778,
                          .lifetime = 30,
                          .reg_lifetime = 300,
                          .prefix_len = 24,
                          .flags = MIP_ADV_F | MIP_ADV_T | MIP_ADV_G});
    g_assert_cmpuint(mip_mn_agent_count(ct.mn), ==, 1);
    MipMnAgentInfo ai;
    g_assert_true(mip_mn_agent_get(ct.mn, 0, &ai));
    g_assert_false(mip_mn_agent_get(ct.mn, 1, &ai));
    g_assert_true(mip_mn_agent_get(ct.mn, 0, &ai));
    g_assert_cmpint(ai.ifindex, ==, 2);
    g_assert_cmphex(ai.address, ==, CT_FA);
    g_assert_cmphex(ai.flags, ==, MIP_ADV_F | MIP_ADV_T | MIP_ADV_G);
    g_assert_cmpuint(ai.sequence, ==, 778);
    g_assert_cmpuint(ai.reg_lifetime, ==, 300);
    g_assert_cmpuint(ai.adv_lifetime, ==, 30);
    g_assert_cmpint(ai.prefix_len, ==, 24);
    g_assert_cmpuint(ai.first_seen, ==, t0);
    g_assert_cmpuint(ai.last_seen, ==, t0 + S(5));
    g_assert_cmpuint(ai.expires_at, ==, t0 + S(35));
    g_assert_true(ai.in_use);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.adverts_seen, ==, 2);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_AGENT_FOUND), ==, 1);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/agents/reboot", test_sequence_below_256_triggers_reregistration);
    g_test_add_func("/core/agents/wrap", test_sequence_wrapping_to_256_is_not_a_reboot);
    g_test_add_func("/core/agents/lost-agent",
                    test_a_lost_agent_drops_the_binding_and_another_one_is_used);
    g_test_add_func("/core/agents/prefix-move", test_another_agents_prefix_means_we_moved);
    g_test_add_func("/core/agents/same-prefix", test_another_agent_in_the_same_network_is_no_move);
    g_test_add_func("/core/agents/busy", test_a_busy_agent_is_not_chosen);
    g_test_add_func("/core/agents/ttl", test_advertisements_not_sent_with_ttl_1_are_dropped);
    g_test_add_func("/core/agents/malformed",
                    test_malformed_advertisements_are_counted_and_ignored);
    g_test_add_func("/core/agents/listing", test_agent_listing_reports_what_was_advertised);
    return g_test_run();
}
