"""--on-existing: version keeps every object, reject answers 412, overwrite
replaces; If-None-Match: * answers 412 whatever the policy; and so when
eight PUTs of one new key come at once (one 200, never a replacement)."""
import threading

from vsharness import Sink, check, pattern, s3_error_code, sha256

for policy in ("version", "reject", "overwrite"):
    sink = Sink(tag="policy-" + policy,
                args=["--on-existing", policy]).start()
    url = sink.presign("PUT", "videos/k.mp4")
    st1, h1, _ = sink.request("PUT", url, b"first")
    st2, h2, body2 = sink.request("PUT", url, b"second")
    st3, _, body3 = sink.request("PUT", url, b"third",
                                 {"If-None-Match": "*"})
    check(st1 == 200, "%s: first PUT %d" % (policy, st1))
    check(st3 == 412 and s3_error_code(body3) == "PreconditionFailed",
          "%s: If-None-Match: * on an existing key gave %d" % (policy, st3))
    st, _, cur = sink.request("GET", sink.presign("GET", "videos/k.mp4"))
    ev = sink.manifest_events("stored")
    if policy == "version":
        check(st2 == 200 and h1["x-amz-version-id"] != h2["x-amz-version-id"],
              "version: second PUT")
        check(cur == b"second" and len(ev) == 2, "version: current/events")
    elif policy == "reject":
        check(st2 == 412 and s3_error_code(body2) == "PreconditionFailed",
              "reject: second PUT gave %d" % st2)
        check(cur == b"first" and len(ev) == 1, "reject: current/events")
    else:
        check(st2 == 200 and "x-amz-version-id" not in h2,
              "overwrite: second PUT")
        check(cur == b"second" and len(ev) == 2, "overwrite: current")
        versions = [f for f in sink.object_files() if "@" in f and
                    f.endswith(".json") is False and "@current" not in f]
        check(len(versions) == 1, "overwrite kept old bytes: %s" % versions)
    check(sha256(cur) == ev[-1]["sha256"], "%s: manifest sha" % policy)
    check(sink.stop() == 0, "sink exit status")
    print("policy %s OK" % policy)


# Eight PUTs of one new key at once, ten keys: the key's lock in the store
# makes the look at the key and the write one step, so under reject (and
# If-None-Match: * under version) exactly one is answered 200 and the key
# holds its bytes; under overwrite one version stays, one of those sent.
def race(sink, key, headers=None):
    bodies = [pattern(1 << 20, seed=100 * i + len(key)) for i in range(8)]
    url = sink.presign("PUT", "videos/" + key)
    gate, out = threading.Barrier(len(bodies)), [None] * len(bodies)

    def put(i):
        gate.wait()
        out[i] = sink.request("PUT", url, bodies[i], headers)[0]

    threads = [threading.Thread(target=put, args=(i,))
               for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    st, _, cur = sink.request("GET", sink.presign("GET", "videos/" + key))
    return out, bodies, cur


for policy, headers in (("reject", None), ("version", {"If-None-Match": "*"}),
                        ("overwrite", None)):
    sink = Sink(tag="race-" + policy, args=["--on-existing", policy]).start()
    for k in range(10):
        key = "race/%d.mp4" % k
        out, bodies, cur = race(sink, key, headers)
        ok = [i for i, st in enumerate(out) if st == 200]
        shas = [e["sha256"] for e in sink.manifest_events("stored")
                if e["key"] == key]
        if policy == "overwrite":
            check(len(ok) == len(out), "overwrite: answers %s" % out)
            check(cur in bodies and sha256(cur) in shas,
                  "overwrite: %s holds bytes no PUT recorded" % key)
            held = [f for f in sink.object_files() if "/race/%d.mp4/@" % k
                    in f and not f.endswith((".json", "@current"))]
            check(len(held) == 1, "overwrite: %s kept %s" % (key, held))
        else:
            check(len(ok) == 1 and sorted(set(out)) == [200, 412],
                  "%s: %s answered %s" % (policy, key, out))
            check(cur == bodies[ok[0]] and len(shas) == 1,
                  "%s: %s replaced (%d stored events)"
                  % (policy, key, len(shas)))
    check(sink.stop() == 0, "sink exit status")
    print("race under %s%s OK" % (policy, " + If-None-Match" if headers
                                   else ""))
