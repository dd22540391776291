// node oidc-provider (a certified OpenID Provider) for tests/auth/test_oidc_real.py.
//
// It runs at the library's defaults, which is the point of the test: with
// response_type=code and `conformIdTokenClaims` (on by default) the ID token
// carries only sub and the protocol claims; email, email_verified and name
// come from UserInfo alone (OIDC Core 5.4). What this file adds is only what
// any deployment must configure: one confidential client, the claims each
// scope releases, the accounts, signed cookies, and a loopback listener.
// The built-in development sign-in and consent pages (devInteractions) stand
// in for a person: any login name signs in as the account of that name.
//
// Environment: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_REDIRECT_URIS (space-separated), OIDC_ACCOUNTS_FILE (JSON object:
// account id -> claims, read on every look-up so tests can add people).
//
// GET /test/log (not part of OIDC) lists what happened at /token and
// UserInfo, so tests can show which path a sign-in took.

import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const port = Number(env('OIDC_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const accountsFile = env('OIDC_ACCOUNTS_FILE');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: env('OIDC_REDIRECT_URIS').split(' '),
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: {
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  cookies: { keys: ['studio-tests-only-cookie-signing-key-0123456789'] },
  async findAccount(ctx, id) {
    const claims = JSON.parse(readFileSync(accountsFile, 'utf8'))[id];
    if (!claims) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...claims };
      },
    };
  },
});

const log = [];

const jwtPayload = (token) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/log') {
    ctx.body = log;
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.method === 'POST') {
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    log.push({
      endpoint: 'token',
      status: ctx.status,
      error: body.error ?? null,
      id_token_claims: body.id_token ? Object.keys(jwtPayload(body.id_token)).sort() : null,
    });
  } else if (ctx.path === '/me') {
    log.push({ endpoint: 'userinfo', status: ctx.status });
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${issuer} ready`);
});
