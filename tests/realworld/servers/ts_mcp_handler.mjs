// Vercel's mcp-handler (2.x, on the official SDK 2.x), mounted at /api/mcp as its Next.js
// quick start does; here behind @hono/node-server, the fetch-to-Node adapter, instead of Next.
// Usage: REALWORLD_PORT=<n> node ts_mcp_handler.mjs <default|protected>. Prints "PORT <n>".
import { createRequire } from "node:module";

const require = createRequire(`${process.env.REALWORLD_NODE_ROOT}/package.json`);
const { createMcpHandler, withMcpAuth, protectedResourceHandler } = await import(require.resolve("mcp-handler"));
const { serve } = await import(require.resolve("@hono/node-server"));
const config = process.argv[2];
const port = Number(process.env.REALWORLD_PORT);
const base = `http://127.0.0.1:${port}`;

let handler = createMcpHandler((server) => {
  for (const name of ["roll_dice", "echo"]) {
    server.registerTool(name, { title: name, description: `The ${name} tool.` }, async () => ({
      content: [{ type: "text", text: name }],
    }));
  }
});
let metadata = null;
if (config === "protected") {
  // withMcpAuth + protectedResourceHandler, as its Authorization docs wire them; the verifier
  // accepts nothing (census never has a token), `required` so a missing token is a 401; the
  // authorization server named is this loopback origin, which serves no RFC 8414 document.
  handler = withMcpAuth(handler, async () => undefined, { required: true });
  metadata = protectedResourceHandler({ authServerUrls: [base], resourceUrl: `${base}/api/mcp` });
}
serve({
  port,
  hostname: "127.0.0.1",
  fetch: (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/api/mcp") return handler(req);
    if (metadata && path.startsWith("/.well-known/oauth-protected-resource")) return metadata(req);
    return new Response("not found", { status: 404 });
  },
}, () => console.log(`PORT ${port}`));
