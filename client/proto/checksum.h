/* The Internet checksum (RFC 1071) used by ICMP. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum folded and complemented; a buffer whose checksum field
 * is correct yields 0. */
uint16_t mip_inet_checksum(const uint8_t *buf, size_t len);
