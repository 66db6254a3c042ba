/* Agent discovery I/O: receives agent advertisements (to 224.0.0.1,
 * 255.255.255.255 or us) with the link they came in on and their TTL, also on
 * links without an address yet, and sends agent solicitations to 224.0.0.11
 * with TTL 1 out of a chosen link. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct MipIcmpSocket MipIcmpSocket;

/* bytes is the ICMP message (IP header stripped); addresses host order. */
typedef void (*MipIcmpReceived)(int ifindex, uint32_t src, uint32_t dst, uint8_t ttl,
                                const uint8_t *bytes, size_t len, void *user);

MipIcmpSocket *mip_icmp_socket_new(MipIcmpReceived cb, void *user, GError **error);
/* Sends an ICMP message (already checksummed) out of ifindex to dst with TTL 1;
 * src 0 lets the kernel choose. */
gboolean mip_icmp_socket_send(MipIcmpSocket *s, int ifindex, uint32_t src, uint32_t dst,
                              const uint8_t *bytes, size_t len, GError **error);
void mip_icmp_socket_free(MipIcmpSocket *s);
