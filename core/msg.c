#include "core/msg.h"

const struct hpack_field *hb_msg_find(const struct hb_msg *m, struct hb_str lname)
{
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *f = &m->fields[i];
        if (hb_str_eq_lower(hb_str_make(f->name, f->name_len), lname))
            return f;
    }
    return NULL;
}
