/* core/mix.h — a 64-bit mixing function for ids and hash keys.
 *
 * splitmix64's finaliser: a bijection of 64-bit values with good
 * avalanche, so mix(key ^ n) never repeats for a fixed key and distinct n,
 * and inputs an attacker chooses do not cluster. Not a cryptographic hash.
 */
#ifndef H2B_CORE_MIX_H
#define H2B_CORE_MIX_H

#include <stdint.h>

static inline uint64_t hb_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
