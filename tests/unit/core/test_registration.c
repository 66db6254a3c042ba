/* Registration (RFC 5944 §3.6, RFC 3024, RFC 3519): what the request says and
 * where it goes in each care-of mode, retransmission, renewal and expiry,
 * and the plan that follows an accepted reply (never before). */
#include <glib.h>
#include <string.h>

#include "client/proto/extensions.h"
#include "core_test.h"

static void reverse_tunnel(MipMnConfig *c)
{
    c->reverse_tunnel = true;
}

static void colocated(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
}

static void colocated_lifetime_10(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
    c->lifetime = 10;
}

static void test_registers_through_the_foreign_agent_from_the_home_address(void)
{
    Ct ct;
    ct_init(&ct, reverse_tunnel);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    ct_advert(&ct, 2, CT_FA,
              &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F | MIP_ADV_R | MIP_ADV_T});

    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmpuint(p->at, ==, t0);
    g_assert_cmpint(p->ifindex, ==, 2);
    g_assert_cmphex(p->src, ==, CT_HOME);
    g_assert_cmphex(p->dst, ==, CT_FA);
    g_assert_cmpuint(p->sport, ==, 434);
    g_assert_cmpuint(p->dport, ==, 434);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    g_assert_cmphex(req.flags, ==, MIP_REQ_T); /* no D: the agent decapsulates */
    g_assert_cmpuint(req.lifetime, ==, 600);
    g_assert_cmphex(req.home_address, ==, CT_HOME);
    g_assert_cmphex(req.home_agent, ==, CT_HA);
    g_assert_cmphex(req.care_of_address, ==, CT_FA);
    g_assert_false(ext.has_udp_tunnel_request);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    g_assert_cmpuint(ct_n_plans(&ct), ==, 0); /* not before the reply */

    ct_advance(&ct, MS(30));
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpuint(ct_n_plans(&ct), ==, 1);
    const MipPlan *plan = &ct_last_plan(&ct)->plan;
    g_assert_cmpint(plan->mode, ==, MIP_PLAN_FOREIGN_AGENT);
    g_assert_cmpint(plan->ifindex, ==, 2);
    g_assert_cmpstr(plan->ifname, ==, "fa0");
    g_assert_cmphex(plan->home_address, ==, CT_HOME);
    g_assert_cmpuint(plan->home_prefix_len, ==, 24);
    g_assert_cmphex(plan->home_agent, ==, CT_HA);
    g_assert_cmphex(plan->care_of_address, ==, CT_FA);
    g_assert_cmphex(plan->gateway, ==, CT_FA);
    g_assert_true(plan->reverse_tunnel);

    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpint(st.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    g_assert_cmphex(st.care_of_address, ==, CT_FA);
    g_assert_cmphex(st.foreign_agent, ==, CT_FA);
    g_assert_cmpstr(st.ifname, ==, "fa0");
    g_assert_cmpuint(st.granted_lifetime, ==, 600);
    g_assert_cmpuint(st.registered_at, ==, t0);
    g_assert_cmpuint(st.expires_at, ==, t0 + S(600));
    g_assert_cmpuint(st.registered_at_wall, ==, CT_WALL_BASE + t0);
    g_assert_cmpuint(st.expires_at_wall, ==, CT_WALL_BASE + t0 + S(600));
    g_assert_cmpint(st.last_reply_code, ==, 0);
    g_assert_false(st.request_outstanding);

    MipMnAgentInfo ai;
    g_assert_true(mip_mn_agent_get(ct.mn, 0, &ai));
    g_assert_true(ai.in_use);
    g_assert_cmphex(ai.coa[0], ==, CT_FA);
    g_assert_cmpuint(ai.n_coa, ==, 1);
    g_assert_false(ai.home_agent);
    ct_fini(&ct);
}

static void test_registers_colocated_with_D_to_the_home_agent_at_once(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    /* Auto mode: the address is registered as soon as the link has it, and
     * the solicitation goes out at the same time. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 1);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, g_array_index(ct.icmp, CtPacket, 0).at);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);

    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmpint(p->ifindex, ==, 3);
    g_assert_cmphex(p->src, ==, CT_LEASE);
    g_assert_cmphex(p->dst, ==, CT_HA);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    g_assert_cmphex(req.flags, ==, MIP_REQ_D);
    g_assert_cmphex(req.care_of_address, ==, CT_LEASE);
    g_assert_cmphex(req.home_agent, ==, CT_HA);

    ct_accept_last(&ct);
    const MipPlan *plan = &ct_last_plan(&ct)->plan;
    g_assert_cmpint(plan->mode, ==, MIP_PLAN_COLOCATED);
    g_assert_cmphex(plan->care_of_address, ==, CT_LEASE);
    g_assert_cmphex(plan->gateway, ==, CT_LEASE_GW);
    g_assert_cmphex(plan->home_agent, ==, CT_HA);
    g_assert_cmpint(plan->encap, ==, MIP_ENCAP_IPIP);
    g_assert_false(plan->reverse_tunnel);
    ct_fini(&ct);
}

static void test_uses_the_agent_when_it_sets_R_even_with_a_colocated_address(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, CT_FA_LEASE, 24, CT_FA));
    /* Co-located mode registers with the lease at once... */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_HA);
    /* ...until an agent says registration through it is required: a new
     * attachment, registered at once. */
    ct_advance(&ct, MS(500));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F | MIP_ADV_R});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmphex(p->dst, ==, CT_FA);
    g_assert_cmphex(p->src, ==, CT_HOME);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    g_assert_cmphex(req.care_of_address, ==, CT_FA);
    g_assert_false(req.flags & MIP_REQ_D);
    /* The co-located attempt is abandoned, not retransmitted alongside. */
    ct_advance(&ct, S(5));
    for (size_t i = 1; i < ct_n_udp(&ct); i++)
        g_assert_cmphex(ct_udp(&ct, i)->dst, ==, CT_FA);

    /* Without R, co-located mode stays co-located. */
    Ct ct2;
    ct_init(&ct2, colocated);
    ct_link_up(&ct2, ct_link(2, "fa0", MIP_LINK_ETHERNET, CT_FA_LEASE, 24, CT_FA));
    ct_advance(&ct2, MS(500));
    ct_advert(&ct2, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F});
    g_assert_cmphex(ct_last_udp(&ct2)->dst, ==, CT_HA);
    g_assert_cmpuint(ct_n_events(&ct2, MIP_MN_EV_REQUEST_SENT), ==, 1);
    ct_fini(&ct2);
    ct_fini(&ct);
}

static void wait_one_second_for_agents(MipMnConfig *c)
{
    c->agent_wait_ms = 1000;
}

static void test_a_configured_agent_wait_holds_the_colocated_registration(void)
{
    Ct ct;
    ct_init(&ct, wait_one_second_for_agents);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_DISCOVERING);
    g_assert_cmpuint(mip_mn_next_deadline(ct.mn), ==, t0 + S(1));
    ct_run_until(&ct, t0 + S(1) - 1);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 0);
    ct_run_until(&ct, t0 + S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmphex(ct_last_udp(&ct)->src, ==, CT_LEASE);

    /* An agent that answers within the wait is used straight away. */
    Ct ct2;
    ct_init(&ct2, wait_one_second_for_agents);
    ct_link_up(&ct2, ct_link(2, "fa0", MIP_LINK_ETHERNET, CT_FA_LEASE, 24, CT_FA));
    ct_advance(&ct2, MS(300));
    ct_advert(&ct2, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F});
    g_assert_cmpuint(ct_n_udp(&ct2), ==, 1);
    g_assert_cmphex(ct_last_udp(&ct2)->dst, ==, CT_FA);
    ct_fini(&ct2);
    ct_fini(&ct);
}

static void test_auto_moves_to_an_agent_heard_after_the_colocated_registration(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, CT_FA_LEASE, 24, CT_FA));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_HA);
    /* The agent answers the solicitation a millisecond later: the node
     * registers through it at once (a new attachment is not held back by
     * the 1 s floor), abandoning the co-located attempt. */
    ct_advance(&ct, MS(1));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_FA);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, ct.now);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    /* Neither request had S (no binding was in force): nothing to release. */
    ct_advance(&ct, S(5));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_retransmits_with_doubling_backoff_capped_at_lifetime(void)
{
    Ct ct;
    ct_init(&ct, colocated_lifetime_10);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    ct_run_until(&ct, t0 + S(60));
    /* Gaps 1 2 4 8, then capped at the requested 10 s. */
    const unsigned want[] = {0, 1, 3, 7, 15, 25, 35, 45, 55};
    g_assert_cmpuint(ct_n_udp(&ct), ==, G_N_ELEMENTS(want));
    uint64_t last_ident = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        const CtPacket *p = ct_udp(&ct, i);
        g_assert_cmpuint(p->at, ==, t0 + S(want[i]));
        MipRegRequest req;
        MipRegExtensions ext;
        ct_request(p, &req, &ext);
        /* A new Identification each time, and never going back. */
        g_assert_cmpuint(req.identification, >, last_ident);
        /* It is a timestamp of the wall clock at sending (NTP seconds). */
        uint64_t unix_s = (CT_WALL_BASE + p->at) / 1000000u;
        g_assert_cmpuint(req.identification >> 32, ==, unix_s + 2208988800u);
        last_ident = req.identification;
    }
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.requests_sent, ==, G_N_ELEMENTS(want));
    g_assert_cmpuint(st.retransmissions, ==, G_N_ELEMENTS(want) - 1);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_RETRANSMIT), ==, G_N_ELEMENTS(want) - 1);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    ct_fini(&ct);
}

static void test_identification_never_repeats_when_the_wall_clock_steps_back(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    ct.wall_skew_usec = -(int64_t)S(3600);
    ct_advance(&ct, S(1));
    MipRegRequest a, b;
    MipRegExtensions ext;
    ct_request(ct_udp(&ct, 0), &a, &ext);
    ct_request(ct_udp(&ct, 1), &b, &ext);
    g_assert_cmpuint(b.identification, >, a.identification);
    ct_fini(&ct);
}

static void test_renews_before_expiry_counting_from_request_send(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    /* The reply takes 800 ms and grants 100 s of the 600 asked. */
    ct_advance(&ct, MS(800));
    CtPacket req0 = *ct_last_udp(&ct);
    ct_reply(&ct, &req0, MIP_CODE_ACCEPTED, 100, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);

    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpuint(st.registered_at, ==, t0);
    g_assert_cmpuint(st.expires_at, ==, t0 + S(100)); /* not t0 + 100.8 s */

    /* Renewal at 100 - 15 s from the send, leaving room for retransmissions
     * at 1, 3 and 7 s and the last one's 8 s wait. */
    ct_run_until(&ct, t0 + S(85) - 1);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    ct_run_until(&ct, t0 + S(85));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED); /* still bound */
    mip_mn_get_status(ct.mn, &st);
    g_assert_true(st.request_outstanding);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_cmpuint(req.lifetime, ==, 600);
    g_assert_cmphex(req.care_of_address, ==, CT_LEASE);

    /* The renewal is accepted for 600: next renewal 540 s after its send. */
    MipTime t1 = ct.now;
    ct_advance(&ct, MS(100));
    ct_accept_last(&ct);
    ct_run_until(&ct, t1 + S(540) - 1);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_run_until(&ct, t1 + S(540));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    /* The plan did not change for a renewal. */
    g_assert_cmpuint(ct_n_plans(&ct), ==, 1);
    ct_fini(&ct);
}

static void test_the_binding_expires_when_renewals_go_unanswered(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    CtPacket req0 = *ct_last_udp(&ct);
    ct_reply(&ct, &req0, MIP_CODE_ACCEPTED, 100, NULL);
    ct_run_until(&ct, t0 + S(100) - 1);
    /* Renewal at 85, retransmissions at 86, 88, 92: all before expiry. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 5);
    g_assert_cmpuint(ct_udp(&ct, 4)->at, ==, t0 + S(92));
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_run_until(&ct, t0 + S(100));
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_EXPIRED), ==, 1);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.expiries, ==, 1);
    /* The attempt goes on. */
    ct_run_until(&ct, t0 + S(100) + S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 6);
    ct_fini(&ct);
}

static void test_a_late_reply_to_an_earlier_retransmission_counts_from_its_send(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    ct_advance(&ct, MS(1500));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    CtPacket first = *ct_udp(&ct, 0);
    ct_reply(&ct, &first, MIP_CODE_ACCEPTED, 600, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpuint(st.registered_at, ==, t0);
    g_assert_cmpuint(st.expires_at, ==, t0 + S(600));
    ct_fini(&ct);
}

static void test_never_trusts_a_grant_longer_than_requested(void)
{
    Ct ct;
    ct_init(&ct, colocated_lifetime_10);
    MipTime t0 = ct.now;
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    CtPacket req0 = *ct_last_udp(&ct);
    ct_reply(&ct, &req0, MIP_CODE_ACCEPTED, 9000, NULL);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpuint(st.granted_lifetime, ==, 10);
    g_assert_cmpuint(st.expires_at, ==, t0 + S(10));
    ct_fini(&ct);
}

static void udp_on(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
    c->udp_tunnel = MIP_UDP_TUNNEL_ON;
    c->reverse_tunnel = true;
}

static void udp_auto_gre(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
    c->udp_tunnel = MIP_UDP_TUNNEL_AUTO;
    c->encapsulation = MIP_ENCAP_GRE;
}

static void test_udp_tunnelling_is_requested_and_its_acceptance_gives_a_udp_plan(void)
{
    Ct ct;
    ct_init(&ct, udp_on);
    ct_link_up(&ct, ct_link(4, "nat0", MIP_LINK_ETHERNET, CT_NAT_LEASE, 24, 0xc6130301));
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_true(ext.has_udp_tunnel_request);
    g_assert_cmphex(ext.udp_tunnel_request.flags, ==, MIP_UDPT_F);
    g_assert_cmpuint(ext.udp_tunnel_request.encapsulation, ==, MIP_UDPT_ENCAP_IPIP);
    g_assert_cmphex(req.flags, ==, MIP_REQ_D | MIP_REQ_T);

    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600,
             &(CtReply){.udp_reply = true, .udp_code = 0, .udp_keepalive = 110});
    const MipPlan *plan = &ct_last_plan(&ct)->plan;
    g_assert_cmpint(plan->mode, ==, MIP_PLAN_COLOCATED);
    g_assert_cmpint(plan->encap, ==, MIP_ENCAP_UDP);
    g_assert_cmpint(plan->udp_inner, ==, MIP_ENCAP_IPIP);
    g_assert_cmpuint(plan->udp_peer_port, ==, 434);
    g_assert_cmpuint(plan->udp_local_port, ==, 434);
    g_assert_cmpuint(plan->udp_keepalive, ==, 110);
    g_assert_true(plan->reverse_tunnel);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_true(st.udp_tunnel);
    g_assert_cmpint(st.encapsulation, ==, MIP_ENCAP_UDP);
    ct_fini(&ct);
}

static void test_udp_auto_asks_without_F_and_a_decline_keeps_plain_tunnelling(void)
{
    Ct ct;
    ct_init(&ct, udp_auto_gre);
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_true(ext.has_udp_tunnel_request);
    g_assert_cmphex(ext.udp_tunnel_request.flags, ==, 0);
    g_assert_cmpuint(ext.udp_tunnel_request.encapsulation, ==, MIP_UDPT_ENCAP_GRE);
    g_assert_cmphex(req.flags, ==, MIP_REQ_D | MIP_REQ_G);
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600,
             &(CtReply){.udp_reply = true, .udp_code = MIP_UDPT_REPLY_DECLINED});
    g_assert_cmpint(ct_last_plan(&ct)->plan.encap, ==, MIP_ENCAP_GRE);
    ct_fini(&ct);
}

static void udp_on_fa(MipMnConfig *c)
{
    c->udp_tunnel = MIP_UDP_TUNNEL_ON;
    c->encapsulation = MIP_ENCAP_GRE;
}

static void test_requests_through_an_agent_carry_no_udp_request_and_only_its_encapsulations(void)
{
    Ct ct;
    ct_init(&ct, udp_on_fa);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    /* The agent advertises neither G nor M: GRE cannot be asked for. */
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F | MIP_ADV_R});
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_false(ext.has_udp_tunnel_request);
    g_assert_cmphex(req.flags, ==, 0);
    ct_fini(&ct);

    ct_init(&ct, udp_on_fa);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){.sequence = 300, .flags = MIP_ADV_F | MIP_ADV_G});
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_cmphex(req.flags, ==, MIP_REQ_G);
    ct_fini(&ct);
}

static void with_nai(MipMnConfig *c)
{
    static const char nai[] = "mn@mipd.example";
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
    memcpy(c->nai, nai, sizeof nai - 1);
    c->nai_len = sizeof nai - 1;
    c->local_port = 40434;
}

static void test_the_nai_extension_and_the_local_port_are_used(void)
{
    Ct ct;
    ct_init(&ct, with_nai);
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmpuint(p->sport, ==, 40434);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    g_assert_cmpuint(ext.nai_len, ==, 15);
    g_assert_cmpmem(ext.nai, ext.nai_len, "mn@mipd.example", 15);
    CtPacket copy = *p;
    ct_reply(&ct, &copy, MIP_CODE_ACCEPTED, 600, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_fini(&ct);
}

static void test_the_agents_challenge_is_echoed_and_its_lifetime_limit_kept(void)
{
    static const uint8_t challenge[] = {1, 2, 3, 4, 5, 6, 7, 8};
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    ct_advert(&ct, 2, CT_FA,
              &(CtAdvert){.sequence = 300,
                          .reg_lifetime = 120,
                          .challenge = challenge,
                          .challenge_len = sizeof challenge});
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(ct_last_udp(&ct), &req, &ext);
    g_assert_cmpuint(req.lifetime, ==, 120);
    g_assert_cmpmem(ext.challenge, ext.challenge_len, challenge, sizeof challenge);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/registration/via-foreign-agent",
                    test_registers_through_the_foreign_agent_from_the_home_address);
    g_test_add_func("/core/registration/colocated",
                    test_registers_colocated_with_D_to_the_home_agent_at_once);
    g_test_add_func("/core/registration/agent-R-wins",
                    test_uses_the_agent_when_it_sets_R_even_with_a_colocated_address);
    g_test_add_func("/core/registration/configured-agent-wait",
                    test_a_configured_agent_wait_holds_the_colocated_registration);
    g_test_add_func("/core/registration/auto-moves-to-a-late-agent",
                    test_auto_moves_to_an_agent_heard_after_the_colocated_registration);
    g_test_add_func("/core/registration/retransmit-backoff",
                    test_retransmits_with_doubling_backoff_capped_at_lifetime);
    g_test_add_func("/core/registration/ident-monotonic",
                    test_identification_never_repeats_when_the_wall_clock_steps_back);
    g_test_add_func("/core/registration/renewal",
                    test_renews_before_expiry_counting_from_request_send);
    g_test_add_func("/core/registration/expiry",
                    test_the_binding_expires_when_renewals_go_unanswered);
    g_test_add_func("/core/registration/late-reply",
                    test_a_late_reply_to_an_earlier_retransmission_counts_from_its_send);
    g_test_add_func("/core/registration/grant-clamped",
                    test_never_trusts_a_grant_longer_than_requested);
    g_test_add_func("/core/registration/udp-tunnel",
                    test_udp_tunnelling_is_requested_and_its_acceptance_gives_a_udp_plan);
    g_test_add_func("/core/registration/udp-auto",
                    test_udp_auto_asks_without_F_and_a_decline_keeps_plain_tunnelling);
    g_test_add_func(
        "/core/registration/agent-encapsulations",
        test_requests_through_an_agent_carry_no_udp_request_and_only_its_encapsulations);
    g_test_add_func("/core/registration/nai-and-port",
                    test_the_nai_extension_and_the_local_port_are_used);
    g_test_add_func("/core/registration/challenge",
                    test_the_agents_challenge_is_echoed_and_its_lifetime_limit_kept);
    return g_test_run();
}
