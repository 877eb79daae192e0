"""Range on GET, RFC 9110 §14.1.2 (issue 7, defect 9): a range that selects
nothing is 416 with `Content-Range: bytes */SIZE` (an empty object too), a
header that is not a valid range is ignored (the whole object, 200)."""
from vsharness import Sink, check, pattern

sink = Sink().start()
body = pattern(10)
for key, data in (("ten.bin", body), ("empty.bin", b"")):
    st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/" + key), data)
    check(st == 200, "PUT %s: %d" % (key, st))


urls = {k: sink.presign("GET", "videos/" + k) for k in ("ten.bin",
                                                        "empty.bin")}


def get(key, rng):
    return sink.request("GET", urls[key], headers={"Range": rng})


# unsatisfiable: 416, and the size
for key, size, rng in (("empty.bin", 0, "bytes=-5"),
                       ("empty.bin", 0, "bytes=0-"),
                       ("ten.bin", 10, "bytes=10-"),
                       ("ten.bin", 10, "bytes=-0"),
                       ("ten.bin", 10, "bytes=99999999999999999999999-")):
    st, h, _ = get(key, rng)
    check(st == 416 and h.get("content-range") == "bytes */%d" % size,
          "%s %s: %d %s" % (key, rng, st, h.get("content-range")))

# invalid: ignored
for rng in ("bytes=2--3", "bytes=+2-3", "bytes= 2-3", "bytes=3-2",
            "bytes=0-1,3-4", "bytes=", "items=0-1", "bytes=1"):
    st, h, got = get("ten.bin", rng)
    check(st == 200 and got == body and "content-range" not in h,
          "%s: want the whole object, got %d %s" % (rng, st,
                                                    h.get("content-range")))

# valid
for rng, lo, hi in (("bytes=2-5", 2, 5), ("bytes=-3", 7, 9),
                    ("bytes=7-", 7, 9), ("bytes=5-100", 5, 9),
                    ("bytes=0-99999999999999999999", 0, 9)):
    st, h, got = get("ten.bin", rng)
    check(st == 206 and got == body[lo:hi + 1] and
          h.get("content-range") == "bytes %d-%d/10" % (lo, hi),
          "%s: %d %s" % (rng, st, h.get("content-range")))
check(sink.stop() == 0, "sink exit status")
print("range: 416 with the size, invalid ranges ignored, valid ones served")
