// Preloaded (node --import) into the CLIs these tests start (server-everything, supergateway,
// mcp-proxy): a TCP listen() that names no host binds 127.0.0.1 instead of every interface, and
// each listening TCP server prints "PORT <n>" — the readiness line the tests wait for, sent by
// the 'listening' event itself (a CLI's own "listening on …" log may come before the bind).
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === "object" && !("path" in first) && !("fd" in first) && !first.host) {
    args[0] = { ...first, host: "127.0.0.1" };
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  }
  this.once("listening", () => {
    const address = this.address();
    if (address && typeof address === "object") console.log(`PORT ${address.port}`);
  });
  return listen.apply(this, args);
};
