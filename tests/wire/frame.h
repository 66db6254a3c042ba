/* Wraps encoded messages in Ethernet + IPv4 + UDP/ICMP and appends them to a
 * classic pcap file written by hand, so the wire check needs no libpcap. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct WirePcap {
    FILE *f;
    unsigned frames;    /* frames written so far; the next one is frames + 1 */
    uint16_t ip_id;
} WirePcap;

int wire_pcap_open(WirePcap *p, const char *path);

/* RFC 1071 checksum, our own rather than the library's (see frame.c). */
uint16_t wire_checksum(const uint8_t *p, size_t n);
int wire_pcap_close(WirePcap *p);

/* Writes an IPv4 header (no options, DF clear, correct checksum) for a payload
 * of payload_len bytes; returns 20. Addresses are host byte order. */
size_t wire_ipv4_header(uint8_t out[20], uint8_t proto, uint8_t ttl, uint16_t id,
                        uint32_t src, uint32_t dst, size_t payload_len);

/* Each returns the frame number tshark will show (1-based), or 0 on error.
 * UDP gets a correct checksum; ICMP goes out with TTL 1 as RFC 5944 §2.1 and
 * §2.2 require, and its checksum is the encoder's own. */
unsigned wire_pcap_udp(WirePcap *p, uint32_t src, uint32_t dst, uint16_t sport,
                       uint16_t dport, const uint8_t *payload, size_t len);
unsigned wire_pcap_icmp(WirePcap *p, uint32_t src, uint32_t dst,
                        const uint8_t *icmp, size_t len);
