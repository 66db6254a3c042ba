/* Unit tests for Agent Advertisement (ICMP 9) and Solicitation (ICMP 10):
 * hand-written RFC 1256 / RFC 5944 §2.1 / RFC 3012 §2 bytes, every error path,
 * every truncation and every too-small output buffer. */
#include <glib.h>
#include <string.h>

#include "client/proto/advert.h"
#include "client/proto/checksum.h"
#include "proto_test.h"

/* Checksums below were computed by hand (RFC 1071 one's-complement sum, done
 * outside this code base), not by the library. */
static const uint8_t advert_full[] = {
    0x09,                   /* Type: 9, router advertisement */
    0x10,                   /* Code: 16, does not route common traffic */
    0xf2, 0xbb,             /* Checksum */
    0x02,                   /* Num Addrs: 2 */
    0x02,                   /* Addr Entry Size: 2 words */
    0x07, 0x08,             /* Lifetime: 1800 s */
    0xc0, 0x00, 0x02, 0x01, /* Router Address[1]: 192.0.2.1 */
    0x00, 0x00, 0x00, 0x0a, /* Preference Level[1]: 10 */
    0xc6, 0x33, 0x64, 0x01, /* Router Address[2]: 198.51.100.1 */
    0xff, 0xff, 0xff, 0xff, /* Preference Level[2]: -1 */
    0x10,                   /* Ext Type: 16, mobility agent advertisement (offset 24) */
    0x0e,                   /* Length: 6 + 4 * 2 care-of addresses */
    0x12, 0x34,             /* Sequence Number: 0x1234 */
    0x02, 0x58,             /* Registration Lifetime: 600 s */
    0x91, 0x80,             /* Flags: R F T U */
    0xcb, 0x00, 0x71, 0x07, /* Care-of Address[1]: 203.0.113.7 */
    0xcb, 0x00, 0x71, 0x08, /* Care-of Address[2]: 203.0.113.8 */
    0x13,                   /* Ext Type: 19, prefix-lengths (offset 40) */
    0x02,                   /* Length: Num Addrs */
    0x18, 0x19,             /* Prefix Lengths: /24, /25 */
    0x18,                   /* Ext Type: 24, challenge (offset 44) */
    0x04,                   /* Length: 4 */
    0xde, 0xad, 0xbe, 0xef, /* Challenge */
    0x00,                   /* Ext Type: 0, one-octet pad (offset 50) */
};

/* A plain router advertisement: an entry size of 3 words, a skippable
 * unknown extension between two pads. */
static const uint8_t advert_plain[] = {
    0x09,                   /* Type: 9 */
    0x00,                   /* Code: 0, routes common traffic */
    0xb6, 0x72,             /* Checksum */
    0x01,                   /* Num Addrs: 1 */
    0x03,                   /* Addr Entry Size: 3 words (the third ignored) */
    0x00, 0x1e,             /* Lifetime: 30 s */
    0xc0, 0x00, 0x02, 0x01, /* Router Address: 192.0.2.1 */
    0x00, 0x00, 0x00, 0x05, /* Preference Level: 5 */
    0xaa, 0xbb, 0xcc, 0xdd, /* Third word of the entry */
    0x00,                   /* Pad */
    0xc8, 0x03,             /* Ext Type 200 (skippable), Length 3 */
    0x01, 0x02, 0x03,       /* its data */
    0x00,                   /* Pad */
};

static const uint8_t solicit[] = {
    0x0a,                   /* Type: 10, router solicitation */
    0x00,                   /* Code: 0 */
    0xf5, 0xff,             /* Checksum: ~0x0a00 */
    0x00, 0x00, 0x00, 0x00, /* Reserved */
};

static const MipRouterEntry full_routers[] = {{0xc0000201, 10}, {0xc6336401, -1}};
static const uint32_t full_coas[] = {0xcb007107, 0xcb007108};
static const uint8_t full_prefixes[] = {24, 25};
static const uint8_t full_challenge[] = {0xde, 0xad, 0xbe, 0xef};

static MipAgentAdvertSpec full_spec(void)
{
    MipAgentAdvertSpec s = {
        .code = MIP_ICMP_ADVERT_CODE_MOBILITY_ONLY,
        .lifetime = 1800,
        .routers = full_routers,
        .n_routers = 2,
        .mobility = true,
        .sequence = 0x1234,
        .reg_lifetime = 600,
        .flags = MIP_ADV_R | MIP_ADV_F | MIP_ADV_T | MIP_ADV_U,
        .coas = full_coas,
        .n_coa = 2,
        .prefix_lengths = full_prefixes,
        .n_prefix_lengths = 2,
        .challenge = full_challenge,
        .challenge_len = 4,
        .pad = 1,
    };
    return s;
}

/* A mutable copy whose checksum is recomputed after an edit. */
static void refresh_checksum(uint8_t *msg, size_t len)
{
    msg[2] = msg[3] = 0;
    uint16_t c = mip_inet_checksum(msg, len);
    msg[2] = (uint8_t)(c >> 8);
    msg[3] = (uint8_t)c;
}

static MipProtoError decode_advert(const uint8_t *buf, size_t len)
{
    MipAgentAdvert adv;
    memset(&adv, 0x5c, sizeof(adv));
    MipAgentAdvert before = adv;
    MipProtoError err = mip_advert_decode(buf, len, &adv);
    if (err != MIP_OK)
        g_assert_true(memcmp(&adv, &before, sizeof(adv)) == 0); /* untouched on error */
    return err;
}

static void test_advert_decoder_reads_every_field_of_hand_written_bytes(void)
{
    MipAgentAdvert a;
    pt_assert_err(mip_advert_decode(advert_full, sizeof(advert_full), &a), MIP_OK);
    g_assert_cmpuint(a.code, ==, 16);
    g_assert_cmpuint(a.lifetime, ==, 1800);
    g_assert_cmpuint(a.num_addrs, ==, 2);
    g_assert_cmpuint(a.addr_entry_size, ==, 2);
    g_assert_true(a.router_entries == advert_full + 8);
    MipRouterEntry r0 = mip_advert_router(&a, 0), r1 = mip_advert_router(&a, 1);
    g_assert_cmphex(r0.address, ==, 0xc0000201);
    g_assert_cmpint(r0.preference, ==, 10);
    g_assert_cmphex(r1.address, ==, 0xc6336401);
    g_assert_cmpint(r1.preference, ==, -1);
    g_assert_true(a.has_mobility);
    g_assert_cmphex(a.sequence, ==, 0x1234);
    g_assert_cmpuint(a.reg_lifetime, ==, 600);
    g_assert_cmphex(a.flags, ==, MIP_ADV_R | MIP_ADV_F | MIP_ADV_T | MIP_ADV_U);
    g_assert_cmpuint(a.n_coa, ==, 2);
    g_assert_true(a.coa_list == advert_full + 32);
    g_assert_cmphex(mip_advert_coa(&a, 0), ==, 0xcb007107);
    g_assert_cmphex(mip_advert_coa(&a, 1), ==, 0xcb007108);
    g_assert_true(a.has_prefix_lengths);
    pt_assert_bytes(a.prefix_lengths, a.n_prefix_lengths, full_prefixes, 2);
    pt_assert_bytes(a.challenge, a.challenge_len, full_challenge, 4);
    g_assert_cmpuint(a.skipped_extensions, ==, 0);
}

static void test_advert_decoder_accepts_plain_router_advert_and_skips_unknown_128_255(void)
{
    MipAgentAdvert a;
    pt_assert_err(mip_advert_decode(advert_plain, sizeof(advert_plain), &a), MIP_OK);
    g_assert_cmpuint(a.code, ==, 0);
    g_assert_cmpuint(a.lifetime, ==, 30);
    g_assert_cmpuint(a.addr_entry_size, ==, 3);
    g_assert_cmphex(mip_advert_router(&a, 0).address, ==, 0xc0000201);
    g_assert_cmpint(mip_advert_router(&a, 0).preference, ==, 5);
    g_assert_false(a.has_mobility);
    g_assert_false(a.has_prefix_lengths);
    g_assert_null(a.challenge);
    g_assert_cmpuint(a.skipped_extensions, ==, 1);
}

static void test_advert_accessors_return_zero_out_of_range(void)
{
    MipAgentAdvert a;
    pt_assert_err(mip_advert_decode(advert_full, sizeof(advert_full), &a), MIP_OK);
    g_assert_cmphex(mip_advert_router(&a, 2).address, ==, 0);
    g_assert_cmphex(mip_advert_coa(&a, 2), ==, 0);
    g_assert_cmphex(mip_advert_coa(NULL, 0), ==, 0);
}

static void test_advert_encoder_writes_hand_written_bytes(void)
{
    uint8_t buf[64];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    MipAgentAdvertSpec s = full_spec();
    pt_assert_err(mip_advert_encode(&w, &s), MIP_OK);
    pt_assert_bytes(buf, w.len, advert_full, sizeof(advert_full));
}

static void test_advert_decoder_reports_every_truncation(void)
{
    /* Cut at an extension boundary the structure is whole and only the
     * checksum tells; cutting the trailing pad (a zero octet) changes no sum,
     * so that prefix is a valid advertisement. */
    const size_t ok_lens[] = {24, 40, 44, 50};
    const MipProtoError at_ok[] = {MIP_ERR_BAD_CHECKSUM, MIP_ERR_BAD_CHECKSUM, MIP_ERR_BAD_CHECKSUM,
                                   MIP_OK};
    pt_check_truncations(decode_advert, advert_full, sizeof(advert_full), ok_lens, at_ok, 4);
}

static void test_advert_decoder_rejects_bad_type_code_and_checksum(void)
{
    uint8_t m[sizeof(advert_full)];
    memcpy(m, advert_full, sizeof(m));
    m[0] = 10;
    pt_assert_err(decode_advert(m, sizeof(m)), MIP_ERR_BAD_TYPE);
    memcpy(m, advert_full, sizeof(m));
    for (unsigned code = 0; code < 256; code++) {
        m[1] = (uint8_t)code;
        refresh_checksum(m, sizeof(m));
        pt_assert_err(decode_advert(m, sizeof(m)),
                      code == 0 || code == 16 ? MIP_OK : MIP_ERR_BAD_CODE);
    }
    memcpy(m, advert_full, sizeof(m));
    m[30] ^= 0x01; /* one flag bit: the sum changes, the structure does not */
    pt_assert_err(decode_advert(m, sizeof(m)), MIP_ERR_BAD_CHECKSUM);
}

static void expect_edit(size_t at, uint8_t value, MipProtoError want)
{
    uint8_t m[sizeof(advert_full)];
    memcpy(m, advert_full, sizeof(m));
    m[at] = value;
    refresh_checksum(m, sizeof(m));
    pt_assert_err(decode_advert(m, sizeof(m)), want);
}

static void test_advert_decoder_rejects_bad_lengths(void)
{
    expect_edit(5, 1, MIP_ERR_BAD_LENGTH); /* entry size below 2 words */
    expect_edit(5, 0, MIP_ERR_BAD_LENGTH);
    expect_edit(4, 7, MIP_ERR_TRUNCATED);      /* more routers than bytes */
    expect_edit(25, 0x0f, MIP_ERR_BAD_LENGTH); /* 16: not 6 + 4N */
    expect_edit(25, 0x05, MIP_ERR_BAD_LENGTH); /* 16: shorter than 6 */
    expect_edit(41, 0x03, MIP_ERR_BAD_LENGTH); /* 19: longer than Num Addrs... */
    expect_edit(41, 0x01, MIP_ERR_BAD_LENGTH); /* ...or shorter */
    expect_edit(41, 0x20, MIP_ERR_TRUNCATED);  /* 19 runs past the end */
    expect_edit(45, 0x09, MIP_ERR_TRUNCATED);  /* 24 runs past the end */
}

static void test_advert_decoder_rejects_forbidden_values(void)
{
    expect_edit(43, 33, MIP_ERR_BAD_VALUE); /* a /33 prefix */
    /* F set with no care-of address: a 6-byte mobility extension. */
    const uint8_t fa_no_coa_head[] = {0x09, 0x00, 0,    0,    0x00, 0x02, 0x00, 0x10,
                                      0x10, 0x06, 0x00, 0x01, 0x00, 0x10, 0x10, 0x00};
    uint8_t m[sizeof(fa_no_coa_head)];
    memcpy(m, fa_no_coa_head, sizeof(m));
    refresh_checksum(m, sizeof(m));
    pt_assert_err(decode_advert(m, sizeof(m)), MIP_ERR_BAD_VALUE);
    m[14] = 0x20; /* H instead of F: a home agent needs no care-of address */
    refresh_checksum(m, sizeof(m));
    pt_assert_err(decode_advert(m, sizeof(m)), MIP_OK);
}

static void test_advert_decoder_rejects_empty_challenge(void)
{
    const uint8_t head[] = {0x09, 0x00, 0, 0, 0x00, 0x02, 0x00, 0x10, 0x18, 0x00};
    uint8_t m[sizeof(head)];
    memcpy(m, head, sizeof(m));
    refresh_checksum(m, sizeof(m));
    pt_assert_err(decode_advert(m, sizeof(m)), MIP_ERR_BAD_LENGTH);
}

static void test_advert_decoder_rejects_prefix_lengths_before_mobility(void)
{
    const uint8_t head[] = {0x09, 0x00, 0,    0,    0x00, 0x02, 0x00, 0x10, 0x13,
                            0x00, 0x10, 0x06, 0x00, 0x01, 0x00, 0x10, 0x20, 0x00};
    uint8_t m[sizeof(head)];
    memcpy(m, head, sizeof(m));
    refresh_checksum(m, sizeof(m));
    pt_assert_err(decode_advert(m, sizeof(m)), MIP_ERR_EXTENSION_ORDER);
}

static void expect_appended(const uint8_t *ext, size_t ext_len, MipProtoError want)
{
    uint8_t m[sizeof(advert_full) + 16];
    memcpy(m, advert_full, sizeof(advert_full));
    memcpy(m + sizeof(advert_full), ext, ext_len);
    refresh_checksum(m, sizeof(advert_full) + ext_len);
    pt_assert_err(decode_advert(m, sizeof(advert_full) + ext_len), want);
}

static void test_advert_decoder_rejects_duplicate_extensions(void)
{
    const uint8_t dup16[] = {0x10, 0x06, 0x00, 0x02, 0x00, 0x10, 0x20, 0x00};
    const uint8_t dup19[] = {0x13, 0x02, 0x18, 0x18};
    const uint8_t dup24[] = {0x18, 0x04, 1, 2, 3, 4};
    expect_appended(dup16, sizeof(dup16), MIP_ERR_DUPLICATE_EXTENSION);
    expect_appended(dup19, sizeof(dup19), MIP_ERR_DUPLICATE_EXTENSION);
    expect_appended(dup24, sizeof(dup24), MIP_ERR_DUPLICATE_EXTENSION);
}

static void test_advert_decoder_rejects_unknown_mandatory_extension(void)
{
    for (unsigned type = 1; type < 128; type++) {
        if (type == 16 || type == 19 || type == 24)
            continue;
        const uint8_t ext[] = {(uint8_t)type, 0x02, 0xaa, 0xbb};
        expect_appended(ext, sizeof(ext), MIP_ERR_UNKNOWN_EXTENSION);
    }
    const uint8_t lone[] = {0x11}; /* no length octet needed to reject it */
    expect_appended(lone, sizeof(lone), MIP_ERR_UNKNOWN_EXTENSION);
}

static void test_advert_decoder_skips_every_unknown_128_to_255(void)
{
    for (unsigned type = 128; type < 256; type++) {
        uint8_t m[sizeof(advert_full) + 4];
        memcpy(m, advert_full, sizeof(advert_full));
        const uint8_t ext[] = {(uint8_t)type, 0x02, 0xaa, 0xbb};
        memcpy(m + sizeof(advert_full), ext, sizeof(ext));
        refresh_checksum(m, sizeof(m));
        MipAgentAdvert a;
        pt_assert_err(mip_advert_decode(m, sizeof(m), &a), MIP_OK);
        g_assert_cmpuint(a.skipped_extensions, ==, 1);
        g_assert_cmpuint(a.n_coa, ==, 2);
    }
    const uint8_t no_len[] = {0x80}; /* skippable, but its length is missing */
    expect_appended(no_len, sizeof(no_len), MIP_ERR_TRUNCATED);
}

static void test_advert_api_refuses_null_arguments(void)
{
    MipAgentAdvert a;
    uint8_t buf[64];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_advert_decode(advert_full, sizeof(advert_full), NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_advert_decode(NULL, 8, &a), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_solicit_decode(NULL, 8), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_advert_encode(&w, NULL), MIP_ERR_BAD_VALUE);
    MipAgentAdvertSpec s = full_spec();
    s.routers = NULL;
    pt_assert_err(mip_advert_encode(&w, &s), MIP_ERR_BAD_VALUE);
    s = full_spec();
    s.coas = NULL;
    pt_assert_err(mip_advert_encode(&w, &s), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_advert_encode(NULL, &s), MIP_ERR_BAD_VALUE);
    g_assert_cmpuint(w.len, ==, 0);
}

static MipProtoError encode_full(MipWriter *w, const void *ctx)
{
    return mip_advert_encode(w, ctx);
}

static void test_advert_encoder_never_overflows(void)
{
    MipAgentAdvertSpec s = full_spec();
    pt_check_no_space(encode_full, &s, NULL, 0, sizeof(advert_full));
}

static void expect_spec_error(MipAgentAdvertSpec s, MipProtoError want)
{
    uint8_t buf[512];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_advert_encode(&w, &s), want);
    g_assert_cmpuint(w.len, ==, 0);
}

static void test_advert_encoder_refuses_invalid_specs(void)
{
    static const uint32_t many[63] = {0};
    MipAgentAdvertSpec s = full_spec();
    s.code = 1;
    expect_spec_error(s, MIP_ERR_BAD_CODE);
    s = full_spec();
    s.n_coa = 0;
    s.coas = NULL;
    expect_spec_error(s, MIP_ERR_BAD_VALUE); /* F without a care-of address */
    s = full_spec();
    s.coas = many;
    s.n_coa = 63; /* 6 + 4 * 63 > 255 */
    expect_spec_error(s, MIP_ERR_BAD_LENGTH);
    s = full_spec();
    s.mobility = false;
    expect_spec_error(s, MIP_ERR_EXTENSION_ORDER);
    s = full_spec();
    s.n_prefix_lengths = 1;
    expect_spec_error(s, MIP_ERR_BAD_LENGTH);
    static const uint8_t too_long[] = {24, 40};
    s = full_spec();
    s.prefix_lengths = too_long;
    expect_spec_error(s, MIP_ERR_BAD_VALUE);
    s = full_spec();
    s.challenge_len = 0;
    expect_spec_error(s, MIP_ERR_BAD_LENGTH);
    s = full_spec();
    s.challenge_len = 256;
    expect_spec_error(s, MIP_ERR_BAD_LENGTH);
    s = full_spec();
    s.n_routers = 256;
    expect_spec_error(s, MIP_ERR_BAD_VALUE);
    s = full_spec();
    s.pad = SIZE_MAX;
    expect_spec_error(s, MIP_ERR_NO_SPACE);
}

static void test_advert_round_trips_varied_specs(void)
{
    static const uint32_t coas62[62] = {[0] = 0xcb007101, [61] = 0xcb00713e};
    static const MipRouterEntry extreme[] = {{0xffffffff, INT32_MIN}, {0, INT32_MAX}};
    MipAgentAdvertSpec specs[] = {
        {.code = 0, .lifetime = 0xffff},
        {.code = 16, .mobility = true, .flags = MIP_ADV_H, .reg_lifetime = 0xffff},
        {.code = 0,
         .routers = extreme,
         .n_routers = 2,
         .mobility = true,
         .flags = MIP_ADV_F,
         .coas = coas62,
         .n_coa = 62,
         .pad = 3},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
        uint8_t buf[512];
        MipWriter w;
        mip_writer_init(&w, buf, sizeof(buf));
        pt_assert_err(mip_advert_encode(&w, &specs[i]), MIP_OK);
        MipAgentAdvert a;
        pt_assert_err(mip_advert_decode(buf, w.len, &a), MIP_OK);
        g_assert_cmpuint(a.code, ==, specs[i].code);
        g_assert_cmpuint(a.lifetime, ==, specs[i].lifetime);
        g_assert_cmpuint(a.num_addrs, ==, specs[i].n_routers);
        for (size_t r = 0; r < specs[i].n_routers; r++) {
            g_assert_cmphex(mip_advert_router(&a, r).address, ==, specs[i].routers[r].address);
            g_assert_cmpint(mip_advert_router(&a, r).preference, ==,
                            specs[i].routers[r].preference);
        }
        g_assert_true(a.has_mobility == specs[i].mobility);
        g_assert_cmphex(a.flags, ==, specs[i].flags);
        g_assert_cmpuint(a.reg_lifetime, ==, specs[i].reg_lifetime);
        g_assert_cmpuint(a.n_coa, ==, specs[i].n_coa);
        for (size_t c = 0; c < specs[i].n_coa; c++)
            g_assert_cmphex(mip_advert_coa(&a, c), ==, specs[i].coas[c]);
    }
}

static MipProtoError decode_solicit(const uint8_t *buf, size_t len)
{
    return mip_solicit_decode(buf, len);
}

static void test_solicit_decodes_and_encodes_hand_written_bytes(void)
{
    pt_assert_err(mip_solicit_decode(solicit, sizeof(solicit)), MIP_OK);
    uint8_t buf[8];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_solicit_encode(&w), MIP_OK);
    pt_assert_bytes(buf, w.len, solicit, sizeof(solicit));
}

static void test_solicit_decoder_rejects_every_malformation(void)
{
    pt_check_truncations(decode_solicit, solicit, sizeof(solicit), NULL, NULL, 0);
    uint8_t m[sizeof(solicit) + 2];
    memcpy(m, solicit, sizeof(solicit));
    m[8] = m[9] = 0; /* trailing zero octets: longer, same sum, accepted */
    pt_assert_err(mip_solicit_decode(m, sizeof(m)), MIP_OK);
    m[4] = 1;
    pt_assert_err(mip_solicit_decode(m, sizeof(m)), MIP_ERR_BAD_CHECKSUM);
    m[1] = 1;
    pt_assert_err(mip_solicit_decode(m, sizeof(m)), MIP_ERR_BAD_CODE);
    pt_assert_err(mip_solicit_decode(advert_full, sizeof(advert_full)), MIP_ERR_BAD_TYPE);
    pt_assert_err(decode_advert(solicit, sizeof(solicit)), MIP_ERR_BAD_TYPE);
}

static MipProtoError encode_solicit(MipWriter *w, const void *ctx)
{
    return mip_solicit_encode(w);
}

static void test_solicit_encoder_never_overflows(void)
{
    pt_check_no_space(encode_solicit, NULL, NULL, 0, sizeof(solicit));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/advert/" #name, test_##name)
    ADD(advert_decoder_reads_every_field_of_hand_written_bytes);
    ADD(advert_decoder_accepts_plain_router_advert_and_skips_unknown_128_255);
    ADD(advert_accessors_return_zero_out_of_range);
    ADD(advert_encoder_writes_hand_written_bytes);
    ADD(advert_decoder_reports_every_truncation);
    ADD(advert_decoder_rejects_bad_type_code_and_checksum);
    ADD(advert_decoder_rejects_bad_lengths);
    ADD(advert_decoder_rejects_forbidden_values);
    ADD(advert_decoder_rejects_empty_challenge);
    ADD(advert_decoder_rejects_prefix_lengths_before_mobility);
    ADD(advert_decoder_rejects_duplicate_extensions);
    ADD(advert_decoder_rejects_unknown_mandatory_extension);
    ADD(advert_decoder_skips_every_unknown_128_to_255);
    ADD(advert_api_refuses_null_arguments);
    ADD(advert_encoder_never_overflows);
    ADD(advert_encoder_refuses_invalid_specs);
    ADD(advert_round_trips_varied_specs);
    ADD(solicit_decodes_and_encodes_hand_written_bytes);
    ADD(solicit_decoder_rejects_every_malformation);
    ADD(solicit_encoder_never_overflows);
#undef ADD
    return g_test_run();
}
