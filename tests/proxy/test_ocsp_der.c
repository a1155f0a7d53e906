/* proxy/tls/ocsp_der.c: real openssl ocsp responses (the fuzz seeds,
 * tests/fuzz/corpus/ocsp_der/: one byte n, n serial bytes, the DER) for a
 * certificate with serial 0x2000, good and revoked; an OCSP request, a
 * tryLater response, a truncated response, another serial, a stale one, a
 * wrong issuer key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/tls/ocsp_der.h"
#include "testutil/testutil.h"

static uint8_t *seed(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/ocsp_der/%s", H2B_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 3 && buf[0] == 2);
    *len = n - 3; /* the DER after the serial prefix */
    return buf + 3;
}

static const uint8_t serial[] = {0x20, 0x00};

static int check(const uint8_t *der, size_t len, const uint8_t *ser, size_t ser_len, time_t now,
                 enum px_ocsp_status *st, const char **why)
{
    struct px_ocsp_want w = {ser, ser_len, NULL, 0, now};
    return px_ocsp_check(der, len, &w, st, why);
}

static void test_good_and_revoked(void **state)
{
    (void)state;
    size_t len;
    enum px_ocsp_status st;
    const char *why;
    const uint8_t *der = seed("good", &len);
    assert_int_equal(check(der, len, serial, 2, 1700000000, &st, &why), 0);
    assert_int_equal(st, PX_OCSP_GOOD);
    der = seed("revoked", &len);
    assert_int_equal(check(der, len, serial, 2, 1700000000, &st, &why), 0);
    assert_int_equal(st, PX_OCSP_REVOKED);
    assert_string_equal(px_ocsp_status_name(st), "revoked");
}

static void test_refusals(void **state)
{
    (void)state;
    size_t len;
    enum px_ocsp_status st;
    const char *why;
    const uint8_t *der = seed("request", &len);
    assert_int_equal(check(der, len, serial, 2, 1700000000, &st, &why), -1);
    assert_string_equal(why, "not a DER OCSPResponse");
    der = seed("trylater", &len);
    assert_int_equal(check(der, len, serial, 2, 1700000000, &st, &why), -1);
    assert_string_equal(why, "responseStatus is not successful (3: tryLater)");
    der = seed("good", &len);
    for (size_t cut = 0; cut < len; cut += 7) /* every truncation is refused */
        assert_int_equal(check(der, cut, serial, 2, 1700000000, &st, &why), -1);
    static const uint8_t other[] = {0x20, 0x01};
    assert_int_equal(check(der, len, other, 2, 1700000000, &st, &why), -1);
    assert_string_equal(why, "no SingleResponse for the certificate's serial number");
    /* openssl ocsp -ndays 1: stale a few days on. */
    assert_int_equal(check(der, len, serial, 2, time(NULL) + 5 * 86400, &st, &why), -1);
    assert_string_equal(why, "the response for the certificate is past its nextUpdate");
    /* An issuer key whose SHA-1 is not the CertID's issuerKeyHash. */
    static const uint8_t key[] = {4, 1, 2, 3};
    struct px_ocsp_want w = {serial, 2, key, sizeof key, 1700000000};
    assert_int_equal(px_ocsp_check(der, len, &w, &st, &why), -1);
    assert_string_equal(why, "no SingleResponse for the certificate's serial number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_and_revoked),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
