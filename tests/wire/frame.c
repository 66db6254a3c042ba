/* Ethernet/IPv4/UDP/ICMP framing and the pcap file format (global header plus
 * one record header per frame), written by hand for the tshark cross-check. */
#include "frame.h"

#include <string.h>

/* The checksum here is our own, not the library's, so a bug in
 * mip_inet_checksum cannot hide behind a matching bug in the framing. */
static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

uint16_t wire_checksum(const uint8_t *p, size_t n)
{
    return fold(sum16(0, p, n));
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* pcap headers are in the writer's byte order; we pick little-endian explicitly. */
static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, (uint16_t)v);
    le16(p + 2, (uint16_t)(v >> 16));
}

int wire_pcap_open(WirePcap *p, const char *path)
{
    uint8_t h[24];

    p->frames = 0;
    p->ip_id = 0x1000;
    p->f = fopen(path, "wb");
    if (!p->f)
        return -1;
    le32(h, 0xa1b2c3d4);   /* magic: microsecond timestamps */
    le16(h + 4, 2);        /* version 2.4 */
    le16(h + 6, 4);
    le32(h + 8, 0);        /* thiszone */
    le32(h + 12, 0);       /* sigfigs */
    le32(h + 16, 65535);   /* snaplen */
    le32(h + 20, 1);       /* LINKTYPE_ETHERNET */
    return fwrite(h, sizeof h, 1, p->f) == 1 ? 0 : -1;
}

int wire_pcap_close(WirePcap *p)
{
    int rc = fclose(p->f);
    p->f = NULL;
    return rc;
}

size_t wire_ipv4_header(uint8_t out[20], uint8_t proto, uint8_t ttl, uint16_t id,
                        uint32_t src, uint32_t dst, size_t payload_len)
{
    memset(out, 0, 20);
    out[0] = 0x45;
    put16(out + 2, (uint16_t)(20 + payload_len));
    put16(out + 4, id);
    out[8] = ttl;
    out[9] = proto;
    put32(out + 12, src);
    put32(out + 16, dst);
    put16(out + 10, fold(sum16(0, out, 20)));
    return 20;
}

/* A multicast destination gets its RFC 1112 MAC so tshark sees a plausible
 * frame; unicast peers get locally administered addresses. */
static void mac_for(uint8_t mac[6], uint32_t ip)
{
    if ((ip >> 28) == 0xe) {
        mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
        mac[3] = (uint8_t)((ip >> 16) & 0x7f), mac[4] = (uint8_t)(ip >> 8), mac[5] = (uint8_t)ip;
    } else if (ip == 0xffffffffu) {
        memset(mac, 0xff, 6);
    } else {
        mac[0] = 0x02, mac[1] = 0x00;
        put32(mac + 2, ip);
    }
}

static unsigned write_frame(WirePcap *p, uint32_t src, uint32_t dst, const uint8_t *ip,
                            size_t ip_len)
{
    uint8_t rec[16], eth[14];
    size_t caplen = sizeof eth + ip_len;
    unsigned n = p->frames + 1;

    mac_for(eth, dst);
    mac_for(eth + 6, src);
    eth[6] = 0x02;   /* source MAC is never multicast */
    put16(eth + 12, 0x0800);
    /* One second apart from a fixed epoch: reproducible output. */
    le32(rec, 1700000000u + n);
    le32(rec + 4, 0);
    le32(rec + 8, (uint32_t)caplen);
    le32(rec + 12, (uint32_t)caplen);
    if (fwrite(rec, sizeof rec, 1, p->f) != 1 || fwrite(eth, sizeof eth, 1, p->f) != 1
        || fwrite(ip, ip_len, 1, p->f) != 1)
        return 0;
    p->frames = n;
    return n;
}

unsigned wire_pcap_udp(WirePcap *p, uint32_t src, uint32_t dst, uint16_t sport,
                       uint16_t dport, const uint8_t *payload, size_t len)
{
    uint8_t pkt[20 + 8 + 2048], pseudo[12];
    uint8_t *udp = pkt + 20;
    uint16_t ck;

    if (len > 2048)
        return 0;
    wire_ipv4_header(pkt, 17, 64, p->ip_id++, src, dst, 8 + len);
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0);
    memcpy(udp + 8, payload, len);
    put32(pseudo, src);
    put32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = 17;
    put16(pseudo + 10, (uint16_t)(8 + len));
    ck = fold(sum16(sum16(0, pseudo, sizeof pseudo), udp, 8 + len));
    put16(udp + 6, ck ? ck : 0xffff);   /* RFC 768: computed zero is sent as all ones */
    return write_frame(p, src, dst, pkt, 28 + len);
}

unsigned wire_pcap_icmp(WirePcap *p, uint32_t src, uint32_t dst, const uint8_t *icmp,
                        size_t len)
{
    uint8_t pkt[20 + 2048];

    if (len > 2048)
        return 0;
    wire_ipv4_header(pkt, 1, 1, p->ip_id++, src, dst, len);
    memcpy(pkt + 20, icmp, len);
    return write_frame(p, src, dst, pkt, 20 + len);
}
