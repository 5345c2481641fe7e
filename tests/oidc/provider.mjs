// The identity provider of the OIDC integration tests (tests/api/oidc.rs) and of signing in
// locally as a test citizen (docs/oidc.md): the OpenID-certified `oidc-provider` on loopback,
// with one confidential client (code flow + PKCE, client_secret_basic) and test accounts.
//
//   PORT (default 9090), REDIRECT_URI (default http://127.0.0.1:8080/holder/oidc/callback),
//   POST_LOGOUT_URI (default http://127.0.0.1:8080/holder). Prints `listening <issuer>` once up.
// Any password signs an account in (the provider's development login page).
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 9090);
const issuer = `http://127.0.0.1:${port}`;
const redirect = process.env.REDIRECT_URI ?? 'http://127.0.0.1:8080/holder/oidc/callback';
const postLogout = process.env.POST_LOGOUT_URI ?? 'http://127.0.0.1:8080/holder';

// Test citizens: `resident_id` is the claim elicence reads by default.
const accounts = {
  citizen: { resident_id: '11010519491231002X', name: '张三' },
  enterprise: { resident_id: '91350100M000100Y43', name: '某公司' },
  'no-claim': { name: '无证号' },
  malformed: { resident_id: '110105194912310021', name: '错号' },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-1', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'elicence',
    client_secret: 'elicence-test-secret',
    redirect_uris: [redirect],
    post_logout_redirect_uris: [postLogout],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'resident_id'] },
  // The holder claim goes into the ID token itself, not only the userinfo answer.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
