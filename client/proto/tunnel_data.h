/* The RFC 3519 tunnel-data header: UDP-encapsulated packets to and from port
 * 434 start with type 4, the next header (4 IPIP, 47 GRE, 55 minimal) and two
 * reserved bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "writer.h"

enum { MIP_TUNNEL_DATA_HDR_LEN = 4 };

MipProtoError mip_tunnel_data_write(MipWriter *w, uint8_t next_header);

/* On success *next_header is set and the payload is buf[4..len). */
MipProtoError mip_tunnel_data_decode(const uint8_t *buf, size_t len, uint8_t *next_header);
