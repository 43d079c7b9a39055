#!/usr/bin/env python3
"""Print artr.h's Unicode class table (artr__uni_runs) for the GPT-2 pre-tokenizer.

The table lists every code point where the class changes, as (start << 2) | class,
class 0 other, 1 letter (general category L*), 2 number (N*).  artr finds a code
point's class by binary search for the last start <= cp.  Whitespace (\\s) is a
short list in the code.  Run with any Python 3; the Unicode version is Python's
(unicodedata.unidata_version), printed in the header comment.

    python3 tools/gen_unicode_table.py > /tmp/table.c
"""
import unicodedata


def cls(cp):
    c = unicodedata.category(chr(cp))
    return 1 if c[0] == "L" else 2 if c[0] == "N" else 0


def main():
    runs, prev = [], None
    for cp in range(0x110000):
        c = cls(cp)
        if c != prev:
            runs.append((cp << 2) | c)
            prev = c
    print("/* Unicode %s general categories L* (1) and N* (2), else 0: (first code point << 2) | class"
          % unicodedata.unidata_version)
    print("   at every change (tools/gen_unicode_table.py). */")
    print("static const uint32_t artr__uni_runs[%d] = {" % len(runs))
    for i in range(0, len(runs), 8):
        print("    " + ", ".join("0x%x" % r for r in runs[i:i + 8]) + ",")
    print("};")


if __name__ == "__main__":
    main()
