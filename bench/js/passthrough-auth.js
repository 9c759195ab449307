// The floor: an auth Worker that does nothing but hand the request to AUTHZ.
export default {
  fetch(request, env) {
    return env.AUTHZ.fetch(request);
  },
};
