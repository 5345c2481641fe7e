// The identity provider of the OIDC integration tests (tests/api/oidc*.rs), of the browser run
// (.ci/e2e-oidc.sh) and of signing in locally as a test citizen (docs/oidc.md): the
// OpenID-certified `oidc-provider` on loopback, with one confidential client (code flow + PKCE,
// client_secret_basic), a second client (`other-app`) and test accounts.
//
//   PORT (default 9090), REDIRECT_URI (default http://127.0.0.1:8080/holder/oidc/callback),
//   POST_LOGOUT_URI (default http://127.0.0.1:8080/holder), KID (the signing key's id, default
//   test-1; a fresh key each start, so restarting with another KID rotates the key).
//   Prints `listening <issuer>` once up. Any password signs an account in (the provider's
//   development login page).
//
// For the tests only: TAMPER=<mode> rewrites the ID token of every token response after the
// provider made it (the code exchange itself is the provider's, PKCE and all), so the relying
// party's own checks meet a token that is wrong in exactly one way. `GET /test/counts` answers
// how often discovery and the JWKS were read. See TAMPERS below for the modes.
import { randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 9090);
const issuer = `http://127.0.0.1:${port}`;
const redirect = process.env.REDIRECT_URI ?? 'http://127.0.0.1:8080/holder/oidc/callback';
const postLogout = process.env.POST_LOGOUT_URI ?? 'http://127.0.0.1:8080/holder';
const kid = process.env.KID ?? 'test-1';
const clientSecret = 'elicence-test-secret';

// Test citizens: `resident_id` is the claim elicence reads by default.
const accounts = {
  citizen: { resident_id: '11010519491231002X', name: '张三' },
  enterprise: { resident_id: '91350100M000100Y43', name: '某公司' },
  'no-claim': { name: '无证号' },
  malformed: { resident_id: '110105194912310021', name: '错号' },
  // Only the forged-token tests sign in as this one, so its ID can be searched for in logs.
  forged: { resident_id: '510104198807070016', name: '李四' },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
// A key the JWKS never lists: what a forger holds.
const { privateKey: rogueKey } = await generateKeyPair('RS256');
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sign = (claims, key, keyId) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: keyId, typ: 'JWT' }).sign(key);

// Each mode changes one thing and signs the result with the provider's own key unless the
// mode is about the key.
const TAMPERS = {
  nonce: (c) => sign({ ...c, nonce: randomBytes(16).toString('base64url') }, privateKey, kid),
  expired: (c) => sign({ ...c, iat: now() - 300, exp: now() - 120 }, privateKey, kid),
  'expired-within-skew': (c) => sign({ ...c, iat: now() - 300, exp: now() - 20 }, privateKey, kid),
  'issued-in-future': (c) => sign({ ...c, iat: now() + 300, exp: now() + 900 }, privateKey, kid),
  'issued-long-ago': (c) => sign({ ...c, iat: now() - 3600, exp: now() + 600 }, privateKey, kid),
  aud: (c) => sign({ ...c, aud: 'other-app', azp: 'other-app' }, privateKey, kid),
  iss: (c) => sign({ ...c, iss: 'http://127.0.0.1:1' }, privateKey, kid),
  'unknown-key': (c) => sign(c, rogueKey, 'rogue-1'),
  'impostor-key': (c) => sign(c, rogueKey, kid),
  'client-secret-hs256': (c) =>
    new SignJWT(c).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(Buffer.from(clientSecret)),
  'alg-none': async (c) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(c)}.`,
};
const tamper = process.env.TAMPER ? TAMPERS[process.env.TAMPER] : undefined;
if (process.env.TAMPER && !tamper) throw new Error(`unknown TAMPER ${process.env.TAMPER}`);

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'elicence',
    client_secret: clientSecret,
    redirect_uris: [redirect],
    post_logout_redirect_uris: [postLogout],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }, {
    client_id: 'other-app',
    client_secret: 'other-app-test-secret',
    redirect_uris: ['http://other-app.test/callback'],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'resident_id'] },
  // The holder claim goes into the ID token itself, not only the userinfo answer.
  conformIdTokenClaims: false,
  // HS256 is offered, so that refusing it is the relying party's own decision.
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

const counts = { discovery: 0, jwks: 0 };
provider.use(async (ctx, next) => {
  if (ctx.path === '/test/counts') {
    ctx.body = counts;
    return;
  }
  if (ctx.path === '/.well-known/openid-configuration') counts.discovery += 1;
  if (ctx.path === '/jwks') counts.jwks += 1;
  await next();
  if (tamper && ctx.path === '/token' && typeof ctx.body?.id_token === 'string') {
    const header = decodeProtectedHeader(ctx.body.id_token);
    if (header.kid !== kid) throw new Error('the provider signed with another key');
    ctx.body.id_token = await tamper(decodeJwt(ctx.body.id_token));
  }
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
