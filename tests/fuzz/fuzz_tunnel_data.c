/* libFuzzer target: mip_tunnel_data_decode, and that the header
 * mip_tunnel_data_write produces for the decoded next header matches. */
#include "tunnel_data.h"

#include "fuzz-common.h"
#include "registration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t nh = 0xee, out[MIP_TUNNEL_DATA_HDR_LEN];
    MipWriter w;

    MipProtoError err = mip_tunnel_data_decode(data, size, &nh);
    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    if (err != MIP_OK) {
        FUZZ_ASSERT(nh == 0xee);
        return 0;
    }
    FUZZ_ASSERT(size >= MIP_TUNNEL_DATA_HDR_LEN && data[0] == MIP_MSG_TUNNEL_DATA);
    FUZZ_ASSERT(nh == data[1]);
    FUZZ_ASSERT(nh == MIP_UDPT_ENCAP_IPIP || nh == MIP_UDPT_ENCAP_GRE || nh == MIP_UDPT_ENCAP_MINIMAL);
    mip_writer_init(&w, out, sizeof out);
    FUZZ_ASSERT(mip_tunnel_data_write(&w, nh) == MIP_OK && w.len == MIP_TUNNEL_DATA_HDR_LEN);
    /* Reserved octets are ignored on receipt and sent as zero. */
    FUZZ_ASSERT(memcmp(out, data, 2) == 0 && out[2] == 0 && out[3] == 0);
    return 0;
}
