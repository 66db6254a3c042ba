/* What the core knows about a network link: the link plugins (link-nm,
 * link-netlink) fill it, the core reads it. No GLib, no libnm here. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum { MIP_IFNAME_MAX = 16 };

typedef enum MipLinkType {
    MIP_LINK_UNKNOWN,
    MIP_LINK_ETHERNET,   /* includes veth: NM reports test veths as ethernet-like */
    MIP_LINK_WIFI,
    MIP_LINK_WWAN,
} MipLinkType;

/* The state of one link at one moment; the plugin sends a fresh copy on every
 * change (carrier, activation, IPv4 configuration). `address` is the link's
 * own address (DHCP lease or static): report the home address only when the
 * link really is configured with it (at home), not when the tunnel plugin put
 * it there for foreign-agent mode -- the core guards against that case (a /32,
 * or the link its FA plan uses) but cannot tell every other one. */
typedef struct MipLinkInfo {
    int ifindex;
    char name[MIP_IFNAME_MAX];
    MipLinkType type;
    bool carrier;
    bool active;               /* link plugin considers it usable (NM: activated) */
    uint32_t address;          /* IPv4 from DHCP/static, host order; 0 if none */
    uint8_t prefix_len;
    uint32_t gateway;          /* host order; 0 if none */
    uint8_t hwaddr[6];         /* for gratuitous ARP and the FA's visitor entry */
} MipLinkInfo;
