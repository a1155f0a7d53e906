/* libFuzzer target: the OCSP response walk (proxy/tls/ocsp_der.h). Input:
 * one byte n, then n bytes of the certificate serial looked for, then the
 * DER response (the seeds are real openssl ocsp responses with their
 * certificate's serial). An accepted response gives a known status, a
 * refusal always says why, and the walk never reads past the input (with
 * and without an issuer key). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/tls/ocsp_der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || (size_t)data[0] + 1 > size || size > 1 << 16)
        return 0;
    size_t n = data[0];
    uint8_t *serial = malloc(n ? n : 1), *der = malloc(size - 1 - n ? size - 1 - n : 1);
    if (!serial || !der) {
        free(serial);
        free(der);
        return 0;
    }
    memcpy(serial, data + 1, n);
    memcpy(der, data + 1 + n, size - 1 - n); /* exact size: ASan sees overreads */
    struct px_ocsp_want w = {serial, n, NULL, 0, 1700000000};
    enum px_ocsp_status st = PX_OCSP_UNKNOWN;
    const char *why = NULL;
    int rc = px_ocsp_check(der, size - 1 - n, &w, &st, &why);
    if (rc == 0 && st != PX_OCSP_GOOD && st != PX_OCSP_REVOKED && st != PX_OCSP_UNKNOWN)
        abort();
    if (rc != 0 && (!why || !why[0]))
        abort();
    /* With an issuer key (one that matches no hash), the walk stays in
     * bounds too, and a refusal still says why. */
    static const uint8_t key[] = {1, 2, 3};
    struct px_ocsp_want w2 = w;
    w2.issuer_key = key;
    w2.issuer_key_len = sizeof key;
    why = NULL;
    if (px_ocsp_check(der, size - 1 - n, &w2, &st, &why) != 0 && (!why || !why[0]))
        abort();
    free(serial);
    free(der);
    return 0;
}
