/* Registration extensions: walking them with RFC 5944 §1.9 rules (unknown
 * 0-127 reject the message, 128-255 are skipped) and writing the ones that are
 * not authenticators. */
#include "extensions.h"

#include <string.h>

#include "bytes.h"

enum {
    SHORT_HDR_LEN = 2, /* type, 8-bit length */
    LONG_HDR_LEN = 4,  /* type, subtype, 16-bit length (RFC 3012 §5) */
    SPI_LEN = 4,
    FIXED6_LEN = 6, /* the Length octet of extensions 44, 137 and 144 */
    SHORT_MAX_DATA = 255,
};

static MipProtoError record_auth(MipAuthExtView *view, const uint8_t *buf, size_t off,
                                 size_t hdr_len, size_t data_len)
{
    if (view->present)
        return MIP_ERR_DUPLICATE_EXTENSION;
    /* The data starts with the SPI (RFC 5944 §3.5.2): at least 4 octets. */
    if (data_len < SPI_LEN)
        return MIP_ERR_BAD_LENGTH;
    const uint8_t *data = buf + off + hdr_len;
    view->present = true;
    view->type = buf[off];
    view->subtype = hdr_len == LONG_HDR_LEN ? buf[off + 1] : 0;
    view->spi = mip_load_be32(data);
    view->authenticator = data + SPI_LEN;
    view->authenticator_len = data_len - SPI_LEN;
    view->offset = off;
    view->covered_len = off + hdr_len + SPI_LEN;
    view->end = off + hdr_len + data_len;
    return MIP_OK;
}

static MipProtoError parse_fixed6(bool *seen, size_t data_len)
{
    if (*seen)
        return MIP_ERR_DUPLICATE_EXTENSION;
    if (data_len != FIXED6_LEN)
        return MIP_ERR_BAD_LENGTH;
    *seen = true;
    return MIP_OK;
}

static MipProtoError parse_bytes(const uint8_t **field, size_t *field_len, const uint8_t *data,
                                 size_t data_len)
{
    if (*field != NULL)
        return MIP_ERR_DUPLICATE_EXTENSION;
    /* An empty NAI or challenge identifies nothing and answers nothing. */
    if (data_len == 0)
        return MIP_ERR_BAD_LENGTH;
    *field = data;
    *field_len = data_len;
    return MIP_OK;
}

static MipProtoError parse_short(const uint8_t *buf, size_t off, size_t data_len,
                                 MipRegExtensions *out)
{
    const uint8_t *data = buf + off + SHORT_HDR_LEN;
    MipProtoError err;

    switch (buf[off]) {
    case MIP_EXT_MH_AUTH:
        return record_auth(&out->mh, buf, off, SHORT_HDR_LEN, data_len);
    case MIP_EXT_MF_AUTH:
        return record_auth(&out->mf, buf, off, SHORT_HDR_LEN, data_len);
    case MIP_EXT_FH_AUTH:
        return record_auth(&out->fh, buf, off, SHORT_HDR_LEN, data_len);
    case MIP_EXT_NAI:
        return parse_bytes(&out->nai, &out->nai_len, data, data_len);
    case MIP_EXT_MN_FA_CHALLENGE:
        return parse_bytes(&out->challenge, &out->challenge_len, data, data_len);
    case MIP_EXT_UDP_TUNNEL_REQUEST:
        err = parse_fixed6(&out->has_udp_tunnel_request, data_len);
        if (err == MIP_OK) {
            /* Sub-Type, Reserved 1, F|R|Reserved 2, Encapsulation, Reserved 3 */
            out->udp_tunnel_request.subtype = data[0];
            out->udp_tunnel_request.flags = data[2];
            out->udp_tunnel_request.encapsulation = data[3];
        }
        return err;
    case MIP_EXT_UDP_TUNNEL_REPLY:
        err = parse_fixed6(&out->has_udp_tunnel_reply, data_len);
        if (err == MIP_OK) {
            /* Sub-Type, Reply Code, F|Reserved, Keepalive Interval */
            out->udp_tunnel_reply.subtype = data[0];
            out->udp_tunnel_reply.reply_code = data[1];
            out->udp_tunnel_reply.flags = mip_load_be16(data + 2);
            out->udp_tunnel_reply.keepalive = mip_load_be16(data + 4);
        }
        return err;
    case MIP_EXT_REVOCATION:
        err = parse_fixed6(&out->has_revocation, data_len);
        if (err == MIP_OK) {
            out->revocation.flags = mip_load_be16(data);
            out->revocation.timestamp = mip_load_be32(data + 2);
        }
        return err;
    default:
        /* Only 128-255 reach here: parse_one rejected unknown 0-127. */
        out->skipped++;
        return MIP_OK;
    }
}

static bool known_short_type(uint8_t type)
{
    switch (type) {
    case MIP_EXT_MH_AUTH:
    case MIP_EXT_MF_AUTH:
    case MIP_EXT_FH_AUTH:
    case MIP_EXT_UDP_TUNNEL_REPLY:
        return true;
    default:
        /* Skippable ones are all read the same way, known or not. */
        return type >= 128;
    }
}

/* Parses the extension at buf[off] and sets *next past it. */
static MipProtoError parse_one(const uint8_t *buf, size_t off, size_t len, MipRegExtensions *out,
                               size_t *next)
{
    uint8_t type = buf[off];
    size_t avail = len - off;

    if (type == MIP_EXT_GEN_AUTH) {
        /* The long format (RFC 3012 §5): the length sits after a subtype. */
        if (avail < LONG_HDR_LEN)
            return MIP_ERR_TRUNCATED;
        size_t data_len = mip_load_be16(buf + off + 2);
        if (data_len > avail - LONG_HDR_LEN)
            return MIP_ERR_TRUNCATED;
        if (buf[off + 1] != MIP_GEN_AUTH_SUBTYPE_MN_AAA)
            return MIP_ERR_UNKNOWN_EXTENSION; /* a subtype we cannot verify */
        MipProtoError err = record_auth(&out->mn_aaa, buf, off, LONG_HDR_LEN, data_len);
        *next = off + LONG_HDR_LEN + data_len;
        return err;
    }
    if (!known_short_type(type))
        return MIP_ERR_UNKNOWN_EXTENSION;
    if (avail < SHORT_HDR_LEN)
        return MIP_ERR_TRUNCATED;
    size_t data_len = buf[off + 1];
    if (data_len > avail - SHORT_HDR_LEN)
        return MIP_ERR_TRUNCATED;
    *next = off + SHORT_HDR_LEN + data_len;
    return parse_short(buf, off, data_len, out);
}

MipProtoError mip_ext_parse(const uint8_t *buf, size_t start, size_t len, MipRegExtensions *out)
{
    if (buf == NULL && len > 0)
        return MIP_ERR_BAD_VALUE;
    if (start > len)
        return MIP_ERR_TRUNCATED;
    /* Walk into a local so a rejected message leaves *out untouched; a NULL
     * out still gets every extension validated. */
    MipRegExtensions ext;
    memset(&ext, 0, sizeof(ext));
    ext.total_len = len;
    for (size_t off = start; off < len;) {
        size_t next = off;
        MipProtoError err = parse_one(buf, off, len, &ext, &next);
        if (err != MIP_OK)
            return err;
        ext.count++;
        off = next;
    }
    if (out != NULL)
        *out = ext;
    return MIP_OK;
}

MipProtoError mip_ext_write_raw(MipWriter *w, uint8_t type, const uint8_t *data, size_t len)
{
    if (len > SHORT_MAX_DATA)
        return MIP_ERR_BAD_LENGTH;
    if (len > 0 && data == NULL)
        return MIP_ERR_BAD_VALUE;
    uint8_t *p = mip_writer_reserve(w, SHORT_HDR_LEN + len);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    p[0] = type;
    p[1] = (uint8_t)len;
    if (len > 0)
        memcpy(p + SHORT_HDR_LEN, data, len);
    return MIP_OK;
}

MipProtoError mip_ext_write_nai(MipWriter *w, const uint8_t *nai, size_t nai_len)
{
    if (nai_len == 0)
        return MIP_ERR_BAD_LENGTH;
    return mip_ext_write_raw(w, MIP_EXT_NAI, nai, nai_len);
}

MipProtoError mip_ext_write_challenge(MipWriter *w, const uint8_t *challenge, size_t len)
{
    if (len == 0)
        return MIP_ERR_BAD_LENGTH;
    return mip_ext_write_raw(w, MIP_EXT_MN_FA_CHALLENGE, challenge, len);
}

MipProtoError mip_ext_write_udp_tunnel_request(MipWriter *w, const MipUdpTunnelRequest *r)
{
    if (r == NULL || r->flags > 0xff)
        return MIP_ERR_BAD_VALUE;
    uint8_t data[FIXED6_LEN] = {r->subtype, 0, (uint8_t)r->flags, r->encapsulation, 0, 0};
    return mip_ext_write_raw(w, MIP_EXT_UDP_TUNNEL_REQUEST, data, sizeof(data));
}

MipProtoError mip_ext_write_udp_tunnel_reply(MipWriter *w, const MipUdpTunnelReply *r)
{
    if (r == NULL)
        return MIP_ERR_BAD_VALUE;
    uint8_t data[FIXED6_LEN] = {r->subtype, r->reply_code};
    mip_store_be16(data + 2, r->flags);
    mip_store_be16(data + 4, r->keepalive);
    return mip_ext_write_raw(w, MIP_EXT_UDP_TUNNEL_REPLY, data, sizeof(data));
}

MipProtoError mip_ext_write_revocation(MipWriter *w, const MipRevocationSupport *r)
{
    if (r == NULL)
        return MIP_ERR_BAD_VALUE;
    uint8_t data[FIXED6_LEN];
    mip_store_be16(data, r->flags);
    mip_store_be32(data + 2, r->timestamp);
    return mip_ext_write_raw(w, MIP_EXT_REVOCATION, data, sizeof(data));
}
