/* proxy/tls/ocsp_der.h — checks that bytes are an OCSP response worth stapling.
 *
 * BoringSSL staples whatever bytes it is given and has no OCSP parser, so
 * before a file is stapled it is walked here (with BoringSSL's CBS DER
 * reader): an OCSPResponse (RFC 6960 §4.2.1) with responseStatus
 * successful, responseBytes of type id-pkix-ocsp-basic, whose
 * BasicOCSPResponse's ResponseData holds a SingleResponse for the
 * certificate's serial number; when the issuer's key is known and the
 * CertID hashes with SHA-1 or SHA-256, the issuerKeyHash must match it too.
 * That SingleResponse's nextUpdate, when present, must not be in the past.
 * The signature is not verified (clients do that; a stapled response the
 * client rejects costs the client, not the proxy, and a CA-signed response
 * is what the operator's cron job fetched).
 *
 * Pure function, no I/O: a libFuzzer target (tests/fuzz/fuzz_ocsp_der.c).
 */
#ifndef H2B_PROXY_TLS_OCSP_DER_H
#define H2B_PROXY_TLS_OCSP_DER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The certificate's status in the matching SingleResponse. */
enum px_ocsp_status {
    PX_OCSP_GOOD = 0,
    PX_OCSP_REVOKED = 1,
    PX_OCSP_UNKNOWN = 2,
};

/* What px_ocsp_check() looks for. serial: the certificate's serialNumber
 * contents (DER INTEGER bytes, as in the certificate). issuer_key: the
 * issuer's subjectPublicKey BIT STRING contents without the unused-bits
 * byte, or NULL when the issuer is not known (then the serial alone
 * matches). now: seconds since the epoch, for nextUpdate. */
struct px_ocsp_want {
    const uint8_t *serial;
    size_t serial_len;
    const uint8_t *issuer_key;
    size_t issuer_key_len;
    time_t now;
};

/* Returns 0 and sets *status when der[0..len) is a usable response for w,
 * else -1 with a static reason in *why ("responseStatus is not successful
 * (3: tryLater)", "no SingleResponse for the certificate's serial", …). */
int px_ocsp_check(const uint8_t *der, size_t len, const struct px_ocsp_want *w,
                  enum px_ocsp_status *status, const char **why);

/* "good", "revoked", "unknown". Static storage. */
const char *px_ocsp_status_name(enum px_ocsp_status s);

#endif
