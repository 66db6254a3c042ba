/* Unit tests for the small pieces of client/proto: the Internet checksum, the
 * bounded writer, error names and the RFC 3519 tunnel-data header. */
#include <glib.h>
#include <string.h>

#include "client/proto/checksum.h"
#include "client/proto/error.h"
#include "client/proto/extensions.h"
#include "client/proto/tunnel_data.h"
#include "client/proto/writer.h"
#include "proto_test.h"

static void test_checksum_matches_rfc1071_worked_example(void)
{
    /* RFC 1071 §3: these eight octets sum to 0xddf2, so the checksum is its
     * complement 0x220d. */
    const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    g_assert_cmphex(mip_inet_checksum(data, sizeof(data)), ==, 0x220d);
}

static void test_checksum_pads_odd_length_with_zero(void)
{
    /* 0x0102 + 0x0300 (the odd byte is the high half) = 0x0402 */
    const uint8_t data[] = {0x01, 0x02, 0x03};
    g_assert_cmphex(mip_inet_checksum(data, sizeof(data)), ==, (uint16_t)~0x0402);
}

static void test_checksum_folds_carries(void)
{
    /* 0xffff + 0x0001 = 0x10000, folded to 0x0001, complemented. */
    const uint8_t data[] = {0xff, 0xff, 0x00, 0x01};
    g_assert_cmphex(mip_inet_checksum(data, sizeof(data)), ==, 0xfffe);
}

static void test_checksum_of_message_with_its_checksum_is_zero(void)
{
    uint8_t data[] = {0x0a, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56};
    uint16_t c = mip_inet_checksum(data, sizeof(data));
    data[2] = (uint8_t)(c >> 8);
    data[3] = (uint8_t)c;
    g_assert_cmphex(mip_inet_checksum(data, sizeof(data)), ==, 0);
    g_assert_cmphex(mip_inet_checksum(data, 0), ==, 0xffff);
}

static void test_writer_reserve_is_all_or_nothing(void)
{
    uint8_t buf[8];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    g_assert_true(mip_writer_reserve(&w, 5) == buf);
    g_assert_cmpuint(w.len, ==, 5);
    g_assert_null(mip_writer_reserve(&w, 4));
    g_assert_cmpuint(w.len, ==, 5);
    g_assert_true(mip_writer_reserve(&w, 3) == buf + 5);
    g_assert_cmpuint(w.len, ==, 8);
    g_assert_null(mip_writer_reserve(&w, 1));
    g_assert_null(mip_writer_reserve(&w, SIZE_MAX));
    g_assert_cmpuint(w.len, ==, 8);
}

static void test_writer_rejects_null_buffer_and_corrupt_length(void)
{
    MipWriter w;
    mip_writer_init(&w, NULL, 0);
    g_assert_null(mip_writer_reserve(&w, 0));
    g_assert_null(mip_writer_reserve(NULL, 1));
    uint8_t buf[4];
    mip_writer_init(&w, buf, sizeof(buf));
    w.len = 9; /* past cap: must not wrap around to "plenty of room" */
    g_assert_null(mip_writer_reserve(&w, 1));
}

static void test_writer_put_copies_or_leaves_writer_unchanged(void)
{
    uint8_t buf[4] = {0};
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    const uint8_t abc[] = {1, 2, 3};
    pt_assert_err(mip_writer_put(&w, abc, 3), MIP_OK);
    pt_assert_err(mip_writer_put(&w, abc, 2), MIP_ERR_NO_SPACE);
    g_assert_cmpuint(w.len, ==, 3);
    const uint8_t want[] = {1, 2, 3, 0};
    pt_assert_bytes(buf, sizeof(buf), want, sizeof(want));
    pt_assert_err(mip_writer_put(&w, NULL, 1), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_writer_put(&w, NULL, 0), MIP_OK);
}

static void test_strerror_names_every_error(void)
{
    for (int e = MIP_OK; e <= MIP_ERR_CRYPTO; e++) {
        const char *s = mip_proto_strerror((MipProtoError)e);
        g_assert_nonnull(s);
        g_assert_cmpstr(s, !=, "unknown error");
        for (int f = MIP_OK; f < e; f++)
            g_assert_cmpstr(s, !=, mip_proto_strerror((MipProtoError)f));
    }
    g_assert_cmpstr(mip_proto_strerror((MipProtoError)999), ==, "unknown error");
}

/* RFC 3519 §3.3 tunnel data header, written by hand. */
static const uint8_t tunnel_gre[] = {
    0x04,       /* Type: 4, tunnel data */
    0x2f,       /* Next Header: 47, GRE */
    0x00, 0x00, /* Reserved */
};

static void test_tunnel_data_header_decodes_hand_written_bytes(void)
{
    uint8_t packet[sizeof(tunnel_gre) + 2];
    memcpy(packet, tunnel_gre, sizeof(tunnel_gre));
    packet[4] = 0x45; /* payload follows the header */
    packet[5] = 0x00;
    uint8_t nh = 0;
    pt_assert_err(mip_tunnel_data_decode(packet, sizeof(packet), &nh), MIP_OK);
    g_assert_cmpuint(nh, ==, 47);
    pt_assert_err(mip_tunnel_data_decode(tunnel_gre, sizeof(tunnel_gre), &nh), MIP_OK);
}

static void test_tunnel_data_encoder_writes_hand_written_bytes(void)
{
    uint8_t buf[8];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_tunnel_data_write(&w, MIP_UDPT_ENCAP_GRE), MIP_OK);
    pt_assert_bytes(buf, w.len, tunnel_gre, sizeof(tunnel_gre));
}

static MipProtoError decode_tunnel(const uint8_t *buf, size_t len)
{
    uint8_t nh = 0xee;
    MipProtoError err = mip_tunnel_data_decode(buf, len, &nh);
    if (err != MIP_OK)
        g_assert_cmpuint(nh, ==, 0xee);
    return err;
}

static void test_tunnel_data_decoder_rejects_truncated_header(void)
{
    pt_check_truncations(decode_tunnel, tunnel_gre, sizeof(tunnel_gre), NULL, NULL, 0);
}

static void test_tunnel_data_decoder_rejects_other_types_and_next_headers(void)
{
    const uint8_t request[] = {0x01, 0x2f, 0x00, 0x00};
    const uint8_t tcp_inside[] = {0x04, 0x06, 0x00, 0x00};
    const uint8_t reserved_set[] = {0x04, 0x04, 0xff, 0xff}; /* ignored on receipt */
    pt_assert_err(decode_tunnel(request, sizeof(request)), MIP_ERR_BAD_TYPE);
    pt_assert_err(decode_tunnel(tcp_inside, sizeof(tcp_inside)), MIP_ERR_BAD_VALUE);
    pt_assert_err(decode_tunnel(reserved_set, sizeof(reserved_set)), MIP_OK);
    pt_assert_err(mip_tunnel_data_decode(tunnel_gre, sizeof(tunnel_gre), NULL), MIP_ERR_BAD_VALUE);
    uint8_t nh;
    pt_assert_err(mip_tunnel_data_decode(NULL, 4, &nh), MIP_ERR_BAD_VALUE);
}

static MipProtoError encode_tunnel(MipWriter *w, const void *ctx)
{
    return mip_tunnel_data_write(w, *(const uint8_t *)ctx);
}

static void test_tunnel_data_encoder_never_overflows(void)
{
    const uint8_t nh = MIP_UDPT_ENCAP_MINIMAL;
    pt_check_no_space(encode_tunnel, &nh, NULL, 0, MIP_TUNNEL_DATA_HDR_LEN);
    const uint8_t payload[] = {0xde, 0xad};
    pt_check_no_space(encode_tunnel, &nh, payload, sizeof(payload), 2 + MIP_TUNNEL_DATA_HDR_LEN);
}

static void test_tunnel_data_encoder_refuses_unknown_next_header(void)
{
    uint8_t buf[8];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_tunnel_data_write(&w, 17), MIP_ERR_BAD_VALUE);
    g_assert_cmpuint(w.len, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proto/checksum/matches_rfc1071_worked_example",
                    test_checksum_matches_rfc1071_worked_example);
    g_test_add_func("/proto/checksum/pads_odd_length_with_zero",
                    test_checksum_pads_odd_length_with_zero);
    g_test_add_func("/proto/checksum/folds_carries", test_checksum_folds_carries);
    g_test_add_func("/proto/checksum/of_message_with_its_checksum_is_zero",
                    test_checksum_of_message_with_its_checksum_is_zero);
    g_test_add_func("/proto/writer/reserve_is_all_or_nothing",
                    test_writer_reserve_is_all_or_nothing);
    g_test_add_func("/proto/writer/rejects_null_buffer_and_corrupt_length",
                    test_writer_rejects_null_buffer_and_corrupt_length);
    g_test_add_func("/proto/writer/put_copies_or_leaves_writer_unchanged",
                    test_writer_put_copies_or_leaves_writer_unchanged);
    g_test_add_func("/proto/error/strerror_names_every_error", test_strerror_names_every_error);
    g_test_add_func("/proto/tunnel_data/header_decodes_hand_written_bytes",
                    test_tunnel_data_header_decodes_hand_written_bytes);
    g_test_add_func("/proto/tunnel_data/encoder_writes_hand_written_bytes",
                    test_tunnel_data_encoder_writes_hand_written_bytes);
    g_test_add_func("/proto/tunnel_data/decoder_rejects_truncated_header",
                    test_tunnel_data_decoder_rejects_truncated_header);
    g_test_add_func("/proto/tunnel_data/decoder_rejects_other_types_and_next_headers",
                    test_tunnel_data_decoder_rejects_other_types_and_next_headers);
    g_test_add_func("/proto/tunnel_data/encoder_never_overflows",
                    test_tunnel_data_encoder_never_overflows);
    g_test_add_func("/proto/tunnel_data/encoder_refuses_unknown_next_header",
                    test_tunnel_data_encoder_refuses_unknown_next_header);
    return g_test_run();
}
