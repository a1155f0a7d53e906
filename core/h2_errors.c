#include "core/h2_errors.h"

const char *h2_error_name(uint32_t code)
{
    switch (code) {
#define H2_ERR_NAME(name, val)                                                                     \
    case val:                                                                                      \
        return #name;
        H2_ERRORS(H2_ERR_NAME)
#undef H2_ERR_NAME
    }
    return "UNKNOWN";
}
