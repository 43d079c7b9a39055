#!/usr/bin/env python3
"""Print artr.h's Unicode class table (artr__uni_runs) for the pre-tokenizers.

The table lists every code point where the class changes, as (start << 3) | class:
0 other, 1 letter (general category L*), 2 number (N*), 3 whitespace (the White_Space
property, what \\s matches in the pre-tokenizers' regexes), 4 mark (M*), 5 punctuation
(P*).  artr finds a code point's class by binary search for the last start <= cp.
Run with any Python 3; the Unicode version is Python's (unicodedata.unidata_version),
printed in the header comment.  Paste the output over the table in artr.h.

    python3 tools/gen_unicode_table.py > /tmp/table.c
"""
import unicodedata

# PropList.txt White_Space (unicodedata has no property lookup); the same list in every
# Unicode version since 6.3, when U+180E left it.
WHITE_SPACE = set(range(0x09, 0x0E)) | {0x20, 0x85, 0xA0, 0x1680} | set(range(0x2000, 0x200B)) | \
    {0x2028, 0x2029, 0x202F, 0x205F, 0x3000}

OTHER, LETTER, NUMBER, SPACE, MARK, PUNCT = range(6)


def cls(cp):
    if cp in WHITE_SPACE:
        return SPACE
    c = unicodedata.category(chr(cp))[0]
    return {"L": LETTER, "N": NUMBER, "M": MARK, "P": PUNCT}.get(c, OTHER)


def main():
    runs, prev = [], None
    for cp in range(0x110000):
        c = cls(cp)
        if c != prev:
            runs.append((cp << 3) | c)
            prev = c
    print("/* Unicode %s: (first code point << 3) | class at every change of class: 0 other,"
          % unicodedata.unidata_version)
    print("   1 L*, 2 N*, 3 White_Space, 4 M*, 5 P* (tools/gen_unicode_table.py). */")
    print("static const uint32_t artr__uni_runs[%d] = {" % len(runs))
    for i in range(0, len(runs), 8):
        print("    " + ", ".join("0x%x" % r for r in runs[i:i + 8]) + ",")
    print("};")


if __name__ == "__main__":
    main()
