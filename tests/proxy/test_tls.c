/* tests/proxy/test_tls.c — real TLS handshakes over a socketpair: the proxy's
 * server side (px_tls + px_tls_io) against a BoringSSL client. Certificates
 * are made with the openssl CLI into a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "proxy/tls/tls.h"
#include "proxy/tls/iobuf.h"
#include "proxy/tls/tls_io.h"
#include "testutil/testutil.h"

/* Record sizing as configured by listeners[].tls.small_records(_idle). */
#define SMALL_BYTES (64u * 1024u)
#define IDLE_RESET_NS (1000LL * HB_NS_PER_MS)

static uint32_t small_bytes = SMALL_BYTES; /* what handshake() configures */

static char dir[64];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* name: file stem; cn; ec: key type. SAN = cn. */
static void make_cert(const char *name, const char *cn, int ec)
{
    sh("cd %s && openssl req -x509 -newkey %s -nodes -days 2 -subj /CN=%s "
       "-addext subjectAltName=DNS:%s -keyout %s.key -out %s.crt >/dev/null 2>&1",
       dir, ec ? "ec -pkeyopt ec_paramgen_curve:P-256" : "rsa:2048", cn, cn, name, name);
}

static char *path(const char *name, const char *ext)
{
    static char buf[4][128];
    static int n;
    char *p = buf[n++ % 4];
    snprintf(p, 128, "%s/%s.%s", dir, name, ext);
    return p;
}

static int setup_all(void **state)
{
    strcpy(dir, "/tmp/h2b-tls-XXXXXX");
    assert_non_null(mkdtemp(dir));
    make_cert("a", "a.test", 0);
    make_cert("wild", "*.wild.test", 0);
    make_cert("brsa", "b.test", 0);
    make_cert("becdsa", "b.test", 1);
    sh("head -c 96 /dev/urandom > %s/tickets.key", dir);
    return 0;
}

static int teardown_all(void **state)
{
    sh("rm -rf %s", dir);
    return 0;
}

static struct px_tls *make_tls(uint16_t minv, const char *ticket_file)
{
    struct px_tls_cert_spec specs[4] = {
        {path("a", "crt"), path("a", "key"), NULL, 0, NULL},
        {path("wild", "crt"), path("wild", "key"), NULL, 0, NULL},
    };
    specs[2] = (struct px_tls_cert_spec){strdup(path("brsa", "crt")), strdup(path("brsa", "key")),
                                         NULL, 0, NULL};
    specs[3] = (struct px_tls_cert_spec){strdup(path("becdsa", "crt")),
                                         strdup(path("becdsa", "key")), NULL, 0, NULL};
    specs[0].cert_file = strdup(path("a", "crt"));
    specs[0].key_file = strdup(path("a", "key"));
    specs[1].cert_file = strdup(path("wild", "crt"));
    specs[1].key_file = strdup(path("wild", "key"));
    struct px_tls_opts o;
    px_tls_opts_default(&o);
    o.min_version = minv;
    o.ticket_key_file = ticket_file;
    char err[256] = "";
    struct px_tls *t = px_tls_new(specs, 4, &o, err, sizeof err);
    if (!t)
        fail_msg("px_tls_new: %s", err);
    for (int i = 0; i < 4; i++) {
        free((void *)specs[i].cert_file);
        free((void *)specs[i].key_file);
    }
    return t;
}

struct hs {
    struct px_tls_io srv;
    SSL *cli;
    int fds[2];
};

/* Client options for one handshake. */
struct copts {
    const char *sni;
    const char *alpn; /* wire format, or NULL */
    size_t alpn_len;
    int rsa_only;
    uint16_t max_version;
    SSL_SESSION *session;
};

/* The newest resumable session the client received (TLS 1.3 sessions
 * arrive only through this callback). */
static SSL_SESSION *last_session;

static int new_session(SSL *ssl, SSL_SESSION *s)
{
    if (last_session)
        SSL_SESSION_free(last_session);
    last_session = s;
    return 1; /* we keep the reference */
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *c = SSL_CTX_new(TLS_method());
    assert_non_null(c);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(c, new_session);
    return c;
}

/* Runs a handshake to completion and exchanges one application byte each
 * way (so the TLS 1.3 NewSessionTicket reaches the client). Returns 0 or -1
 * when the handshake fails. */
static int handshake(struct px_tls *t, SSL_CTX *cctx, const struct copts *co, struct hs *h)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, h->fds), 0);
    fcntl(h->fds[0], F_SETFL, O_NONBLOCK);
    fcntl(h->fds[1], F_SETFL, O_NONBLOCK);
    assert_int_equal(px_tls_io_init(&h->srv, px_tls_new_ssl(t), h->fds[0], small_bytes,
                                    IDLE_RESET_NS), 0);
    h->cli = SSL_new(cctx);
    SSL_set_fd(h->cli, h->fds[1]);
    SSL_set_connect_state(h->cli);
    if (co->sni)
        SSL_set_tlsext_host_name(h->cli, co->sni);
    if (co->alpn)
        SSL_set_alpn_protos(h->cli, (const uint8_t *)co->alpn, co->alpn_len);
    if (co->rsa_only) {
        static const uint16_t rsa[] = {0x0804, 0x0401};
        SSL_set_verify_algorithm_prefs(h->cli, rsa, 2);
    }
    if (co->max_version)
        SSL_set_max_proto_version(h->cli, co->max_version);
    if (co->session)
        SSL_set_session(h->cli, co->session);
    int sdone = 0, cdone = 0;
    for (int i = 0; i < 100 && !(sdone && cdone); i++) {
        if (!sdone) {
            px_sockbuf_readable(&h->srv.sock); /* as the event loop would say */
            int r = px_tls_io_handshake(&h->srv);
            if (r == PX_IO_ERROR || r == PX_IO_EOF)
                return -1;
            sdone = r == 1;
            /* Done: its last flight (TLS 1.2 Finished, tickets) waits for
             * the caller's flush, as the proxy's pass ends with one. */
            if (sdone)
                assert_int_equal(px_tls_io_flush(&h->srv), 0);
        }
        if (!cdone) {
            int r = SSL_do_handshake(h->cli);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(h->cli, r) != SSL_ERROR_WANT_READ)
                return -1;
        }
    }
    assert_true(sdone && cdone);
    assert_int_equal(px_tls_io_write(&h->srv, "x", 1, 1), 1);
    assert_int_equal(px_tls_io_flush(&h->srv), 0);
    char c = 0;
    for (int i = 0; i < 10 && SSL_read(h->cli, &c, 1) != 1; i++)
        ;
    assert_int_equal(c, 'x');
    assert_int_equal(SSL_write(h->cli, "y", 1), 1);
    ssize_t n = PX_IO_WANT_READ;
    for (int i = 0; i < 10 && n == PX_IO_WANT_READ; i++)
        n = (px_sockbuf_readable(&h->srv.sock), px_tls_io_read(&h->srv, &c, 1));
    assert_int_equal(n, 1);
    assert_int_equal(c, 'y');
    /* Let the client process anything sent meanwhile (TLS 1.3 tickets). */
    assert_int_equal(SSL_read(h->cli, &c, 1), -1);
    assert_int_equal(SSL_get_error(h->cli, -1), SSL_ERROR_WANT_READ);
    return 0;
}

static void hs_free(struct hs *h)
{
    px_tls_io_free(&h->srv);
    SSL_free(h->cli);
    close(h->fds[0]);
    close(h->fds[1]);
}

static void peer_cn(SSL *cli, char *out, size_t len)
{
    X509 *x = SSL_get_peer_certificate(cli);
    assert_non_null(x);
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len);
    X509_free(x);
}

static int peer_is_ec(SSL *cli)
{
    X509 *x = SSL_get_peer_certificate(cli);
    EVP_PKEY *k = X509_get_pubkey(x);
    int ec = EVP_PKEY_id(k) == EVP_PKEY_EC;
    EVP_PKEY_free(k);
    X509_free(x);
    return ec;
}

static void check_sni(struct px_tls *t, const char *sni, int rsa_only, const char *want_cn,
                      int want_ec)
{
    SSL_CTX *c = client_ctx();
    struct hs h;
    struct copts co = {.sni = sni, .rsa_only = rsa_only};
    assert_int_equal(handshake(t, c, &co, &h), 0);
    char cn[64] = "";
    peer_cn(h.cli, cn, sizeof cn);
    assert_string_equal(cn, want_cn);
    assert_int_equal(peer_is_ec(h.cli), want_ec);
    hs_free(&h);
    SSL_CTX_free(c);
}

static void test_sni(void **state)
{
    struct px_tls *t = make_tls(TLS1_2_VERSION, NULL);
    check_sni(t, "a.test", 0, "a.test", 0);
    check_sni(t, "A.TEST", 0, "a.test", 0);
    check_sni(t, "x.wild.test", 0, "*.wild.test", 0);
    check_sni(t, "y.x.wild.test", 0, "a.test", 0); /* one label only: default */
    check_sni(t, "b.test", 0, "b.test", 1);         /* ECDSA when the client can */
    check_sni(t, "b.test", 1, "b.test", 0);         /* RSA for an RSA-only client */
    check_sni(t, "unknown.test", 0, "a.test", 0);
    check_sni(t, NULL, 0, "a.test", 0);
    assert_int_equal(px_tls_pick(t, "b.test", false), 2);
    assert_int_equal(px_tls_pick(t, "b.test", true), 3);
    assert_int_equal(px_tls_pick(t, "wild.test", true), 0);
    px_tls_del(t);
}

static int alpn_of(struct px_tls *t, const char *alpn, size_t len, char *out)
{
    SSL_CTX *c = client_ctx();
    struct hs h;
    struct copts co = {.sni = "a.test", .alpn = alpn, .alpn_len = len};
    assert_int_equal(handshake(t, c, &co, &h), 0);
    const uint8_t *p;
    unsigned n;
    SSL_get0_alpn_selected(h.cli, &p, &n);
    if (n)
        memcpy(out, p, n);
    out[n] = 0;
    int v = px_tls_alpn_version(h.srv.ssl);
    hs_free(&h);
    SSL_CTX_free(c);
    return v;
}

static void test_alpn(void **state)
{
    struct px_tls *t = make_tls(TLS1_2_VERSION, NULL);
    char got[32];
    assert_int_equal(alpn_of(t, "\x08http/1.1\x02h2", 12, got), 2);
    assert_string_equal(got, "h2");
    assert_int_equal(alpn_of(t, "\x08http/1.1", 9, got), 1);
    assert_string_equal(got, "http/1.1");
    assert_int_equal(alpn_of(t, "\x06spdy/3", 7, got), 1);
    assert_string_equal(got, "");
    assert_int_equal(alpn_of(t, NULL, 0, got), 1);
    px_tls_del(t);
}

/* Handshake, keep the session; a second handshake offering it resumes. */
static SSL_SESSION *connect_keep(struct px_tls *t, uint16_t maxv, SSL_SESSION *offer,
                                 int *reused)
{
    SSL_CTX *c = client_ctx();
    struct hs h;
    struct copts co = {.sni = "a.test", .max_version = maxv, .session = offer};
    assert_int_equal(handshake(t, c, &co, &h), 0);
    *reused = SSL_session_reused(h.cli);
    SSL_SESSION *s = last_session;
    last_session = NULL;
    if (!s && *reused) /* TLS 1.2 resumption without a renewed ticket */
        s = SSL_get1_session(h.cli);
    assert_non_null(s);
    assert_true(SSL_SESSION_has_ticket(s));
    hs_free(&h);
    SSL_CTX_free(c);
    return s;
}

static void resume_cycle(uint16_t maxv)
{
    struct px_tls *t = make_tls(TLS1_2_VERSION, NULL);
    int reused;
    SSL_SESSION *s1 = connect_keep(t, maxv, NULL, &reused);
    assert_false(reused);
    SSL_SESSION *s2 = connect_keep(t, maxv, s1, &reused);
    assert_true(reused);
    SSL_SESSION_free(s2);
    /* Still accepted after two rotations, refused after three. */
    px_ticket_keys_rotate(px_tls_ticket_keys(t));
    px_ticket_keys_rotate(px_tls_ticket_keys(t));
    s2 = connect_keep(t, maxv, s1, &reused);
    assert_true(reused);
    SSL_SESSION_free(s2);
    px_ticket_keys_rotate(px_tls_ticket_keys(t));
    s2 = connect_keep(t, maxv, s1, &reused);
    assert_false(reused);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s1);
    px_tls_del(t);
}

static void test_tickets_tls12(void **state)
{
    resume_cycle(TLS1_2_VERSION);
}

static void test_tickets_tls13(void **state)
{
    resume_cycle(TLS1_3_VERSION);
}

/* Two instances sharing a ticket key file resume each other's sessions. */
static void test_ticket_file_shared(void **state)
{
    char f[128];
    snprintf(f, sizeof f, "%s/tickets.key", dir);
    struct px_tls *a = make_tls(TLS1_2_VERSION, f);
    struct px_tls *b = make_tls(TLS1_2_VERSION, f);
    struct px_tls *other = make_tls(TLS1_2_VERSION, NULL);
    int reused;
    SSL_SESSION *s = connect_keep(a, TLS1_3_VERSION, NULL, &reused);
    SSL_SESSION *s2 = connect_keep(b, TLS1_3_VERSION, s, &reused);
    assert_true(reused);
    SSL_SESSION_free(s2);
    s2 = connect_keep(other, TLS1_3_VERSION, s, &reused);
    assert_false(reused);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s);
    px_tls_del(a);
    px_tls_del(b);
    px_tls_del(other);
}

static void test_ticket_file_bad(void **state)
{
    char f[128], err[256] = "";
    snprintf(f, sizeof f, "%s/short.key", dir);
    sh("head -c 47 /dev/urandom > %s", f);
    assert_null(px_ticket_keys_new(f, 0, err, sizeof err));
    assert_non_null(strstr(err, "expected one to 8 keys of 48 or 80 bytes, found a file of 47"));
    assert_null(px_ticket_keys_new("/nonexistent/x", 0, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/x: cannot open ticket key file"));
}

static void test_min_version(void **state)
{
    struct px_tls *t = make_tls(TLS1_3_VERSION, NULL);
    SSL_CTX *c = client_ctx();
    struct hs h;
    struct copts co = {.sni = "a.test", .max_version = TLS1_2_VERSION};
    assert_int_equal(handshake(t, c, &co, &h), -1);
    hs_free(&h);
    co.max_version = 0;
    assert_int_equal(handshake(t, c, &co, &h), 0);
    assert_int_equal(SSL_version(h.cli), TLS1_3_VERSION);
    hs_free(&h);
    SSL_CTX_free(c);
    px_tls_del(t);
}

/* TLS 1.2 offers ECDHE + AEAD suites only. */
static void test_tls12_suites(void **state)
{
    struct px_tls *t = make_tls(TLS1_2_VERSION, NULL);
    static const char *const refused[] = {"AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA",
                                          "ECDHE-ECDSA-AES256-SHA", "AES256-SHA"};
    for (size_t i = 0; i < 4; i++) {
        SSL_CTX *c = client_ctx();
        assert_int_equal(SSL_CTX_set_strict_cipher_list(c, refused[i]), 1);
        struct hs h;
        struct copts co = {.sni = "a.test", .max_version = TLS1_2_VERSION};
        assert_int_equal(handshake(t, c, &co, &h), -1);
        hs_free(&h);
        SSL_CTX_free(c);
    }
    SSL_CTX *c = client_ctx();
    assert_int_equal(SSL_CTX_set_strict_cipher_list(c, "ECDHE-RSA-CHACHA20-POLY1305"), 1);
    struct hs h;
    struct copts co = {.sni = "a.test", .max_version = TLS1_2_VERSION};
    assert_int_equal(handshake(t, c, &co, &h), 0);
    assert_string_equal(SSL_CIPHER_get_name(SSL_get_current_cipher(h.cli)),
                        "ECDHE-RSA-CHACHA20-POLY1305");
    hs_free(&h);
    SSL_CTX_free(c);
    px_tls_del(t);
}

static void test_check_pair(void **state)
{
    char err[512];
    assert_int_equal(px_tls_check_pair(path("a", "crt"), path("a", "key"), err, sizeof err), 0);
    assert_int_equal(px_tls_check_pair(path("a", "crt"), path("brsa", "key"), err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "private key does not match the certificate"));
    assert_int_equal(px_tls_check_pair(path("nope", "crt"), path("a", "key"), err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "nope.crt: cannot load certificate chain"));
}

/* Records are small at first and 16 KiB once SMALL_BYTES went out;
 * an idle second makes them small again. */
static void test_record_sizing(void **state)
{
    struct px_tls *t = make_tls(TLS1_2_VERSION, NULL);
    SSL_CTX *c = client_ctx();
    struct hs h;
    struct copts co = {.sni = "a.test"};
    assert_int_equal(handshake(t, c, &co, &h), 0);
    assert_int_equal(h.srv.record, PX_TLS_SMALL_RECORD);
    static char big[65536], sink[65536];
    size_t sent = 0;
    hb_ns_t now = 10;
    while (sent < SMALL_BYTES + 1) {
        ssize_t n = px_tls_io_write(&h.srv, big, sizeof big, now);
        if (n > 0)
            sent += (size_t)n;
        assert_true(n > 0 || n == PX_IO_WANT_WRITE);
        int f = px_tls_io_flush(&h.srv);
        assert_true(f == 0 || f == PX_IO_WANT_WRITE);
        while (SSL_read(h.cli, sink, sizeof sink) > 0)
            ;
    }
    assert_int_equal(px_tls_io_write(&h.srv, "z", 1, now) , 1);
    assert_int_equal(h.srv.record, PX_TLS_LARGE_RECORD);
    assert_int_equal(px_tls_io_write(&h.srv, "z", 1, now + 2 * IDLE_RESET_NS), 1);
    assert_int_equal(h.srv.record, PX_TLS_SMALL_RECORD);
    hs_free(&h);
    SSL_CTX_free(c);
    px_tls_del(t);
}

/* A server (TLS 1.2 minimum) and a BoringSSL client past the handshake. */
struct conn_fix {
    struct px_tls *t;
    SSL_CTX *c;
    struct hs h;
};

static void fix_open(struct conn_fix *f)
{
    f->t = make_tls(TLS1_2_VERSION, NULL);
    f->c = client_ctx();
    struct copts co = {.sni = "a.test"};
    assert_int_equal(handshake(f->t, f->c, &co, &f->h), 0);
}

static void fix_close(struct conn_fix *f)
{
    hs_free(&f->h);
    SSL_CTX_free(f->c);
    px_tls_del(f->t);
}

/* small_records: 0 — 16 KiB records from the first byte, also after a pause. */
static void test_record_sizing_off(void **state)
{
    (void)state;
    small_bytes = 0;
    struct conn_fix f;
    fix_open(&f);
    small_bytes = SMALL_BYTES;
    struct hs *h = &f.h;
    assert_int_equal(h->srv.record, PX_TLS_LARGE_RECORD);
    assert_int_equal(px_tls_io_write(&h->srv, "z", 1, 5 * IDLE_RESET_NS), 1);
    assert_int_equal(h->srv.record, PX_TLS_LARGE_RECORD);
    fix_close(&f);
}

/* ---- the buffered socket BIO (proxy/tls/tls_bio.h) ---- */

static int unread(int fd)
{
    int n = -1;
    assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
    return n;
}

/* Many small records from the client arrive in one recv(): after the first
 * read the socket is empty, the rest waits in the read-ahead buffer, and
 * pending() says to read on without waiting for the socket. */
static void test_bio_read_ahead(void **state)
{
    (void)state;
    struct conn_fix f;
    fix_open(&f);
    struct hs *h = &f.h;
    assert_null(h->srv.sock.r); /* idle: no buffer held */
    assert_null(h->srv.sock.w);
    for (int i = 0; i < 20; i++) {
        char rec[8];
        snprintf(rec, sizeof rec, "r%02d;", i);
        assert_int_equal(SSL_write(h->cli, rec, 4), 4);
    }
    assert_true(unread(h->fds[0]) > 20 * 4);
    char got[128];
    size_t len = 0;
    px_sockbuf_readable(&h->srv.sock);
    ssize_t n = px_tls_io_read(&h->srv, got, 4);
    assert_int_equal(n, 4);
    len += (size_t)n;
    assert_int_equal(unread(h->fds[0]), 0); /* everything was read at once */
    assert_true(px_tls_io_pending(&h->srv));
    while (px_tls_io_pending(&h->srv)) {
        n = px_tls_io_read(&h->srv, got + len, sizeof got - len);
        assert_true(n > 0);
        len += (size_t)n;
    }
    assert_int_equal(len, 80);
    for (int i = 0; i < 20; i++) {
        char rec[8];
        snprintf(rec, sizeof rec, "r%02d;", i);
        assert_memory_equal(got + 4 * i, rec, 4);
    }
    assert_null(h->srv.sock.r); /* drained: the buffer went back */
    assert_int_equal(px_tls_io_read(&h->srv, got, sizeof got), PX_IO_WANT_READ);
    /* That short recv() emptied the socket: bytes that come later wait
     * (no recv() that would fail) until the event loop says readable. */
    assert_int_equal(SSL_write(h->cli, "late", 4), 4);
    assert_int_equal(px_tls_io_read(&h->srv, got, sizeof got), PX_IO_WANT_READ);
    assert_true(unread(h->fds[0]) > 4);
    px_sockbuf_readable(&h->srv.sock);
    assert_int_equal(px_tls_io_read(&h->srv, got, sizeof got), 4);
    assert_memory_equal(got, "late", 4);
    fix_close(&f);
}

/* Records written in one pass stay in the write buffer until the flush,
 * which sends them with one send(). */
static void test_bio_write_coalescing(void **state)
{
    (void)state;
    struct conn_fix f;
    fix_open(&f);
    struct hs *h = &f.h;
    assert_int_equal(unread(h->fds[1]), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(px_tls_io_write(&h->srv, "abc", 3, 1), 3);
    assert_int_equal(unread(h->fds[1]), 0); /* nothing on the wire yet */
    assert_true(px_sockbuf_unsent(&h->srv.sock) > 9);
    assert_int_equal(px_tls_io_flush(&h->srv), 0);
    assert_null(h->srv.sock.w);
    assert_true(unread(h->fds[1]) > 9);
    char got[16];
    size_t len = 0;
    int r;
    while (len < 9 && (r = SSL_read(h->cli, got + len, (int)(sizeof got - len))) > 0)
        len += (size_t)r;
    assert_int_equal(len, 9);
    assert_memory_equal(got, "abcabcabc", 9);
    fix_close(&f);
}

/* A client that does not read: writes stop with WANT_WRITE once the socket
 * and the write buffer are full (bounded), then everything arrives intact
 * and in order when it reads. */
static void test_bio_back_pressure(void **state)
{
    (void)state;
    struct conn_fix f;
    fix_open(&f);
    struct hs *h = &f.h;
    int small = 16384;
    setsockopt(h->fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    enum { TOTAL = 4 * 1024 * 1024 };
    uint8_t *src = malloc(TOTAL), *dst = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        src[i] = (uint8_t)(i * 7 + (i >> 12));
    size_t sent = 0, got = 0;
    int blocked = 0;
    while (got < TOTAL) {
        while (sent < TOTAL) {
            size_t len = TOTAL - sent < 20000 ? TOTAL - sent : 20000;
            ssize_t n = px_tls_io_write(&h->srv, src + sent, len, 1);
            if (n == PX_IO_WANT_WRITE) {
                blocked++;
                assert_true(px_sockbuf_unsent(&h->srv.sock) <= PX_IOBUF_SIZE);
                break;
            }
            assert_true(n > 0);
            sent += (size_t)n;
        }
        int fl = px_tls_io_flush(&h->srv);
        assert_true(fl == 0 || fl == PX_IO_WANT_WRITE);
        int r;
        while ((r = SSL_read(h->cli, dst + got, (int)(TOTAL - got))) > 0)
            got += (size_t)r;
    }
    assert_true(blocked > 0);
    assert_memory_equal(src, dst, TOTAL);
    assert_int_equal(px_tls_io_flush(&h->srv), 0);
    assert_null(h->srv.sock.w);
    free(src);
    free(dst);
    fix_close(&f);
}

/* close_notify: sent when the proxy closes first, not after the client's. */
static void test_bio_close_notify(void **state)
{
    (void)state;
    struct conn_fix f;
    fix_open(&f);
    struct hs *h = &f.h;
    px_tls_io_shutdown(&h->srv);
    assert_true(unread(h->fds[1]) > 0);
    char b;
    assert_int_equal(SSL_read(h->cli, &b, 1), 0);
    assert_int_equal(SSL_get_error(h->cli, 0), SSL_ERROR_ZERO_RETURN);
    fix_close(&f);

    fix_open(&f);
    SSL_shutdown(h->cli);
    char got[8];
    px_sockbuf_readable(&h->srv.sock);
    assert_int_equal(px_tls_io_read(&h->srv, got, sizeof got), PX_IO_EOF);
    px_tls_io_shutdown(&h->srv);
    assert_int_equal(unread(h->fds[1]), 0);
    fix_close(&f);
}

/* The peer's FIN reads as EOF, after the bytes before it. */
static void test_bio_eof(void **state)
{
    (void)state;
    struct conn_fix f;
    fix_open(&f);
    struct hs *h = &f.h;
    assert_int_equal(SSL_write(h->cli, "last", 4), 4);
    shutdown(h->fds[1], SHUT_WR);
    char got[8];
    px_sockbuf_readable(&h->srv.sock);
    assert_int_equal(px_tls_io_read(&h->srv, got, sizeof got), 4);
    assert_memory_equal(got, "last", 4);
    px_sockbuf_readable(&h->srv.sock);
    assert_int_equal(px_tls_io_read(&h->srv, got, sizeof got), PX_IO_EOF);
    fix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sni),
        cmocka_unit_test(test_alpn),
        cmocka_unit_test(test_tickets_tls12),
        cmocka_unit_test(test_tickets_tls13),
        cmocka_unit_test(test_ticket_file_shared),
        cmocka_unit_test(test_ticket_file_bad),
        cmocka_unit_test(test_min_version),
        cmocka_unit_test(test_tls12_suites),
        cmocka_unit_test(test_check_pair),
        cmocka_unit_test(test_record_sizing),
        cmocka_unit_test(test_record_sizing_off),
        cmocka_unit_test(test_bio_read_ahead),
        cmocka_unit_test(test_bio_write_coalescing),
        cmocka_unit_test(test_bio_back_pressure),
        cmocka_unit_test(test_bio_eof),
        cmocka_unit_test(test_bio_close_notify),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
