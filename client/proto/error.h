/* Error values of the wire-format library: every decoder and encoder returns
 * one, and each names exactly what was wrong. */
#pragma once

typedef enum MipProtoError {
    MIP_OK = 0,
    MIP_ERR_TRUNCATED,          /* buffer ends before a field or extension does */
    MIP_ERR_BAD_LENGTH,         /* a length field disagrees with the layout */
    MIP_ERR_BAD_CHECKSUM,       /* ICMP checksum does not verify */
    MIP_ERR_BAD_TYPE,           /* not the message type this decoder handles */
    MIP_ERR_BAD_CODE,           /* ICMP code not allowed for this type */
    MIP_ERR_BAD_VALUE,          /* a field holds a value the RFC forbids */
    MIP_ERR_UNKNOWN_EXTENSION,  /* unknown extension type 0-127: message undecodable */
    MIP_ERR_DUPLICATE_EXTENSION,/* an extension that may appear once appears twice */
    MIP_ERR_EXTENSION_ORDER,    /* an extension is where the RFC does not allow it */
    MIP_ERR_AUTH_MISSING,       /* required authentication extension absent */
    MIP_ERR_AUTH_NOT_LAST,      /* extensions follow an authenticator that must be last */
    MIP_ERR_AUTH_MISMATCH,      /* authenticator does not verify */
    MIP_ERR_SPI_RESERVED,       /* SPI 0-255 are reserved (RFC 5944 §1.11) */
    MIP_ERR_SPI_MISMATCH,       /* extension's SPI is not the key's */
    MIP_ERR_NO_SPACE,           /* encoder: the output buffer is too small */
    MIP_ERR_CRYPTO,             /* OpenSSL failed */
} MipProtoError;

/* A short English description, never NULL. */
const char *mip_proto_strerror(MipProtoError err);
