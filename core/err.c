#include "core/err.h"

static const char *const names[] = {
#define HB_ERR_NAME(name, msg) #name,
    HB_ERRORS(HB_ERR_NAME)
#undef HB_ERR_NAME
};

static const char *const messages[] = {
#define HB_ERR_MSG(name, msg) msg,
    HB_ERRORS(HB_ERR_MSG)
#undef HB_ERR_MSG
};

static int index_of(int err)
{
    if (err <= HB_ERR_FIRST_ || err >= HB_ERR_END_)
        return -1;
    return err - HB_ERR_FIRST_ - 1;
}

const char *hb_err_name(int err)
{
    if (err == 0)
        return "OK";
    int i = index_of(err);
    return i < 0 ? "UNKNOWN" : names[i];
}

const char *hb_err_message(int err)
{
    if (err == 0)
        return "success";
    int i = index_of(err);
    return i < 0 ? "unknown error" : messages[i];
}
