/* The RFC 1071 Internet checksum over an ICMP message. */
#include "checksum.h"

#include "bytes.h"

uint16_t mip_inet_checksum(const uint8_t *buf, size_t len)
{
    uint64_t sum = 0;
    size_t i = 0;

    for (; i + 1 < len; i += 2)
        sum += mip_load_be16(buf + i);
    /* An odd trailing byte is the high half of a word padded with zero. */
    if (i < len)
        sum += (uint32_t)buf[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}
