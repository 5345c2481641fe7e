"""Pairs HTTP requests and responses from a tshark JSON export and groups 2xx bodies by OpenAPI
operation: writes samples.json {"METHOD path status": {content_type: [bodies...]}}."""
import json, re, sys, collections
from urllib.parse import urlsplit

doc = json.load(open(sys.argv[1]))
packets = json.load(open(sys.argv[2]))
templates = []
for path, item in doc["paths"].items():
    rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
    literal = len([s for s in path.split("/") if s and not s.startswith("{")])
    templates.append((re.compile(rx), literal, path, set(item)))

def template(path, method):
    best = None
    for rx, literal, t, methods in templates:
        if method in methods and rx.match(path):
            if best is None or literal > best[0]:
                best = (literal, t)
    return best and best[1]

def field(layers, name):
    v = layers.get(name)
    if isinstance(v, list):
        return v[0]
    return v

def shape(value):
    """The structure of a JSON value (member names and types, not values): one sample of each
    structure is kept, so that a route answered thousands of times alike does not crowd out the
    rarer answers."""
    if isinstance(value, dict):
        return ("o", tuple(sorted((k, shape(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("a", tuple(sorted({shape(v) for v in value})))
    return type(value).__name__

requests = {}
seen = collections.defaultdict(set)
samples = collections.defaultdict(lambda: collections.defaultdict(list))
unmatched = collections.Counter()
for p in packets:
    l = p["_source"]["layers"]
    num = field(l, "frame.number")
    method = field(l, "http.request.method")
    if method:
        requests[num] = (method, field(l, "http.request.uri"))
        continue
    code = field(l, "http.response.code")
    if not code or not code.startswith("2"):
        continue
    req = requests.get(field(l, "http.request_in"))
    if not req:
        unmatched["no request"] += 1
        continue
    method, uri = req
    path = urlsplit(uri).path
    t = template(path, method.lower())
    if not t:
        unmatched[f"{method} {path}"] += 1
        continue
    ctype = (field(l, "http.content_type") or "").split(";")[0].strip()
    body = field(l, "http.file_data")
    if (ctype.endswith("json") or ctype == "application/vc") and body:
        try:
            raw = bytes.fromhex(body.replace(":", "")) if re.fullmatch(r"[0-9a-f:]+", body) else body.encode()
            body = json.loads(raw)
        except Exception as e:
            unmatched[f"unparsed {method} {t}"] += 1
            continue
    else:
        body = None
    key = f"{method} {t} {code}"
    signature = (ctype, shape(body))
    if signature not in seen[key]:
        seen[key].add(signature)
        samples[key][ctype].append(body)
json.dump(samples, open(sys.argv[3], "w"))
print(len(samples), "operation/status pairs;", "unmatched:", unmatched.most_common(10))
