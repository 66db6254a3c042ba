/* Unit tests for the extension writers: each must produce the hand-written
 * RFC bytes, never write past the writer's capacity, and refuse values the
 * layout cannot carry. */
#include <glib.h>
#include <string.h>

#include "client/proto/registration.h"
#include "ext_vectors.h"
#include "proto_test.h"

typedef enum Which { NAI, CHALLENGE, UDPT_REQ, UDPT_REP, REVOCATION, RAW } Which;

static const MipUdpTunnelRequest udpt_req = {
    .subtype = 0, .flags = MIP_UDPT_F, .encapsulation = MIP_UDPT_ENCAP_IPIP};
static const MipUdpTunnelReply udpt_rep = {.subtype = 0,
                                           .reply_code = MIP_UDPT_REPLY_DECLINED,
                                           .flags = MIP_UDPT_REPLY_F,
                                           .keepalive = 30};
static const MipRevocationSupport revocation = {.flags = MIP_REV_I, .timestamp = 1234567};

static MipProtoError write_one(MipWriter *w, const void *ctx)
{
    switch (*(const Which *)ctx) {
    case NAI:
        return mip_ext_write_nai(w, (const uint8_t *)"mn@example.net", 14);
    case CHALLENGE:
        return mip_ext_write_challenge(w, ext_challenge + 2, 8);
    case UDPT_REQ:
        return mip_ext_write_udp_tunnel_request(w, &udpt_req);
    case UDPT_REP:
        return mip_ext_write_udp_tunnel_reply(w, &udpt_rep);
    case REVOCATION:
        return mip_ext_write_revocation(w, &revocation);
    case RAW:
        return mip_ext_write_raw(w, 200, ext_skippable + 2, 2);
    }
    return MIP_ERR_BAD_VALUE;
}

static const struct {
    Which which;
    const uint8_t *bytes;
    size_t len;
} cases[] = {
    {NAI, ext_nai, sizeof(ext_nai)},
    {CHALLENGE, ext_challenge, sizeof(ext_challenge)},
    {UDPT_REQ, ext_udpt_req, sizeof(ext_udpt_req)},
    {UDPT_REP, ext_udpt_rep, sizeof(ext_udpt_rep)},
    {REVOCATION, ext_revocation, sizeof(ext_revocation)},
    {RAW, ext_skippable, sizeof(ext_skippable)},
};

static void test_writers_produce_hand_written_bytes(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint8_t buf[64];
        MipWriter w;
        mip_writer_init(&w, buf, sizeof(buf));
        pt_assert_err(write_one(&w, &cases[i].which), MIP_OK);
        pt_assert_bytes(buf, w.len, cases[i].bytes, cases[i].len);
    }
}

static void test_writers_never_overflow(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        pt_check_no_space(write_one, &cases[i].which, NULL, 0, cases[i].len);
        pt_check_no_space(write_one, &cases[i].which, req_head, sizeof(req_head),
                          sizeof(req_head) + cases[i].len);
    }
}

static void test_writers_refuse_what_the_layout_cannot_carry(void)
{
    uint8_t buf[512];
    uint8_t data[256] = {0};
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_ext_write_nai(&w, data, 0), MIP_ERR_BAD_LENGTH);
    pt_assert_err(mip_ext_write_nai(&w, data, 256), MIP_ERR_BAD_LENGTH);
    pt_assert_err(mip_ext_write_challenge(&w, data, 0), MIP_ERR_BAD_LENGTH);
    pt_assert_err(mip_ext_write_challenge(&w, data, 256), MIP_ERR_BAD_LENGTH);
    pt_assert_err(mip_ext_write_raw(&w, 200, data, 256), MIP_ERR_BAD_LENGTH);
    pt_assert_err(mip_ext_write_raw(&w, 200, NULL, 1), MIP_ERR_BAD_VALUE);
    MipUdpTunnelRequest wide = {.flags = 0x100}; /* the flags field is one octet */
    pt_assert_err(mip_ext_write_udp_tunnel_request(&w, &wide), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_ext_write_udp_tunnel_request(&w, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_ext_write_udp_tunnel_reply(&w, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_ext_write_revocation(&w, NULL), MIP_ERR_BAD_VALUE);
    g_assert_cmpuint(w.len, ==, 0);
    pt_assert_err(mip_ext_write_raw(&w, 200, NULL, 0), MIP_OK); /* empty is fine */
    pt_assert_err(mip_ext_write_nai(&w, data, 255), MIP_OK);
    g_assert_cmpuint(w.len, ==, 2 + 2 + 255);
}

static void test_written_extensions_round_trip_through_the_decoder(void)
{
    uint8_t buf[512];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    MipRegRequest req = {.flags = MIP_REQ_T,
                         .lifetime = 600,
                         .home_address = 0xc6120032,
                         .home_agent = 0xc6120001,
                         .care_of_address = 0xcb007107,
                         .identification = 42};
    pt_assert_err(mip_reg_request_write(&w, &req), MIP_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        pt_assert_err(write_one(&w, &cases[i].which), MIP_OK);
    MipUdpTunnelRequest gre = {.subtype = 0, .flags = MIP_UDPT_R, .encapsulation = 47};
    MipRegRequest got;
    MipRegExtensions e;
    pt_assert_err(mip_reg_request_decode(buf, w.len, &got, &e), MIP_OK);
    g_assert_cmpuint(e.count, ==, G_N_ELEMENTS(cases));
    g_assert_cmpuint(e.skipped, ==, 1);
    pt_assert_bytes(e.nai, e.nai_len, (const uint8_t *)"mn@example.net", 14);
    g_assert_cmphex(e.udp_tunnel_request.flags, ==, udpt_req.flags);
    g_assert_cmpuint(e.udp_tunnel_reply.keepalive, ==, udpt_rep.keepalive);
    g_assert_cmpuint(e.revocation.timestamp, ==, revocation.timestamp);

    /* The R flag survives too, in its own bit. */
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_reg_request_write(&w, &req), MIP_OK);
    pt_assert_err(mip_ext_write_udp_tunnel_request(&w, &gre), MIP_OK);
    g_assert_cmphex(buf[24 + 4], ==, 0x40);
    pt_assert_err(mip_reg_request_decode(buf, w.len, &got, &e), MIP_OK);
    g_assert_cmphex(e.udp_tunnel_request.flags, ==, MIP_UDPT_R);
    g_assert_cmpuint(e.udp_tunnel_request.encapsulation, ==, 47);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/ext_writers/" #name, test_##name)
    ADD(writers_produce_hand_written_bytes);
    ADD(writers_never_overflow);
    ADD(writers_refuse_what_the_layout_cannot_carry);
    ADD(written_extensions_round_trip_through_the_decoder);
#undef ADD
    return g_test_run();
}
