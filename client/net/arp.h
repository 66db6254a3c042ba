/* Gratuitous ARP (RFC 5944 §4.6): when the node comes home it announces that
 * its home address is at its own hardware address again, so neighbours forget
 * the home agent's proxy entry. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Sends `count` gratuitous ARP requests for addr (host order) from hwaddr out
 * of ifindex. */
gboolean mip_arp_announce(int ifindex, const uint8_t hwaddr[6], uint32_t addr, unsigned count,
                          GError **error);
