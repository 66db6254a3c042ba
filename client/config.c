/* Loads mipd.conf (+ conf.d) into a validated MipdConfig and reads the key
 * file with its permission checks. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(mipd-config-error-quark, mipd_config_error)

#define G_MN "mobile-node"
#define G_LINKS "links"
#define G_TUNNEL "tunnel"
#define G_HANDOVER "handover"
#define G_DBUS "dbus"

/* What we accept, per group; anything else is a typo worth an error. */
static const char *const known_mn[] = {"home-address", "home-prefix-length", "home-agent",
                                       "spi", "key-file", "algorithm", "lifetime",
                                       "reverse-tunnel", "encapsulation", "care-of-mode",
                                       "nai", NULL};
static const char *const known_links[] = {"prefer", "ignore", "monitor", NULL};
static const char *const known_tunnel[] = {"backend", NULL};
static const char *const known_handover[] = {"make-before-break", NULL};
static const char *const known_dbus[] = {"control-group", NULL};

static const struct {
    const char *group;
    const char *const *keys;
} known_groups[] = {
    {G_MN, known_mn},         {G_LINKS, known_links}, {G_TUNNEL, known_tunnel},
    {G_HANDOVER, known_handover}, {G_DBUS, known_dbus},
};

static gboolean fail(GError **error, MipdConfigError code, const char *src, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static gboolean fail(GError **error, MipdConfigError code, const char *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, MIPD_CONFIG_ERROR, code, "%s: %s", src, msg);
    return FALSE;
}

static gboolean check_known_keys(GKeyFile *kf, const char *src, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        const char *const *keys = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(known_groups); i++)
            if (strcmp(*g, known_groups[i].group) == 0)
                keys = known_groups[i].keys;
        if (!keys)
            return fail(error, MIPD_CONFIG_ERROR_INVALID, src, "unknown group [%s]", *g);
        g_auto(GStrv) present = g_key_file_get_keys(kf, *g, NULL, NULL);
        for (char **k = present; k && *k; k++)
            if (!g_strv_contains(keys, *k))
                return fail(error, MIPD_CONFIG_ERROR_INVALID, src, "unknown key %s in [%s]", *k,
                            *g);
    }
    return TRUE;
}

/* Merges one file into the accumulated key file: later files override keys. */
static gboolean merge_file(GKeyFile *into, const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local))
        return fail(error, MIPD_CONFIG_ERROR_FILE, path, "%s", local->message);
    if (!check_known_keys(kf, path, error))
        return FALSE;
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
        for (char **k = keys; k && *k; k++) {
            g_autofree char *v = g_key_file_get_value(kf, *g, *k, NULL);
            g_key_file_set_value(into, *g, *k, v);
        }
    }
    return TRUE;
}

static char *get_string(GKeyFile *kf, const char *group, const char *key, const char *dflt)
{
    char *v = g_key_file_get_string(kf, group, key, NULL);
    if (v)
        return g_strstrip(v);
    return g_strdup(dflt);
}

static gboolean get_addr(GKeyFile *kf, const char *group, const char *key, const char *src,
                         bool required, uint32_t *out, GError **error)
{
    g_autofree char *v = get_string(kf, group, key, NULL);
    struct in_addr a;
    if (!v) {
        if (required)
            return fail(error, MIPD_CONFIG_ERROR_MISSING, src, "[%s] %s is required", group, key);
        *out = 0;
        return TRUE;
    }
    if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0 || a.s_addr == INADDR_BROADCAST)
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src,
                    "[%s] %s=%s is not a unicast IPv4 address", group, key, v);
    *out = ntohl(a.s_addr);
    return TRUE;
}

static gboolean get_uint(GKeyFile *kf, const char *group, const char *key, const char *src,
                         guint64 dflt, guint64 min, guint64 max, bool required, guint64 *out,
                         GError **error)
{
    g_autofree char *v = get_string(kf, group, key, NULL);
    if (!v) {
        if (required)
            return fail(error, MIPD_CONFIG_ERROR_MISSING, src, "[%s] %s is required", group, key);
        *out = dflt;
        return TRUE;
    }
    guint64 n;
    if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL))
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src,
                    "[%s] %s=%s must be a whole number from %" G_GUINT64_FORMAT
                    " to %" G_GUINT64_FORMAT,
                    group, key, v, min, max);
    *out = n;
    return TRUE;
}

static gboolean get_bool(GKeyFile *kf, const char *group, const char *key, const char *src,
                         bool dflt, bool *out, GError **error)
{
    g_autofree char *v = get_string(kf, group, key, NULL);
    if (!v) {
        *out = dflt;
        return TRUE;
    }
    if (!g_ascii_strcasecmp(v, "true") || !strcmp(v, "1") || !g_ascii_strcasecmp(v, "yes"))
        *out = true;
    else if (!g_ascii_strcasecmp(v, "false") || !strcmp(v, "0") || !g_ascii_strcasecmp(v, "no"))
        *out = false;
    else
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src, "[%s] %s=%s must be true or false",
                    group, key, v);
    return TRUE;
}

static gboolean get_choice(GKeyFile *kf, const char *group, const char *key, const char *src,
                           const char *const *choices, char **out, GError **error)
{
    g_autofree char *v = get_string(kf, group, key, choices[0]);
    if (!g_strv_contains(choices, v)) {
        g_autofree char *list = g_strjoinv(", ", (char **)choices);
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src, "[%s] %s=%s must be one of: %s", group,
                    key, v, list);
    }
    *out = g_steal_pointer(&v);
    return TRUE;
}

static char **get_list(GKeyFile *kf, const char *group, const char *key, const char *dflt)
{
    char **v = g_key_file_get_string_list(kf, group, key, NULL, NULL);
    if (!v)
        v = g_strsplit(dflt, ";", -1);
    /* Drop empty items so "a;;b;" means a, b. */
    GPtrArray *out = g_ptr_array_new();
    for (char **p = v; *p; p++) {
        g_strstrip(*p);
        if (**p)
            g_ptr_array_add(out, g_strdup(*p));
    }
    g_strfreev(v);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* The key file holds the MN-HA shared secret in hex (whitespace ignored). It
 * must not be readable by anyone but root: a leaked key lets a stranger move
 * the user's traffic. */
static gboolean read_key_file(MipdConfig *cfg, bool check_owner, GError **error)
{
    const char *path = cfg->key_file;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fail(error, MIPD_CONFIG_ERROR_KEY_FILE, path, "cannot open key file: %s",
                    g_strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(error, MIPD_CONFIG_ERROR_KEY_FILE, path, "key file is not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return fail(error, MIPD_CONFIG_ERROR_KEY_FILE, path,
                    "key file has mode %04o; it must be 0600 (chmod 600 %s)",
                    (unsigned)(st.st_mode & 07777), path);
    }
    if (check_owner && st.st_uid != 0) {
        close(fd);
        return fail(error, MIPD_CONFIG_ERROR_KEY_FILE, path,
                    "key file is owned by uid %u; it must be owned by root",
                    (unsigned)st.st_uid);
    }
    char text[1024];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0)
        return fail(error, MIPD_CONFIG_ERROR_KEY_FILE, path, "cannot read key file: %s",
                    g_strerror(errno));
    text[n] = '\0';

    uint8_t key[64]; /* the core keeps at most 64 bytes of secret */
    size_t len = 0;
    int nibble = -1;
    gboolean ok = TRUE;
    for (ssize_t i = 0; i < n && ok; i++) {
        if (g_ascii_isspace(text[i]))
            continue;
        int d = g_ascii_xdigit_value(text[i]);
        if (d < 0 || len == sizeof key) {
            ok = FALSE;
            break;
        }
        if (nibble < 0) {
            nibble = d;
        } else {
            key[len++] = (uint8_t)(nibble << 4 | d);
            nibble = -1;
        }
    }
    OPENSSL_cleanse(text, sizeof text);
    if (!ok || nibble >= 0 || len < 16) {
        OPENSSL_cleanse(key, sizeof key);
        return fail(error, MIPD_CONFIG_ERROR_KEY_FILE, path,
                    "key file must hold an even number of hex digits, at least 16 bytes "
                    "(32 digits) and at most 64 bytes (128 digits)");
    }
    cfg->key = g_memdup2(key, len);
    cfg->key_len = len;
    OPENSSL_cleanse(key, sizeof key);
    return TRUE;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean load_conf_d(GKeyFile *kf, const char *path, GString *sources, GError **error)
{
    g_autofree char *dir_name = g_path_get_dirname(path);
    g_autofree char *conf_d = g_build_filename(dir_name, "conf.d", NULL);
    g_autoptr(GDir) dir = g_dir_open(conf_d, 0, NULL);
    if (!dir)
        return TRUE;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(dir)))
        if (g_str_has_suffix(name, ".conf"))
            g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *p = g_build_filename(conf_d, names->pdata[i], NULL);
        if (!merge_file(kf, p, error))
            return FALSE;
        g_string_append_printf(sources, " %s", p);
    }
    return TRUE;
}

static gboolean parse(MipdConfig *cfg, GKeyFile *kf, const char *src, bool check_owner,
                      GError **error)
{
    guint64 n;
    if (!get_addr(kf, G_MN, "home-address", src, true, &cfg->home_address, error) ||
        !get_addr(kf, G_MN, "home-agent", src, true, &cfg->home_agent, error))
        return FALSE;
    if (!get_uint(kf, G_MN, "home-prefix-length", src, 24, 1, 32, false, &n, error))
        return FALSE;
    cfg->home_prefix_len = (uint8_t)n;
    /* SPIs 0-255 are reserved (RFC 5944 §1.11). */
    if (!get_uint(kf, G_MN, "spi", src, 0, 256, G_MAXUINT32, true, &n, error))
        return FALSE;
    cfg->spi = (uint32_t)n;
    if (!get_uint(kf, G_MN, "lifetime", src, 600, 1, 65534, false, &n, error))
        return FALSE;
    cfg->lifetime = (uint16_t)n;

    static const char *const algorithms[] = {"hmac-md5", "keyed-md5", NULL};
    static const char *const encaps[] = {"ipip", "gre", "minimal", "udp", NULL};
    static const char *const coa_modes[] = {"auto", "foreign-agent", "co-located", NULL};
    static const char *const monitors[] = {"auto", "nm", "netlink", NULL};
    static const char *const backends[] = {"auto", "kernel", "tun", NULL};
    g_autofree char *coa = NULL;
    if (!get_choice(kf, G_MN, "algorithm", src, algorithms, &cfg->algorithm, error) ||
        !get_choice(kf, G_MN, "encapsulation", src, encaps, &cfg->encapsulation, error) ||
        !get_choice(kf, G_MN, "care-of-mode", src, coa_modes, &coa, error) ||
        !get_choice(kf, G_LINKS, "monitor", src, monitors, &cfg->link_monitor, error) ||
        !get_choice(kf, G_TUNNEL, "backend", src, backends, &cfg->tunnel_backend, error))
        return FALSE;
    cfg->care_of_mode = !strcmp(coa, "foreign-agent") ? MIPD_COA_FOREIGN_AGENT
                        : !strcmp(coa, "co-located") ? MIPD_COA_COLOCATED
                                                     : MIPD_COA_AUTO;
    if (!get_bool(kf, G_MN, "reverse-tunnel", src, true, &cfg->reverse_tunnel, error) ||
        !get_bool(kf, G_HANDOVER, "make-before-break", src, true, &cfg->make_before_break,
                  error))
        return FALSE;

    cfg->nai = get_string(kf, G_MN, "nai", NULL);
    if (cfg->nai && (strlen(cfg->nai) == 0 || strlen(cfg->nai) > 72 ||
                     !g_utf8_validate(cfg->nai, -1, NULL)))
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src,
                    "[%s] nai must be 1 to 72 bytes of UTF-8 (RFC 2794)", G_MN);
    cfg->prefer = get_list(kf, G_LINKS, "prefer", "ethernet;wifi;wwan");
    cfg->ignore = get_list(kf, G_LINKS, "ignore", "lo;docker*;virbr*");
    cfg->control_group = get_string(kf, G_DBUS, "control-group", NULL);

    /* The home agent and the home address must be on the home prefix, or the
     * home agent could never proxy for us there. */
    uint32_t mask = cfg->home_prefix_len == 32 ? 0xffffffffu
                                               : ~(0xffffffffu >> cfg->home_prefix_len);
    if ((cfg->home_address & mask) != (cfg->home_agent & mask))
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src,
                    "[%s] home-agent is not on the home network of home-address/%u", G_MN,
                    cfg->home_prefix_len);
    if (cfg->home_address == cfg->home_agent)
        return fail(error, MIPD_CONFIG_ERROR_INVALID, src,
                    "[%s] home-address and home-agent are the same", G_MN);

    cfg->key_file = get_string(kf, G_MN, "key-file", NULL);
    if (!cfg->key_file)
        return fail(error, MIPD_CONFIG_ERROR_MISSING, src, "[%s] key-file is required", G_MN);
    if (!g_path_is_absolute(cfg->key_file)) {
        /* Relative to the configuration file, as people expect of conf.d. */
        g_autofree char *dir = g_path_get_dirname(src);
        char *abs = g_build_filename(dir, cfg->key_file, NULL);
        g_free(cfg->key_file);
        cfg->key_file = abs;
    }
    return read_key_file(cfg, check_owner, error);
}

MipdConfig *mipd_config_load(const char *path, bool check_key_owner, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GString) sources = g_string_new(path);
    if (!merge_file(kf, path, error) || !load_conf_d(kf, path, sources, error))
        return NULL;
    g_autoptr(MipdConfig) cfg = g_new0(MipdConfig, 1);
    cfg->source = g_string_free(g_steal_pointer(&sources), FALSE);
    if (!parse(cfg, kf, path, check_key_owner, error))
        return NULL;
    return g_steal_pointer(&cfg);
}

void mipd_config_free(MipdConfig *cfg)
{
    if (!cfg)
        return;
    if (cfg->key) {
        OPENSSL_cleanse(cfg->key, cfg->key_len);
        g_free(cfg->key);
    }
    g_free(cfg->algorithm);
    g_free(cfg->key_file);
    g_free(cfg->encapsulation);
    g_free(cfg->nai);
    g_strfreev(cfg->prefer);
    g_strfreev(cfg->ignore);
    g_free(cfg->link_monitor);
    g_free(cfg->tunnel_backend);
    g_free(cfg->control_group);
    g_free(cfg->source);
    g_free(cfg);
}

static const char *ip4(uint32_t host, char buf[INET_ADDRSTRLEN])
{
    struct in_addr a = {.s_addr = htonl(host)};
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

char *mipd_config_describe(const MipdConfig *cfg)
{
    char ha[INET_ADDRSTRLEN], home[INET_ADDRSTRLEN];
    static const char *const coa_names[] = {"auto", "foreign-agent", "co-located"};
    return g_strdup_printf("home %s/%u, home agent %s, spi %u (%s), lifetime %u s, %s%s, "
                           "care-of %s, tunnel %s, links via %s, make-before-break %s",
                           ip4(cfg->home_address, home), cfg->home_prefix_len,
                           ip4(cfg->home_agent, ha), cfg->spi, cfg->algorithm, cfg->lifetime,
                           cfg->encapsulation, cfg->reverse_tunnel ? " reverse-tunnelled" : "",
                           coa_names[cfg->care_of_mode], cfg->tunnel_backend, cfg->link_monitor,
                           cfg->make_before_break ? "on" : "off");
}
