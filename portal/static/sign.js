// The declaration page: the portal writes the declaration as a PDF and
// gives its SHA-256; Paraphe signs it (paraphe-bridge.js, served by the
// bridge itself), the holder choosing the certificate and typing the PIN
// in Paraphe; the signature goes back to the portal, which verifies it.
(function () {
  "use strict";
  var P = window.PortalPage, cfg = P.cfg, msg = cfg.messages;
  var say = P.say, working = P.working, bridgeError = P.bridgeError, post = P.post;
  var sign = document.getElementById("sign");
  P.onSay = function () { sign.disabled = false; };

  var page = {
    // submit hands a document's signature to the portal and follows its
    // answer.
    submit: function (id, signature) {
      return post("/api/document/" + id + "/signature", { signature: signature }).then(function (res) {
        if (res.ok) { window.location.assign(res.next); return; }
        say(res.message);
      });
    },
    // sign has the portal write the document, Paraphe sign its hash.
    sign: function () {
      sign.disabled = true;
      return post("/api/document", {}).then(function (doc) {
        if (!doc.ok) { say(doc.message || msg.bad_answer); return; }
        working(msg.asking);
        return bridge.sign({ hash: doc.hash, format: "cades", document: doc.name }).then(function (res) {
          return page.submit(doc.id, res.signature);
        }, function (e) { say(bridgeError(e)); });
      }, function () { say(msg.bad_answer); });
    }
  };
  window.ParapheDeclaration = page;

  if (typeof window.ParapheBridge !== "function") {
    say(msg.unreachable);
    sign.disabled = true;
    return;
  }
  var bridge = new window.ParapheBridge(cfg.bridge);
  sign.disabled = false;
  sign.addEventListener("click", function () { page.sign(); });
})();
