#!/usr/bin/env python3
"""Generates hpack/hpack_huffman_table.c from the RFC 7541 Appendix B code.

The Appendix B code is canonical: codes of one length are consecutive and
ordered by symbol, and each length starts where the previous one ended,
shifted left. So the code-length column alone (LENGTHS below, symbols 0..256,
256 = EOS) determines every code; the script rebuilds the codes and checks a
few against Appendix B's printed values.

Output:
  hpack_huff_enc[257]  {code, bits} for the encoder.
  hpack_huff_dec[n][256]  a trie with an 8-bit stride: the decoder looks at
  the next 8 input bits; an entry is either a leaf (symbol and how many of
  those 8 bits its code uses) or a link to the sub-table for the next 8 bits.
  Codes are 5..30 bits, so a symbol takes at most 4 lookups; every common
  symbol (<= 8 bits) takes one.
  hpack_huff_dec2[4096]  the next 12 bits -> up to two whole symbols:
  sym1 | sym2 << 8 | bits used << 16 | symbol count (0..2) << 24; 0 symbols
  when the first code is longer than 12 bits (the trie takes over).

Usage: python3 gen_huffman.py > hpack_huffman_table.c
"""

LENGTHS = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  # 0
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  # 16
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,          # 32
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,               # 48
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                 # 64
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,              # 80
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                 # 96
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,             # 112
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  # 128
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  # 144
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  # 160
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  # 176
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  # 192
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  # 208
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  # 224
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  # 240
    30,                                                              # EOS
]

# A few codes as printed in RFC 7541 Appendix B, to check the rebuild.
CHECK = {0: 0x1ff8, 32: 0x14, 48: 0x0, 97: 0x3, 65: 0x21, 255: 0x3ffffee,
         10: 0x3ffffffc, 256: 0x3fffffff, 36: 0x1ff9, 127: 0xffffffc}

LEAF_SHIFT = 9          # leaf: sym in bits 0..8, bits used (1..8) in 9..12
LINK = 0x8000           # link: sub-table number in bits 0..14


def canonical_codes():
    assert len(LENGTHS) == 257
    order = sorted(range(257), key=lambda s: (LENGTHS[s], s))
    codes = [0] * 257
    code, prev = 0, LENGTHS[order[0]]
    for i, s in enumerate(order):
        if i:
            code = (code + 1) << (LENGTHS[s] - prev)
        prev = LENGTHS[s]
        codes[s] = code
    for s, c in CHECK.items():
        assert codes[s] == c, (s, hex(codes[s]), hex(c))
    # Kraft equality: the code is complete, so every bit string decodes.
    assert sum(2 ** (30 - n) for n in LENGTHS) == 2 ** 30
    return codes


def build_trie(codes):
    tables = [[None] * 256]
    links = {}  # (prefix value, prefix bits) -> table number

    def table_for(prefix, pbits):
        if pbits == 0:
            return 0
        key = (prefix, pbits)
        if key not in links:
            parent = table_for(prefix >> 8, pbits - 8)
            links[key] = len(tables)
            tables.append([None] * 256)
            tables[parent][prefix & 0xff] = LINK | links[key]
        return links[key]

    for s in range(257):
        n, c = LENGTHS[s], codes[s]
        level = (n - 1) // 8          # which 8-bit group holds the last bit
        pbits = level * 8
        t = table_for(c >> (n - pbits), pbits)
        rest = n - pbits              # 1..8 bits of the code in this group
        low = c & ((1 << rest) - 1)
        for fill in range(1 << (8 - rest)):
            idx = (low << (8 - rest)) | fill
            assert tables[t][idx] is None
            tables[t][idx] = s | (rest << LEAF_SHIFT)
    for t in tables:
        assert None not in t
    return tables


PAIR_BITS = 12


def build_pairs(codes):
    by_code = {(LENGTHS[s], codes[s]): s for s in range(257)}

    def first(v, avail):
        for n in range(5, avail + 1):
            s = by_code.get((n, v >> (avail - n)))
            if s is not None:
                return s, n
        return None, 0

    pairs = []
    for i in range(1 << PAIR_BITS):
        s1, n1 = first(i, PAIR_BITS)
        if s1 is None:
            pairs.append(0)
            continue
        rest = PAIR_BITS - n1
        s2, n2 = first(i & ((1 << rest) - 1), rest) if rest >= 5 else (None, 0)
        if s2 is None:
            pairs.append(s1 | n1 << 16 | 1 << 24)
        else:
            pairs.append(s1 | s2 << 8 | (n1 + n2) << 16 | 2 << 24)
    return pairs


def main():
    codes = canonical_codes()
    tables = build_trie(codes)
    pairs = build_pairs(codes)
    out = []
    out.append("/* Generated by hpack/gen_huffman.py from RFC 7541 Appendix B. Do not edit. */")
    out.append('#include "hpack/hpack_internal.h"')
    out.append("")
    out.append("const struct hpack_huff_code hpack_huff_enc[257] = {")
    for s in range(257):
        out.append("    {0x%08xu, %2d}, /* %3d */" % (codes[s], LENGTHS[s], s))
    out.append("};")
    out.append("")
    out.append("const uint16_t hpack_huff_dec[%d][256] = {" % len(tables))
    for t in tables:
        out.append("    {")
        for i in range(0, 256, 8):
            out.append("        " + " ".join("0x%04x," % v for v in t[i:i + 8]))
        out.append("    },")
    out.append("};")
    out.append("")
    out.append("const uint32_t hpack_huff_dec2[%d] = {" % len(pairs))
    for i in range(0, len(pairs), 6):
        out.append("    " + " ".join("0x%08x," % v for v in pairs[i:i + 6]))
    out.append("};")
    print("\n".join(out))


if __name__ == "__main__":
    main()
