// The official TypeScript SDK, 1.x line (`@modelcontextprotocol/sdk`), wired as its README shows.
// Usage: node ts_sdk1.mjs <alias: sdk-1-12|sdk-1-24> <config: default|stateless-json|sse|protected|oauth-as|rebinding-on>
// Prints "PORT <n>" once listening on 127.0.0.1 (an OS-chosen port).
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

const [alias, config] = process.argv.slice(2);
// Packages live in the realworld cache (REALWORLD_NODE_ROOT), not beside this script.
const require = createRequire(`${process.env.REALWORLD_NODE_ROOT}/package.json`);
const load = (sub) => import(require.resolve(`${alias}/${sub}`));
const { McpServer } = await load("server/mcp.js");
const { StreamableHTTPServerTransport } = await load("server/streamableHttp.js");
const { SSEServerTransport } = await load("server/sse.js");
const { isInitializeRequest } = await load("types.js");
const express = (await import(require.resolve("express", { paths: [require.resolve(`${alias}/package.json`)] }))).default;

function makeServer() {
  const server = new McpServer({ name: `ts-${alias}`, version: "realworld" });
  server.tool("echo", "Echo a fixed text.", async () => ({ content: [{ type: "text", text: "echo" }] }));
  server.tool("time", "Say what time it is.", async () => ({ content: [{ type: "text", text: "now" }] }));
  return server;
}

let app;
if (alias === "sdk-1-24" && config !== "rebinding-on") {
  // 1.24 ships createMcpExpressApp(): JSON body parser plus, for a loopback host, Host-header
  // validation against DNS rebinding — its documented default.
  const { createMcpExpressApp } = await load("server/express.js");
  app = createMcpExpressApp();
} else {
  app = express();
  app.use(express.json());
}

const transports = {};
if (config === "sse") {
  app.get("/sse", async (req, res) => {
    const transport = new SSEServerTransport("/messages", res);
    transports[transport.sessionId] = transport;
    res.on("close", () => delete transports[transport.sessionId]);
    await makeServer().connect(transport);
  });
  app.post("/messages", async (req, res) => {
    const transport = transports[req.query.sessionId];
    if (!transport) return res.status(400).send("No transport found for sessionId");
    await transport.handlePostMessage(req, res, req.body);
  });
} else if (config === "stateless-json") {
  app.post("/mcp", async (req, res) => {
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => { transport.close(); server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed = (req, res) => res.status(405).json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null });
  app.get("/mcp", notAllowed);
  app.delete("/mcp", notAllowed);
} else {
  // default: stateful, as the README's "with session management" example.
  if (config === "protected") {
    // The bearer middleware with resource-server metadata (RFC 9728) the SDK offers.
    const { requireBearerAuth } = await load("server/auth/middleware/bearerAuth.js");
    const { mcpAuthMetadataRouter } = await load("server/auth/router.js");
    const port0 = Number(process.env.REALWORLD_PORT);
    const base = `http://127.0.0.1:${port0}`;
    app.use(mcpAuthMetadataRouter({
      oauthMetadata: {
        issuer: `${base}/`, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/register`, response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      },
      resourceServerUrl: new URL(`${base}/mcp`),
    }));
    app.use("/mcp", requireBearerAuth({
      verifier: { verifyAccessToken: async () => { throw new Error("no tokens here"); } },
      resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp`,
    }));
  }
  if (config === "oauth-as") {
    // The authorization server and resource server in one, as the SDK's README of that time
    // wired it: mcpAuthRouter() (RFC 8414 metadata, DCR, and RFC 9728 metadata at the root naming
    // the origin as the resource) and requireBearerAuth() on /mcp, with no resource_metadata link.
    const { mcpAuthRouter } = await load("server/auth/router.js");
    const { requireBearerAuth } = await load("server/auth/middleware/bearerAuth.js");
    const refuse = async () => { throw new Error("no tokens here"); };
    const provider = {
      clientsStore: { getClient: async () => undefined, registerClient: async (c) => c },
      authorize: refuse, challengeForAuthorizationCode: refuse, exchangeAuthorizationCode: refuse,
      exchangeRefreshToken: refuse, verifyAccessToken: refuse,
    };
    const issuerUrl = new URL(`http://127.0.0.1:${Number(process.env.REALWORLD_PORT)}`);
    app.use(mcpAuthRouter({ provider, issuerUrl }));
    app.use("/mcp", requireBearerAuth({ verifier: provider }));
  }
  app.post("/mcp", async (req, res) => {
    const sessionId = req.headers["mcp-session-id"];
    let transport;
    if (sessionId && transports[sessionId]) {
      transport = transports[sessionId];
    } else if (!sessionId && isInitializeRequest(req.body)) {
      const guard = config === "rebinding-on"
        // The transport's own DNS-rebinding protection (off unless asked for), as its docs show.
        ? { enableDnsRebindingProtection: true, allowedHosts: [req.headers.host], allowedOrigins: ["http://127.0.0.1"] }
        : {};
      transport = new StreamableHTTPServerTransport({
        ...guard,
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => { transports[id] = transport; },
      });
      transport.onclose = () => { if (transport.sessionId) delete transports[transport.sessionId]; };
      await makeServer().connect(transport);
    } else {
      return res.status(400).json({ jsonrpc: "2.0", error: { code: -32000, message: "Bad Request: No valid session ID provided" }, id: null });
    }
    await transport.handleRequest(req, res, req.body);
  });
  const sessionRequest = async (req, res) => {
    const transport = transports[req.headers["mcp-session-id"]];
    if (!transport) return res.status(400).send("Invalid or missing session ID");
    await transport.handleRequest(req, res);
  };
  app.get("/mcp", sessionRequest);
  app.delete("/mcp", sessionRequest);
}

const port = Number(process.env.REALWORLD_PORT || 0);
const listener = app.listen(port, "127.0.0.1", () => console.log(`PORT ${listener.address().port}`));
