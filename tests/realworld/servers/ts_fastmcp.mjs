// FastMCP (TypeScript, the `fastmcp` npm package), started as its README shows.
// Usage: REALWORLD_PORT=<n> node ts_fastmcp.mjs <default|stateless-json>
// The same server answers Streamable HTTP on /mcp and HTTP+SSE on /sse. Prints "PORT <n>".
import { createRequire } from "node:module";

const require = createRequire(`${process.env.REALWORLD_NODE_ROOT}/package.json`);
const { FastMCP } = await import(require.resolve("fastmcp"));
const config = process.argv[2];
const server = new FastMCP({ name: "ts-fastmcp", version: "realworld" });
for (const name of ["echo", "add", "now"]) {
  server.addTool({ name, description: `The ${name} tool.`, execute: async () => name });
}
const port = Number(process.env.REALWORLD_PORT);
const httpStream = { port, host: "127.0.0.1" };
if (config === "stateless-json") Object.assign(httpStream, { stateless: true, enableJsonResponse: true });
await server.start({ transportType: "httpStream", httpStream });
console.log(`PORT ${port}`);
