/* What the agent-discovery and registration sockets share: a packet socket
 * that sees IPv4 on every link (also links with no address of ours, which
 * the IP layer would drop under rp_filter) through a kernel filter, a
 * bounds-checked read of the IPv4 header, and sending from a chosen source
 * address out of a chosen link. */
#pragma once

#include <glib.h>
#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* A non-blocking AF_PACKET socket for IPv4 with `code` attached before it
 * receives anything; -1 with error set on failure. */
int mip_packet_socket_open(struct sock_filter *code, unsigned short len, const char *what,
                           GError **error);

typedef struct MipIpv4Header {
    size_t header_len;
    size_t total_len;   /* trims Ethernet padding */
    uint8_t ttl;
    uint32_t src, dst;  /* host order */
} MipIpv4Header;

/* Reads the header of buf[0..n) byte by byte; false if it is not a sane
 * IPv4 header whose total length fits in n. */
gboolean mip_ipv4_header_read(const uint8_t *buf, size_t n, MipIpv4Header *h);

/* sendmsg() to dst:port (port 0 for raw sockets) with IP_PKTINFO choosing
 * the source address and link when either is nonzero; errno on failure. */
int mip_send_from(int fd, int ifindex, uint32_t src, uint32_t dst, uint16_t port,
                  const uint8_t *bytes, size_t len);
