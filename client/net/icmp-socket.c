/* Agent discovery sockets: advertisements are read from a packet socket
 * (filtered to ICMP type 9 in the kernel), solicitations go out of a raw ICMP
 * socket. A packet socket sees advertisements on a link that has no IPv4
 * address yet, which the IP layer drops when rp_filter is on (Debian's
 * default): a node on a foreign agent's network without DHCP must still hear
 * its agent. */
#include "icmp-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/icmp.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-watch.h"
#include "packet-socket.h"

struct MipIcmpSocket {
    int fd;        /* raw ICMP: sends solicitations */
    int packet_fd; /* AF_PACKET: receives advertisements */
    guint watch;
    MipIcmpReceived cb;
    void *user;
};

static gboolean set_error_errno(GError **error, const char *what)
{
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "ICMP socket: %s: %s", what,
                g_strerror(e));
    return FALSE;
}

static void on_readable(int fd, void *user)
{
    MipIcmpSocket *s = user;
    for (;;) {
        uint8_t buf[2048];
        struct sockaddr_ll from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
                             &fromlen);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                int err;
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            }
            return;
        }
        /* Our own solicitations pass the packet socket on their way out. */
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        MipIpv4Header ip;
        if (!mip_ipv4_header_read(buf, (size_t)n, &ip))
            continue;
        s->cb(from.sll_ifindex, ip.src, ip.dst, ip.ttl, buf + ip.header_len,
              ip.total_len - ip.header_len, s->user);
    }
}

/* Unfragmented IPv4 carrying ICMP type 9, nothing else. */
static int open_advert_socket(GError **error)
{
    static struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                  /* protocol */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMP, 0, 5),
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                  /* fragment offset */
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 3, 0),
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                 /* x = header length */
        BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),                  /* ICMP type */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 9, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
    };
    return mip_packet_socket_open(code, G_N_ELEMENTS(code), "advertisement", error);
}

MipIcmpSocket *mip_icmp_socket_new(MipIcmpReceived cb, void *user, GError **error)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
    if (fd < 0) {
        set_error_errno(error, "socket(SOCK_RAW, IPPROTO_ICMP) (needs CAP_NET_RAW)");
        return NULL;
    }
    int one = 1, zero = 0, ttl = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero) < 0) {
        set_error_errno(error, "setsockopt");
        close(fd);
        return NULL;
    }
    /* This socket only sends: everything it would receive is filtered out
     * (advertisements arrive on the packet socket). */
    struct icmp_filter filt = {.data = ~0u};
    if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof filt) < 0) {
        set_error_errno(error, "ICMP_FILTER");
        close(fd);
        return NULL;
    }
    int packet_fd = open_advert_socket(error);
    if (packet_fd < 0) {
        close(fd);
        return NULL;
    }
    MipIcmpSocket *s = g_new0(MipIcmpSocket, 1);
    s->fd = fd;
    s->packet_fd = packet_fd;
    s->cb = cb;
    s->user = user;
    s->watch = mip_fd_watch_add(packet_fd, on_readable, s);
    return s;
}

gboolean mip_icmp_socket_send(MipIcmpSocket *s, int ifindex, uint32_t src, uint32_t dst,
                              const uint8_t *bytes, size_t len, GError **error)
{
    struct ip_mreqn mr = {.imr_ifindex = ifindex};
    mr.imr_address.s_addr = htonl(src);
    if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) < 0)
        return set_error_errno(error, "IP_MULTICAST_IF");
    int e = mip_send_from(s->fd, ifindex, src, dst, 0, bytes, len);
    if (e) {
        errno = e;
        return set_error_errno(error, "sendmsg");
    }
    return TRUE;
}

void mip_icmp_socket_free(MipIcmpSocket *s)
{
    if (!s)
        return;
    g_source_remove(s->watch);
    close(s->packet_fd);
    close(s->fd);
    g_free(s);
}
