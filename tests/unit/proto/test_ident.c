/* Unit tests for Registration Identification (RFC 5944 §5.7): the NTP
 * timestamp layout, its random low bits, nonces, reply matching and the
 * resynchronisation after a code-133 denial, including NTP-seconds wrap. */
#include <glib.h>

#include "client/proto/ident.h"

/* 2023-11-14 22:13:20 UTC: 1700000000 s after 1970, 3908988800 after 1900. */
#define T0_UNIX_SEC UINT64_C(1700000000)
#define T0_NTP_SEC 0xe8fe6f80u
/* 2036-02-07 06:28:16 UTC: NTP era 0 ends, seconds wrap to 0. */
#define ERA1_UNIX_SEC UINT64_C(2085978496)

static uint64_t usec(uint64_t sec, uint64_t us)
{
    return sec * 1000000 + us;
}

static void test_timestamp_puts_ntp_seconds_high_and_microseconds_in_top_fraction_bits(void)
{
    /* Half a second is fraction 0x80000000; the low 12 bits are 0xabc. */
    g_assert_cmphex(mip_ident_timestamp(usec(T0_UNIX_SEC, 500000), 0, 0xabc), ==,
                    UINT64_C(0xe8fe6f8080000abc));
    g_assert_cmphex(mip_ident_timestamp(usec(T0_UNIX_SEC, 0), 0, 0), ==,
                    (uint64_t)T0_NTP_SEC << 32);
    /* 1 us = 2^32 / 10^6 = 4294.97 fraction units: one step of the 20-bit clock field. */
    g_assert_cmphex(mip_ident_timestamp(usec(T0_UNIX_SEC, 1), 0, 0), ==,
                    (uint64_t)T0_NTP_SEC << 32 | 0x1000);
    /* 999999 us: floor(999999 * 2^20 / 10^6) = 0xffffe, just below the next second. */
    g_assert_cmphex(mip_ident_timestamp(usec(T0_UNIX_SEC, 999999), 0, 0), ==,
                    (uint64_t)T0_NTP_SEC << 32 | 0xffffe000u);
    /* The Unix epoch itself is NTP second 2208988800. */
    g_assert_cmphex(mip_ident_timestamp(0, 0, 0) >> 32, ==, MIP_NTP_UNIX_OFFSET);
}

static void test_timestamp_random_bits_fill_only_the_low_12(void)
{
    uint64_t t = usec(T0_UNIX_SEC, 123456);
    uint64_t all = mip_ident_timestamp(t, 0, 0xffffffffu);
    uint64_t none = mip_ident_timestamp(t, 0, 0);
    g_assert_cmphex(all ^ none, ==, 0xfff);
    for (uint32_t rnd = 1; rnd < (1u << 20); rnd = rnd * 3 + 1) {
        uint64_t v = mip_ident_timestamp(t, 0, rnd);
        g_assert_cmphex(v & ~UINT64_C(0xfff), ==, none);
        g_assert_cmphex(v & 0xfff, ==, rnd & 0xfff);
    }
}

static void test_timestamp_increases_with_every_microsecond(void)
{
    uint64_t prev = mip_ident_timestamp(usec(T0_UNIX_SEC, 0), 0, 0xfff);
    for (uint64_t us = 1; us <= 2000000; us++) {
        /* Random bits at their worst (all ones before, zero after) still order. */
        uint64_t next = mip_ident_timestamp(usec(T0_UNIX_SEC, 0) + us, 0, 0);
        g_assert_cmphex(next, >, prev);
        prev = mip_ident_timestamp(usec(T0_UNIX_SEC, 0) + us, 0, 0xfff);
    }
}

static void test_timestamp_applies_the_resync_offset_both_ways(void)
{
    uint64_t t = usec(T0_UNIX_SEC, 250000);
    uint64_t base = mip_ident_timestamp(t, 0, 7);
    g_assert_cmphex(mip_ident_timestamp(t, 100, 7), ==, base + (UINT64_C(100) << 32));
    g_assert_cmphex(mip_ident_timestamp(t, -100, 7), ==, base - (UINT64_C(100) << 32));
    g_assert_cmphex((uint32_t)mip_ident_timestamp(t, -100, 7), ==, (uint32_t)base);
}

static void test_timestamp_wraps_ntp_seconds_at_the_era_rollover(void)
{
    g_assert_cmphex(mip_ident_timestamp(usec(ERA1_UNIX_SEC - 1, 0), 0, 0) >> 32, ==, 0xffffffffu);
    g_assert_cmphex(mip_ident_timestamp(usec(ERA1_UNIX_SEC, 0), 0, 0) >> 32, ==, 0);
    g_assert_cmphex(mip_ident_timestamp(usec(ERA1_UNIX_SEC + 5, 0), 0, 0) >> 32, ==, 5);
    /* The offset carries across the rollover in both directions. */
    g_assert_cmphex(mip_ident_timestamp(usec(ERA1_UNIX_SEC - 10, 0), 12, 0) >> 32, ==, 2);
    g_assert_cmphex(mip_ident_timestamp(usec(ERA1_UNIX_SEC + 1, 0), -3, 0) >> 32, ==, 0xfffffffeu);
    g_assert_cmphex(mip_ident_timestamp(0, -(int64_t)MIP_NTP_UNIX_OFFSET - 1, 0) >> 32, ==,
                    0xffffffffu);
}

static void test_nonce_puts_home_agent_half_high_and_ours_low(void)
{
    g_assert_cmphex(mip_ident_nonce(0x11223344, 0x55667788), ==, UINT64_C(0x1122334455667788));
    g_assert_cmphex(mip_ident_nonce(0, 0xffffffff), ==, UINT64_C(0x00000000ffffffff));
}

static void test_reply_matches_request_on_low_32_bits_only(void)
{
    uint64_t req = UINT64_C(0xe8fe6f8080000abc);
    g_assert_true(mip_ident_reply_matches(req, req));
    g_assert_true(mip_ident_reply_matches(req, UINT64_C(0x0000000180000abc)));
    g_assert_false(mip_ident_reply_matches(req, UINT64_C(0xe8fe6f8080000abd)));
    g_assert_false(mip_ident_reply_matches(req, UINT64_C(0xe8fe6f8000000abc)));
}

static void test_resync_makes_the_next_timestamp_follow_the_home_agent_clock(void)
{
    const int64_t steps[] = {3600, -86400, 1, -1, 0, INT32_MAX, -(int64_t)INT32_MAX - 1};
    uint64_t t = usec(T0_UNIX_SEC, 400000);
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
        for (int64_t old = -50; old <= 50; old += 50) {
            uint64_t req = mip_ident_timestamp(t, old, 0x123);
            uint32_t ha_sec = (uint32_t)((req >> 32) + (uint64_t)steps[i]);
            /* A 133 reply: the home agent's seconds high, our low 32 bits kept. */
            uint64_t reply = (uint64_t)ha_sec << 32 | (uint32_t)req;
            int64_t offset = mip_ident_resync_offset(req, reply, old);
            g_assert_cmpint(offset, ==, old + steps[i]);
            uint64_t next = mip_ident_timestamp(t, offset, 0x123);
            g_assert_cmphex(next >> 32, ==, ha_sec);
            g_assert_cmphex((uint32_t)next, ==, (uint32_t)req); /* same instant, same fraction */
        }
    }
}

static void test_resync_reads_the_step_across_an_ntp_seconds_wrap(void)
{
    uint64_t req = UINT64_C(0xfffffff0) << 32 | 0xabc;
    uint64_t reply = UINT64_C(0x00000010) << 32 | 0xabc;
    g_assert_cmpint(mip_ident_resync_offset(req, reply, 0), ==, 32);
    g_assert_cmpint(mip_ident_resync_offset(reply, req, 0), ==, -32);
    g_assert_cmpint(mip_ident_resync_offset(req, req, 7), ==, 7);
    /* A saturated offset never overflows into undefined behaviour. */
    g_assert_cmpint(mip_ident_resync_offset(req, reply, INT64_MAX), ==, INT64_MAX);
    g_assert_cmpint(mip_ident_resync_offset(reply, req, INT64_MIN), ==, INT64_MIN);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/ident/" #name, test_##name)
    ADD(timestamp_puts_ntp_seconds_high_and_microseconds_in_top_fraction_bits);
    ADD(timestamp_random_bits_fill_only_the_low_12);
    ADD(timestamp_increases_with_every_microsecond);
    ADD(timestamp_applies_the_resync_offset_both_ways);
    ADD(timestamp_wraps_ntp_seconds_at_the_era_rollover);
    ADD(nonce_puts_home_agent_half_high_and_ours_low);
    ADD(reply_matches_request_on_low_32_bits_only);
    ADD(resync_makes_the_next_timestamp_follow_the_home_agent_clock);
    ADD(resync_reads_the_step_across_an_ntp_seconds_wrap);
#undef ADD
    return g_test_run();
}
