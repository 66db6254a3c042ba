/* Reply checks (RFC 5944 §3.6.2): a reply that does not answer an
 * outstanding request of ours, or does not authenticate, changes nothing and
 * is counted by reason. */
#include <glib.h>
#include <string.h>

#include "client/proto/auth.h"
#include "core_test.h"

static void colocated(MipMnConfig *c)
{
    c->care_of_mode = MIP_CARE_OF_COLOCATED;
}

/* Registering co-located, one request outstanding. */
static void start(Ct *ct)
{
    ct_init(ct, colocated);
    ct_link_up(ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE, 24, CT_LEASE_GW));
    g_assert_cmpuint(ct_n_udp(ct), ==, 1);
}

static void assert_dropped_for(Ct *ct, MipMnDropReason reason)
{
    MipMnStats st;
    mip_mn_get_stats(ct->mn, &st);
    for (int r = 0; r < MIP_MN_DROP_COUNT; r++)
        g_assert_cmpuint(st.replies_dropped[r], ==, r == (int)reason ? 1 : 0);
    g_assert_cmpuint(st.replies_accepted, ==, 0);
    g_assert_cmpuint(st.replies_denied, ==, 0);
    g_assert_cmpint(ct_state(ct), ==, MIP_MN_STATE_REGISTERING);
    g_assert_cmpuint(ct_n_plans(ct), ==, 0);
    MipMnStatus status;
    mip_mn_get_status(ct->mn, &status);
    g_assert_cmpint(status.last_reply_code, ==, -1);
    /* Dropped silently: no event, nothing sent. */
    g_assert_cmpuint(ct->events->len, ==,
                     ct_n_events(ct, MIP_MN_EV_LINK_UP) + ct_n_events(ct, MIP_MN_EV_REQUEST_SENT));
    g_assert_cmpuint(ct_n_udp(ct), ==, 1);
}

static void test_drops_reply_with_wrong_ident_and_counts_it(void)
{
    Ct ct;
    start(&ct);
    MipRegRequest req;
    MipRegExtensions ext;
    CtPacket p = *ct_last_udp(&ct);
    ct_request(&p, &req, &ext);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600,
             &(CtReply){.set_ident = true, .ident = req.identification ^ 0x1000});
    assert_dropped_for(&ct, MIP_MN_DROP_IDENT_MISMATCH);
    /* The genuine reply still works afterwards. */
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_fini(&ct);
}

static void test_matches_replies_on_the_low_32_bits_of_the_identification(void)
{
    Ct ct;
    start(&ct);
    MipRegRequest req;
    MipRegExtensions ext;
    CtPacket p = *ct_last_udp(&ct);
    ct_request(&p, &req, &ext);
    /* A home agent answering a timestamp puts its own time on top (§5.7). */
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600,
             &(CtReply){.set_ident = true, .ident = req.identification + (5ull << 32)});
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_fini(&ct);
}

static void test_drops_reply_with_a_bad_authenticator_and_counts_it(void)
{
    Ct ct;
    start(&ct);
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600, &(CtReply){.wrong_key = true});
    assert_dropped_for(&ct, MIP_MN_DROP_AUTH_FAILED);
    ct_fini(&ct);
}

static void test_drops_reply_without_an_authenticator_and_counts_it(void)
{
    Ct ct;
    start(&ct);
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600, &(CtReply){.no_auth = true});
    assert_dropped_for(&ct, MIP_MN_DROP_AUTH_MISSING);
    ct_fini(&ct);
}

static void test_drops_an_unauthenticated_home_agent_denial(void)
{
    Ct ct;
    start(&ct);
    CtPacket p = *ct_last_udp(&ct);
    /* A forged 131 must not stop us. */
    ct_reply(&ct, &p, MIP_CODE_HA_MN_AUTH_FAILED, 0, &(CtReply){.no_auth = true});
    assert_dropped_for(&ct, MIP_MN_DROP_AUTH_MISSING);
    ct_advance(&ct, S(1));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_fini(&ct);
}

static void test_drops_reply_for_another_home_address_and_counts_it(void)
{
    Ct ct;
    start(&ct);
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600,
             &(CtReply){.set_home_address = true, .home_address = CT_HOME + 1});
    assert_dropped_for(&ct, MIP_MN_DROP_HOME_ADDRESS);
    ct_fini(&ct);
}

static void test_drops_reply_from_a_port_other_than_434_and_counts_it(void)
{
    Ct ct;
    start(&ct);
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600, &(CtReply){.sport = 4343});
    assert_dropped_for(&ct, MIP_MN_DROP_BAD_PORT);
    ct_fini(&ct);
}

static void test_drops_malformed_replies_and_counts_them(void)
{
    Ct ct;
    start(&ct);
    static const uint8_t junk[] = {3, 0, 0, 1, 2, 3};
    mip_mn_udp_received(ct.mn, 3, CT_HA, 434, CT_LEASE, 434, junk, sizeof junk, ct.now);
    assert_dropped_for(&ct, MIP_MN_DROP_MALFORMED);
    ct_fini(&ct);
}

static void test_drops_replies_when_nothing_is_outstanding(void)
{
    Ct ct;
    start(&ct);
    CtPacket p = *ct_last_udp(&ct);
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    /* A duplicate of the same reply arrives. */
    ct_reply(&ct, &p, MIP_CODE_ACCEPTED, 600, NULL);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.replies_accepted, ==, 1);
    g_assert_cmpuint(st.replies_dropped[MIP_MN_DROP_UNSOLICITED], ==, 1);
    ct_fini(&ct);
}

static void test_a_reply_to_an_abandoned_attempt_is_not_accepted(void)
{
    Ct ct;
    start(&ct);
    CtPacket old = *ct_last_udp(&ct);
    /* The lease changes: a new attempt with a new care-of address. */
    ct_advance(&ct, MS(200));
    ct_link_up(&ct, ct_link(3, "dhcp0", MIP_LINK_ETHERNET, CT_LEASE2, 24, CT_LEASE_GW));
    ct_advance(&ct, MS(800));
    g_assert_cmpuint(ct_n_udp(&ct), ==, 2);
    ct_reply(&ct, &old, MIP_CODE_ACCEPTED, 600, NULL);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    MipMnStats st;
    mip_mn_get_stats(ct.mn, &st);
    g_assert_cmpuint(st.replies_dropped[MIP_MN_DROP_IDENT_MISMATCH], ==, 1);
    ct_accept_last(&ct);
    g_assert_cmphex(ct_last_plan(&ct)->plan.care_of_address, ==, CT_LEASE2);
    ct_fini(&ct);
}

static void test_truncated_replies_are_dropped_without_harm(void)
{
    Ct ct;
    start(&ct);
    /* Build a genuine reply by capturing what ct_reply would send. */
    CtPacket p = *ct_last_udp(&ct);
    MipRegRequest req;
    MipRegExtensions ext;
    ct_request(&p, &req, &ext);
    MipRegReply rep = {.code = 0,
                       .lifetime = 600,
                       .home_address = CT_HOME,
                       .home_agent = CT_HA,
                       .identification = req.identification};
    uint8_t buf[128];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof buf);
    g_assert_cmpint(mip_reg_reply_write(&w, &rep), ==, MIP_OK);
    MipAuthKey key = {
        .spi = CT_SPI, .algorithm = MIP_AUTH_HMAC_MD5, .key = ct_key, .key_len = sizeof ct_key};
    g_assert_cmpint(mip_auth_write(&w, MIP_EXT_MH_AUTH, &key), ==, MIP_OK);
    for (size_t len = 0; len < w.len; len++) {
        uint8_t *copy = g_memdup2(buf, len ? len : 1);
        mip_mn_udp_received(ct.mn, 3, CT_HA, 434, CT_LEASE, 434, copy, len, ct.now);
        g_free(copy);
    }
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERING);
    mip_mn_udp_received(ct.mn, 3, CT_HA, 434, CT_LEASE, 434, buf, w.len, ct.now);
    g_assert_cmpint(ct_state(&ct), ==, MIP_MN_STATE_REGISTERED);
    ct_fini(&ct);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/core/replies/wrong-ident", test_drops_reply_with_wrong_ident_and_counts_it);
    g_test_add_func("/core/replies/low-32-bits",
                    test_matches_replies_on_the_low_32_bits_of_the_identification);
    g_test_add_func("/core/replies/bad-authenticator",
                    test_drops_reply_with_a_bad_authenticator_and_counts_it);
    g_test_add_func("/core/replies/no-authenticator",
                    test_drops_reply_without_an_authenticator_and_counts_it);
    g_test_add_func("/core/replies/unauthenticated-ha-denial",
                    test_drops_an_unauthenticated_home_agent_denial);
    g_test_add_func("/core/replies/other-home-address",
                    test_drops_reply_for_another_home_address_and_counts_it);
    g_test_add_func("/core/replies/bad-port",
                    test_drops_reply_from_a_port_other_than_434_and_counts_it);
    g_test_add_func("/core/replies/malformed", test_drops_malformed_replies_and_counts_them);
    g_test_add_func("/core/replies/unsolicited", test_drops_replies_when_nothing_is_outstanding);
    g_test_add_func("/core/replies/abandoned-attempt",
                    test_a_reply_to_an_abandoned_attempt_is_not_accepted);
    g_test_add_func("/core/replies/truncated", test_truncated_replies_are_dropped_without_harm);
    return g_test_run();
}
