/* config/cfg_units.c — durations, sizes, HOST:PORT, and enum names. */
#include <string.h>

#include "config/cfg.h"
#include "core/err.h"
#include "core/str.h"

/* Splits s into leading decimal digits and a unit suffix. */
static int number_and_unit(const char *s, unsigned long long *num, const char **unit)
{
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0)
        return HB_ESYNTAX;
    int rc = hb_str_to_u64(hb_str_make(s, i), ~0ULL, num);
    if (rc != 0)
        return rc;
    *unit = s + i;
    return 0;
}

struct unit {
    const char *name;
    unsigned long long mult;
};

static int scaled(const char *s, const struct unit *units, size_t n_units, uint32_t *out)
{
    unsigned long long num;
    const char *unit;
    int rc = number_and_unit(s, &num, &unit);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n_units; i++) {
        if (strcmp(unit, units[i].name) != 0)
            continue;
        if (num > UINT32_MAX / units[i].mult)
            return HB_ERANGE;
        *out = (uint32_t)(num * units[i].mult);
        return 0;
    }
    return HB_ESYNTAX;
}

int cfg_parse_duration_ms(const char *s, uint32_t *ms)
{
    static const struct unit units[] = {
        {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
    };
    return scaled(s, units, sizeof units / sizeof units[0], ms);
}

int cfg_parse_size(const char *s, uint32_t *bytes)
{
    static const struct unit units[] = {
        {"", 1},          {"B", 1},     {"KiB", 1024},       {"MiB", 1024 * 1024},
        {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000000000},
    };
    return scaled(s, units, sizeof units / sizeof units[0], bytes);
}

static int parse_port(const char *s, uint16_t *port)
{
    unsigned long long v;
    int rc = hb_str_to_u64(hb_str_c(s), 65535, &v);
    if (rc != 0)
        return rc;
    if (v == 0)
        return HB_ERANGE;
    *port = (uint16_t)v;
    return 0;
}

static int copy_host(const char *p, size_t n, char *host, size_t host_size)
{
    if (n == 0 || n >= host_size)
        return HB_ESYNTAX;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == '/' || p[i] == '[' || p[i] == ']' ||
            (unsigned char)p[i] >= 0x7f)
            return HB_ESYNTAX;
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}

int cfg_parse_hostport(const char *s, char *host, size_t host_size, uint16_t *port)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return HB_ESYNTAX;
        int rc = copy_host(s + 1, (size_t)(close - s - 1), host, host_size);
        return rc ? rc : parse_port(close + 2, port);
    }
    colon = strrchr(s, ':');
    if (!colon || memchr(s, ':', (size_t)(colon - s)))
        return HB_ESYNTAX; /* no port, or an IPv6 address without brackets */
    int rc = colon == s ? copy_host("0.0.0.0", 7, host, host_size)
                        : copy_host(s, (size_t)(colon - s), host, host_size);
    return rc ? rc : parse_port(colon + 1, port);
}

const char *cfg_proto_name(enum cfg_proto p)
{
    switch (p) {
    case CFG_PROTO_H2:
        return "h2";
    case CFG_PROTO_HTTP11:
        return "http/1.1";
    case CFG_PROTO_H2C:
        return "h2c";
    }
    return "unknown";
}

const char *cfg_tls_version_name(enum cfg_tls_version v)
{
    switch (v) {
    case CFG_TLS_1_2:
        return "1.2";
    case CFG_TLS_1_3:
        return "1.3";
    }
    return "unknown";
}

const char *cfg_path_match_name(enum cfg_path_match m)
{
    switch (m) {
    case CFG_PATH_ANY:
        return "any";
    case CFG_PATH_PREFIX:
        return "path_prefix";
    case CFG_PATH_EXACT:
        return "path";
    }
    return "unknown";
}

const char *cfg_access_format_name(enum cfg_access_format f)
{
    switch (f) {
    case CFG_ACCESS_COMBINED:
        return "combined";
    case CFG_ACCESS_COMMON:
        return "common";
    case CFG_ACCESS_JSON:
        return "json";
    case CFG_ACCESS_TEMPLATE:
        return "template";
    }
    return "unknown";
}

const char *cfg_xff_mode_name(enum cfg_xff_mode m)
{
    switch (m) {
    case CFG_XFF_APPEND:
        return "append";
    case CFG_XFF_REPLACE:
        return "replace";
    case CFG_XFF_TRUST:
        return "trust";
    }
    return "unknown";
}

const char *cfg_header_case_name(enum cfg_header_case c)
{
    switch (c) {
    case CFG_HCASE_LOWER:
        return "lower";
    case CFG_HCASE_TITLE:
        return "title";
    case CFG_HCASE_PRESERVE:
        return "preserve";
    }
    return "unknown";
}

const char *cfg_client_auth_name(enum cfg_client_auth a)
{
    switch (a) {
    case CFG_CLIENT_AUTH_NONE:
        return "none";
    case CFG_CLIENT_AUTH_OPTIONAL:
        return "optional";
    case CFG_CLIENT_AUTH_REQUIRED:
        return "required";
    }
    return "unknown";
}

const char *cfg_traceparent_name(enum cfg_traceparent t)
{
    switch (t) {
    case CFG_TRACEPARENT_PASS:
        return "pass";
    case CFG_TRACEPARENT_GENERATE:
        return "generate";
    }
    return "unknown";
}
