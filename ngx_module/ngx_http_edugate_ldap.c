/*
 * Copyright (C) EduGate contributors
 *
 * Search-then-bind against the directory in an nginx thread pool.  libldap
 * calls block, so they never run on the event loop: a stalled directory
 * delays logins only, never requests that already hold a session.  The
 * worker thread touches no nginx pool or log; it reads the immutable
 * configuration and writes its results into the task context.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ldap.h>

#include "ngx_http_edugate_module.h"
#include "eg_ldap_filter.h"


#define NGX_HTTP_EDUGATE_LDAP_DETAIL     256
#define NGX_HTTP_EDUGATE_LDAP_DUMMY_RDN  "cn=edugate-no-such-entry"


typedef struct {
    ngx_http_request_t                 *request;
    ngx_http_edugate_main_conf_t       *conf;
    ngx_http_edugate_ldap_handler_pt    handler;
    u_char                             *filter;
    struct berval                       password;
    ngx_http_edugate_ldap_rc_e          rc;
    eg_identity_t                       identity;
    char                                detail[NGX_HTTP_EDUGATE_LDAP_DETAIL];
} ngx_http_edugate_ldap_ctx_t;


static void ngx_http_edugate_ldap_thread(void *data, ngx_log_t *log);
static ngx_http_edugate_ldap_rc_e ngx_http_edugate_ldap_try(
    ngx_http_edugate_ldap_ctx_t *lc, const char *uri);
static ngx_http_edugate_ldap_rc_e ngx_http_edugate_ldap_fail(
    ngx_http_edugate_ldap_ctx_t *lc, const char *uri, const char *what,
    int err);
static ngx_http_edugate_ldap_rc_e ngx_http_edugate_ldap_entry(
    ngx_http_edugate_ldap_ctx_t *lc, LDAP *ld, LDAPMessage *entry);
static void ngx_http_edugate_ldap_done(ngx_event_t *ev);


static const eg_id_field_e  ngx_http_edugate_ldap_fields[] = {
    EG_ID_UID,
    EG_ID_NAME,
    EG_ID_ROLES,
    EG_ID_LEVEL,
    EG_ID_SCHOOL,
    EG_ID_GRADE,
    EG_ID_CLASS,
    EG_ID_UUID
};


char *
ngx_http_edugate_ldap_check_conf(ngx_conf_t *cf,
    ngx_http_edugate_main_conf_t *emcf)
{
    u_char       msg[NGX_MAX_ERROR_STR];
    ngx_str_t   *uri;
    ngx_uint_t   i;
    LDAPURLDesc *desc;

    ngx_memzero(msg, sizeof(msg));

    if (emcf->ldap_uris == NULL) {
        if (emcf->login_used) {
            ngx_http_edugate_conf_error(cf, &emcf->login_pos,
                                        "\"edugate_login\" needs "
                                        "\"edugate_ldap_uri\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    uri = emcf->ldap_uris->elts;

    for (i = 0; i < emcf->ldap_uris->nelts; i++) {
        if (ldap_url_parse((char *) uri[i].data, &desc) != LDAP_URL_SUCCESS) {
            ngx_snprintf(msg, sizeof(msg) - 1, "invalid LDAP URI \"%V\"%Z",
                         &uri[i]);
            ngx_http_edugate_conf_error(cf, &emcf->ldap_uri_pos,
                                        (char *) msg);
            return NGX_CONF_ERROR;
        }

        ldap_free_urldesc(desc);
    }

    if (emcf->ldap_base.len == 0) {
        ngx_http_edugate_conf_error(cf, &emcf->ldap_uri_pos,
                                    "\"edugate_ldap_uri\" needs "
                                    "\"edugate_ldap_base\"");
        return NGX_CONF_ERROR;
    }

    if (emcf->ldap_bind_dn.len && emcf->ldap_bind_password.len == 0) {
        ngx_http_edugate_conf_error(cf, &emcf->bind_dn_pos,
                                    "\"edugate_ldap_bind_dn\" needs "
                                    "\"edugate_ldap_bind_password\": an "
                                    "empty password would be an "
                                    "unauthenticated bind");
        return NGX_CONF_ERROR;
    }

    emcf->ldap_pool = ngx_thread_pool_add(cf, &emcf->ldap_pool_name);
    if (emcf->ldap_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_edugate_ldap_auth(ngx_http_request_t *r, ngx_str_t *user,
    ngx_str_t *password, ngx_http_edugate_ldap_handler_pt handler)
{
    size_t                         len;
    ngx_thread_task_t             *task;
    ngx_http_edugate_ldap_ctx_t   *lc;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_edugate_ldap_ctx_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    lc = task->ctx;
    lc->request = r;
    lc->conf = emcf;
    lc->handler = handler;
    lc->rc = NGX_HTTP_EDUGATE_LDAP_ERROR;

    len = eg_ldap_filter_build(NULL, 0, emcf->ldap_filter.data,
                               emcf->ldap_filter.len, user->data, user->len);

    lc->filter = ngx_pnalloc(r->pool, len + 1);
    if (lc->filter == NULL) {
        return NGX_ERROR;
    }

    eg_ldap_filter_build(lc->filter, len + 1, emcf->ldap_filter.data,
                         emcf->ldap_filter.len, user->data, user->len);

    lc->password.bv_val = (char *) password->data;
    lc->password.bv_len = password->len;

    task->handler = ngx_http_edugate_ldap_thread;
    task->event.handler = ngx_http_edugate_ldap_done;
    task->event.data = lc;

    if (ngx_thread_task_post(emcf->ldap_pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the request must outlive the thread that writes into it */
    r->main->blocked++;
    r->aio = 1;

    return NGX_OK;
}


static void
ngx_http_edugate_ldap_thread(void *data, ngx_log_t *log)
{
    ngx_http_edugate_ldap_ctx_t *lc = data;

    ngx_str_t   *uri;
    ngx_uint_t   i;

    uri = lc->conf->ldap_uris->elts;

    /* a further URI is tried only when the previous one is unreachable */

    for (i = 0; i < lc->conf->ldap_uris->nelts; i++) {
        lc->rc = ngx_http_edugate_ldap_try(lc, (char *) uri[i].data);

        if (lc->rc != NGX_HTTP_EDUGATE_LDAP_UNAVAILABLE) {
            return;
        }
    }
}


static ngx_http_edugate_ldap_rc_e
ngx_http_edugate_ldap_try(ngx_http_edugate_ldap_ctx_t *lc, const char *uri)
{
    int                            err, version, n;
    char                          *attrs[NGX_HTTP_EDUGATE_NATTRS + 1];
    u_char                         dummy[EG_ID_DN_MAX + 1], *last;
    LDAP                          *ld;
    ngx_uint_t                     i;
    LDAPMessage                   *res, *entry;
    struct berval                  cred;
    struct timeval                 tv;
    ngx_http_edugate_ldap_rc_e     rc;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = lc->conf;
    ld = NULL;
    res = NULL;

    err = ldap_initialize(&ld, uri);
    if (err != LDAP_SUCCESS) {
        return ngx_http_edugate_ldap_fail(lc, uri, "initialize", err);
    }

    version = LDAP_VERSION3;
    tv.tv_sec = emcf->ldap_timeout / 1000;
    tv.tv_usec = (emcf->ldap_timeout % 1000) * 1000;

    /* referrals would send credentials to another server: never follow */

    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)
           != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)
           != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
    {
        rc = ngx_http_edugate_ldap_fail(lc, uri, "set options", LDAP_OTHER);
        goto done;
    }

    cred.bv_val = (char *) emcf->ldap_bind_password.data;
    cred.bv_len = emcf->ldap_bind_password.len;

    err = ldap_sasl_bind_s(ld, emcf->ldap_bind_dn.len
                               ? (char *) emcf->ldap_bind_dn.data : NULL,
                           LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (err != LDAP_SUCCESS) {
        rc = ngx_http_edugate_ldap_fail(lc, uri, "service bind", err);
        goto done;
    }

    for (i = 0; i < NGX_HTTP_EDUGATE_NATTRS; i++) {
        attrs[i] = (char *) emcf->ldap_attrs[i].data;
    }

    attrs[NGX_HTTP_EDUGATE_NATTRS] = NULL;

    /* a size limit of 2 is enough to tell "one" from "ambiguous" */

    err = ldap_search_ext_s(ld, (char *) emcf->ldap_base.data,
                            LDAP_SCOPE_SUBTREE, (char *) lc->filter, attrs, 0,
                            NULL, NULL, &tv, 2, &res);

    if (err == LDAP_SIZELIMIT_EXCEEDED) {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "more than one entry matches %s%Z", lc->filter);
        rc = NGX_HTTP_EDUGATE_LDAP_AMBIGUOUS;
        goto done;
    }

    if (err != LDAP_SUCCESS) {
        rc = ngx_http_edugate_ldap_fail(lc, uri, "search", err);
        goto done;
    }

    n = ldap_count_entries(ld, res);

    if (n == 0) {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "no entry matches %s%s%Z", lc->filter,
                     ldap_count_references(ld, res) > 0
                     ? " (referral not followed)" : "");

        /*
         * An unknown user costs a bind too, so that its answer takes
         * about as long as a wrong password's: the timing does not tell
         * which accounts exist.
         */

        last = ngx_snprintf(dummy, sizeof(dummy) - 1,
                            NGX_HTTP_EDUGATE_LDAP_DUMMY_RDN ",%V%Z",
                            &emcf->ldap_base);

        if (last < dummy + sizeof(dummy) - 1 && lc->password.bv_len) {
            (void) ldap_sasl_bind_s(ld, (char *) dummy, LDAP_SASL_SIMPLE,
                                    &lc->password, NULL, NULL, NULL);
        }

        rc = NGX_HTTP_EDUGATE_LDAP_NO_USER;
        goto done;
    }

    if (n != 1) {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "%d entries match %s%Z", n, lc->filter);
        rc = NGX_HTTP_EDUGATE_LDAP_AMBIGUOUS;
        goto done;
    }

    entry = ldap_first_entry(ld, res);

    rc = ngx_http_edugate_ldap_entry(lc, ld, entry);
    if (rc != NGX_HTTP_EDUGATE_LDAP_OK) {
        goto done;
    }

    /* checked before the task was posted; kept as a last line of defence */

    if (lc->password.bv_len == 0) {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "empty password refused before bind%Z");
        rc = NGX_HTTP_EDUGATE_LDAP_BAD_CREDENTIALS;
        goto done;
    }

    err = ldap_sasl_bind_s(ld, lc->identity.dn, LDAP_SASL_SIMPLE,
                           &lc->password, NULL, NULL, NULL);

    if (err == LDAP_INVALID_CREDENTIALS) {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "bind as \"%s\" refused: %s%Z", lc->identity.dn,
                     ldap_err2string(err));
        rc = NGX_HTTP_EDUGATE_LDAP_BAD_CREDENTIALS;
        goto done;
    }

    if (err != LDAP_SUCCESS) {
        rc = ngx_http_edugate_ldap_fail(lc, uri, "user bind", err);

        if (rc == NGX_HTTP_EDUGATE_LDAP_ERROR) {
            /* e.g. a locked or disabled account: no session, no detail */
            rc = NGX_HTTP_EDUGATE_LDAP_BAD_CREDENTIALS;
        }

        goto done;
    }

    rc = NGX_HTTP_EDUGATE_LDAP_OK;

done:

    if (res != NULL) {
        ldap_msgfree(res);
    }

    ldap_unbind_ext_s(ld, NULL, NULL);

    return rc;
}


static ngx_http_edugate_ldap_rc_e
ngx_http_edugate_ldap_fail(ngx_http_edugate_ldap_ctx_t *lc, const char *uri,
    const char *what, int err)
{
    ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                 "%s on \"%s\" failed: %s%Z", what, uri, ldap_err2string(err));

    switch (err) {

    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
        return NGX_HTTP_EDUGATE_LDAP_UNAVAILABLE;

    default:
        return NGX_HTTP_EDUGATE_LDAP_ERROR;
    }
}


static ngx_http_edugate_ldap_rc_e
ngx_http_edugate_ldap_entry(ngx_http_edugate_ldap_ctx_t *lc, LDAP *ld,
    LDAPMessage *entry)
{
    int                            i, n;
    char                          *dn;
    ngx_uint_t                     a;
    struct berval                **vals;
    eg_id_field_e                  f;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = lc->conf;

    dn = ldap_get_dn(ld, entry);
    if (dn == NULL) {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "entry without a DN%Z");
        return NGX_HTTP_EDUGATE_LDAP_ERROR;
    }

    if (eg_identity_set(&lc->identity, EG_ID_DN, dn, ngx_strlen(dn)) != 0
        || eg_identity_org_from_dn(&lc->identity, dn,
                                   (char *) emcf->ldap_org_attr.data)
           != 0)
    {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "unusable DN \"%s\"%Z", dn);
        ldap_memfree(dn);
        return NGX_HTTP_EDUGATE_LDAP_ERROR;
    }

    ldap_memfree(dn);

    for (a = 0; a < NGX_HTTP_EDUGATE_NATTRS; a++) {
        f = ngx_http_edugate_ldap_fields[a];

        vals = ldap_get_values_len(ld, entry,
                                   (char *) emcf->ldap_attrs[a].data);
        if (vals == NULL) {
            continue;
        }

        n = ldap_count_values_len(vals);

        /* only roles are multi-valued; elsewhere the first value counts */

        for (i = 0; i < (f == EG_ID_ROLES ? n : ngx_min(n, 1)); i++) {
            if (eg_identity_set(&lc->identity, f, vals[i]->bv_val,
                                vals[i]->bv_len)
                != 0)
            {
                ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                             "attribute \"%V\" of \"%s\" is too long or has "
                             "control characters%Z",
                             &emcf->ldap_attrs[a], lc->identity.dn);
                ldap_value_free_len(vals);
                return NGX_HTTP_EDUGATE_LDAP_ERROR;
            }
        }

        ldap_value_free_len(vals);
    }

    if (lc->identity.uid[0] == '\0') {
        ngx_snprintf((u_char *) lc->detail, sizeof(lc->detail) - 1,
                     "entry \"%s\" has no \"%V\"%Z", lc->identity.dn,
                     &emcf->ldap_attrs[NGX_HTTP_EDUGATE_ATTR_UID]);
        return NGX_HTTP_EDUGATE_LDAP_ERROR;
    }

    return NGX_HTTP_EDUGATE_LDAP_OK;
}


static void
ngx_http_edugate_ldap_done(ngx_event_t *ev)
{
    ngx_http_edugate_ldap_ctx_t *lc = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = lc->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    /* the handler may finalize the request: lc is not touched after it */
    lc->handler(r, lc->rc, &lc->identity, lc->detail);

    ngx_http_run_posted_requests(c);
}
