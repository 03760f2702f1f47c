#!/usr/bin/env python3
"""The demo CAS application of EduGate: a CAS 3.0 client on the standard
library.

/cas-app/...          without a session: redirect to the gateway's
                      /cas/login?service=<this URL>; back with ?ticket=ST-...,
                      the ticket is validated at /cas/p3/serviceValidate and
                      the answer's user and attributes start a local session;
                      with a session: who is logged in.
/cas-app/session.json the caller's session as JSON, for scripts.
POST /cas-app/...     CAS single logout: the gateway posts a SAML
                      samlp:LogoutRequest in the form field logoutRequest;
                      the session that the ticket in its SessionIndex
                      started ends.

    python3 cas_app.py --port 8082 --cas http://127.0.0.1:8080/cas
"""

import argparse
import sys
import threading
import time
import urllib.parse
import xml.parsers.expat
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_web import (Handler, OutboundError, Store, call,  # noqa: E402
                      esc, new_secret, serve, set_cookie)

SESSION_COOKIE = "cas_app_session"
PREFIX = "/cas-app/"

CAS_NS = "http://www.yale.edu/tp/cas"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
MAX_XML = 64 * 1024


class XmlRefused(Exception):
    pass


class Element:
    __slots__ = ("tag", "attrs", "children", "text")

    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = attrs
        self.children = []
        self.text = ""

    def find(self, tag):
        for c in self.children:
            if c.tag == tag:
                return c
        return None


def parse_xml(data):
    """A small tree of Elements, tags as "{namespace}name".

    Untrusted input: the size is bounded, and a document with a DTD (the
    way to entity expansion and external entities) is refused outright;
    neither CAS answers nor SAML logout requests have one.
    """
    if len(data) > MAX_XML:
        raise XmlRefused("document larger than %d bytes" % MAX_XML)
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    stack, root = [], []

    def refuse(*args):
        raise XmlRefused("DTDs and entity declarations are refused")

    def start(name, attrs):
        tag = "{" + name if "}" in name else name
        e = Element(tag, attrs)
        if stack:
            stack[-1].children.append(e)
        else:
            root.append(e)
        stack.append(e)

    def end(name):
        stack.pop()

    def text(data):
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as e:
        raise XmlRefused("not well-formed: %s" % e) from None
    if not root:
        raise XmlRefused("no root element")
    return root[0]


def cas(name):
    return "{%s}%s" % (CAS_NS, name)


def read_validation(data):
    """(user, {attribute: [values]}) of a p3/serviceValidate answer, or
    raises XmlRefused / ValueError(code, message) for a failure."""
    root = parse_xml(data)
    if root.tag != cas("serviceResponse"):
        raise XmlRefused("not a cas:serviceResponse")
    failure = root.find(cas("authenticationFailure"))
    if failure is not None:
        raise ValueError(failure.attrs.get("code", "?"), failure.text.strip())
    success = root.find(cas("authenticationSuccess"))
    user = success.find(cas("user")) if success is not None else None
    if user is None or not user.text.strip():
        raise XmlRefused("no cas:user in the answer")
    attributes = {}
    holder = success.find(cas("attributes"))
    for a in holder.children if holder is not None else []:
        if a.tag.startswith("{%s}" % CAS_NS):
            name = a.tag[len(CAS_NS) + 2:]
            attributes.setdefault(name, []).append(a.text.strip())
    return user.text.strip(), attributes


def read_logout_request(data):
    """The SessionIndex (a service ticket) of a SAML LogoutRequest."""
    root = parse_xml(data)
    if root.tag != "{%s}LogoutRequest" % SAMLP_NS:
        raise XmlRefused("not a samlp:LogoutRequest")
    index = root.find("{%s}SessionIndex" % SAMLP_NS)
    if index is None or not index.text.strip():
        raise XmlRefused("no samlp:SessionIndex")
    return index.text.strip()


class CasApp:
    def __init__(self, base_url, cas_url):
        self.base_url = base_url
        self.cas_url = cas_url.rstrip("/")
        self.sessions = Store(ttl=8 * 3600)
        self.lock = threading.Lock()
        self.slo = {"received": 0, "sessions_ended": 0}


class CasAppHandler(Handler):
    app_name = "cas-app"
    app = None

    def service_url(self, path, query):
        """This request's URL without the ticket: the service the ticket
        was issued for, byte for byte as it was sent to /cas/login."""
        rest = [(k, v) for k, vs in query.items() for v in vs
                if k != "ticket"]
        url = self.app.base_url + path
        return url + ("?" + urllib.parse.urlencode(rest) if rest else "")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path, query = self.split_path()
        if not path.startswith(PREFIX):
            self.redirect(PREFIX)
            return
        local = self.cookies().get(SESSION_COOKIE)
        s = self.app.sessions.get(local)
        if path == PREFIX + "session.json":
            doc = {"logged_in": s is not None,
                   "sessions": self.app.sessions.count()}
            with self.app.lock:
                doc["slo"] = dict(self.app.slo)
            if s is not None:
                doc.update({k: s[k] for k in ("user", "attributes",
                                              "login_at")})
            self.send_json(200, doc)
            return
        ticket = self.single(query, "ticket")
        if ticket is not None:
            self.validate(path, query, ticket)
            return
        if s is None:
            service = self.service_url(path, query)
            self.redirect(self.app.cas_url + "/login?service="
                          + urllib.parse.quote(service, safe=""))
            return
        self.show(s)

    def validate(self, path, query, ticket):
        app = self.app
        service = self.service_url(path, query)
        url = "%s/p3/serviceValidate?%s" % (
            app.cas_url,
            urllib.parse.urlencode({"service": service, "ticket": ticket}))
        try:
            status, _, data = call("GET", url)
            if status != 200:
                raise XmlRefused("serviceValidate answered %d" % status)
            user, attributes = read_validation(data)
        except OutboundError as e:
            self.send_error_page(502, "cas_unreachable", str(e))
            return
        except XmlRefused as e:
            self.send_error_page(502, "bad_cas_answer", str(e))
            return
        except ValueError as e:
            self.send_error_page(403, e.args[0], e.args[1])
            return
        local = new_secret()
        app.sessions.put(local, {"user": user, "attributes": attributes,
                                 "ticket": ticket,
                                 "login_at": int(time.time())})
        self.log("login: %s" % user)
        # the ticket is spent: take it out of the address bar
        self.redirect(service, [set_cookie(SESSION_COOKIE, local,
                                           path=PREFIX)])

    def show(self, s):
        rows = "".join(
            "<tr><th>%s</th><td>%s</td></tr>" % (esc(k), esc(", ".join(v)))
            for k, v in sorted(s["attributes"].items()))
        service = self.app.base_url + PREFIX
        body = """
<p>Logged in as <strong>{user}</strong> by CAS ({cas}).</p>
<h2>Attributes released to this service</h2>
<table>{rows}</table>
<p><a href="{logout}">Log out everywhere</a> (ends the EduGate session;
the gateway then tells every CAS application that took part, this one
included, by a single-logout request)</p>
""".format(user=esc(s["user"]), cas=esc(self.app.cas_url), rows=rows,
           logout=esc(self.app.cas_url + "/logout?service="
                      + urllib.parse.quote(service, safe="")))
        self.send_page(200, "Demo CAS application", body)

    def do_POST(self):
        path, _ = self.split_path()
        if not path.startswith(PREFIX):
            self.send_error_page(404, "not_found", path)
            return
        fields = self.read_form()
        if fields is None:
            return
        app = self.app
        with app.lock:
            app.slo["received"] += 1
        message = self.single(fields, "logoutRequest")
        if message is None:
            self.send_json(400, {"error": "invalid_request",
                                 "error_description":
                                     "exactly one logoutRequest expected"})
            return
        try:
            ticket = read_logout_request(message.encode("utf-8"))
        except XmlRefused as e:
            self.log("single logout refused: %s" % e)
            self.send_json(400, {"error": "invalid_request",
                                 "error_description": str(e)})
            return
        # Anyone may post here; only the gateway and this application know
        # the ticket, so a request naming it is the gateway's.
        ended = app.sessions.remove_where(lambda s: s["ticket"] == ticket)
        with app.lock:
            app.slo["sessions_ended"] += ended
        self.log("single logout for %s...: %d session(s) ended"
                 % (ticket[:8], ended))
        self.send_bytes(200, "text/plain; charset=utf-8", b"")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8082)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cas", default="http://127.0.0.1:8080/cas",
                    help="URL of the gateway's CAS endpoints")
    args = ap.parse_args(argv)
    app = CasApp("http://%s:%d" % (args.host, args.port), args.cas)
    return serve(CasAppHandler, args.host, args.port, app)


if __name__ == "__main__":
    sys.exit(main())
