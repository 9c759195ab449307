// A key-set service for the end-to-end tests, bound to the auth Worker as JWKS_SERVICE's
// binding: it answers /.well-known/jwks.json with whatever JWKS_UPSTREAM serves (status, body,
// Cache-Control) — the test's identity provider, so the test rotates and retires keys and makes
// the set fail (500, garbage) there, or another gateway's /.well-known/edge-auth/jwks.json. When the upstream is down, its fetch throws and
// this Worker fails the way a broken service does (workerd answers 500).
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/.well-known/jwks.json") {
      return new Response("not found", { status: 404 });
    }
    const upstream = await fetch(env.JWKS_UPSTREAM);
    const headers = new Headers({ "content-type": "application/json" });
    const cacheControl = upstream.headers.get("cache-control");
    if (cacheControl !== null) {
      headers.set("cache-control", cacheControl);
    }
    return new Response(upstream.body, { status: upstream.status, headers });
  },
};
