// The official TypeScript SDK, 2.x line (`@modelcontextprotocol/server` + `/node`).
// Usage: node ts_v2.mjs <handler|handler-guarded>
//   handler:         createMcpHandler() (2026-07-28 + stateless 2025 fallback) via toNodeHandler,
//                    nothing in front — the entry is "deliberately validation-free".
//   handler-guarded: the same behind the SDK's localhost Host/Origin guards, as its README wires
//                    plain node:http.
// Prints "PORT <n>" once listening on 127.0.0.1.
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(`${process.env.REALWORLD_NODE_ROOT}/package.json`);
const { McpServer, createMcpHandler } = await import(require.resolve("@modelcontextprotocol/server"));
const { toNodeHandler, localhostHostValidation, localhostOriginValidation } = await import(
  require.resolve("@modelcontextprotocol/node")
);
const config = process.argv[2];

const handler = toNodeHandler(
  createMcpHandler(() => {
    const server = new McpServer({ name: "ts-sdk-2", version: "realworld" });
    for (const name of ["echo", "add"]) {
      server.registerTool(name, { description: `The ${name} tool.` }, async () => ({
        content: [{ type: "text", text: name }],
      }));
    }
    return server;
  }),
);
const validateHost = localhostHostValidation();
const validateOrigin = localhostOriginValidation();
const http = createServer(async (req, res) => {
  if (config === "handler-guarded" && (!validateHost(req, res) || !validateOrigin(req, res))) return;
  if (!req.url.startsWith("/mcp")) {
    res.statusCode = 404;
    return res.end("not found");
  }
  await handler(req, res);
});
http.listen(0, "127.0.0.1", () => console.log(`PORT ${http.address().port}`));
