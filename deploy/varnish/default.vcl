vcl 4.1;
# Varnish in front of the API processes (docker compose --profile scale-out; the scale-out test
# runs this same file with its own addresses). Needs vmod xkey (Debian: varnish-modules).
# - Responses are cached as their Cache-Control says; requests with Authorization are passed.
# - The API labels each response with Surrogate-Key; xkey indexes objects by those keys, and
#   the API purges them (EDGE_PURGE_URL=http://varnish/, EDGE_PURGE_STYLE=xkey) with
#   PURGE / and an `xkey-purge` header, once every API process has applied the change.
# - Varnish adds the client's address to X-Forwarded-For; the API believes it (TRUST_PROXY=1).
# - A hit carries none of the API's per-request headers (request id, rate-limit counts).
import directors;
import xkey;

backend api_1 {
  .host = "api-1";
  .port = "3000";
  .probe = { .url = "/healthz"; .interval = 1s; .timeout = 1s; .window = 3; .threshold = 2; }
}
backend api_2 {
  .host = "api-2";
  .port = "3000";
  .probe = { .url = "/healthz"; .interval = 1s; .timeout = 1s; .window = 3; .threshold = 2; }
}

# Who may purge: the API processes.
acl purgers { "api-1"; "api-2"; }

sub vcl_init {
  new api = directors.round_robin();
  api.add_backend(api_1);
  api.add_backend(api_2);
}

sub vcl_recv {
  set req.backend_hint = api.backend();
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
    if (!req.http.xkey-purge) { return (synth(400, "xkey-purge header missing")); }
    set req.http.n-gone = xkey.purge(req.http.xkey-purge);
    return (synth(200, "Purged " + req.http.n-gone));
  }
}

sub vcl_backend_response {
  if (beresp.http.Surrogate-Key) { set beresp.http.xkey = beresp.http.Surrogate-Key; }
}

sub vcl_deliver {
  if (obj.hits > 0) {
    set resp.http.X-Cache = "HIT";
    # A hit never reached the API: its request id and rate-limit counts are those of the request
    # that filled the cache (a budget spent by another client, read by polite clients as theirs).
    unset resp.http.X-Request-Id;
    unset resp.http.RateLimit-Limit;
    unset resp.http.RateLimit-Remaining;
    unset resp.http.RateLimit-Reset;
  } else {
    set resp.http.X-Cache = "MISS";
  }
  unset resp.http.xkey;
}
