/* Registration Request and Reply (RFC 5944 §3.3, §3.4): the fixed parts, the
 * extension walk that follows them, and reply-code names. */
#include "registration.h"

#include <string.h>

#include "bytes.h"

static MipProtoError check_header(const uint8_t *buf, size_t len, uint8_t type, size_t fixed_len)
{
    if (buf == NULL && len > 0)
        return MIP_ERR_BAD_VALUE;
    if (len < 1)
        return MIP_ERR_TRUNCATED;
    if (buf[0] != type)
        return MIP_ERR_BAD_TYPE;
    if (len < fixed_len)
        return MIP_ERR_TRUNCATED;
    return MIP_OK;
}

MipProtoError mip_reg_request_decode(const uint8_t *buf, size_t len, MipRegRequest *out,
                                     MipRegExtensions *ext)
{
    if (out == NULL)
        return MIP_ERR_BAD_VALUE;
    MipProtoError err = check_header(buf, len, MIP_MSG_REG_REQUEST, MIP_REG_REQUEST_LEN);
    if (err != MIP_OK)
        return err;
    /* Extensions first, so a rejected message leaves *out and *ext alone. */
    MipRegExtensions parsed;
    err = mip_ext_parse(buf, MIP_REG_REQUEST_LEN, len, &parsed);
    if (err != MIP_OK)
        return err;
    out->flags = buf[1];
    out->lifetime = mip_load_be16(buf + 2);
    out->home_address = mip_load_be32(buf + 4);
    out->home_agent = mip_load_be32(buf + 8);
    out->care_of_address = mip_load_be32(buf + 12);
    out->identification = mip_load_be64(buf + 16);
    if (ext != NULL)
        *ext = parsed;
    return MIP_OK;
}

MipProtoError mip_reg_reply_decode(const uint8_t *buf, size_t len, MipRegReply *out,
                                   MipRegExtensions *ext)
{
    if (out == NULL)
        return MIP_ERR_BAD_VALUE;
    MipProtoError err = check_header(buf, len, MIP_MSG_REG_REPLY, MIP_REG_REPLY_LEN);
    if (err != MIP_OK)
        return err;
    MipRegExtensions parsed;
    err = mip_ext_parse(buf, MIP_REG_REPLY_LEN, len, &parsed);
    if (err != MIP_OK)
        return err;
    out->code = buf[1];
    out->lifetime = mip_load_be16(buf + 2);
    out->home_address = mip_load_be32(buf + 4);
    out->home_agent = mip_load_be32(buf + 8);
    out->identification = mip_load_be64(buf + 12);
    if (ext != NULL)
        *ext = parsed;
    return MIP_OK;
}

MipProtoError mip_reg_request_write(MipWriter *w, const MipRegRequest *req)
{
    /* The fixed part must open the message: authenticators cover from the
     * writer's first byte. */
    if (w == NULL || req == NULL || w->len != 0)
        return MIP_ERR_BAD_VALUE;
    uint8_t *p = mip_writer_reserve(w, MIP_REG_REQUEST_LEN);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    p[0] = MIP_MSG_REG_REQUEST;
    p[1] = req->flags;
    mip_store_be16(p + 2, req->lifetime);
    mip_store_be32(p + 4, req->home_address);
    mip_store_be32(p + 8, req->home_agent);
    mip_store_be32(p + 12, req->care_of_address);
    mip_store_be64(p + 16, req->identification);
    return MIP_OK;
}

MipProtoError mip_reg_reply_write(MipWriter *w, const MipRegReply *rep)
{
    if (w == NULL || rep == NULL || w->len != 0)
        return MIP_ERR_BAD_VALUE;
    uint8_t *p = mip_writer_reserve(w, MIP_REG_REPLY_LEN);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    p[0] = MIP_MSG_REG_REPLY;
    p[1] = rep->code;
    mip_store_be16(p + 2, rep->lifetime);
    mip_store_be32(p + 4, rep->home_address);
    mip_store_be32(p + 8, rep->home_agent);
    mip_store_be64(p + 12, rep->identification);
    return MIP_OK;
}

/* Names of the reply codes of RFC 5944 §3.4, RFC 3024, RFC 3012 and RFC 3519. */
static const struct {
    uint8_t code;
    const char *name;
} reg_codes[] = {
    {0, "accepted"},
    {1, "accepted, simultaneous bindings unsupported"},
    {64, "denied by foreign agent: reason unspecified"},
    {65, "denied by foreign agent: administratively prohibited"},
    {66, "denied by foreign agent: insufficient resources"},
    {67, "denied by foreign agent: mobile node failed authentication"},
    {68, "denied by foreign agent: home agent failed authentication"},
    {69, "denied by foreign agent: requested lifetime too long"},
    {70, "denied by foreign agent: poorly formed request"},
    {71, "denied by foreign agent: poorly formed reply"},
    {72, "denied by foreign agent: requested encapsulation unavailable"},
    {73, "denied by foreign agent: VJ compression unavailable"},
    {74, "denied by foreign agent: reverse tunnel unavailable"},
    {75, "denied by foreign agent: reverse tunnel mandatory, T bit not set"},
    {77, "denied by foreign agent: invalid care-of address"},
    {78, "denied by foreign agent: registration timeout"},
    {79, "denied by foreign agent: delivery style not supported"},
    {80, "denied by foreign agent: home network unreachable"},
    {81, "denied by foreign agent: home agent host unreachable"},
    {82, "denied by foreign agent: home agent port unreachable"},
    {88, "denied by foreign agent: home agent unreachable"},
    {104, "denied by foreign agent: unknown challenge"},
    {105, "denied by foreign agent: missing challenge"},
    {106, "denied by foreign agent: stale challenge"},
    {128, "denied by home agent: reason unspecified"},
    {129, "denied by home agent: administratively prohibited"},
    {130, "denied by home agent: insufficient resources"},
    {131, "denied by home agent: mobile node failed authentication"},
    {132, "denied by home agent: foreign agent failed authentication"},
    {133, "denied by home agent: identification mismatch"},
    {134, "denied by home agent: poorly formed request"},
    {135, "denied by home agent: too many simultaneous bindings"},
    {136, "denied by home agent: unknown home agent address"},
    {137, "denied by home agent: reverse tunnel unavailable"},
    {138, "denied by home agent: reverse tunnel mandatory, T bit not set"},
    {139, "denied by home agent: requested encapsulation unavailable"},
    {142, "denied by home agent: UDP encapsulation unavailable"},
};

const char *mip_reg_code_name(uint8_t code)
{
    for (size_t i = 0; i < sizeof(reg_codes) / sizeof(reg_codes[0]); i++)
        if (reg_codes[i].code == code)
            return reg_codes[i].name;
    /* RFC 5944 §3.4 allots 64-127 to foreign agents, 128-192 to home agents. */
    if (code >= 64 && code < 128)
        return "denied by foreign agent";
    if (code >= 128)
        return "denied by home agent";
    return "unknown code";
}

bool mip_reg_code_accepted(uint8_t code)
{
    return code == MIP_CODE_ACCEPTED || code == MIP_CODE_ACCEPTED_NO_SIMULTANEOUS;
}
