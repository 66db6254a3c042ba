/* What the user learns and when: LastError while an agent stays silent or
 * its replies fail authentication, and agents heard on a link that has
 * carrier but no address of its own. */
#include <glib.h>
#include <string.h>

#include "core_test.h"

static void colocated(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
}

static void test_silent_home_agent_shows_in_last_error(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpstr(st.last_error, ==, "");
    ct_advance(&ct, S(4));
    g_assert_cmpuint(ct_n_udp(&ct), >=, 3);
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpint(st.state, ==, MIP_MN_STATE_REGISTERING);
    g_assert_nonnull(strstr(st.last_error, "no reply from 198.18.0.1 on dhcp0 after"));
    /* An answer clears it. */
    ct_accept_last(&ct);
    mip_mn_get_status(ct.mn, &st);
    g_assert_cmpstr(st.last_error, ==, "");
    ct_fini(&ct);
}

static void test_reply_failing_authentication_shows_in_last_error(void)
{
    Ct ct;
    ct_init(&ct, colocated);
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    CtReply bad = {.wrong_key = true};
    ct_reply(&ct, ct_last_udp(&ct), MIP_CODE_HA_MN_AUTH_FAILED, 0, &bad);
    MipMnStatus st;
    mip_mn_get_status(ct.mn, &st);
    /* Dropped, not obeyed: a stranger cannot stop us with a forged 131. */
    g_assert_cmpint(st.state, ==, MIP_MN_STATE_REGISTERING);
    g_assert_cmpint(st.last_reply_code, ==, -1);
    g_assert_nonnull(strstr(st.last_error, "failed authentication"));
    g_assert_nonnull(strstr(st.last_error, "key-file"));
    MipMnStats stats;
    mip_mn_get_stats(ct.mn, &stats);
    g_assert_cmpuint(stats.replies_dropped[MIP_MN_DROP_AUTH_FAILED], ==, 1);
    ct_fini(&ct);
}

static void test_agent_on_a_link_without_address_is_used(void)
{
    Ct ct;
    ct_init(&ct, NULL);
    /* Carrier, but no DHCP here: NM never calls the device active. */
    MipLinkInfo fa = ct_link(2, "fa0", MIP_LINK_ETHERNET, 0, 0, 0);
    fa.active = false;
    mip_mn_link_changed(ct.mn, &fa, ct.now);
    /* Soliciting starts at carrier-up. */
    g_assert_cmpuint(ct_n_icmp(&ct), ==, 1);
    ct_advert(&ct, 2, CT_FA, &(CtAdvert){0});
    g_assert_cmpuint(ct_n_udp(&ct), ==, 1);
    const CtPacket *p = ct_last_udp(&ct);
    g_assert_cmphex(p->dst, ==, CT_FA);
    g_assert_cmphex(p->src, ==, CT_HOME);
    g_assert_cmpint(p->ifindex, ==, 2);
    ct_accept_last(&ct);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    g_assert_cmpint(ct_last_plan(&ct)->plan.mode, ==, MIP_PLAN_FOREIGN_AGENT);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/diagnostics/silent-home-agent", test_silent_home_agent_shows_in_last_error);
    g_test_add_func("/core/diagnostics/reply-failing-authentication",
                    test_reply_failing_authentication_shows_in_last_error);
    g_test_add_func("/core/diagnostics/agent-on-link-without-address",
                    test_agent_on_a_link_without_address_is_used);
    return g_test_run();
}
