/* proxy/tls/tls_bio.c — the buffered socket BIO under TLS connections. */
#include "proxy/tls/tls_bio.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy/tls/iobuf.h"
#include "proxy/tls/tls_io.h"

static bool would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void release_r(struct px_sockbuf *sb)
{
    px_iobuf_put(sb->r);
    sb->r = NULL;
    sb->roff = sb->rlen = 0;
}

/* Sends [woff, wlen). 0 when all is out, else PX_IO_WANT_WRITE or
 * PX_IO_ERROR. Keeps the buffer. */
static int drain(struct px_sockbuf *sb)
{
    while (sb->woff < sb->wlen) {
        ssize_t n = send(sb->fd, sb->w + sb->woff, sb->wlen - sb->woff, MSG_NOSIGNAL);
        if (n < 0)
            return would_block() ? PX_IO_WANT_WRITE : PX_IO_ERROR;
        sb->woff += (uint32_t)n;
    }
    sb->woff = sb->wlen = 0;
    return 0;
}

static int bio_read(BIO *b, char *out, int outl)
{
    struct px_sockbuf *sb = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (outl <= 0)
        return 0;
    if (sb->roff == sb->rlen) {
        if (sb->drained) { /* known empty: spare the recv() */
            BIO_set_retry_read(b);
            return -1;
        }
        if (!sb->r && !(sb->r = px_iobuf_get())) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t n = recv(sb->fd, sb->r, PX_IOBUF_SIZE, 0);
        if (n <= 0) {
            int e = errno;
            release_r(sb);
            if (n == 0)
                return 0; /* EOF */
            errno = e;
            if (would_block())
                BIO_set_retry_read(b);
            sb->drained = e == EAGAIN || e == EWOULDBLOCK;
            return -1;
        }
        sb->roff = 0;
        sb->rlen = (uint32_t)n;
        /* A stream socket returns less than asked only when its queue ran
         * dry (Linux tcp_recvmsg); the event loop reports the next bytes. */
        sb->drained = (size_t)n < PX_IOBUF_SIZE;
    }
    uint32_t n = sb->rlen - sb->roff;
    if ((uint32_t)outl < n)
        n = (uint32_t)outl;
    memcpy(out, sb->r + sb->roff, n);
    sb->roff += n;
    if (sb->roff == sb->rlen)
        release_r(sb); /* hold nothing between reads */
    return (int)n;
}

static int bio_write(BIO *b, const char *in, int inl)
{
    struct px_sockbuf *sb = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (inl <= 0)
        return 0;
    if (!sb->w && !(sb->w = px_iobuf_get())) {
        errno = ENOMEM;
        return -1;
    }
    if (sb->wlen == PX_IOBUF_SIZE) {
        int r = drain(sb);
        if (sb->woff > 0) { /* partly sent: make room at the end */
            memmove(sb->w, sb->w + sb->woff, sb->wlen - sb->woff);
            sb->wlen -= sb->woff;
            sb->woff = 0;
        }
        if (r == PX_IO_ERROR)
            return -1;
        if (sb->wlen == PX_IOBUF_SIZE) {
            BIO_set_retry_write(b);
            return -1;
        }
    }
    /* BoringSSL retries the rest of a record it could not hand over whole. */
    uint32_t n = PX_IOBUF_SIZE - sb->wlen;
    if ((uint32_t)inl < n)
        n = (uint32_t)inl;
    memcpy(sb->w + sb->wlen, in, n);
    sb->wlen += n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    struct px_sockbuf *sb = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        /* BoringSSL flushes after each handshake flight and alert. The
         * caller flushes at the end of its pass instead (px_tls_io_handshake
         * before it waits for the client; px_sockbuf_flush after a pass of
         * writes), so that, e.g., the session tickets sent at the end of the
         * handshake leave in one write() with the HTTP/2 SETTINGS. */
        return 1;
    case BIO_CTRL_PENDING:
        return (long)(sb->rlen - sb->roff);
    case BIO_CTRL_WPENDING:
        return (long)px_sockbuf_unsent(sb);
    case BIO_C_GET_FD:
        if (ptr)
            *(int *)ptr = sb->fd;
        return sb->fd;
    default:
        return 0;
    }
}

static BIO_METHOD *method;

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "h2bridge socket");
    if (m && BIO_meth_set_read(m, bio_read) && BIO_meth_set_write(m, bio_write) &&
        BIO_meth_set_ctrl(m, bio_ctrl))
        method = m;
}

BIO *px_tls_bio_new(struct px_sockbuf *sb)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_method);
    BIO *b = method ? BIO_new(method) : NULL;
    if (!b)
        return NULL;
    BIO_set_data(b, sb);
    BIO_set_init(b, 1);
    return b;
}

int px_sockbuf_flush(struct px_sockbuf *sb)
{
    int r = drain(sb);
    if (r == 0) {
        px_iobuf_put(sb->w);
        sb->w = NULL;
    }
    return r;
}

void px_sockbuf_readable(struct px_sockbuf *sb)
{
    sb->drained = false;
}

bool px_sockbuf_pending(const struct px_sockbuf *sb)
{
    return sb->roff < sb->rlen;
}

uint32_t px_sockbuf_unsent(const struct px_sockbuf *sb)
{
    return sb->wlen - sb->woff;
}

void px_sockbuf_free(struct px_sockbuf *sb)
{
    release_r(sb);
    px_iobuf_put(sb->w);
    sb->w = NULL;
    sb->woff = sb->wlen = 0;
}
