/* Make-before-break and break-before-make handover: simultaneous bindings
 * (S) while the old binding is valid, the release of the old care-of
 * address only after the new plan is applied, the ways a release travels,
 * the pacing of new attachments versus retries, solicitation after a move,
 * and the times a handover reports (RFC 5944 §3.6.1.1, §3.6.3, §2.4). */
#include <glib.h>
#include <string.h>

#include "core_test.h"

#define CT_FA_LEASE2 0xc6336465u /* 198.51.100.101 */

static MipLinkInfo dhcp0(void)
{
    return ct_link(2, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW);
}

static MipLinkInfo wlan0(void)
{
    return ct_link(3, "wlan0", MIP_LINK_WIFI, CT_NAT_LEASE, 24, 0xc6130301);
}

static MipLinkInfo fa0(void)
{
    return ct_link(4, "fa0", MIP_LINK_ETHERNET, CT_FA_LEASE, 24, CT_FA);
}

static void prefer(Ct *ct, const char *a, const char *b, const char *c)
{
    const char *names[] = {a, b, c};
    ct->cfg.n_prefer = 0;
    for (size_t i = 0; i < 3 && names[i]; i++)
        g_strlcpy(ct->cfg.prefer[ct->cfg.n_prefer++], names[i], MIP_MN_PATTERN_MAX);
    g_assert_cmpint(mip_mn_reload(ct->mn, &ct->cfg, ct->now), ==, MIP_MN_OK);
}

static void break_before_make(MipMnConfig *c)
{
    c->make_before_break = false;
}

static void no_simultaneous_bindings(MipMnConfig *c)
{
    c->simultaneous_bindings = false;
}

static MipRegRequest request_of(const CtPacket *p)
{
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(p, &req, &ext);
    return req;
}

static void advert(Ct *ct, int ifindex, uint32_t agent)
{
    ct_advert(ct, ifindex, agent, &(CtAdvert){.sequence = 300, .lifetime = 9000});
}

/* Bound co-located on wlan0, dhcp0 preferred and not yet up. */
static void bound_on_wlan0(Ct *ct, void (*tune)(MipMnConfig *c))
{
    ct_init(ct, tune);
    prefer(ct, "dhcp0", "wlan0", NULL);
    ct_link_up(ct, wlan0());
    ct_accept_last(ct);
    g_assert_cmpint(ct_last_plan(ct)->plan.ifindex, ==, 3);
    ct_advance(ct, S(10));
}

static void assert_release(const CtPacket *p, int ifindex, uint32_t src, uint32_t dst, uint32_t coa)
{
    g_assert_cmpint(p->ifindex, ==, ifindex);
    g_assert_cmphex(p->src, ==, src);
    g_assert_cmphex(p->dst, ==, dst);
    MipRegRequest req = request_of(p);
    g_assert_cmpuint(req.lifetime, ==, 0);
    g_assert_cmphex(req.care_of_address, ==, coa);
    g_assert_cmphex(req.flags & MIP_REQ_S, ==, MIP_REQ_S);
}

/* ------------------------------------------------------------------------ */

static void test_the_new_request_asks_to_keep_the_old_binding_and_releases_it_after_the_switch(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    size_t plans = ct_n_plans(&ct);

    ct_link_up(&ct, dhcp0());
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    MipRegRequest req = request_of(ct_last_udp(&ct));
    g_assert_cmphex(req.care_of_address, ==, CT_LEASE);
    g_assert_cmphex(req.flags & MIP_REQ_S, ==, MIP_REQ_S);
    g_assert_cmpuint(req.lifetime, ==, 600);
    /* The old plan stays while the new registration is outstanding. */
    g_assert_cmpuint(ct_n_plans(&ct), ==, plans);

    ct_advance(&ct, MS(3));
    ct_accept_last(&ct);
    g_assert_cmpuint(ct_n_plans(&ct), ==, plans + 1);
    const CtPlan *plan = ct_last_plan(&ct);
    g_assert_cmpint(plan->plan.ifindex, ==, 2);

    /* Then, and only then, the old care-of address alone is let go: through
     * its own link, from its own address. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    const CtPacket *rel = ct_last_udp(&ct);
    assert_release(rel, 3, CT_NAT_LEASE, CT_HA, CT_NAT_LEASE);
    g_assert_cmpuint(rel->order, >, plan->order);
    g_assert_cmpuint(rel->order, >, ct_last_event(&ct, MIP_MN_EV_HANDOVER)->order);
    ct_accept_last(&ct);
    const CtEvent *e = ct_last_event(&ct, MIP_MN_EV_RELEASED);
    g_assert_cmpint(e->code, ==, 0);
    g_assert_nonnull(strstr(e->message, "198.19.3.100"));

    /* Nothing more to release; the renewal is for one binding: no S. */
    ct_advance(&ct, S(540));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 4);
    req = request_of(ct_last_udp(&ct));
    g_assert_cmphex(req.care_of_address, ==, CT_LEASE);
    g_assert_cmphex(req.flags & MIP_REQ_S, ==, 0);
    ct_fini(&ct);
}

static void test_an_old_foreign_agent_binding_is_released_through_that_agent(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    prefer(&ct, "dhcp0", "fa0", NULL);
    ct_link_up(&ct, fa0());
    advert(&ct, 4, CT_FA);
    g_assert_cmphex(ct_last_udp(&ct)->dst, ==, CT_FA);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    size_t n = ct_n_udp(&ct);

    ct_link_up(&ct, dhcp0());
    g_assert_cmphex(request_of(ct_last_udp(&ct)).flags & MIP_REQ_S, ==, MIP_REQ_S);
    /* The foreign agent's plan stays in force until the new one is accepted. */
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_COLOCATED);
    g_assert_cmpuint(ct_n_udp(&ct), ==, n + 2);
    /* Via the agent, from the home address: it drops its visitor entry too. */
    assert_release(ct_last_udp(&ct), 4, CT_HOME, CT_FA, CT_FA);
    ct_fini(&ct);
}

static void test_a_home_agent_without_simultaneous_bindings_replaces_in_one_step(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    g_assert_cmphex(request_of(ct_last_udp(&ct)).flags & MIP_REQ_S, ==, MIP_REQ_S);
    /* Code 1: accepted, simultaneous bindings unsupported. */
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, 1, 600, NULL);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 2);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    /* The old binding is already gone at the home agent: nothing to send. */
    ct_advance(&ct, S(20));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_RELEASED), ==, 0);
    ct_fini(&ct);
}

static void test_without_make_before_break_or_S_no_simultaneous_binding_is_asked(void)
{
    void (*tunes[])(MipMnConfig *) = {break_before_make, no_simultaneous_bindings};
    for (size_t i = 0; i < G_N_ELEMENTS(tunes); i++) {
        Ct ct;
        bound_on_wlan0(&ct, tunes[i]);
        ct_link_up(&ct, dhcp0());
        g_assert_cmphex(request_of(ct_last_udp(&ct)).flags & MIP_REQ_S, ==, 0);
        /* Break-before-make drops the old plan at once; without S the old
         * plan still stays until the new binding replaces it. */
        if (i == 0)
            g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
        else
            g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 3);
        ct_accept_last(&ct);
        ct_advance(&ct, S(20));
        g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
        ct_fini(&ct);
    }
}

static void test_an_old_link_lost_before_acceptance_is_released_through_the_new_binding(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    CtPacket req = *ct_last_udp(&ct);
    g_assert_cmphex(request_of(&req).flags & MIP_REQ_S, ==, MIP_REQ_S);
    /* wlan0 vanishes while the request is out: its plan goes at once. */
    ct_advance(&ct, MS(2));
    ct_link_down(&ct, wlan0());
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    ct_advance(&ct, MS(2));
    ct_reply(&ct, &req, MIP_CODE_ACCEPTED, 600, NULL);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 2);
    /* The home agent still holds wlan0's address (S): release it from the
     * new care-of address. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    assert_release(ct_last_udp(&ct), 2, CT_LEASE, CT_HA, CT_NAT_LEASE);
    ct_fini(&ct);
}

static void test_an_unanswered_release_is_sent_three_times_then_left_to_lapse(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    ct_accept_last(&ct);
    MipTime t0 = ct.now;
    ct_run_until(&ct, t0 + S(20));
    /* Requests: wlan0's, dhcp0's, then the release at 0, 1 and 3 s. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 5);
    g_assert_cmpuint(ct_udp(&ct, 2)->at, ==, t0);
    g_assert_cmpuint(ct_udp(&ct, 3)->at, ==, t0 + S(1));
    g_assert_cmpuint(ct_udp(&ct, 4)->at, ==, t0 + S(3));
    for (size_t i = 2; i < 5; i++)
        assert_release(ct_udp(&ct, i), 3, CT_NAT_LEASE, CT_HA, CT_NAT_LEASE);
    const CtEvent *e = ct_last_event(&ct, MIP_MN_EV_RELEASED);
    g_assert_cmpint(e->code, ==, -1);
    g_assert_cmpuint(e->at, ==, t0 + S(7));
    /* The binding in force is untouched. */
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 2);
    ct_fini(&ct);
}

static void test_a_release_refused_as_a_replay_is_resent_once_with_the_agents_clock(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    ct_accept_last(&ct);
    CtPacket rel = *ct_last_udp(&ct);
    MipRegRequest req = request_of(&rel);
    /* 133 carries the home agent's time in the high 32 bits. */
    uint64_t ha_ident =
        ((req.identification >> 32) + 100) << 32 | (req.identification & 0xffffffffu);
    ct_reply(&ct, &rel, MIP_CODE_HA_ID_MISMATCH, 0,
             &(CtReply){.set_ident = true, .ident = ha_ident});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 4);
    const CtPacket *again = ct_last_udp(&ct);
    assert_release(again, 3, CT_NAT_LEASE, CT_HA, CT_NAT_LEASE);
    g_assert_cmpuint(again->at, ==, ct.now);
    g_assert_cmpuint(request_of(again).identification >> 32, >=, ha_ident >> 32);
    /* A second 133 ends it. */
    CtPacket a2 = *again;
    ct_reply(&ct, &a2, MIP_CODE_HA_ID_MISMATCH, 0,
             &(CtReply){.set_ident = true, .ident = request_of(&a2).identification + (1ull << 40)});
    g_assert_cmpint(ct_last_event(&ct, MIP_MN_EV_RELEASED)->code, ==, MIP_CODE_HA_ID_MISMATCH);
    ct_advance(&ct, S(10));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 4);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_fini(&ct);
}

static void test_an_abandoned_attempt_with_S_is_released_after_the_next_acceptance(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    prefer(&ct, "fa0", "wlan0", NULL);
    ct_advance(&ct, S(1));
    /* fa0 comes up with a lease: registered co-located with S at once... */
    ct_link_up(&ct, fa0());
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmphex(request_of(ct_last_udp(&ct)).care_of_address, ==, CT_FA_LEASE);
    /* ...then its agent answers the solicitation: through it, at once. */
    ct_advance(&ct, MS(1));
    advert(&ct, 4, CT_FA);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    const CtPacket *via = ct_last_udp(&ct);
    g_assert_cmphex(via->dst, ==, CT_FA);
    g_assert_cmphex(request_of(via).flags & MIP_REQ_S, ==, MIP_REQ_S);
    /* No release may overtake that request on the way to the home agent. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    ct_advance(&ct, MS(4));
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    /* The home agent may hold wlan0's address and fa0's lease: both go, one
     * after the other. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 4);
    assert_release(ct_last_udp(&ct), 3, CT_NAT_LEASE, CT_HA, CT_NAT_LEASE);
    ct_accept_last(&ct);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 5);
    assert_release(ct_last_udp(&ct), 4, CT_FA_LEASE, CT_HA, CT_FA_LEASE);
    ct_accept_last(&ct);
    ct_advance(&ct, S(10));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 5);
    g_assert_cmpuint(ct_n_events(&ct, MIP_MN_EV_RELEASED), ==, 2);
    ct_fini(&ct);
}

static void test_the_same_care_of_address_on_another_link_is_one_binding(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    prefer(&ct, "wlan0", "fa0", NULL);
    ct_link_up(&ct, fa0());
    advert(&ct, 4, CT_FA);
    ct_accept_last(&ct);
    ct_advance(&ct, S(2));
    /* wlan0 joins the same agent's network: its lease is registered with S
     * at once, then the agent answers. */
    ct_link_up(&ct, ct_link(3, "wlan0", MIP_LINK_WIFI, CT_FA_LEASE2, 24, CT_FA));
    g_assert_cmphex(request_of(ct_last_udp(&ct)).flags & MIP_REQ_S, ==, MIP_REQ_S);
    ct_advance(&ct, MS(1));
    advert(&ct, 3, CT_FA);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmpint(p->ifindex, ==, 3);
    g_assert_cmphex(p->dst, ==, CT_FA);
    g_assert_cmphex(request_of(p).flags & MIP_REQ_S, ==, 0);
    size_t n = ct_n_udp(&ct);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 3);
    /* Accepted without S, it replaced every other binding (the lease's
     * included): releasing "the old" care-of address would remove the new
     * binding, and there is nothing else to release. */
    ct_advance(&ct, S(5));
    g_assert_cmpuint(ct_n_udp(&ct), ==, n);
    ct_fini(&ct);
}

static void test_registering_a_care_of_address_again_cancels_its_release(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    ct_accept_last(&ct);
    g_assert_cmphex(request_of(ct_last_udp(&ct)).care_of_address, ==, CT_NAT_LEASE);
    /* Back to wlan0 before its release was answered. */
    ct_advance(&ct, MS(100));
    g_assert_cmpint(mip_mn_handover(ct.mn, "wlan0", ct.now), ==, MIP_MN_OK);
    const CtPacket *p = ct_last_udp(&ct);
    MipRegRequest req = request_of(p);
    g_assert_cmpuint(req.lifetime, ==, 600);
    g_assert_cmphex(req.care_of_address, ==, CT_NAT_LEASE);
    g_assert_cmphex(req.flags & MIP_REQ_S, ==, MIP_REQ_S);
    size_t n = ct_n_udp(&ct);
    /* The release is not retransmitted. */
    ct_advance(&ct, MS(500));
    ct_accept_last(&ct);
    g_assert_cmpuint(ct_n_udp(&ct), ==, n + 1);
    assert_release(ct_last_udp(&ct), 2, CT_LEASE, CT_HA, CT_LEASE);
    ct_accept_last(&ct);
    ct_advance(&ct, S(10));
    g_assert_cmpuint(ct_n_udp(&ct), ==, n + 1);
    ct_fini(&ct);
}

static void test_returning_home_deregisters_everything_and_drops_pending_releases(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    ct_accept_last(&ct);
    size_t n = ct_n_udp(&ct); /* the release is out, unanswered */
    ct_advance(&ct, MS(200));
    ct_link_up(&ct, ct_link(1, "home0", MIP_LINK_ETHERNET, CT_HOME, 24, CT_HOME_GW));
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_HOME);
    /* Returning home is a move: the deregistration goes at once, for every
     * care-of address (care-of = home address). */
    g_assert_cmpuint(ct_n_udp(&ct), ==, n + 1);
    MipRegRequest req = request_of(ct_last_udp(&ct));
    g_assert_cmpuint(req.lifetime, ==, 0);
    g_assert_cmphex(req.care_of_address, ==, CT_HOME);
    ct_accept_last(&ct);
    ct_advance(&ct, S(10));
    g_assert_cmpuint(ct_n_udp(&ct), ==, n + 1);
    ct_fini(&ct);
}

/* ------------------------------------------------------------------------ */
/* Pacing                                                                   */

static void test_a_new_attachment_is_registered_at_once_even_within_a_second(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    ct_advance(&ct, S(1));
    g_assert_cmpint(mip_mn_handover(ct.mn, "wlan0", ct.now), ==, MIP_MN_OK);
    ct_link_up(&ct, dhcp0()); /* the override keeps wlan0 */
    /* A renewal on wlan0 (register command), answered at once... */
    g_assert_cmpint(mip_mn_register(ct.mn, ct.now), ==, MIP_MN_OK);
    ct_accept_last(&ct);
    MipTime renewed = ct_last_udp(&ct)->at;
    /* ...and 200 ms later the node moves: no 1 s wait for a new link. */
    ct_advance(&ct, MS(200));
    g_assert_cmpint(mip_mn_handover(ct.mn, NULL, ct.now), ==, MIP_MN_OK);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmpint(p->ifindex, ==, 2);
    g_assert_cmpuint(p->at, ==, renewed + MS(200));
    ct_fini(&ct);
}

static void test_the_same_attachment_tried_again_keeps_the_one_second_floor(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    MipTime t0 = ct.now;
    CtPacket p = *ct_last_udp(&ct);
    /* 130 (insufficient resources) with a shorter lifetime: the same
     * attachment again, so the retry keeps 1 s from the first request. */
    ct_advance(&ct, MS(10));
    ct_reply(&ct, &p, MIP_CODE_HA_NO_RESOURCES, 60, NULL);
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    ct_run_until(&ct, t0 + S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, t0 + S(1));
    g_assert_cmpuint(request_of(ct_last_udp(&ct)).lifetime, ==, 60);
    ct_fini(&ct);
}

static void test_flapping_between_attachments_sends_at_most_three_requests_a_second(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, dhcp0());
    ct_link_up(&ct, wlan0());
    MipTime t0 = ct_udp(&ct, 0)->at;
    const char *order[] = {"wlan0", "dhcp0", "wlan0", "dhcp0"};
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        ct_advance(&ct, MS(10));
        g_assert_cmpint(mip_mn_handover(ct.mn, order[i], ct.now), ==, MIP_MN_OK);
    }
    /* dhcp0 at 0, wlan0 at 10 ms, dhcp0 at 20 ms; the next waits until the
     * first of those three is a second old. */
    g_assert_cmpuint(ct_n_udp(&ct), ==, 3);
    ct_run_until(&ct, t0 + S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 4);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, t0 + S(1));
    g_assert_cmpint(ct_last_udp(&ct)->ifindex, ==, 2);
    ct_fini(&ct);
}

/* ------------------------------------------------------------------------ */
/* Solicitation after a move                                                */

static void test_a_link_back_on_another_network_solicits_at_once(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    MipLinkInfo w = wlan0();
    ct_link_up(&ct, w);
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 1);
    ct_advance(&ct, MS(300));
    ct_link_down(&ct, w);
    ct_advance(&ct, MS(50));
    /* Roamed to the agent's network: no 1 s wait, no waiting for its
     * periodic advertisement. */
    ct_link_up(&ct, ct_link(3, "wlan0", MIP_LINK_WIFI, CT_FA_LEASE, 24, CT_FA));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);
    g_assert_cmpuint(g_array_index(ct.icmp, CtPacket, 1).at, ==, ct.now);
    /* Back on the same network 50 ms later is a flap: 1 s spacing holds. */
    ct_advance(&ct, MS(50));
    ct_link_down(&ct, w);
    ct_advance(&ct, MS(50));
    ct_link_up(&ct, ct_link(3, "wlan0", MIP_LINK_WIFI, CT_FA_LEASE, 24, CT_FA));
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_a_lease_in_another_network_after_carrier_solicits_at_once(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    ct_link_up(&ct, wlan0());
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 1);
    ct_advance(&ct, MS(300));
    ct_link_down(&ct, wlan0());
    ct_advance(&ct, MS(50));
    /* Carrier first, no address yet: for all we know a flap, so the 1 s
     * spacing holds the solicitation... */
    MipLinkInfo bare = ct_link(3, "wlan0", MIP_LINK_WIFI, 0, 0, 0);
    ct_link_up(&ct, bare);
    if (ct_n_icmp(&ct) == 1) {
        /* ...until the lease shows another network (if carrier alone makes
         * the link usable; otherwise the link came up with the lease). */
        ct_advance(&ct, MS(30));
        ct_link_up(&ct, ct_link(3, "wlan0", MIP_LINK_WIFI, CT_FA_LEASE, 24, CT_FA));
    }
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 2);
    g_assert_cmpuint(g_array_index(ct.icmp, CtPacket, 1).at, ==, ct.now);
    ct_fini(&ct);
}

static void test_break_before_make_registers_as_soon_as_the_agent_answers(void)
{
    Ct ct;
    ct_init(&ct, break_before_make);
    ct_link_up(&ct, dhcp0());
    ct_accept_last(&ct);
    ct_advance(&ct, S(30));
    ct_link_down(&ct, dhcp0());
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_NONE);
    ct_advance(&ct, MS(40));
    /* An agent-only link (no lease yet): the solicitation goes at once and
     * the request as soon as the agent answers. */
    ct_link_up(&ct, ct_link(4, "fa0", MIP_LINK_ETHERNET, 0, 0, 0));
    g_assert_cmpuint(g_array_index(ct.icmp, CtPacket, ct.icmp->len - 1).at, ==, ct.now);
    size_t n = ct_n_udp(&ct);
    ct_advance(&ct, MS(1));
    advert(&ct, 4, CT_FA);
    g_assert_cmpuint(ct_n_udp(&ct), ==, n + 1);
    g_assert_cmpuint(ct_last_udp(&ct)->at, ==, ct.now);
    g_assert_cmphex(request_of(ct_last_udp(&ct)).flags & MIP_REQ_S, ==, 0);
    ct_fini(&ct);
}

/* ------------------------------------------------------------------------ */
/* What a handover reports                                                  */

static void test_a_handover_reports_its_trigger_acceptance_and_kind(void)
{
    Ct ct;
    bound_on_wlan0(&ct, NULL);
    MipTime up = ct.now;
    ct_link_up(&ct, dhcp0());
    ct_advance(&ct, MS(4));
    ct_accept_last(&ct);
    const CtEvent *e = ct_last_event(&ct, MIP_MN_EV_HANDOVER);
    g_assert_cmpuint(e->ev.trigger_at, ==, up);
    g_assert_cmpuint(e->ev.accepted_at, ==, up + MS(4));
    g_assert_false(e->ev.break_before_make);
    g_assert_cmpuint(e->ev.broken_at, ==, 0);
    g_assert_cmpstr(e->ev.old_ifname, ==, "wlan0");
    g_assert_cmpstr(e->ev.new_ifname, ==, "dhcp0");
    g_assert_cmpint(e->ev.old_mode, ==, MIP_PLAN_COLOCATED);
    g_assert_cmpint(e->ev.new_mode, ==, MIP_PLAN_COLOCATED);
    g_assert_cmphex(e->ev.old_care_of, ==, CT_NAT_LEASE);
    g_assert_cmphex(e->ev.address, ==, CT_LEASE);
    /* The event comes right after the plan it reports. */
    g_assert_cmpuint(e->order, ==, ct_last_plan(&ct)->order + 1);
    /* Other events carry no handover fields. */
    g_assert_cmpuint(ct_last_event(&ct, MIP_MN_EV_ACCEPTED)->ev.trigger_at, ==, 0);
    ct_fini(&ct);
}

static void test_a_break_before_make_handover_reports_the_outage(void)
{
    Ct ct;
    ct_init(&ct, break_before_make);
    prefer(&ct, "dhcp0", "wlan0", NULL);
    ct_link_up(&ct, wlan0());
    ct_accept_last(&ct);
    ct_advance(&ct, S(5));
    MipTime lost = ct.now;
    ct_link_down(&ct, wlan0());
    ct_advance(&ct, MS(60));
    MipTime up = ct.now;
    ct_link_up(&ct, dhcp0());
    ct_advance(&ct, MS(3));
    ct_accept_last(&ct);
    const CtEvent *e = ct_last_event(&ct, MIP_MN_EV_HANDOVER);
    g_assert_true(e->ev.break_before_make);
    g_assert_cmpuint(e->ev.broken_at, ==, lost);
    g_assert_cmpuint(e->ev.trigger_at, ==, up);
    g_assert_cmpuint(e->ev.accepted_at, ==, up + MS(3));
    g_assert_cmpstr(e->ev.old_ifname, ==, "wlan0");
    ct_fini(&ct);
}

static void test_a_handover_command_or_preference_change_is_the_trigger(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    prefer(&ct, "dhcp0", "wlan0", NULL);
    ct_link_up(&ct, dhcp0());
    ct_accept_last(&ct);
    ct_link_up(&ct, wlan0());
    ct_advance(&ct, S(3));
    MipTime cmd = ct.now;
    g_assert_cmpint(mip_mn_handover(ct.mn, "wlan0", ct.now), ==, MIP_MN_OK);
    ct_advance(&ct, MS(2));
    ct_accept_last(&ct);
    g_assert_cmpuint(ct_last_event(&ct, MIP_MN_EV_HANDOVER)->ev.trigger_at, ==, cmd);
    ct_accept_last(&ct); /* the release */

    ct_advance(&ct, S(3));
    g_assert_cmpint(mip_mn_handover(ct.mn, NULL, ct.now), ==, MIP_MN_OK);
    ct_accept_last(&ct);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_last_plan(&ct)->plan.ifindex, ==, 2);
    /* A reload that makes wlan0 preferred moves the node: that is the trigger. */
    ct_advance(&ct, S(3));
    MipTime reload = ct.now;
    prefer(&ct, "wlan0", "dhcp0", NULL);
    ct_advance(&ct, MS(2));
    ct_accept_last(&ct);
    const CtEvent *e = ct_last_event(&ct, MIP_MN_EV_HANDOVER);
    g_assert_cmpstr(e->ev.new_ifname, ==, "wlan0");
    g_assert_cmpuint(e->ev.trigger_at, ==, reload);
    g_assert_cmpuint(e->ev.accepted_at, ==, reload + MS(2));
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func(
        "/core/handover/mbb/S-then-release-after-switch",
        test_the_new_request_asks_to_keep_the_old_binding_and_releases_it_after_the_switch);
    g_test_add_func("/core/handover/mbb/release-through-old-agent",
                    test_an_old_foreign_agent_binding_is_released_through_that_agent);
    g_test_add_func("/core/handover/mbb/code-1-replaces",
                    test_a_home_agent_without_simultaneous_bindings_replaces_in_one_step);
    g_test_add_func("/core/handover/mbb/no-S-when-off",
                    test_without_make_before_break_or_S_no_simultaneous_binding_is_asked);
    g_test_add_func("/core/handover/mbb/old-link-lost",
                    test_an_old_link_lost_before_acceptance_is_released_through_the_new_binding);
    g_test_add_func("/core/handover/mbb/release-unanswered",
                    test_an_unanswered_release_is_sent_three_times_then_left_to_lapse);
    g_test_add_func("/core/handover/mbb/release-resync",
                    test_a_release_refused_as_a_replay_is_resent_once_with_the_agents_clock);
    g_test_add_func("/core/handover/mbb/abandoned-attempt",
                    test_an_abandoned_attempt_with_S_is_released_after_the_next_acceptance);
    g_test_add_func("/core/handover/mbb/same-care-of",
                    test_the_same_care_of_address_on_another_link_is_one_binding);
    g_test_add_func("/core/handover/mbb/back-before-release",
                    test_registering_a_care_of_address_again_cancels_its_release);
    g_test_add_func("/core/handover/mbb/home",
                    test_returning_home_deregisters_everything_and_drops_pending_releases);
    g_test_add_func("/core/handover/pacing/new-attachment-at-once",
                    test_a_new_attachment_is_registered_at_once_even_within_a_second);
    g_test_add_func("/core/handover/pacing/same-attachment-floor",
                    test_the_same_attachment_tried_again_keeps_the_one_second_floor);
    g_test_add_func("/core/handover/pacing/burst",
                    test_flapping_between_attachments_sends_at_most_three_requests_a_second);
    g_test_add_func("/core/handover/solicit/new-network",
                    test_a_link_back_on_another_network_solicits_at_once);
    g_test_add_func("/core/handover/solicit/new-network-lease",
                    test_a_lease_in_another_network_after_carrier_solicits_at_once);
    g_test_add_func("/core/handover/bbm/agent-answers",
                    test_break_before_make_registers_as_soon_as_the_agent_answers);
    g_test_add_func("/core/handover/report/times",
                    test_a_handover_reports_its_trigger_acceptance_and_kind);
    g_test_add_func("/core/handover/report/outage",
                    test_a_break_before_make_handover_reports_the_outage);
    g_test_add_func("/core/handover/report/command-and-reload",
                    test_a_handover_command_or_preference_change_is_the_trigger);
    return g_test_run();
}
