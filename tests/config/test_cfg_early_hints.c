/* tests/config/test_cfg_early_hints.c — routes[].early_hints: defaults,
 * values, and exact errors (file:line:column) for bad keys and values. */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"
#include "core/link_hdr.h"

#define BASE                                                                                       \
    "listeners:\n  - address: \"127.0.0.1:8080\"\nupstreams:\n  u: {servers: [\"h:1\"]}\n"     \
    "routes:\n"

static struct cfg *load(const char *yaml, struct cfg_errors *errs)
{
    cfg_errors_init(errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("t.yaml", yaml, strlen(yaml), &c, errs);
    assert_true(rc == 0 ? c != NULL : c == NULL);
    return c;
}

static void test_defaults(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(BASE "  - {path: /a, upstream: u}\n"
                              "  - {path: /b, upstream: u, early_hints: {}}\n"
                              "  - {upstream: u, early_hints: {learn: false}}\n", &e);
    assert_non_null(c);
    for (size_t i = 0; i < 3; i++) {
        const struct cfg_early_hints *eh = &c->routes[i].early_hints;
        assert_false(eh->on); /* off: the exchange's hooks never run */
        assert_false(eh->learn);
        assert_int_equal(eh->n_links, 0);
        assert_int_equal(eh->learn_as, 0); /* every preload */
        assert_int_equal(eh->max_entries, 1024);
        assert_int_equal(eh->max_entry_size, 2048);
    }
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_values(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(BASE "  - upstream: u\n"
                              "    path: /a\n"
                              "    early_hints:\n"
                              "      learn: true\n"
                              "      learn_as: [style, script, image]\n"
                              "      max_entries: 10\n"
                              "      max_entry_size: 4KiB\n"
                              "  - upstream: u\n"
                              "    early_hints:\n"
                              "      links:\n"
                              "        - \"</a.css>; rel=preload; as=style\"\n"
                              "        - \"<https://cdn.test>; rel=preconnect, </b.js>; "
                              "rel=preload; as=script\"\n",
                         &e);
    assert_non_null(c);
    const struct cfg_early_hints *a = &c->routes[0].early_hints, *b = &c->routes[1].early_hints;
    assert_true(a->on);
    assert_true(a->learn);
    assert_int_equal(a->learn_as, HB_LINK_AS_STYLE | HB_LINK_AS_SCRIPT | HB_LINK_AS_IMAGE);
    assert_int_equal(a->max_entries, 10);
    assert_int_equal(a->max_entry_size, 4096);
    assert_true(b->on);
    assert_false(b->learn);
    assert_int_equal(b->learn_as, 0);
    assert_int_equal(b->n_links, 2);
    assert_string_equal(b->links[0].s, "</a.css>; rel=preload; as=style");
    assert_string_equal(b->links[1].s,
                        "<https://cdn.test>; rel=preconnect, </b.js>; rel=preload; as=script");
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void expect_error(const char *yaml, const char *want)
{
    struct cfg_errors e;
    struct cfg *c = load(yaml, &e);
    assert_null(c);
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    cfg_errors_print(&e, f);
    fclose(f);
    if (!strstr(buf, want))
        fprintf(stderr, "got: %s\nwant: %s\n", buf, want);
    assert_non_null(strstr(buf, want));
    cfg_errors_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error(BASE "  - {upstream: u, early_hints: {learn: maybe}}\n",
                 "t.yaml:6:40: expected a boolean (true or false) for "
                 "routes[0].early_hints.learn, found \"maybe\"");
    expect_error(BASE "  - {upstream: u, early_hints: {max_entries: 0}}\n",
                 "t.yaml:6:46: expected an integer from 1 to 1048576 for "
                 "routes[0].early_hints.max_entries, found \"0\"");
    expect_error(BASE "  - {upstream: u, early_hints: {max_entry_size: 32KiB}}\n",
                 "for routes[0].early_hints.max_entry_size, found \"32KiB\"");
    expect_error(BASE "  - {upstream: u, early_hints: {lern: true}}\n",
                 "t.yaml:6:33: expected a known key in routes[0].early_hints (did you mean \"learn\"?), found \"lern\"");
    expect_error(BASE "  - {upstream: u, early_hints: true}\n",
                 "t.yaml:6:32: expected a mapping (learn, learn_as, links, max_entries, max_entry_size) "
                 "for routes[0].early_hints");
    expect_error(BASE "  - {upstream: u, early_hints: {links: \"</a>; rel=preload\"}}\n",
                 "t.yaml:6:40: expected a sequence of Link values for routes[0].early_hints.links");
    expect_error(BASE "  - {upstream: u, early_hints: {links: [\"</a>\", \"/b.css; rel=preload\"]}}\n",
                 "t.yaml:6:49: expected a Link value (RFC 8288: \"</style.css>; rel=preload; "
                 "as=style\", up to 2048 bytes) for routes[0].early_hints.links[1], found "
                 "\"/b.css; rel=preload\"");
    expect_error(BASE "  - {upstream: u, early_hints: {learn: true, learn_as: [style, fonts]}}\n",
                 "t.yaml:6:64: expected a request destination (audio, document, embed, fetch, "
                 "font, image, object, script, style, track, video, worker) for "
                 "routes[0].early_hints.learn_as[1], found \"fonts\"");
    expect_error(BASE "  - {upstream: u, early_hints: {learn: true, learn_as: [Font]}}\n",
                 "for routes[0].early_hints.learn_as[0], found \"Font\"");
    expect_error(BASE "  - {upstream: u, early_hints: {learn: true, learn_as: []}}\n",
                 "t.yaml:6:56: expected at least one request destination");
    expect_error(BASE "  - {upstream: u, early_hints: {learn_as: style}}\n",
                 "t.yaml:6:43: expected a sequence of request destinations for "
                 "routes[0].early_hints.learn_as");
    expect_error(BASE "  - {upstream: u, early_hints: {links: [\"\"]}}\n",
                 "for routes[0].early_hints.links[0], found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
