// An independent XML signature implementation for the trust package's
// tests: the JDK's own (JSR 105, javax.xml.crypto.dsig, Apache Santuario
// inside), with secure validation on. Run as a single source file:
//
//	java XMLDSig.java verify CERT.pem FILE...
//	    prints "FILE valid" or "FILE invalid ..." for each file
//	java XMLDSig.java sign KEY.p8 CERT.pem C14N METHOD IN OUT [KEY CERT C14N METHOD IN OUT]...
//	    writes IN with an enveloped signature (one reference, URI "",
//	    enveloped-signature then C14N, SHA-256) to OUT
import java.io.*;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.*;
import java.util.*;
import javax.xml.crypto.dsig.*;
import javax.xml.crypto.dsig.dom.*;
import javax.xml.crypto.dsig.keyinfo.*;
import javax.xml.crypto.dsig.spec.*;
import javax.xml.parsers.*;
import javax.xml.transform.*;
import javax.xml.transform.dom.*;
import javax.xml.transform.stream.*;
import org.w3c.dom.*;

public class XMLDSig {
    static final String DS = "http://www.w3.org/2000/09/xmldsig#";

    public static void main(String[] a) throws Exception {
        if (a[0].equals("verify")) {
            X509Certificate cert = readCert(a[1]);
            for (int i = 2; i < a.length; i++) System.out.println(a[i] + " " + verify(a[i], cert));
        } else if (a[0].equals("sign")) {
            for (int i = 1; i + 6 <= a.length; i += 6) sign(a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5]);
        } else {
            throw new IllegalArgumentException(a[0]);
        }
    }

    static Document parse(String path) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new File(path));
    }

    static X509Certificate readCert(String path) throws Exception {
        try (InputStream in = new FileInputStream(path)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    // Ids: XAdES SignedProperties and other referenced elements carry "Id".
    static void registerIds(DOMValidateContext ctx, Element el) {
        if (el.hasAttributeNS(null, "Id")) ctx.setIdAttributeNS(el, null, "Id");
        for (Node n = el.getFirstChild(); n != null; n = n.getNextSibling())
            if (n instanceof Element) registerIds(ctx, (Element) n);
    }

    static String verify(String path, X509Certificate cert) throws Exception {
        Document doc = parse(path);
        Element sig = null;
        for (Node n = doc.getDocumentElement().getFirstChild(); n != null; n = n.getNextSibling())
            if (n instanceof Element && DS.equals(n.getNamespaceURI()) && "Signature".equals(n.getLocalName())) sig = (Element) n;
        if (sig == null) return "invalid: no signature";
        DOMValidateContext ctx = new DOMValidateContext(cert.getPublicKey(), sig);
        ctx.setProperty("org.jcp.xml.dsig.secureValidation", Boolean.TRUE);
        registerIds(ctx, doc.getDocumentElement());
        XMLSignature s = XMLSignatureFactory.getInstance("DOM").unmarshalXMLSignature(ctx);
        if (s.validate(ctx)) return "valid";
        StringBuilder b = new StringBuilder("invalid: signature value " + s.getSignatureValue().validate(ctx));
        for (Object r : s.getSignedInfo().getReferences())
            b.append(", reference '" + ((Reference) r).getURI() + "' " + ((Reference) r).validate(ctx));
        return b.toString();
    }

    static void sign(String keyPath, String certPath, String c14n, String method, String in, String out) throws Exception {
        byte[] der = Files.readAllBytes(Paths.get(keyPath));
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (InvalidKeySpecException e) {
            key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        }
        X509Certificate cert = readCert(certPath);
        Document doc = parse(in);
        XMLSignatureFactory fac = XMLSignatureFactory.getInstance("DOM");
        Reference ref = fac.newReference("", fac.newDigestMethod(DigestMethod.SHA256, null),
                List.of(fac.newTransform(Transform.ENVELOPED, (TransformParameterSpec) null),
                        fac.newTransform(c14n, (TransformParameterSpec) null)),
                null, null);
        SignedInfo si = fac.newSignedInfo(fac.newCanonicalizationMethod(c14n, (C14NMethodParameterSpec) null),
                fac.newSignatureMethod(method, null), List.of(ref));
        KeyInfoFactory kif = fac.getKeyInfoFactory();
        KeyInfo ki = kif.newKeyInfo(List.of(kif.newX509Data(List.of(cert))));
        DOMSignContext ctx = new DOMSignContext(key, doc.getDocumentElement());
        ctx.setDefaultNamespacePrefix("ds");
        fac.newXMLSignature(si, ki).sign(ctx);
        Transformer t = TransformerFactory.newInstance().newTransformer();
        try (OutputStream o = new FileOutputStream(out)) {
            t.transform(new DOMSource(doc), new StreamResult(o));
        }
    }
}
