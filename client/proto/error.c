/* Human-readable names for MipProtoError, for logs and test failures. */
#include "error.h"

const char *mip_proto_strerror(MipProtoError err)
{
    switch (err) {
    case MIP_OK:
        return "success";
    case MIP_ERR_TRUNCATED:
        return "message truncated";
    case MIP_ERR_BAD_LENGTH:
        return "length field disagrees with the layout";
    case MIP_ERR_BAD_CHECKSUM:
        return "bad ICMP checksum";
    case MIP_ERR_BAD_TYPE:
        return "unexpected message type";
    case MIP_ERR_BAD_CODE:
        return "ICMP code not allowed for this type";
    case MIP_ERR_BAD_VALUE:
        return "field holds a forbidden value";
    case MIP_ERR_UNKNOWN_EXTENSION:
        return "unknown non-skippable extension";
    case MIP_ERR_DUPLICATE_EXTENSION:
        return "extension repeated";
    case MIP_ERR_EXTENSION_ORDER:
        return "extension out of order";
    case MIP_ERR_AUTH_MISSING:
        return "authentication extension missing";
    case MIP_ERR_AUTH_NOT_LAST:
        return "extensions follow the authentication extension";
    case MIP_ERR_AUTH_MISMATCH:
        return "authenticator does not verify";
    case MIP_ERR_SPI_RESERVED:
        return "reserved SPI";
    case MIP_ERR_SPI_MISMATCH:
        return "SPI does not match the security association";
    case MIP_ERR_NO_SPACE:
        return "output buffer too small";
    case MIP_ERR_CRYPTO:
        return "cryptographic library failure";
    }
    /* Values outside the enum arrive from casts or memory corruption. */
    return "unknown error";
}
