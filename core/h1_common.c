#include "core/h1_common.h"

static const char *const names[] = {
#define H1_ERR_NAME(name, status, msg) #name,
    H1_ERRORS(H1_ERR_NAME)
#undef H1_ERR_NAME
};

static const char *const messages[] = {
#define H1_ERR_MSG(name, status, msg) msg,
    H1_ERRORS(H1_ERR_MSG)
#undef H1_ERR_MSG
};

static const short statuses[] = {
#define H1_ERR_STATUS(name, status, msg) status,
    H1_ERRORS(H1_ERR_STATUS)
#undef H1_ERR_STATUS
};

static int index_of(int err)
{
    if (err >= 0 || err < -(int)H1_ERR_COUNT_)
        return -1;
    return -err - 1;
}

const char *h1_err_name(int err)
{
    if (err == 0)
        return "NEED_MORE";
    int i = index_of(err);
    return i < 0 ? "UNKNOWN" : names[i];
}

const char *h1_err_message(int err)
{
    if (err == 0)
        return "need more input";
    int i = index_of(err);
    return i < 0 ? "unknown error" : messages[i];
}

int h1_err_status(int err)
{
    int i = index_of(err);
    return i < 0 ? 0 : statuses[i];
}

void h1_limits_default(struct h1_limits *l)
{
    *l = (struct h1_limits){
        .max_start_line = 8192,
        .max_field_line = 8192,
        .max_head = 65536,
        .max_fields = 100,
        .max_chunk_ext = 256,
        .max_trailer = 16384,
        .max_trailers = 32,
        .allow_bare_lf = false,
    };
}
