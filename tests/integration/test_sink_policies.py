"""--on-existing: version keeps every object, reject answers 412, overwrite
replaces; If-None-Match: * answers 412 whatever the policy."""
from vsharness import Sink, check, s3_error_code, sha256

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
