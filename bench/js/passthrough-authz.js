// The floor: an authz Worker that does nothing but forward the request to ORIGIN_URL.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(new URL(url.pathname + url.search, env.ORIGIN_URL), request));
  },
};
