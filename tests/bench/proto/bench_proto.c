/* Microbenchmark of client/proto on the message the client sends most: a
 * registration request with an NAI and an MHAE. Prints ns per encode+
 * authenticate and per decode+verify, HMAC-MD5 and keyed-MD5 apart, as the
 * median of several runs: a table, then one JSON line for scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "extensions.h"
#include "registration.h"

enum { DEFAULT_RUNS = 9, MIN_RUN_NS = 50 * 1000 * 1000 };

static const uint8_t KEY[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const char NAI[] = "mn1@example.org";
static const MipRegRequest REQ = {.flags = 0x02, .lifetime = 600, .home_address = 0xc6120032,
                                  .home_agent = 0xc6120001, .care_of_address = 0xcb007105,
                                  .identification = 0xe8f3a1b2c3d4e5f6ull};

typedef struct Ctx {
    MipAuthKey key;
    uint8_t msg[256];
    size_t len;
    volatile uint32_t sink;   /* keeps the compiler from dropping the work */
} Ctx;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int encode_auth(Ctx *c)
{
    MipWriter w;
    mip_writer_init(&w, c->msg, sizeof c->msg);
    if (mip_reg_request_write(&w, &REQ) != MIP_OK ||
        mip_ext_write_nai(&w, (const uint8_t *)NAI, sizeof NAI - 1) != MIP_OK ||
        mip_auth_write(&w, MIP_EXT_MH_AUTH, &c->key) != MIP_OK)
        return -1;
    c->len = w.len;
    c->sink += c->msg[w.len - 1];
    return 0;
}

static int decode_verify(Ctx *c)
{
    MipRegRequest req;
    MipRegExtensions ext;
    if (mip_reg_request_decode(c->msg, c->len, &req, &ext) != MIP_OK ||
        mip_auth_verify(c->msg, c->len, &ext.mh, &c->key) != MIP_OK)
        return -1;
    c->sink += (uint32_t)req.identification;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct Result {
    double median, min, max;
} Result;

/* Sizes a run to >= 50 ms so clock resolution and loop cost vanish, then
 * takes the median of `runs` such runs. */
static int measure(int (*op)(Ctx *), Ctx *c, int runs, Result *r)
{
    double per[64];
    uint64_t iters = 1;

    for (;;) {
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < iters; i++)
            if (op(c) != 0)
                return -1;
        if (now_ns() - t0 >= MIN_RUN_NS / 4 || iters >= (1ull << 32))
            break;
        iters *= 2;
    }
    iters *= 4;
    for (int k = 0; k < runs; k++) {
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < iters; i++)
            op(c);
        per[k] = (double)(now_ns() - t0) / (double)iters;
    }
    qsort(per, (size_t)runs, sizeof per[0], cmp_double);
    r->median = per[runs / 2];
    r->min = per[0];
    r->max = per[runs - 1];
    return 0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : DEFAULT_RUNS;
    static const struct {
        const char *name;
        MipAuthAlgorithm alg;
    } algs[] = {{"hmac-md5", MIP_AUTH_HMAC_MD5}, {"keyed-md5", MIP_AUTH_KEYED_MD5}};
    Result enc[2], dec[2];
    Ctx c;

    if (runs < 1 || runs > 64) {
        fprintf(stderr, "usage: %s [RUNS 1-64]\n", argv[0]);
        return 2;
    }
    for (int a = 0; a < 2; a++) {
        memset(&c, 0, sizeof c);
        c.key = (MipAuthKey){.spi = 256, .algorithm = algs[a].alg, .key = KEY, .key_len = sizeof KEY};
        /* decode_verify needs a message, and both must succeed before timing. */
        if (encode_auth(&c) != 0 || decode_verify(&c) != 0 ||
            measure(encode_auth, &c, runs, &enc[a]) != 0 ||
            measure(decode_verify, &c, runs, &dec[a]) != 0) {
            fprintf(stderr, "bench-proto: %s: encode or verify failed\n", algs[a].name);
            return 1;
        }
    }
    printf("registration request, NAI + MHAE, %zu bytes; median of %d runs (ns/op)\n", c.len, runs);
    printf("%-24s %-10s %10s %10s %10s\n", "operation", "algorithm", "median", "min", "max");
    for (int a = 0; a < 2; a++) {
        printf("%-24s %-10s %10.0f %10.0f %10.0f\n", "encode+authenticate", algs[a].name,
               enc[a].median, enc[a].min, enc[a].max);
        printf("%-24s %-10s %10.0f %10.0f %10.0f\n", "decode+verify", algs[a].name,
               dec[a].median, dec[a].min, dec[a].max);
    }
    printf("{\"benchmark\":\"proto-codec\",\"message\":\"reg-request+nai+mhae\",\"bytes\":%zu,"
           "\"runs\":%d,\"unit\":\"ns/op\",\"statistic\":\"median\","
           "\"hmac-md5\":{\"encode_auth\":%.0f,\"decode_verify\":%.0f},"
           "\"keyed-md5\":{\"encode_auth\":%.0f,\"decode_verify\":%.0f}}\n",
           c.len, runs, enc[0].median, dec[0].median, enc[1].median, dec[1].median);
    return 0;
}
