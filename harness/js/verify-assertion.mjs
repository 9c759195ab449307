// Verifies an edge-auth assertion the way an origin would, with the `jose` package: the
// README's "Verify the assertion at your origin" snippet, run by harness/tests/assertion.rs.
// Usage: node verify-assertion.mjs <gateway base URL> <issuer> <audience> <jwt>
// Prints the verified claims as JSON; exits 1 with the error on any failure.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [gateway, issuer, audience, jwt] = process.argv.slice(2);
const JWKS = createRemoteJWKSet(new URL("/.well-known/edge-auth/jwks.json", gateway));

try {
  const { payload } = await jwtVerify(jwt, JWKS, {
    typ: "edge-auth+jwt",
    issuer,
    audience,
    algorithms: ["EdDSA", "ES256"],
  });
  console.log(JSON.stringify(payload));
} catch (error) {
  console.error(`${error.code ?? "error"}: ${error.message}`);
  process.exit(1);
}
