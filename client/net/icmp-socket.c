/* Raw ICMP socket for agent discovery. */
#include "icmp-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-watch.h"

struct MipIcmpSocket {
    int fd;
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
        char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct sockaddr_in from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr mh = {.msg_name = &from,
                            .msg_namelen = sizeof from,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                int err;
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            }
            return;
        }
        int ifindex = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                ifindex = pi.ipi_ifindex;
            }
        }
        /* A raw socket hands us the IP header: read TTL, addresses and header
         * length byte by byte rather than trusting a struct overlay. */
        if (n < 20 || (buf[0] >> 4) != 4)
            continue;
        size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
        if (ihl < 20 || (size_t)n < ihl)
            continue;
        uint8_t ttl = buf[8];
        uint32_t src = (uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 |
                       (uint32_t)buf[14] << 8 | buf[15];
        uint32_t dst = (uint32_t)buf[16] << 24 | (uint32_t)buf[17] << 16 |
                       (uint32_t)buf[18] << 8 | buf[19];
        s->cb(ifindex, src, dst, ttl, buf + ihl, (size_t)n - ihl, s->user);
    }
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
        /* Our own solicitations must not come back to us as input. */
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero) < 0) {
        set_error_errno(error, "setsockopt");
        close(fd);
        return NULL;
    }
    /* Only advertisements wake us up: a ping flood on the link must not. */
    struct icmp_filter filt = {.data = ~(1u << 9)};
    if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof filt) < 0) {
        set_error_errno(error, "ICMP_FILTER");
        close(fd);
        return NULL;
    }
    MipIcmpSocket *s = g_new0(MipIcmpSocket, 1);
    s->fd = fd;
    s->cb = cb;
    s->user = user;
    s->watch = mip_fd_watch_add(fd, on_readable, s);
    return s;
}

gboolean mip_icmp_socket_send(MipIcmpSocket *s, int ifindex, uint32_t src, uint32_t dst,
                              const uint8_t *bytes, size_t len, GError **error)
{
    struct ip_mreqn mr = {.imr_ifindex = ifindex};
    mr.imr_address.s_addr = htonl(src);
    if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) < 0)
        return set_error_errno(error, "IP_MULTICAST_IF");
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(dst)};
    char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = {0};
    struct iovec iov = {(void *)bytes, len};
    struct msghdr mh = {.msg_name = &to,
                        .msg_namelen = sizeof to,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo pi = {.ipi_ifindex = ifindex};
    pi.ipi_spec_dst.s_addr = htonl(src);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    if (sendmsg(s->fd, &mh, 0) < 0)
        return set_error_errno(error, "sendmsg");
    return TRUE;
}

void mip_icmp_socket_free(MipIcmpSocket *s)
{
    if (!s)
        return;
    g_source_remove(s->watch);
    close(s->fd);
    g_free(s);
}
