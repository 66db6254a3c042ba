/* Packet sockets with kernel filters, and IPv4 header reading. */
#include "packet-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/proto/bytes.h"

int mip_packet_socket_open(struct sock_filter *code, unsigned short len, const char *what,
                           GError **error)
{
    struct sock_fprog prog = {.len = len, .filter = code};
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
    int one = 1;
    /* Protocol 0 receives nothing until bound, so no unfiltered packet is
     * queued before the filter is in place. */
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "%s packet socket (needs CAP_NET_RAW): %s", what, g_strerror(e));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

gboolean mip_ipv4_header_read(const uint8_t *buf, size_t n, MipIpv4Header *h)
{
    if (n < 20 || (buf[0] >> 4) != 4)
        return FALSE;
    h->header_len = (size_t)(buf[0] & 0x0f) * 4;
    h->total_len = mip_load_be16(buf + 2);
    if (h->header_len < 20 || h->total_len < h->header_len || n < h->total_len)
        return FALSE;
    h->ttl = buf[8];
    h->src = mip_load_be32(buf + 12);
    h->dst = mip_load_be32(buf + 16);
    return TRUE;
}

int mip_send_from(int fd, int ifindex, uint32_t src, uint32_t dst, uint16_t port,
                  const uint8_t *bytes, size_t len)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(dst)};
    char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = {0};
    struct iovec iov = {(void *)bytes, len};
    struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov,
                        .msg_iovlen = 1};
    if (src || ifindex) {
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_ifindex = ifindex};
        pi.ipi_spec_dst.s_addr = htonl(src);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    return sendmsg(fd, &mh, 0) < 0 ? errno : 0;
}
