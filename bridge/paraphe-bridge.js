// paraphe-bridge.js: the client web pages use to reach Paraphe's signing
// bridge on the holder's computer (docs/bridge.md). No build step, no
// dependency; load it as it is:
//
//   <script src="http://127.0.0.1:27461/paraphe-bridge.js" crossorigin="anonymous"></script>
//
// (served by the bridge itself to the origins the machine policy lists,
// which also tells the page the bridge runs) or from a copy of your own.
//
//   const bridge = new ParapheBridge();            // or new ParapheBridge("http://127.0.0.1:PORT")
//   await bridge.status();                          // {app, version, api}
//   const {certificates} = await bridge.certificates();
//   const token = await bridge.authenticate(challenge, {purpose: "register", certificate: id});
//   const {signature} = await bridge.sign({hash, format: "pades", document: "Offer 42.pdf", certificate: id});
//
// Every method returns a Promise; a failure rejects it with a
// ParapheBridgeError whose code is one of the bridge's (bad_request,
// no_certificate, unknown_certificate, busy, rate_limited, refused,
// unavailable, wrong_pin, locked, key_error) or "unreachable": no bridge
// answered, or it does not answer this origin.
(function (global) {
  "use strict";

  var DEFAULT_URL = "http://127.0.0.1:27461";

  // The bridge that served this file, when it did.
  var served = (function () {
    var s = global.document && global.document.currentScript;
    if (!s || !s.src) return null;
    try {
      var u = new URL(s.src);
      if (u.pathname === "/paraphe-bridge.js" && (u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]")) {
        return u.origin;
      }
    } catch (e) {}
    return null;
  })();

  function ParapheBridgeError(code, message, details) {
    var e = new Error(message || code);
    Object.setPrototypeOf(e, ParapheBridgeError.prototype);
    e.name = "ParapheBridgeError";
    e.code = code;
    if (details && typeof details.tries_left === "number") e.triesLeft = details.tries_left;
    if (details && details.retryAfter) e.retryAfter = details.retryAfter;
    return e;
  }
  ParapheBridgeError.prototype = Object.create(Error.prototype);
  ParapheBridgeError.prototype.constructor = ParapheBridgeError;

  function ParapheBridge(url) {
    this.url = (url || served || DEFAULT_URL).replace(/\/+$/, "");
  }

  ParapheBridge.prototype.request = function (method, path, body) {
    var init = { method: method, mode: "cors", credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    return fetch(this.url + path, init).then(
      function (resp) {
        return resp.json().then(
          function (data) {
            if (resp.ok) return data;
            var retry = parseInt(resp.headers.get("Retry-After") || "", 10);
            if (!isNaN(retry)) data.retryAfter = retry;
            throw ParapheBridgeError(data.error || "bad_answer", data.message, data);
          },
          function () {
            throw ParapheBridgeError("bad_answer", "the bridge's answer is not JSON (" + resp.status + ")");
          }
        );
      },
      function () {
        // The browser tells nothing more, by design: no bridge runs, or
        // it refused this origin.
        throw ParapheBridgeError("unreachable", "Paraphe's bridge does not answer this page");
      }
    );
  };

  // status: {app: "paraphe", version, api: "v1"}. Asks the holder nothing.
  ParapheBridge.prototype.status = function () {
    return this.request("GET", "/v1/status");
  };

  // certificates: {certificates: [{id, name, title, member_number,
  // organization, email, issuer, not_before, not_after, store,
  // certificate}]}, once the holder agrees to show them to this site.
  ParapheBridge.prototype.certificates = function () {
    return this.request("POST", "/v1/certificates", {});
  };

  // authenticate: a Web eID authentication token (format web-eid:1.0)
  // over this page's origin and challenge, the portal's nonce. options:
  // purpose ("signin", the default, or "register"), certificate (an id
  // from certificates(); without it the holder chooses).
  ParapheBridge.prototype.authenticate = function (challenge, options) {
    options = options || {};
    var body = { challenge: challenge };
    if (options.purpose) body.purpose = options.purpose;
    if (options.certificate) body.certificate = options.certificate;
    return this.request("POST", "/v1/authenticate", body);
  };

  // sign: {signature, format, certificate}: a detached CMS (base64 DER)
  // over the document whose SHA-256 is hash (base64). options: hash,
  // format ("pades" or "cades"), document (its name, shown to the holder),
  // certificate (optional).
  ParapheBridge.prototype.sign = function (options) {
    var body = { hash: options.hash, hash_algorithm: "SHA-256", format: options.format || "pades", document: options.document };
    if (options.certificate) body.certificate = options.certificate;
    return this.request("POST", "/v1/sign", body);
  };

  global.ParapheBridge = ParapheBridge;
  global.ParapheBridgeError = ParapheBridgeError;
})(typeof window !== "undefined" ? window : this);
