// Hardened reference auth Worker: the seed jose design (auth.js) given the guarantees edge-auth
// gives, so that the benchmark compares like with like. Like the seed it verifies with jose and
// leaves every decision to the authz Worker (no first-hop refusal). On top of the seed:
// - every client identity header is removed: x-user-* and x-auth-context in any letter case,
//   and their look-alikes (`X_User_ID`: CGI-style origins read any non-alphanumeric as `-`);
// - the identity goes on in an HMAC-SHA256 context (crypto.subtle, key imported once per
//   isolate) bound to this request (method, path and query, request id), which the authz
//   Worker verifies before it trusts anything;
// - a request id (cf-ray, else random) goes to the authz Worker and on every refusal;
// - one JSON log line when it refuses (the authz Worker logs every request it finishes).
import { createRemoteJWKSet, jwtVerify } from "jose";

const MIN_SECRET_LENGTH = 32;
const encoder = new TextEncoder();

let jwks = null;
let jwksUrl = "";
let contextKey = null;
let contextKeySecret = "";

function keySet(env) {
  // Created once per isolate: jose caches the fetched keys inside this object.
  if (jwks === null || jwksUrl !== env.JWKS_URL) {
    jwks = createRemoteJWKSet(new URL(env.JWKS_URL));
    jwksUrl = env.JWKS_URL;
  }
  return jwks;
}

function signingKey(secret) {
  // A promise, so that concurrent first requests share one import.
  if (contextKey === null || contextKeySecret !== secret) {
    contextKey = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    contextKeySecret = secret;
  }
  return contextKey;
}

function isIdentityHeader(name) {
  // Header names come lower-cased; fold what CGI-style origins fold.
  const folded = name.replace(/[^a-z0-9]/g, "-");
  return folded.startsWith("x-user-") || folded === "x-auth-context";
}

function stripIdentityHeaders(headers) {
  const names = [];
  for (const name of headers.keys()) if (isIdentityHeader(name)) names.push(name);
  for (const name of names) headers.delete(name);
}

function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function signContext(secret, claims) {
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const mac = await crypto.subtle.sign("HMAC", await signingKey(secret), encoder.encode(payload));
  return `${payload}.${base64url(new Uint8Array(mac))}`;
}

function refuse(request, requestId, status, error, reason) {
  const url = new URL(request.url);
  console.log(
    JSON.stringify({
      worker: "auth",
      request_id: requestId,
      method: request.method,
      path: url.pathname,
      outcome: "refused",
      status,
      reason,
    }),
  );
  const headers = { "content-type": "application/json", "x-request-id": requestId };
  if (status === 401) headers["www-authenticate"] = `Bearer error="${error}"`;
  return new Response(JSON.stringify({ error }), { status, headers });
}

export default {
  async fetch(request, env) {
    const requestId = request.headers.get("cf-ray") || crypto.randomUUID();
    const secret = env.CONTEXT_SECRET;
    if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) {
      return refuse(request, requestId, 500, "server_misconfigured", "context_secret_invalid");
    }
    const headers = new Headers(request.headers);
    stripIdentityHeaders(headers);
    headers.set("x-request-id", requestId);
    const authorization = request.headers.get("authorization");
    if (authorization !== null) {
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization);
      if (match === null) {
        return refuse(request, requestId, 401, "invalid_request", "authorization_malformed");
      }
      let payload;
      try {
        ({ payload } = await jwtVerify(match[1], keySet(env), {
          issuer: env.ISSUER,
          audience: env.AUDIENCE,
          algorithms: env.ALLOWED_ALGS.split(","),
          typ: env.REQUIRED_TYP || undefined,
          clockTolerance: Number(env.CLOCK_SKEW_SECONDS),
        }));
      } catch (e) {
        // jose's error code says which check failed; never the token itself.
        return refuse(request, requestId, 401, "invalid_token", String(e?.code ?? "invalid"));
      }
      const roles = Array.isArray(payload[env.ROLES_CLAIM]) ? payload[env.ROLES_CLAIM] : [];
      const scopes = typeof payload.scope === "string" ? payload.scope.split(" ") : [];
      const sub = String(payload.sub ?? "");
      const url = new URL(request.url);
      // The identity travels in the context only: the authz Worker sets X-User-* from it.
      headers.set(
        "x-auth-context",
        await signContext(secret, {
          sub,
          roles,
          scopes,
          iat: Math.floor(Date.now() / 1000),
          method: request.method,
          url: url.pathname + url.search,
          request_id: requestId,
        }),
      );
      headers.delete("authorization");
    }
    return env.AUTHZ.fetch(new Request(request, { headers }));
  },
};
