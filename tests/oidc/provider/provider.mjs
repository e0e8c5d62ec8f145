// A real OpenID provider (panva's certified `oidc-provider`) on loopback, for the gateway's
// OIDC tests. Not part of the gateway: tests start it as a subprocess (tests/oidc/provider.py).
//
//   node provider.mjs CONFIG.json
//
// CONFIG.json: { "clients": [...client metadata...], "accounts": { "<sub>": {claims} },
//                "jwks": { "keys": [private JWKs] }, "cookie_keys": ["..."], "admin_token": "..." }
//
// It listens on 127.0.0.1 on a free port and prints one line, {"issuer": "http://127.0.0.1:N"},
// once it answers. Test hooks, guarded by `Authorization: Bearer <admin_token>`:
//   POST /_test/jwks      body {"keys": [...]}: swap the signing keys (key rotation). A new
//                         Provider is built on the same port; sessions and grants survive, as
//                         the in-memory adapter is shared by every Provider in the process.
//   GET  /_test/events    what the provider did that tests wait on (back-channel results).
import http from 'node:http';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const events = [];

function build(issuer, jwks) {
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks,
    cookies: { keys: config.cookie_keys },
    // Everything the gateway asks for: code flow with PKCE (S256 only), RP-initiated logout
    // and back-channel logout. devInteractions is the package's own login page.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
    },
    claims: {
      // `groups` is released with `openid`, as a state IdP releases it to this one application.
      openid: ['sub', 'groups'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    // Put the scope's claims in the ID token itself, as most enterprise IdPs do; with
    // "userinfo_only_claims" they are only at the UserInfo endpoint (the spec's default).
    conformIdTokenClaims: Boolean(config.userinfo_only_claims),
    ttl: { IdToken: config.id_token_ttl || 3600 },
    async findAccount(_ctx, id) {
      const claims = config.accounts[id];
      if (!claims) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    // First-party application: no consent screen (the state has approved it for its staff).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.params.scope);
      await grant.save();
      return grant;
    },
    // The package refuses to call special-use addresses (SSRF guard) and gives up after
    // 2.5 s; the relying party under test lives on loopback on a loaded machine.
    async fetch(url, options) {
      const { dispatcher: _ignored, ...rest } = options;
      rest.signal = AbortSignal.timeout(60_000);
      return globalThis.fetch(url, rest);
    },
  });
  provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
    events.push({ event: 'backchannel.success', client: client.clientId, sub: accountId, sid });
  });
  provider.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
    events.push({ event: 'backchannel.error', client: client.clientId, sub: accountId, sid, error: String(err) });
  });
  return provider;
}

function admin(req) {
  return req.headers.authorization === `Bearer ${config.admin_token}`;
}

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

let handler = null;
const server = http.createServer(async (req, res) => {
  if (req.url.startsWith('/_test/')) {
    if (!admin(req)) { res.writeHead(401).end(); return; }
    if (req.method === 'POST' && req.url === '/_test/jwks') {
      const jwks = JSON.parse(await body(req));
      handler = build(issuer, jwks).callback();
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && req.url === '/_test/events') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(events));
      return;
    }
    res.writeHead(404).end();
    return;
  }
  handler(req, res);
});

let issuer = '';
server.listen(0, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  handler = build(issuer, config.jwks).callback();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
