/* Fuzz target: the configuration loader (libyaml events -> node tree ->
 * schema -> cross checks) over arbitrary bytes. Every input must end in a
 * configuration or in errors, each formatted as "file:line:col: expected …,
 * found …", without crashing, leaking or running away (the alias budget and
 * size caps bound the work). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("fuzz.yaml", data, size, &c, &errs);
    char line[1536];
    for (size_t i = 0; i < errs.n; i++) {
        cfg_error_format(&errs.v[i], line, sizeof line);
        /* The contract: a position, then "expected …" (or the file alone). */
        if (!strstr(line, "expected") && !errs.oom)
            __builtin_trap();
    }
    if (rc == 0) {
        if (!c || errs.n != 0)
            __builtin_trap();
        /* Exercise the lookups on whatever loaded. */
        cfg_route_match(c, "a.example.com", 13, "/api/x?y", 8);
        cfg_route_match(c, NULL, 0, "/", 1);
        for (size_t i = 0; i < c->n_routes; i++)
            if (c->routes[i].upstream_index >= c->n_upstreams)
                __builtin_trap();
    } else if (c || (errs.n == 0 && !errs.oom && rc != HB_ENOMEM)) {
        __builtin_trap(); /* a failure must say why (or be out of memory) */
    }
    cfg_unref(c);
    cfg_errors_free(&errs);
    return 0;
}
