"""Fragment bombs against a running server: how fast each is refused, what it does to the server's
memory, and how `{ __typename }` fares while four clients send them.

    python3 bench/fragment_bomb.py SERVER_PID [URL]   # URL defaults to http://127.0.0.1:8080/graphql

Run the server with HIREGRAPH_ANONYMOUS_PER_MINUTE=0, or the anonymous budget refuses the flood first.
"""
import json, sys, threading, time, urllib.error, urllib.request

pid = int(sys.argv[1])
url = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8080/graphql"


def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1]) / 1024
def bomb(n):
    doc = f"query {{ ...F{n} }} fragment F0 on Query {{ __typename }}" + "".join(f" fragment F{i} on Query {{ ...F{i-1} ...F{i-1} }}" for i in range(1, n+1))
    return doc
def post(q):
    req = urllib.request.Request(url, data=json.dumps({"query": q}).encode(), headers={"content-type": "application/json"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req) as r: body = r.read(); code = r.status
    except urllib.error.HTTPError as e: body = e.read(); code = e.code
    return (time.perf_counter() - t) * 1000, code, json.loads(body)
for _ in range(50): post("{ __typename }")
before = rss()
worst = 0
for rep in range(20):
    for n in range(10, 41):
        ms, code, body = post(bomb(n))
        assert code == 400 and body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
        worst = max(worst, ms)
ms30 = sorted(post(bomb(30))[0] for _ in range(200))
after = rss()
print(f"620 bombs n=10..40: slowest {worst:.2f} ms; n=30 over 200 tries p50 {ms30[100]:.2f} ms p99 {ms30[198]:.2f} ms; RSS {before:.1f} -> {after:.1f} MiB (+{after-before:.1f})")
# __typename while 4 clients send bombs
stop = False
def flood():
    while not stop: post(bomb(30))
ts = [threading.Thread(target=flood) for _ in range(4)]
[t.start() for t in ts]
lat = sorted(post("{ __typename }")[0] for _ in range(300))
stop = True; [t.join() for t in ts]
print(f"{{ __typename }} while 4 clients send n=30 bombs: p50 {lat[150]:.2f} ms p99 {lat[297]:.2f} ms; RSS {rss():.1f} MiB")
