// Samples the CPU of every Worker of a workerd started with --inspector-addr (the benchmark's
// `--inspect ADDR` does that for the Rust pair) and prints where the time goes, by function.
// Usage: node --experimental-websocket bench/profile.mjs 127.0.0.1:9229 [seconds]
const [addr, seconds = "5"] = process.argv.slice(2);
if (!addr) throw new Error("usage: profile.mjs HOST:PORT [seconds]");

const targets = await (await fetch(`http://${addr}/json/list`)).json();

function session(url) {
  const ws = new WebSocket(url);
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const opened = new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      id += 1;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { opened, send, close: () => ws.close() };
}

const sessions = [];
for (const target of targets) {
  const s = session(target.webSocketDebuggerUrl);
  await s.opened;
  await s.send("Profiler.enable");
  await s.send("Profiler.setSamplingInterval", { interval: 200 });
  await s.send("Profiler.start");
  sessions.push({ target, s });
}
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
for (const { target, s } of sessions) {
  const { result } = await s.send("Profiler.stop");
  s.close();
  const profile = result.profile;
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const f = byNode.get(nodeId).callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url ? f.url.split("/").pop() : ""}:${f.lineNumber}`;
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  console.log(`\n== ${target.title || target.id} (${(total / 1000).toFixed(0)} ms sampled)`);
  [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .forEach(([name, us]) => console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`));
}
