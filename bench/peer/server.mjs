// node oidc-provider as the peer of `token_basic`: one client-credentials client, ES256 JWT
// access tokens, one process. bench/peer.py installs oidc-provider next to this file (in
// node_modules/, git-ignored) and starts it:  node server.mjs PORT CLIENT_ID CLIENT_SECRET
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const audience = `${issuer}/api`;
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "bench", alg: "ES256", use: "sig" };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "etranscripts",
      // Only ES256 keys are loaded; the default (RS256) would make the client invalid.
      id_token_signed_response_alg: "ES256",
    },
  ],
  jwks: { keys: [jwk] },
  scopes: ["etranscripts"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // JWT access tokens (RFC 9068) for one resource server, as the gateway issues them.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "etranscripts",
        audience,
        accessTokenTTL: 3600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
});
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
