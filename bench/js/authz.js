// Reference authz Worker of the jose design: the same rule table as workers/authz/rules.toml,
// matched the naive way (exact path or prefix, no normalization), then forwarded to ORIGIN_URL.

// First match decides; `check` gets the user (null when anonymous).
const RULES = [
  { path: "/health", methods: ["GET", "HEAD"], public: true },
  { prefix: "/admin", check: (u) => u.roles.includes("admin") },
  {
    profile: true,
    methods: ["GET", "PUT"],
    check: (u, id) => u.sub === id || u.roles.includes("admin"),
  },
  { prefix: "/secret-data", check: (u) => u.scopes.includes("premium") },
  { prefix: "/", check: () => true },
];

function matches(rule, method, path) {
  if (rule.methods && !rule.methods.includes(method)) return null;
  if (rule.path !== undefined) return path === rule.path ? [] : null;
  if (rule.profile) {
    const parts = path.split("/");
    return parts.length === 3 && parts[1] === "profile" && parts[2] !== "" ? [parts[2]] : null;
  }
  if (rule.prefix === "/") return [];
  return path === rule.prefix || path.startsWith(rule.prefix + "/") ? [] : null;
}

function deny(status, error) {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const sub = request.headers.get("x-user-id");
    const user =
      sub === null
        ? null
        : {
            sub,
            roles: (request.headers.get("x-user-roles") || "").split(","),
            scopes: (request.headers.get("x-user-scopes") || "").split(" "),
          };
    for (const rule of RULES) {
      const params = matches(rule, request.method, url.pathname);
      if (params === null) continue;
      if (!rule.public) {
        if (user === null) return deny(401, "unauthorized");
        if (!rule.check(user, ...params)) return deny(403, "forbidden");
      }
      const target = new URL(url.pathname + url.search, env.ORIGIN_URL);
      return fetch(new Request(target, request));
    }
    return deny(user === null ? 401 : 403, "no_rule");
  },
};
