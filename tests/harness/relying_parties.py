"""The demo relying parties as the gateway knows them: the nginx directives
that register the OpenID Connect clients and the CAS application, shared by
the demo runner (demo.py) and the tests, so both run the same set-up.

    oidc_http(issuer, key_file, portal_url)   http-level directives
    OIDC_SERVER                               the provider's locations
    cas_http(cas_app_url)                     http-level directives
    CAS_SERVER                                the CAS server's locations

The client secret is a published demo secret.  Never use it elsewhere.
"""

PORTAL_CLIENT_ID = "demo-portal"
PORTAL_CLIENT_SECRET = "demo-portal-secret"
PORTAL_SCOPES = "openid,profile,edu,offline_access"
SPA_CLIENT_ID = "demo-spa"
SPA_SCOPES = "openid,profile,edu"

CAS_APP_PATH = "/cas-app/"
CAS_ATTRIBUTES = "name,roles,org,orgPath,level,school,grade,class"


def oidc_http(issuer, key_file, portal_url, kid="demo-rs256"):
    """Issuer, signing key and the two demo clients of the portal at
    portal_url (http://127.0.0.1:8081 in the demo)."""
    return """
    # The OpenID provider.  Tokens name this issuer, and are signed with
    # a key made for this run (openssl genpkey).
    edugate_issuer        {issuer};
    edugate_signing_key   {key} kid={kid} alg=RS256;

    # demo-portal: a confidential web application (published demo
    # secret).  The gateway calls its back-channel logout URI when a
    # session it took part in ends.
    edugate_oidc_client   {portal_id} secret={secret}
                          redirect_uri={portal}/callback
                          scopes={portal_scopes}
                          post_logout_uri={portal}/
                          backchannel_logout_uri={portal}/backchannel-logout;

    # demo-spa: a public client that runs in the browser (PKCE, no
    # secret); the token, userinfo and revocation endpoints answer its
    # origin's cross-origin requests.
    edugate_oidc_client   {spa_id} public
                          redirect_uri={portal}/spa/callback
                          scopes={spa_scopes}
                          post_logout_uri={portal}/spa/;
""".format(issuer=issuer, key=key_file, kid=kid, portal=portal_url,
           portal_id=PORTAL_CLIENT_ID, secret=PORTAL_CLIENT_SECRET,
           portal_scopes=PORTAL_SCOPES, spa_id=SPA_CLIENT_ID,
           spa_scopes=SPA_SCOPES)


OIDC_SERVER = """
        # The OpenID provider, on the same session as everything else.
        location = /.well-known/openid-configuration {
            edugate_oidc_discovery;
        }
        location = /.well-known/jwks.json {
            edugate_jwks;
            # public keys: any page may read them (demo-spa checks its ID
            # token's signature in the browser)
            add_header Access-Control-Allow-Origin "*" always;
        }
        location = /oauth2/authorize { edugate_oidc_authorize; }
        location = /oauth2/token     { edugate_oidc_token; }
        location = /oauth2/userinfo  { edugate_oidc_userinfo; }
        location = /oauth2/revoke    { edugate_oidc_revoke; }
        location = /oauth2/logout    { edugate_oidc_end_session; }
"""


def cas_http(cas_app_url, options=""):
    """The CAS application at cas_app_url (http://127.0.0.1:8082 in the
    demo) as a registered service; options: more edugate_cas_service
    parameters."""
    return """
    # A CAS application registered with the gateway; the p3 validation
    # endpoint releases these attributes to it.
    edugate_cas_service  {url}{path} match=prefix
                         attributes={attrs}{options};
""".format(url=cas_app_url, path=CAS_APP_PATH, attrs=CAS_ATTRIBUTES,
           options=(" " + options) if options else "")


CAS_SERVER = """
        # The CAS server: the same session, the same login page.
        location = /cas/login              { edugate_cas_login; }
        location = /cas/validate           { edugate_cas_validate; }
        location = /cas/serviceValidate    { edugate_cas_service_validate; }
        location = /cas/p3/serviceValidate { edugate_cas_service_validate 3; }
        location = /cas/logout             { edugate_cas_logout; }
"""
