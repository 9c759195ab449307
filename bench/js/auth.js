// Reference auth Worker: the jose design edge-auth replaces. One remote key set per isolate,
// jwtVerify with issuer, audience, algorithms and typ; identity handed to the authz Worker as
// plain X-User-* headers over the AUTHZ service binding (which only this Worker can reach).
import { createRemoteJWKSet, jwtVerify } from "jose";

// Identity headers a client must never set itself.
const STRIPPED = ["x-user-id", "x-user-roles", "x-user-scopes", "x-auth-context"];

let jwks = null;
let jwksUrl = "";

function keySet(env) {
  // Created once per isolate: jose caches the fetched keys inside this object.
  if (jwks === null || jwksUrl !== env.JWKS_URL) {
    jwks = createRemoteJWKSet(new URL(env.JWKS_URL));
    jwksUrl = env.JWKS_URL;
  }
  return jwks;
}

function unauthorized(error) {
  return new Response(JSON.stringify({ error }), {
    status: 401,
    headers: {
      "content-type": "application/json",
      "www-authenticate": `Bearer error="${error}"`,
    },
  });
}

export default {
  async fetch(request, env) {
    const headers = new Headers(request.headers);
    for (const name of STRIPPED) headers.delete(name);
    const authorization = request.headers.get("authorization");
    if (authorization !== null) {
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization);
      if (match === null) return unauthorized("invalid_request");
      let payload;
      try {
        ({ payload } = await jwtVerify(match[1], keySet(env), {
          issuer: env.ISSUER,
          audience: env.AUDIENCE,
          algorithms: env.ALLOWED_ALGS.split(","),
          typ: env.REQUIRED_TYP || undefined,
          clockTolerance: Number(env.CLOCK_SKEW_SECONDS),
        }));
      } catch {
        return unauthorized("invalid_token");
      }
      const roles = Array.isArray(payload[env.ROLES_CLAIM]) ? payload[env.ROLES_CLAIM] : [];
      const scopes = typeof payload.scope === "string" ? payload.scope : "";
      headers.set("x-user-id", String(payload.sub ?? ""));
      headers.set("x-user-roles", roles.join(","));
      headers.set("x-user-scopes", scopes);
      headers.delete("authorization");
    }
    return env.AUTHZ.fetch(new Request(request, { headers }));
  },
};
