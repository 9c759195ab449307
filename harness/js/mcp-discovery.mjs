// An MCP client's discovery of the authorization server, by the official MCP TypeScript SDK:
// one request without a token, the resource_metadata URL taken from its 401, the metadata
// fetched from there (and once more by the SDK's own path-aware discovery, without the hint),
// and the resource indicator the SDK would send, checked against the server URL.
// Usage: node harness/js/mcp-discovery.mjs <server URL>. Prints one JSON object; the Rust test
// (harness/tests/resource_metadata.rs) asserts on it.
import {
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
  selectResourceURL,
} from "@modelcontextprotocol/sdk/client/auth.js";

const serverUrl = process.argv[2];
const refused = await fetch(serverUrl);
const challenge = extractWWWAuthenticateParams(refused);
const metadata = await discoverOAuthProtectedResourceMetadata(serverUrl, {
  resourceMetadataUrl: challenge.resourceMetadataUrl,
});
const discovered = await discoverOAuthProtectedResourceMetadata(serverUrl);
// Throws when the metadata's resource does not cover the server URL.
const resource = await selectResourceURL(serverUrl, {}, metadata);
console.log(
  JSON.stringify({
    status: refused.status,
    resource_metadata_url: challenge.resourceMetadataUrl?.href ?? null,
    metadata,
    discovered,
    resource_indicator: resource?.href ?? null,
  }),
);
