"""Building aws-chunked bodies as a client does (AWS's "Signature
Calculations for the Authorization Header: Transferring Payload in Multiple
Chunks"): the request's SigV4 header signature, then each chunk's signature
chained from it, and the trailer's. Written here from the AWS documents,
independent of vsink's own signer."""
import base64
import datetime
import hashlib
import hmac
import zlib

from vsharness import KEY_ID, SECRET


def signing_key(day):
    k = ("AWS4" + SECRET).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def sign_request(sink, path, content_sha, headers, host=None, method="PUT",
                 query=""):
    """SigV4 header form for a request to sink; returns (headers with
    Authorization, key, amz, scope, seed signature). query: canonical
    (sorted, encoded)."""
    now = datetime.datetime.utcnow()
    amz = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz[:8]
    h = dict(headers)
    h["host"] = host or "%s:%d" % (sink.host, sink.port)
    h["x-amz-date"] = amz
    h["x-amz-content-sha256"] = content_sha
    names = sorted(k.lower() for k in h)
    lower = dict((k.lower(), str(v).strip()) for k, v in h.items())
    creq = "\n".join([method, path, query] +
                     ["%s:%s" % (n, lower[n]) for n in names] +
                     ["", ";".join(names), content_sha])
    scope = "%s/us-east-1/s3/aws4_request" % day
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key(day)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders="
                          "%s, Signature=%s" % (KEY_ID, scope,
                                                ";".join(names), sig))
    del h["host"]
    return h, key, amz, scope, sig


EMPTY = hashlib.sha256(b"").hexdigest()


def chunk_sig(key, amz, scope, prev, data):
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev, EMPTY,
                     hashlib.sha256(data).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def trailer_sig(key, amz, scope, prev, trailer_bytes):
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz, scope, prev,
                     hashlib.sha256(trailer_bytes).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def signed_body(key, amz, scope, seed, data, csize, trailer=None,
                forge=None):
    """forge: 'chunk' (a flipped payload byte after signing), 'swap' (first
    two chunks exchanged), 'trailer-sig'."""
    chunks = [data[i:i + csize] for i in range(0, len(data), csize)] + [b""]
    prev, out = seed, []
    for c in chunks:
        prev = chunk_sig(key, amz, scope, prev, c)
        piece = b"%x;chunk-signature=%s\r\n" % (len(c), prev.encode())
        if c:
            piece += c + b"\r\n"
        out.append(piece)
    if forge == "chunk":
        p = bytearray(out[0])
        p[-3] ^= 1
        out[0] = bytes(p)
    if forge == "swap":
        out[0], out[1] = out[1], out[0]
    body = b"".join(out)
    if trailer is None:
        return body + b"\r\n"
    tsig = trailer_sig(key, amz, scope, prev, trailer.encode() + b"\n")
    if forge == "trailer-sig":
        tsig = tsig[:10] + ("0" if tsig[10] != "0" else "1") + tsig[11:]
    return body + trailer.encode() + b"\r\nx-amz-trailer-signature:" + \
        tsig.encode() + b"\r\n\r\n"


def unsigned_body(data, csize, trailer):
    out = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + csize]),
                                      data[i:i + csize])
                   for i in range(0, len(data), csize))
    return out + b"0\r\n" + (trailer.encode() + b"\r\n" if trailer else b"") \
        + b"\r\n"
