/* Gratuitous ARP through a packet socket. */
#include "arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/proto/bytes.h"

gboolean mip_arp_announce(int ifindex, const uint8_t hwaddr[6], uint32_t addr, unsigned count,
                          GError **error)
{
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "gratuitous ARP: packet socket: %s", g_strerror(e));
        return FALSE;
    }
    /* An ARP request whose sender and target are both the home address
     * (RFC 5944 §4.6, RFC 5227's announcement form). */
    uint8_t pkt[28];
    mip_store_be16(pkt, ARPHRD_ETHER);
    mip_store_be16(pkt + 2, ETH_P_IP);
    pkt[4] = 6;
    pkt[5] = 4;
    mip_store_be16(pkt + 6, ARPOP_REQUEST);
    memcpy(pkt + 8, hwaddr, 6);
    mip_store_be32(pkt + 14, addr);
    memset(pkt + 18, 0, 6);
    mip_store_be32(pkt + 24, addr);

    struct sockaddr_ll to = {.sll_family = AF_PACKET,
                             .sll_protocol = htons(ETH_P_ARP),
                             .sll_ifindex = ifindex,
                             .sll_halen = 6};
    memset(to.sll_addr, 0xff, 6);
    gboolean ok = TRUE;
    for (unsigned i = 0; i < count && ok; i++) {
        if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) < 0) {
            int e = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                        "gratuitous ARP on ifindex %d: %s", ifindex, g_strerror(e));
            ok = FALSE;
        }
    }
    close(fd);
    return ok;
}
