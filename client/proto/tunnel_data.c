/* The RFC 3519 §3.3 tunnel-data header in front of UDP-encapsulated packets. */
#include "tunnel_data.h"

#include "extensions.h"
#include "registration.h"

static int next_header_supported(uint8_t next_header)
{
    /* The encapsulations RFC 3519 names and the tunnel back ends can carry. */
    return next_header == MIP_UDPT_ENCAP_IPIP || next_header == MIP_UDPT_ENCAP_GRE ||
           next_header == MIP_UDPT_ENCAP_MINIMAL;
}

MipProtoError mip_tunnel_data_write(MipWriter *w, uint8_t next_header)
{
    if (!next_header_supported(next_header))
        return MIP_ERR_BAD_VALUE;
    uint8_t *p = mip_writer_reserve(w, MIP_TUNNEL_DATA_HDR_LEN);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    p[0] = MIP_MSG_TUNNEL_DATA;
    p[1] = next_header;
    p[2] = 0;
    p[3] = 0;
    return MIP_OK;
}

MipProtoError mip_tunnel_data_decode(const uint8_t *buf, size_t len, uint8_t *next_header)
{
    if (next_header == NULL || (buf == NULL && len > 0))
        return MIP_ERR_BAD_VALUE;
    if (len < 1)
        return MIP_ERR_TRUNCATED;
    if (buf[0] != MIP_MSG_TUNNEL_DATA)
        return MIP_ERR_BAD_TYPE;
    if (len < MIP_TUNNEL_DATA_HDR_LEN)
        return MIP_ERR_TRUNCATED;
    if (!next_header_supported(buf[1]))
        return MIP_ERR_BAD_VALUE;
    /* The reserved octets are ignored on receipt. */
    *next_header = buf[1];
    return MIP_OK;
}
