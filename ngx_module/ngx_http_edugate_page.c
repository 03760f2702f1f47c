/*
 * Copyright (C) EduGate contributors
 *
 * What people and programs see: the login form, error pages and JSON
 * errors, in Chinese by default and in English on request.  Every answer
 * names a stable error code (X-Edugate-Error) so that scripts and tests
 * never have to parse prose.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "eg_text.h"
#include "eg_url.h"


typedef struct {
    const char           *code;
    const char           *zh;
    const char           *en;
} ngx_http_edugate_message_t;


static ngx_int_t ngx_http_edugate_common_headers(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);
static u_char *ngx_http_edugate_html_copy(u_char *p, ngx_str_t *s);


static ngx_http_edugate_message_t  ngx_http_edugate_messages[] = {
    { "login_required",
      "请先登录。",
      "Please sign in." },
    { "invalid_session",
      "登录状态无效，请重新登录。",
      "Your sign-in is not valid. Please sign in again." },
    { "session_expired",
      "登录已过期，请重新登录。",
      "Your sign-in has expired. Please sign in again." },
    { "access_denied",
      "您没有访问此应用的权限。",
      "You do not have access to this application." },
    { "invalid_credentials",
      "用户名或密码错误。",
      "Wrong username or password." },
    { "account_locked",
      "登录失败次数过多，账号已暂时锁定，请稍后再试。",
      "Too many failed sign-ins: the account is locked for a while. "
      "Try again later." },
    { "too_many_attempts",
      "此地址登录失败次数过多，请稍后再试。",
      "Too many failed sign-ins from your address. Try again later." },
    { "bad_csrf",
      "登录表单已失效，请重新提交。",
      "The sign-in form has expired. Please submit it again." },
    { "invalid_username",
      "用户名格式不正确。",
      "The username is not valid." },
    { "invalid_return",
      "登录后的跳转地址不被允许。",
      "The address to return to after sign-in is not allowed." },
    { "form_too_large",
      "提交的表单过大。",
      "The submitted form is too large." },
    { "unsupported_media_type",
      "表单格式不正确。",
      "The form must be sent as application/x-www-form-urlencoded." },
    { "invalid_request",
      "请求格式不正确。",
      "The request is malformed." },
    { "directory_unavailable",
      "统一身份目录暂时不可用，请稍后再试。",
      "The directory is unavailable. Please try again later." },
    { "session_store_unavailable",
      "会话服务暂时不可用，请稍后再试。",
      "The session service is unavailable. Please try again later." },
    { "method_not_allowed",
      "不支持此请求方法。",
      "This request method is not allowed." },
    { "logged_out",
      "您已安全退出所有应用。",
      "You have signed out of every application." },
    { "logged_in",
      "您已登录。",
      "You are signed in." },
    { "invalid_service",
      "此应用未在统一身份认证中登记，无法登录。",
      "This application is not registered with the sign-in service." },
    { "plugin_timeout",
      "应用接入服务响应超时，请稍后再试。",
      "The application's adapter did not answer in time. "
      "Try again later." },
    { "plugin_error",
      "应用接入服务出错，请联系管理员。",
      "The application's adapter failed. Please contact the "
      "administrator." },
    { "plugin_disabled",
      "应用接入服务已停用，请联系管理员。",
      "The application's adapter is disabled. Please contact the "
      "administrator." },
    { "client_not_allowed",
      "此应用的令牌不能访问这里。",
      "This application's token is not accepted here." },
    { "invalid_client",
      "此应用未在统一身份认证中登记，无法登录。",
      "This application is not registered with the sign-in service." },
    { "invalid_redirect_uri",
      "应用提供的回调地址未登记，"
      "已停止登录以保护您的账号。",
      "The application's return address is not registered: sign-in "
      "stopped to protect your account." },
    { "invalid_post_logout_redirect_uri",
      "您已退出登录，"
      "但应用提供的返回地址未登记，无法跳转。",
      "You are signed out, but the application's return address is not "
      "registered, so you stay here." },
    { "registry_unavailable",
      "数据登记服务暂不可用，请稍后重试。",
      "The registry is unavailable. Try again later." },
    { "registry_error",
      "数据登记服务出错，请稍后重试。",
      "The registry answered with an error. Try again later." },
    { "internal_error",
      "服务器内部错误。",
      "Internal server error." },
    { NULL, NULL, NULL }
};


static ngx_str_t  ngx_http_edugate_json_type = ngx_string("application/json");
static ngx_str_t  ngx_http_edugate_html_type =
    ngx_string("text/html; charset=utf-8");


static const char  ngx_http_edugate_style[] =
    "<style>body{font-family:sans-serif;background:#f4f6f8;margin:0}"
    "main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;"
    "border-radius:8px;box-shadow:0 1px 4px #0002}"
    "label{display:block;margin:.8rem 0 .2rem}"
    "input[type=text],input[type=password]{width:100%;padding:.5rem;"
    "box-sizing:border-box}button{margin-top:1.2rem;width:100%;"
    "padding:.6rem}.err{color:#b00020}.code{color:#777;font-size:.8rem}"
    "</style>";


ngx_table_elt_t *
ngx_http_edugate_header_in(ngx_http_request_t *r, const char *lowcase,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncmp(h[i].lowcase_key, lowcase, len) == 0)
        {
            return &h[i];
        }
    }
}


ngx_uint_t
ngx_http_edugate_wants_json(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_http_edugate_header_in(r, "accept", 6);

    if (h && ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                              (u_char *) "application/json", 16 - 1)
             != NULL)
    {
        return 1;
    }

    h = ngx_http_edugate_header_in(r, "x-requested-with", 16);

    return h && h->value.len == 14
           && ngx_strncasecmp(h->value.data, (u_char *) "XMLHttpRequest", 14)
              == 0;
}


ngx_uint_t
ngx_http_edugate_wants_english(ngx_http_request_t *r)
{
    ngx_str_t         lang;
    ngx_table_elt_t  *h;

    if (ngx_http_arg(r, (u_char *) "lang", 4, &lang) == NGX_OK) {
        if (lang.len >= 2 && ngx_strncasecmp(lang.data, (u_char *) "en", 2)
                             == 0)
        {
            return 1;
        }

        if (lang.len >= 2 && ngx_strncasecmp(lang.data, (u_char *) "zh", 2)
                             == 0)
        {
            return 0;
        }
    }

    h = ngx_http_edugate_header_in(r, "accept-language", 15);

    return h && eg_lang_prefers_en(h->value.data, h->value.len);
}


const char *
ngx_http_edugate_message(const char *code, ngx_uint_t english)
{
    ngx_http_edugate_message_t  *m;

    for (m = ngx_http_edugate_messages; m->code; m++) {
        if (ngx_strcmp(m->code, code) == 0) {
            return english ? m->en : m->zh;
        }
    }

    return code;
}


ngx_int_t
ngx_http_edugate_login_location(ngx_http_request_t *r, ngx_str_t *location)
{
    return ngx_http_edugate_login_location_to(r, &r->unparsed_uri, location);
}


/* the login page, and back to a relative target afterwards */

ngx_int_t
ngx_http_edugate_login_location_to(ngx_http_request_t *r, ngx_str_t *target,
    ngx_str_t *location)
{
    u_char                        *p;
    size_t                         len;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    len = emcf->login_url.len + sizeof("?return=") - 1
          + eg_percent_encode_len(target->data, target->len);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    location->data = p;
    p = ngx_cpymem(p, emcf->login_url.data, emcf->login_url.len);
    p = ngx_cpymem(p, "?return=", sizeof("?return=") - 1);
    p += eg_percent_encode(p, target->data, target->len);
    location->len = p - location->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_common_headers(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_uint_t   i;

    static const char  *headers[][2] = {
        { "Cache-Control", "no-store" },
        { "Pragma", "no-cache" },
        { "X-Frame-Options", "DENY" },
        { "X-Content-Type-Options", "nosniff" },
        { "Referrer-Policy", "no-referrer" },
        /*
         * no form-action: browsers apply it to the redirects that follow
         * the login form, and those lead on to the applications
         */
        { "Content-Security-Policy",
          "default-src 'none'; style-src 'unsafe-inline'; "
          "frame-ancestors 'none'" },
        { NULL, NULL }
    };

    r->headers_out.status = status;

    for (i = 0; headers[i][0]; i++) {
        if (ngx_http_edugate_add_header(r, headers[i][0], headers[i][1])
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (code != NULL
        && ngx_http_edugate_add_header(r, "X-Edugate-Error", code) == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a complete response from one memory buffer; the status is set already */

ngx_int_t
ngx_http_edugate_send_body(ngx_http_request_t *r, ngx_str_t *type,
    u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (len == 0) {
        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_edugate_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, ngx_str_t *login_url)
{
    u_char                       *body, *p;
    size_t                        len, mlen;
    ngx_str_t                     s;
    ngx_uint_t                    en;
    const char                   *msg;
    ngx_http_edugate_loc_conf_t  *elcf;

    en = ngx_http_edugate_wants_english(r);
    msg = ngx_http_edugate_message(code, en);
    mlen = ngx_strlen(msg);

    if (ngx_http_edugate_common_headers(r, status, code) != NGX_OK) {
        return NGX_ERROR;
    }

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_module);

    /* a program that sent a token reads JSON, whatever it accepts */
    if (ngx_http_edugate_wants_json(r) || (elcf && elcf->api)
        || ngx_http_edugate_bearer_token(r, NULL) == NGX_OK)
    {
        len = sizeof("{\"error\":\"\",\"message\":\"\"}") - 1
              + ngx_strlen(code) + eg_json_escape_len((u_char *) msg, mlen);

        if (login_url) {
            len += sizeof(",\"login_url\":\"\"") - 1
                   + eg_json_escape_len(login_url->data, login_url->len);
        }

        body = ngx_pnalloc(r->pool, len);
        if (body == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(body, "{\"error\":\"%s\",\"message\":\"", code);
        p += eg_json_escape(p, (u_char *) msg, mlen);
        *p++ = '"';

        if (login_url) {
            p = ngx_cpymem(p, ",\"login_url\":\"",
                           sizeof(",\"login_url\":\"") - 1);
            p += eg_json_escape(p, login_url->data, login_url->len);
            *p++ = '"';
        }

        *p++ = '}';

        return ngx_http_edugate_send_body(r, &ngx_http_edugate_json_type,
                                          body, p - body);
    }

    s.data = (u_char *) msg;
    s.len = mlen;

    len = sizeof("<!DOCTYPE html><html lang=\"zh-CN\"><head>"
                 "<meta charset=\"utf-8\"><title></title></head><body>"
                 "<main><h1></h1><p class=\"code\"></p></main></body></html>")
          + sizeof(ngx_http_edugate_style) + 2 * eg_html_escape_len(s.data,
                                                                   s.len)
          + ngx_strlen(code) + sizeof("错误代码：") + 64;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body, "<!DOCTYPE html><html lang=\"%s\"><head>"
                    "<meta charset=\"utf-8\"><title>",
                    en ? "en" : "zh-CN");
    p = ngx_http_edugate_html_copy(p, &s);
    p = ngx_sprintf(p, "</title>%s</head><body><main><h1>",
                    ngx_http_edugate_style);
    p = ngx_http_edugate_html_copy(p, &s);
    p = ngx_sprintf(p, "</h1><p class=\"code\">%s%s</p></main></body>"
                    "</html>", en ? "Error code: " : "错误代码：", code);

    return ngx_http_edugate_send_body(r, &ngx_http_edugate_html_type,
                                      body, p - body);
}


ngx_int_t
ngx_http_edugate_send_login_form(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, ngx_str_t *csrf, ngx_str_t *return_to)
{
    u_char                        *body, *p;
    size_t                         len;
    ngx_str_t                      msg;
    ngx_uint_t                     en;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (code != NULL && ngx_http_edugate_wants_json(r)) {
        return ngx_http_edugate_send_error(r, status, code, NULL);
    }

    en = ngx_http_edugate_wants_english(r);

    if (ngx_http_edugate_common_headers(r, status, code) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_null(&msg);

    if (code != NULL) {
        msg.data = (u_char *) ngx_http_edugate_message(code, en);
        msg.len = ngx_strlen(msg.data);
    }

    len = 2048 + sizeof(ngx_http_edugate_style)
          + eg_html_escape_len(msg.data, msg.len)
          + eg_html_escape_len(csrf->data, csrf->len)
          + eg_html_escape_len(return_to->data, return_to->len)
          + eg_html_escape_len(emcf->login_url.data, emcf->login_url.len)
          + (code ? ngx_strlen(code) : 0);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body,
                    "<!DOCTYPE html><html lang=\"%s\"><head>"
                    "<meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\">"
                    "<title>%s</title>%s</head><body><main><h1>%s</h1>",
                    en ? "en" : "zh-CN",
                    en ? "Sign in - EduGate" : "统一身份认证 - EduGate",
                    ngx_http_edugate_style,
                    en ? "Sign in" : "统一身份认证");

    if (code != NULL) {
        p = ngx_cpymem(p, "<p class=\"err\" role=\"alert\">",
                       sizeof("<p class=\"err\" role=\"alert\">") - 1);
        p = ngx_http_edugate_html_copy(p, &msg);
        p = ngx_sprintf(p, "</p><p class=\"code\">%s%s</p>",
                        en ? "Error code: " : "错误代码：", code);
    }

    p = ngx_cpymem(p, "<form method=\"post\" action=\"",
                   sizeof("<form method=\"post\" action=\"") - 1);
    p = ngx_http_edugate_html_copy(p, &emcf->login_url);
    p = ngx_sprintf(p, "%s\"><label for=\"username\">%s</label>"
                    "<input type=\"text\" id=\"username\" name=\"username\" "
                    "autocomplete=\"username\" maxlength=\"128\" required "
                    "autofocus>"
                    "<label for=\"password\">%s</label>"
                    "<input type=\"password\" id=\"password\" "
                    "name=\"password\" autocomplete=\"current-password\" "
                    "required>"
                    "<input type=\"hidden\" name=\"csrf\" value=\"",
                    en ? "?lang=en" : "",
                    en ? "Username" : "用户名",
                    en ? "Password" : "密码");
    p = ngx_http_edugate_html_copy(p, csrf);
    p = ngx_cpymem(p, "\"><input type=\"hidden\" name=\"return\" value=\"",
                   sizeof("\"><input type=\"hidden\" name=\"return\" "
                          "value=\"") - 1);
    p = ngx_http_edugate_html_copy(p, return_to);
    p = ngx_sprintf(p, "\"><button type=\"submit\">%s</button></form>"
                    "</main></body></html>",
                    en ? "Sign in" : "登录");

    return ngx_http_edugate_send_body(r, &ngx_http_edugate_html_type,
                                      body, p - body);
}


ngx_int_t
ngx_http_edugate_redirect(ngx_http_request_t *r, ngx_str_t *location,
    const char *code)
{
    ngx_table_elt_t  *h;

    if (ngx_http_edugate_common_headers(r, NGX_HTTP_MOVED_TEMPORARILY, code)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* not headers_out.location: nginx would make a relative one absolute */

    h = ngx_http_edugate_add_header(r, "Location", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value = *location;

    return ngx_http_edugate_send_body(r, &ngx_http_edugate_html_type,
                                      NULL, 0);
}


/* a response header; a NULL value is left for the caller to fill in */

ngx_table_elt_t *
ngx_http_edugate_add_header(ngx_http_request_t *r, const char *key,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);

    if (value) {
        h->value.data = (u_char *) value;
        h->value.len = ngx_strlen(value);

    } else {
        ngx_str_null(&h->value);
    }

    return h;
}


static u_char *
ngx_http_edugate_html_copy(u_char *p, ngx_str_t *s)
{
    return p + eg_html_escape(p, s->data, s->len);
}
