/* proxy/tls/ocsp_der.c — the OCSP response walk (see ocsp_der.h). */
#include "proxy/tls/ocsp_der.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/bytestring.h>
#include <openssl/sha.h>

static const uint8_t oid_basic[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t oid_sha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t oid_sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};

#define CTX(n) (CBS_ASN1_CONTEXT_SPECIFIC | (n))
#define CTXC(n) (CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | (n))

const char *px_ocsp_status_name(enum px_ocsp_status s)
{
    switch (s) {
    case PX_OCSP_GOOD:
        return "good";
    case PX_OCSP_REVOKED:
        return "revoked";
    case PX_OCSP_UNKNOWN:
        return "unknown";
    }
    return "?";
}

static bool cbs_is(const CBS *c, const uint8_t *p, size_t n)
{
    return CBS_len(c) == n && memcmp(CBS_data(c), p, n) == 0;
}

static int digits(const uint8_t *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

/* GeneralizedTime "YYYYMMDDHHMMSS[.f*]Z" (RFC 5280 §4.1.2.5.2 wants Z and
 * no fraction; OCSP responders follow it) into seconds since the epoch. */
static int gen_time(const CBS *c, time_t *out)
{
    const uint8_t *p = CBS_data(c);
    size_t n = CBS_len(c);
    if (n < 15 || p[n - 1] != 'Z')
        return -1;
    if (n > 15 && p[14] != '.')
        return -1;
    int y = digits(p, 4), mo = digits(p + 4, 2), d = digits(p + 6, 2), h = digits(p + 8, 2),
        mi = digits(p + 10, 2), s = digits(p + 12, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 60)
        return -1;
    for (size_t i = 15; i + 1 < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    *out = (time_t)days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

/* One SingleResponse: 1 when it is for w (status set), 0 when it is for
 * another certificate, -1 when malformed or stale. */
static int single(CBS *sr, const struct px_ocsp_want *w, enum px_ocsp_status *status,
                  const char **why)
{
    CBS certid, alg, oid, name_hash, key_hash, serial, times, next;
    int has_next;
    *why = "malformed SingleResponse";
    if (!CBS_get_asn1(sr, &certid, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&certid, &alg, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
        !CBS_get_asn1(&certid, &name_hash, CBS_ASN1_OCTETSTRING) ||
        !CBS_get_asn1(&certid, &key_hash, CBS_ASN1_OCTETSTRING) ||
        !CBS_get_asn1(&certid, &serial, CBS_ASN1_INTEGER) || CBS_len(&certid) != 0)
        return -1;
    unsigned tag;
    CBS st;
    if (!CBS_get_any_asn1(sr, &st, &tag))
        return -1;
    enum px_ocsp_status s;
    if (tag == CTX(0) && CBS_len(&st) == 0)
        s = PX_OCSP_GOOD;
    else if (tag == CTXC(1))
        s = PX_OCSP_REVOKED;
    else if (tag == CTX(2) && CBS_len(&st) == 0)
        s = PX_OCSP_UNKNOWN;
    else
        return -1;
    time_t this_update, next_update = 0;
    if (!CBS_get_asn1(sr, &times, CBS_ASN1_GENERALIZEDTIME) || gen_time(&times, &this_update) ||
        !CBS_get_optional_asn1(sr, &next, &has_next, CTXC(0)))
        return -1;
    if (has_next && (!CBS_get_asn1(&next, &times, CBS_ASN1_GENERALIZEDTIME) ||
                     gen_time(&times, &next_update) || CBS_len(&next) != 0))
        return -1;
    if (!cbs_is(&serial, w->serial, w->serial_len))
        return 0;
    if (w->issuer_key) {
        uint8_t md[SHA256_DIGEST_LENGTH];
        size_t mdlen = 0;
        if (cbs_is(&oid, oid_sha1, sizeof oid_sha1)) {
            SHA1(w->issuer_key, w->issuer_key_len, md);
            mdlen = SHA_DIGEST_LENGTH;
        } else if (cbs_is(&oid, oid_sha256, sizeof oid_sha256)) {
            SHA256(w->issuer_key, w->issuer_key_len, md);
            mdlen = SHA256_DIGEST_LENGTH;
        }
        if (mdlen && !cbs_is(&key_hash, md, mdlen))
            return 0; /* the same serial from another CA */
    }
    if (has_next && next_update < w->now) {
        *why = "the response for the certificate is past its nextUpdate";
        return -1;
    }
    *status = s;
    return 1;
}

int px_ocsp_check(const uint8_t *der, size_t len, const struct px_ocsp_want *w,
                  enum px_ocsp_status *status, const char **why)
{
    static const char *const statuses[] = {
        "responseStatus is not successful (1: malformedRequest)",
        "responseStatus is not successful (2: internalError)",
        "responseStatus is not successful (3: tryLater)",
        "responseStatus is not successful (4: unused)",
        "responseStatus is not successful (5: sigRequired)",
        "responseStatus is not successful (6: unauthorized)",
    };
    CBS in, resp, rstatus, rbytes, rb, type, octets, basic, tbs, sigalg, sig, responses, sr;
    CBS_init(&in, der, len);
    *why = "not a DER OCSPResponse";
    if (!CBS_get_asn1(&in, &resp, CBS_ASN1_SEQUENCE) || CBS_len(&in) != 0 ||
        !CBS_get_asn1(&resp, &rstatus, CBS_ASN1_ENUMERATED) || CBS_len(&rstatus) != 1)
        return -1;
    uint8_t code = CBS_data(&rstatus)[0];
    if (code != 0) {
        *why = code <= 6 ? statuses[code - 1] : "responseStatus is not successful";
        return -1;
    }
    if (!CBS_get_asn1(&resp, &rbytes, CTXC(0)) || CBS_len(&resp) != 0 ||
        !CBS_get_asn1(&rbytes, &rb, CBS_ASN1_SEQUENCE) || CBS_len(&rbytes) != 0 ||
        !CBS_get_asn1(&rb, &type, CBS_ASN1_OBJECT) ||
        !CBS_get_asn1(&rb, &octets, CBS_ASN1_OCTETSTRING) || CBS_len(&rb) != 0)
        return -1;
    if (!cbs_is(&type, oid_basic, sizeof oid_basic)) {
        *why = "responseType is not id-pkix-ocsp-basic";
        return -1;
    }
    *why = "malformed BasicOCSPResponse";
    if (!CBS_get_asn1(&octets, &basic, CBS_ASN1_SEQUENCE) || CBS_len(&octets) != 0 ||
        !CBS_get_asn1(&basic, &tbs, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&basic, &sigalg, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&basic, &sig, CBS_ASN1_BITSTRING))
        return -1;
    if (CBS_len(&basic) != 0 && (!CBS_get_asn1(&basic, NULL, CTXC(0)) || CBS_len(&basic) != 0))
        return -1;
    /* ResponseData: [0] version, responderID ([1] name or [2] key hash),
     * producedAt, responses, [1] extensions. */
    CBS rid, produced;
    time_t t;
    unsigned tag;
    if (!CBS_get_optional_asn1(&tbs, NULL, NULL, CTXC(0)) || !CBS_get_any_asn1(&tbs, &rid, &tag) ||
        (tag != CTXC(1) && tag != CTXC(2)) ||
        !CBS_get_asn1(&tbs, &produced, CBS_ASN1_GENERALIZEDTIME) || gen_time(&produced, &t) ||
        !CBS_get_asn1(&tbs, &responses, CBS_ASN1_SEQUENCE) ||
        !CBS_get_optional_asn1(&tbs, NULL, NULL, CTXC(1)) || CBS_len(&tbs) != 0)
        return -1;
    while (CBS_len(&responses)) {
        if (!CBS_get_asn1(&responses, &sr, CBS_ASN1_SEQUENCE))
            return -1;
        int r = single(&sr, w, status, why);
        if (r != 0)
            return r > 0 ? 0 : -1;
    }
    *why = "no SingleResponse for the certificate's serial number";
    return -1;
}
