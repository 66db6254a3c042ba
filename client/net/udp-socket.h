/* Registration I/O, UDP port 434: requests go out with a chosen source
 * address and link (home address through a foreign agent, care-of address
 * when co-located); replies come back with the link and destination they
 * arrived on, also on a link where we have no address. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct MipUdpSocket MipUdpSocket;

typedef void (*MipUdpReceived)(int ifindex, uint32_t src, uint16_t sport, uint32_t dst,
                               const uint8_t *bytes, size_t len, void *user);

MipUdpSocket *mip_udp_socket_new(uint16_t port, MipUdpReceived cb, void *user, GError **error);
/* src and ifindex may be 0 (kernel's choice). Host byte order. */
gboolean mip_udp_socket_send(MipUdpSocket *s, int ifindex, uint32_t src, uint32_t dst,
                             uint16_t dport, const uint8_t *bytes, size_t len, GError **error);
void mip_udp_socket_free(MipUdpSocket *s);
