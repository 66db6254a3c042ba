/* Config loader: valid files load, every broken one stops with a message that
 * names the problem, and unsafe key files are refused. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "client/config.h"

typedef struct {
    char *dir;
    char *conf;
    char *key;
} Fixture;

static const char good_key[] = "6d6970642d6c61622d6b65792d303031\n";

static void write_file(const char *path, const char *text, int mode)
{
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

static void setup(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("mipd-config-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    f->conf = g_build_filename(f->dir, "mipd.conf", NULL);
    f->key = g_build_filename(f->dir, "mn.key", NULL);
    write_file(f->key, good_key, 0600);
}

static void teardown(Fixture *f, gconstpointer data)
{
    g_autofree char *confd = g_build_filename(f->dir, "conf.d", NULL);
    g_autoptr(GDir) d = g_dir_open(confd, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(confd, n, NULL);
        g_unlink(p);
    }
    g_rmdir(confd);
    g_unlink(f->conf);
    g_unlink(f->key);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->conf);
    g_free(f->key);
}

static char *conf_text(const char *extra_mn)
{
    return g_strdup_printf("[mobile-node]\n"
                           "home-address=198.18.0.50\n"
                           "home-prefix-length=24\n"
                           "home-agent=198.18.0.1\n"
                           "spi=256\n"
                           "key-file=mn.key\n"
                           "%s",
                           extra_mn);
}

static MipdConfig *load_with(Fixture *f, const char *extra, GError **error)
{
    g_autofree char *text = conf_text(extra);
    write_file(f->conf, text, 0644);
    return mipd_config_load(f->conf, false, error);
}

static void test_valid_config_loads_with_defaults(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MipdConfig) cfg = load_with(f, "", &error);
    g_assert_no_error(error);
    g_assert_cmphex(cfg->home_address, ==, 0xc6120032);
    g_assert_cmphex(cfg->home_agent, ==, 0xc6120001);
    g_assert_cmpuint(cfg->home_prefix_len, ==, 24);
    g_assert_cmpuint(cfg->spi, ==, 256);
    g_assert_cmpuint(cfg->lifetime, ==, 600);
    g_assert_cmpstr(cfg->algorithm, ==, "hmac-md5");
    g_assert_cmpstr(cfg->encapsulation, ==, "ipip");
    g_assert_cmpstr(cfg->tunnel_backend, ==, "auto");
    g_assert_true(cfg->reverse_tunnel);
    g_assert_true(cfg->make_before_break);
    g_assert_cmpint(cfg->care_of_mode, ==, MIPD_COA_AUTO);
    g_assert_cmpuint(cfg->key_len, ==, 16);
    g_assert_cmpmem(cfg->key, 16, "mipd-lab-key-001", 16);
    g_assert_cmpstr(cfg->prefer[0], ==, "ethernet");
}

static void test_description_never_contains_the_key(Fixture *f, gconstpointer data)
{
    g_autoptr(MipdConfig) cfg = load_with(f, "", NULL);
    g_autofree char *d = mipd_config_describe(cfg);
    g_assert_null(strstr(d, "6d6970"));
    g_assert_null(strstr(d, "mipd-lab-key"));
    g_assert_nonnull(strstr(d, "198.18.0.50/24"));
}

static void test_conf_d_overrides_main_file(Fixture *f, gconstpointer data)
{
    g_autofree char *confd = g_build_filename(f->dir, "conf.d", NULL);
    g_mkdir(confd, 0755);
    g_autofree char *a = g_build_filename(confd, "10-a.conf", NULL);
    g_autofree char *b = g_build_filename(confd, "20-b.conf", NULL);
    write_file(a, "[mobile-node]\nlifetime=30\n", 0644);
    write_file(b, "[mobile-node]\nlifetime=40\n[tunnel]\nbackend=tun\n", 0644);
    g_autoptr(GError) error = NULL;
    g_autoptr(MipdConfig) cfg = load_with(f, "lifetime=20\n", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cfg->lifetime, ==, 40);
    g_assert_cmpstr(cfg->tunnel_backend, ==, "tun");
}

typedef struct {
    const char *extra;
    int code;
    const char *message_part;
} BadCase;

static const BadCase bad_cases[] = {
    {"spi=255\n", MIPD_CONFIG_ERROR_INVALID, "spi=255"},
    {"lifetime=0\n", MIPD_CONFIG_ERROR_INVALID, "lifetime=0"},
    {"lifetime=70000\n", MIPD_CONFIG_ERROR_INVALID, "lifetime"},
    {"algorithm=sha1\n", MIPD_CONFIG_ERROR_INVALID, "algorithm=sha1 must be one of"},
    {"encapsulation=vxlan\n", MIPD_CONFIG_ERROR_INVALID, "encapsulation"},
    {"care-of-mode=maybe\n", MIPD_CONFIG_ERROR_INVALID, "care-of-mode"},
    {"reverse-tunnel=perhaps\n", MIPD_CONFIG_ERROR_INVALID, "true or false"},
    {"colour=blue\n", MIPD_CONFIG_ERROR_INVALID, "unknown key colour"},
    {"[wifi]\nssid=x\n", MIPD_CONFIG_ERROR_INVALID, "unknown group [wifi]"},
    {"home-prefix-length=33\n", MIPD_CONFIG_ERROR_INVALID, "home-prefix-length"},
    {"home-prefix-length=30\n", MIPD_CONFIG_ERROR_INVALID, "not on the home network"},
    {"[links]\nmonitor=wpa\n", MIPD_CONFIG_ERROR_INVALID, "monitor"},
    {"this is not a key file\n", MIPD_CONFIG_ERROR_FILE, "mipd.conf"},
};

static void test_bad_values_are_named(Fixture *f, gconstpointer data)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(MipdConfig) cfg = load_with(f, bad_cases[i].extra, &error);
        g_assert_null(cfg);
        g_assert_error(error, MIPD_CONFIG_ERROR, bad_cases[i].code);
        if (!strstr(error->message, bad_cases[i].message_part))
            g_error("case %zu: '%s' lacks '%s'", i, error->message, bad_cases[i].message_part);
    }
}

static void test_missing_required_keys_are_named(Fixture *f, gconstpointer data)
{
    const char *required[] = {"home-address", "home-agent", "spi", "key-file"};
    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        g_autofree char *full = conf_text("");
        /* Remove the line that starts with the key. */
        g_auto(GStrv) lines = g_strsplit(full, "\n", -1);
        g_autoptr(GString) text = g_string_new(NULL);
        for (char **l = lines; *l; l++)
            if (!g_str_has_prefix(*l, required[i]))
                g_string_append_printf(text, "%s\n", *l);
        write_file(f->conf, text->str, 0644);
        g_autoptr(GError) error = NULL;
        g_autoptr(MipdConfig) cfg = mipd_config_load(f->conf, false, &error);
        g_assert_null(cfg);
        g_assert_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_MISSING);
        g_assert_nonnull(strstr(error->message, required[i]));
    }
}

static void test_world_readable_key_file_is_refused(Fixture *f, gconstpointer data)
{
    g_assert_cmpint(g_chmod(f->key, 0644), ==, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(MipdConfig) cfg = load_with(f, "", &error);
    g_assert_null(cfg);
    g_assert_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_KEY_FILE);
    g_assert_nonnull(strstr(error->message, "0644"));
    g_assert_nonnull(strstr(error->message, "0600"));
}

static void test_key_file_not_owned_by_root_is_refused(Fixture *f, gconstpointer data)
{
    if (getuid() != 0) {
        g_test_skip("needs root to give the key file another owner");
        return;
    }
    g_assert_cmpint(chown(f->key, 65534, 65534), ==, 0);
    g_autofree char *text = conf_text("");
    write_file(f->conf, text, 0644);
    g_autoptr(GError) error = NULL;
    g_autoptr(MipdConfig) cfg = mipd_config_load(f->conf, true, &error);
    g_assert_null(cfg);
    g_assert_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_KEY_FILE);
    g_assert_nonnull(strstr(error->message, "owned by root"));
}

static void test_malformed_key_files_are_refused(Fixture *f, gconstpointer data)
{
    const char *bad[] = {"", "6d69", "6d6970642d6c61622d6b65792d30303", "zz6970642d6c61622d6b65792d303031"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        write_file(f->key, bad[i], 0600);
        g_autoptr(GError) error = NULL;
        g_autoptr(MipdConfig) cfg = load_with(f, "", &error);
        g_assert_null(cfg);
        g_assert_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_KEY_FILE);
    }
}

static void test_missing_key_file_is_named(Fixture *f, gconstpointer data)
{
    g_unlink(f->key);
    g_autoptr(GError) error = NULL;
    g_autoptr(MipdConfig) cfg = load_with(f, "", &error);
    g_assert_null(cfg);
    g_assert_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_KEY_FILE);
    g_assert_nonnull(strstr(error->message, "mn.key"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add("/config/" #name, Fixture, NULL, setup, name, teardown)
    ADD(test_valid_config_loads_with_defaults);
    ADD(test_description_never_contains_the_key);
    ADD(test_conf_d_overrides_main_file);
    ADD(test_bad_values_are_named);
    ADD(test_missing_required_keys_are_named);
    ADD(test_world_readable_key_file_is_refused);
    ADD(test_key_file_not_owned_by_root_is_refused);
    ADD(test_malformed_key_files_are_refused);
    ADD(test_missing_key_file_is_named);
    return g_test_run();
}
