/* The core's timing and classification rules as pure functions: the
 * solicitation and retransmission intervals, the renewal point, reboot and
 * prefix movement, denial actions, link patterns. */
#include <glib.h>
#include <string.h>

#include "client/core/agents.h"
#include "client/core/attempt.h"
#include "client/core/links.h"
#include "client/core/solicit.h"
#include "core_test.h"

static void test_solicitation_intervals_are_one_second_three_times_then_double_to_64(void)
{
    const unsigned want[] = {1, 1, 1, 2, 4, 8, 16, 32, 64, 64, 64};
    for (unsigned n = 1; n <= G_N_ELEMENTS(want); n++)
        g_assert_cmpuint(mip_solicit_interval(n), ==, S(want[n - 1]));
    g_assert_cmpuint(mip_solicit_interval(1000), ==, S(64));
    /* RFC 5944 §2.4: the backed-off interval reaches at least a minute. */
    g_assert_cmpuint(MIP_SOLICIT_MAX_INTERVAL, >=, S(60));
}

static void test_retransmit_interval_doubles_from_one_second_up_to_the_cap(void)
{
    g_assert_cmpuint(mip_reg_retransmit_interval(1, S(600)), ==, S(1));
    g_assert_cmpuint(mip_reg_retransmit_interval(2, S(600)), ==, S(2));
    g_assert_cmpuint(mip_reg_retransmit_interval(3, S(600)), ==, S(4));
    g_assert_cmpuint(mip_reg_retransmit_interval(10, S(600)), ==, S(512));
    g_assert_cmpuint(mip_reg_retransmit_interval(11, S(600)), ==, S(600));
    g_assert_cmpuint(mip_reg_retransmit_interval(200, S(600)), ==, S(600));
    g_assert_cmpuint(mip_reg_retransmit_interval(5, S(10)), ==, S(10));
    g_assert_cmpuint(mip_reg_retransmit_interval(1, S(1)), ==, S(1));
}

static void test_renewal_leaves_room_for_three_retransmissions(void)
{
    /* Long lifetimes renew a tenth early. */
    g_assert_cmpuint(mip_reg_renew_at(S(0), 600), ==, S(540));
    g_assert_cmpuint(mip_reg_renew_at(S(5), 1800), ==, S(5 + 1620));
    /* Mid-range: 15 s, for the request and retransmissions at 1, 3, 7 s
     * whose last one still gets its 8 s wait. */
    g_assert_cmpuint(mip_reg_renew_at(S(0), 100), ==, S(85));
    g_assert_cmpuint(mip_reg_renew_at(S(0), 150), ==, S(135));
    /* Short lifetimes renew half way, never earlier. */
    g_assert_cmpuint(mip_reg_renew_at(S(0), 20), ==, S(10));
    g_assert_cmpuint(mip_reg_renew_at(S(0), 1), ==, MS(500));
    g_assert_cmpuint(mip_reg_renew_at(S(0), 0xffff), ==, MIP_TIME_NEVER);
}

static void test_sequence_below_256_after_a_higher_one_is_a_reboot(void)
{
    g_assert_true(mip_agent_seq_rebooted(300, 0));
    g_assert_true(mip_agent_seq_rebooted(300, 255));
    g_assert_true(mip_agent_seq_rebooted(10, 0));
    g_assert_false(mip_agent_seq_rebooted(0xffff, 256)); /* the normal wrap */
    g_assert_false(mip_agent_seq_rebooted(300, 301));
    g_assert_false(mip_agent_seq_rebooted(300, 299)); /* reordering, not a boot */
    g_assert_false(mip_agent_seq_rebooted(3, 4));
    g_assert_false(mip_agent_seq_rebooted(0, 0));
}

static void test_prefix_movement_needs_both_agents_to_advertise_prefixes(void)
{
    MipAgent a = {.prefix_len = 24, .network = 0xc6336400};
    MipAgent b = {.prefix_len = 24, .network = 0xcb007100};
    MipAgent same = {.prefix_len = 24, .network = 0xc6336400};
    MipAgent unknown = {.prefix_len = -1};
    g_assert_true(mip_agent_prefix_moved(&a, &b));
    g_assert_false(mip_agent_prefix_moved(&a, &same));
    g_assert_false(mip_agent_prefix_moved(&a, &unknown));
    g_assert_false(mip_agent_prefix_moved(&unknown, &b));
    g_assert_cmphex(mip_prefix_mask(0), ==, 0);
    g_assert_cmphex(mip_prefix_mask(24), ==, 0xffffff00u);
    g_assert_cmphex(mip_prefix_mask(32), ==, 0xffffffffu);
}

static void test_each_denial_code_maps_to_its_policy(void)
{
    g_assert_cmpint(mip_reg_denial_action(69), ==, MIP_DENY_SHORTER_LIFETIME);
    g_assert_cmpint(mip_reg_denial_action(130), ==, MIP_DENY_SHORTER_LIFETIME);
    g_assert_cmpint(mip_reg_denial_action(133), ==, MIP_DENY_RESYNC);
    g_assert_cmpint(mip_reg_denial_action(131), ==, MIP_DENY_STOP);
    g_assert_cmpint(mip_reg_denial_action(67), ==, MIP_DENY_STOP);
    g_assert_cmpint(mip_reg_denial_action(72), ==, MIP_DENY_CHANGE_ENCAP);
    g_assert_cmpint(mip_reg_denial_action(139), ==, MIP_DENY_CHANGE_ENCAP);
    g_assert_cmpint(mip_reg_denial_action(136), ==, MIP_DENY_CHANGE_HA);
    g_assert_cmpint(mip_reg_denial_action(75), ==, MIP_DENY_NEED_REVERSE_TUNNEL);
    g_assert_cmpint(mip_reg_denial_action(138), ==, MIP_DENY_NEED_REVERSE_TUNNEL);
    g_assert_cmpint(mip_reg_denial_action(128), ==, MIP_DENY_BACKOFF);
    g_assert_cmpint(mip_reg_denial_action(64), ==, MIP_DENY_BACKOFF);
    g_assert_cmpint(mip_reg_denial_action(255), ==, MIP_DENY_BACKOFF);
}

static void test_denial_backoff_starts_at_4s_and_doubles_to_5_minutes(void)
{
    const unsigned want[] = {4, 8, 16, 32, 64, 128, 256, 300, 300};
    for (unsigned n = 1; n <= G_N_ELEMENTS(want); n++)
        g_assert_cmpuint(mip_reg_denial_backoff(n), ==, S(want[n - 1]));
}

static void test_link_patterns_match_types_and_globs(void)
{
    MipLinkInfo eth = ct_link(2, "enp0s31f6", MIP_LINK_ETHERNET, 0, 0, 0);
    MipLinkInfo wifi = ct_link(3, "wlan0", MIP_LINK_WIFI, 0, 0, 0);
    MipLinkInfo docker = ct_link(4, "docker0", MIP_LINK_ETHERNET, 0, 0, 0);
    g_assert_true(mip_link_pattern_matches("ethernet", &eth, true));
    g_assert_false(mip_link_pattern_matches("ethernet", &eth, false));
    g_assert_true(mip_link_pattern_matches("wlan*", &wifi, true));
    g_assert_true(mip_link_pattern_matches("wifi", &wifi, true));
    g_assert_false(mip_link_pattern_matches("wifi", &eth, true));
    g_assert_true(mip_link_pattern_matches("docker*", &docker, false));
    g_assert_true(mip_link_pattern_matches("veth?", &(MipLinkInfo){.name = "veth1"}, false));
    g_assert_false(mip_link_pattern_matches("docker*", &eth, false));

    /* A name that fills the 16 bytes without a NUL is still safe. */
    MipLinkInfo full = {.type = MIP_LINK_ETHERNET};
    memset(full.name, 'x', sizeof full.name);
    g_assert_true(mip_link_pattern_matches("x*", &full, false));
}

static void test_config_validation_names_the_bad_field(void)
{
    MipMnConfig c;
    mip_mn_config_init(&c);
    const char *why = NULL;
    g_assert_cmpint(mip_mn_config_validate(&c, &why), ==, MIP_MN_ERR_INVALID_CONFIG);
    g_assert_nonnull(strstr(why, "home-address"));
    c.home_address = CT_HOME;
    c.home_agent = CT_HA;
    c.spi = 255;
    c.key_len = 16;
    g_assert_cmpint(mip_mn_config_validate(&c, &why), ==, MIP_MN_ERR_INVALID_CONFIG);
    g_assert_nonnull(strstr(why, "spi"));
    c.spi = 256;
    g_assert_cmpint(mip_mn_config_validate(&c, &why), ==, MIP_MN_OK);
    g_assert_null(why);
    c.lifetime = 0;
    g_assert_cmpint(mip_mn_config_validate(&c, &why), ==, MIP_MN_ERR_INVALID_CONFIG);
    c.lifetime = 600;
    c.n_ignore = 1;
    memset(c.ignore[0], 'a', sizeof c.ignore[0]); /* unterminated */
    g_assert_cmpint(mip_mn_config_validate(&c, &why), ==, MIP_MN_ERR_INVALID_CONFIG);

    MipMnDeps none = {0};
    c.n_ignore = 0;
    g_assert_null(mip_mn_new(&c, &none)); /* wall clock and random are required */
}

static void test_names_are_never_null(void)
{
    for (int s = MIP_MN_STATE_IDLE; s <= MIP_MN_STATE_STOPPED + 1; s++)
        g_assert_nonnull(mip_mn_state_name((MipMnState)s));
    g_assert_cmpstr(mip_mn_state_name(MIP_MN_STATE_AT_HOME), ==, "at-home");
    for (int e = MIP_MN_EV_LINK_UP; e <= MIP_MN_EV_HANDOVER + 1; e++)
        g_assert_nonnull(mip_mn_event_name((MipMnEventType)e));
    for (int r = 0; r <= MIP_MN_DROP_COUNT; r++)
        g_assert_nonnull(mip_mn_drop_reason_name((MipMnDropReason)r));
    g_assert_cmpstr(mip_mn_drop_reason_name(MIP_MN_DROP_IDENT_MISMATCH), ==, "ident-mismatch");
    for (int e = MIP_MN_OK; e <= MIP_MN_ERR_NO_MEMORY + 1; e++)
        g_assert_nonnull(mip_mn_strerror((MipMnError)e));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/rules/solicitation-intervals",
                    test_solicitation_intervals_are_one_second_three_times_then_double_to_64);
    g_test_add_func("/core/rules/retransmit-interval",
                    test_retransmit_interval_doubles_from_one_second_up_to_the_cap);
    g_test_add_func("/core/rules/renewal-point",
                    test_renewal_leaves_room_for_three_retransmissions);
    g_test_add_func("/core/rules/reboot-by-sequence",
                    test_sequence_below_256_after_a_higher_one_is_a_reboot);
    g_test_add_func("/core/rules/prefix-movement",
                    test_prefix_movement_needs_both_agents_to_advertise_prefixes);
    g_test_add_func("/core/rules/denial-actions", test_each_denial_code_maps_to_its_policy);
    g_test_add_func("/core/rules/denial-backoff",
                    test_denial_backoff_starts_at_4s_and_doubles_to_5_minutes);
    g_test_add_func("/core/rules/link-patterns", test_link_patterns_match_types_and_globs);
    g_test_add_func("/core/rules/config-validation", test_config_validation_names_the_bad_field);
    g_test_add_func("/core/rules/names", test_names_are_never_null);
    return g_test_run();
}
