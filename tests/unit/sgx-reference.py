#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An implementation of MRENCLAVE, MRSIGNER and the SIGSTRUCT checks independent of
libebcc's (hashlib and Python integers only, no OpenSSL), written from Intel's SDM vol. 3D
(ECREATE, EADD, EEXTEND "Operation"; "Enclave Signature Structure") and the Linux kernel's
SGX selftest (tools/testing/selftests/sgx/sigstruct.c). test-sgx-measure runs it.

    sgx-reference.py LAYOUT IMAGE [SIGSTRUCT]

LAYOUT: lines "size SSAFRAMESIZE SIZE" then "segment OFFSET LENGTH SECINFO_FLAGS MEASURE" (hex
numbers, MEASURE 0 or 1); IMAGE: the segments' bytes one after the other. Prints
"mrenclave HEX", and with a SIGSTRUCT "header ok|bad", "mrsigner HEX", "enclavehash HEX",
"signature ok|bad", "q1 ok|bad", "q2 ok|bad".
"""
import hashlib
import struct
import sys


def mrenclave(layout, image):
    h = hashlib.sha256()
    pos = 0
    for line in layout:
        f = line.split()
        if f[0] == "size":
            ssa, size = int(f[1], 16), int(f[2], 16)
            h.update(struct.pack("<QIQ", 0x0045544145524345, ssa, size) + bytes(44))
            continue
        offset, length, flags, measure = (int(x, 16) for x in f[1:])
        data = image[pos:pos + length]
        pos += length
        for page in range(0, length, 4096):
            h.update(struct.pack("<QQQ", 0x0000000044444145, offset + page, flags) + bytes(40))
            if measure:
                for c in range(0, 4096, 256):
                    h.update(struct.pack("<QQ", 0x00444E4554584545, offset + page + c) + bytes(48))
                    h.update(data[page + c:page + c + 256])
    assert pos == len(image), "image longer than the layout"
    return h.digest()


def le(b):
    return int.from_bytes(b, "little")


def sigstruct(ss):
    assert len(ss) == 1808
    n, e, s = le(ss[128:512]), le(ss[512:516]), le(ss[516:900])
    payload = ss[0:128] + ss[900:1028]
    # EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 9.2): 00 01 FF.. 00 DigestInfo || H.
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(payload).digest()
    em = b"\x00\x01" + b"\xff" * (384 - 3 - len(digest_info)) + b"\x00" + digest_info
    # SDM vol. 3D table "Layout of Enclave Signature Structure": HEADER and HEADER2.
    print("header", "ok" if ss[0:16] == bytes.fromhex("06000000e10000000000010000000000") and
          ss[24:40] == bytes.fromhex("01010000600000006000000001000000") else "bad")
    print("mrsigner", hashlib.sha256(ss[128:512]).hexdigest())
    print("enclavehash", ss[960:992].hex())
    print("signature", "ok" if e == 3 and s < n and pow(s, e, n) == int.from_bytes(em, "big") else "bad")
    q1 = s * s // n
    q2 = s * (s * s - q1 * n) // n
    print("q1", "ok" if le(ss[1040:1424]) == q1 else "bad")
    print("q2", "ok" if le(ss[1424:1808]) == q2 else "bad")


def main():
    layout = open(sys.argv[1]).read().splitlines()
    image = open(sys.argv[2], "rb").read()
    print("mrenclave", mrenclave(layout, image).hex())
    if len(sys.argv) > 3:
        sigstruct(open(sys.argv[3], "rb").read())


if __name__ == "__main__":
    main()
