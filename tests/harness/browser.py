"""A browser stand-in for flows that cross applications: one cookie jar
for every port of 127.0.0.1 (browsers do not separate cookies by port),
absolute and relative redirects followed, every hop recorded.

    b = Browser()
    page = b.open("http://127.0.0.1:8081/login")     # ends on the login form
    page = b.login(page, "stu01", "Stu01-Passw0rd")  # back at the portal
    [h.url for h in b.hops]
"""

import html.parser
import http.client
import http.cookiejar
import urllib.parse
import urllib.request

from servers import Response, form_inputs

REDIRECTS = (301, 302, 303, 307, 308)


class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "",
                               "inputs": {}})
        elif tag == "input" and self.forms and a.get("name") is not None:
            self.forms[-1]["inputs"].setdefault(a["name"],
                                                a.get("value") or "")


def page_forms(text):
    """[{"action": ..., "inputs": {name: value}}] of an HTML page."""
    p = _Forms()
    p.feed(text)
    p.close()
    return p.forms


class Hop:
    def __init__(self, method, url, status, location):
        self.method = method
        self.url = url
        self.status = status
        self.location = location

    def __repr__(self):
        return "%s %s -> %d %s" % (self.method, self.url, self.status,
                                   self.location or "")


class Browser:
    def __init__(self, timeout=15.0, max_redirects=10):
        self.jar = http.cookiejar.CookieJar()
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.hops = []
        self.url = None

    def request(self, method, url, body=None, headers=None):
        """One request, no redirect followed; cookies sent and kept."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http":
            raise ValueError("the test browser speaks http only: %r" % url)
        req = urllib.request.Request(url, data=body, method=method,
                                     headers=dict(headers or {}))
        self.jar.add_cookie_header(req)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                          timeout=self.timeout)
        try:
            conn.request(method, target, body=body,
                         headers=dict(req.header_items()))
            resp = conn.getresponse()
            data = resp.read()
            self.jar.extract_cookies(resp, req)
        finally:
            conn.close()
        r = Response(resp.status, resp.reason, resp.headers, data)
        r.url = url
        self.hops.append(Hop(method, url, r.status, r.location))
        self.url = url
        return r

    def follow(self, resp, stop=None):
        """Follows the redirects from resp (GET, as browsers do after a
        302/303 answer to a form); stops before a URL for which stop(url)
        is true, and returns (last response, URL not visited or None)."""
        for _ in range(self.max_redirects):
            if resp.status not in REDIRECTS or not resp.location:
                return resp, None
            nxt = urllib.parse.urljoin(resp.url, resp.location)
            if stop is not None and stop(nxt):
                return resp, nxt
            resp = self.request("GET", nxt)
        raise AssertionError("more than %d redirects:\n%s"
                             % (self.max_redirects,
                                "\n".join(map(repr, self.hops[-12:]))))

    def open(self, url, stop=None):
        """GET url and follow its redirects; the final response."""
        resp, _ = self.follow(self.request("GET", url), stop)
        return resp

    def submit(self, page, fields, stop=None, action=None):
        """Posts a form of the page (the first one, or the first whose
        action ends with `action`) with its inputs, `fields` changed;
        follows the redirects; the final response."""
        forms = page_forms(page.text)
        if action is not None:
            forms = [f for f in forms if f["action"].endswith(action)]
        assert forms, "no form%s in %s:\n%s" % (
            "" if action is None else " for " + action, page.url,
            page.text[:2000])
        form = forms[0]
        values = dict(form["inputs"])
        values.update(fields)
        body = urllib.parse.urlencode(values).encode("utf-8")
        resp = self.request("POST", urllib.parse.urljoin(page.url,
                                                         form["action"]),
                            body, {"Content-Type":
                                   "application/x-www-form-urlencoded"})
        resp, _ = self.follow(resp, stop)
        return resp

    def login(self, page, user, password, stop=None):
        """Fills in the gateway's login form on page and submits it."""
        assert "csrf" in form_inputs(page.text), (
            "not the login form (%s, %d):\n%s"
            % (page.url, page.status, page.text[:2000]))
        return self.submit(page, {"username": user, "password": password},
                           stop)

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c.value
        return None
