/* Registration I/O on UDP port 434: requests leave through a UDP socket;
 * replies are read from a packet socket filtered to UDP port 434 in the
 * kernel, because a reply through a foreign agent arrives on a link that has
 * no IPv4 address of ours, which the IP layer drops when rp_filter is on
 * (Debian's default). The UDP socket itself receives nothing. */
#include "udp-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-watch.h"
#include "packet-socket.h"

struct MipUdpSocket {
    int fd;        /* UDP: sends */
    int packet_fd; /* AF_PACKET: receives */
    uint16_t port;
    guint watch;
    MipUdpReceived cb;
    void *user;
};

static gboolean set_error_errno(GError **error, const char *what)
{
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "UDP socket: %s: %s", what,
                g_strerror(e));
    return FALSE;
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

/* RFC 768: the checksum over the pseudo-header and the datagram; 0 = none. */
static gboolean udp_checksum_ok(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
    if (udp[6] == 0 && udp[7] == 0)
        return TRUE;
    uint8_t pseudo[12] = {0};
    memcpy(pseudo, ip + 12, 8);
    pseudo[9] = IPPROTO_UDP;
    pseudo[10] = (uint8_t)(udp_len >> 8);
    pseudo[11] = (uint8_t)udp_len;
    uint32_t sum = sum16(sum16(0, pseudo, sizeof pseudo), udp, udp_len);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

static void on_readable(int fd, void *user)
{
    MipUdpSocket *s = user;
    for (;;) {
        uint8_t buf[2048];
        char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        struct sockaddr_ll from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr mh = {.msg_name = &from,
                            .msg_namelen = sizeof from,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                int err;
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
                continue;
            }
            return;
        }
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        /* A packet handed over inside this host (veth, checksum offload)
         * carries a checksum the NIC was meant to finish: nothing to verify. */
        gboolean csum_pending = FALSE;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(c), sizeof aux);
                csum_pending = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
            }
        }
        MipIpv4Header ip;
        if (!mip_ipv4_header_read(buf, (size_t)n, &ip) || ip.total_len < ip.header_len + 8)
            continue;
        const uint8_t *udp = buf + ip.header_len;
        size_t udp_len = (size_t)udp[4] << 8 | udp[5];
        if (udp_len < 8 || udp_len > ip.total_len - ip.header_len ||
            (!csum_pending && !udp_checksum_ok(buf, udp, udp_len)))
            continue;
        uint16_t sport = (uint16_t)(udp[0] << 8 | udp[1]);
        s->cb(from.sll_ifindex, ip.src, sport, ip.dst, udp + 8, udp_len - 8, s->user);
    }
}

/* Unfragmented IPv4 UDP to `port`, from any link. */
static int open_reply_socket(uint16_t port, GError **error)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                  /* protocol */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 5),
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                  /* fragment offset */
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 3, 0),
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                 /* x = header length */
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                  /* destination port */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
    };
    return mip_packet_socket_open(code, G_N_ELEMENTS(code), "reply", error);
}

MipUdpSocket *mip_udp_socket_new(uint16_t port, MipUdpReceived cb, void *user, GError **error)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        set_error_errno(error, "socket");
        return NULL;
    }
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        set_error_errno(error, "setsockopt");
        close(fd);
        return NULL;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        char what[64];
        g_snprintf(what, sizeof what, "bind to port %u (needs CAP_NET_BIND_SERVICE)", port);
        set_error_errno(error, what);
        close(fd);
        return NULL;
    }
    /* Everything arrives on the packet socket; this one must not queue
     * second copies. */
    static struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    struct sock_fprog none = {.len = 1, .filter = drop_all};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &none, sizeof none) < 0) {
        set_error_errno(error, "SO_ATTACH_FILTER");
        close(fd);
        return NULL;
    }
    int packet_fd = open_reply_socket(port, error);
    if (packet_fd < 0) {
        close(fd);
        return NULL;
    }
    MipUdpSocket *s = g_new0(MipUdpSocket, 1);
    s->fd = fd;
    s->packet_fd = packet_fd;
    s->port = port;
    s->cb = cb;
    s->user = user;
    s->watch = mip_fd_watch_add(packet_fd, on_readable, s);
    return s;
}

gboolean mip_udp_socket_send(MipUdpSocket *s, int ifindex, uint32_t src, uint32_t dst,
                             uint16_t dport, const uint8_t *bytes, size_t len, GError **error)
{
    int e = mip_send_from(s->fd, ifindex, src, dst, dport, bytes, len);
    if (e) {
        errno = e;
        return set_error_errno(error, "sendmsg");
    }
    return TRUE;
}

void mip_udp_socket_free(MipUdpSocket *s)
{
    if (!s)
        return;
    g_source_remove(s->watch);
    close(s->packet_fd);
    close(s->fd);
    g_free(s);
}
