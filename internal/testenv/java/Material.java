package paraphe.testenv;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URL;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.Enumeration;
import java.util.List;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;

/** Keys, certificates, TLS trust and RFC 3161 requests. */
final class Material {
    private Material() {}

    /** A private key and its certificate chain, signer first. */
    static final class Identity {
        final PrivateKey key;
        final Certificate[] chain;

        Identity(PrivateKey key, Certificate[] chain) {
            this.key = key;
            this.chain = chain;
        }

        X509Certificate cert() {
            return (X509Certificate) chain[0];
        }
    }

    /**
     * Reads the signer's key and chain: from key and certs (PEM files) when
     * the job names them, else from the PKCS#12 file p12 with Bouncy
     * Castle's key store.
     */
    static Identity identity(Job job) throws Exception {
        if (job.get("key", null) != null) {
            List<X509Certificate> certs = readCerts(job.require("certs"));
            return new Identity(readKey(job.require("key")), certs.toArray(new Certificate[0]));
        }
        char[] pw = job.get("password", "").toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12", "BC");
        try (InputStream in = new FileInputStream(job.require("p12"))) {
            ks.load(in, pw);
        }
        for (Enumeration<String> e = ks.aliases(); e.hasMoreElements(); ) {
            String alias = e.nextElement();
            if (ks.isKeyEntry(alias)) {
                return new Identity((PrivateKey) ks.getKey(alias, pw), ks.getCertificateChain(alias));
            }
        }
        throw new IllegalArgumentException(job.require("p12") + " holds no private key");
    }

    static List<X509Certificate> readCerts(String path) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        if (path == null) {
            return out;
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (InputStream in = new FileInputStream(path)) {
            for (Certificate c : cf.generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
        }
        return out;
    }

    /** Makes HTTPS connections trust the certificates of the PEM file. */
    static void trustForTLS(String pem) throws Exception {
        if (pem == null) {
            return;
        }
        KeyStore ts = KeyStore.getInstance(KeyStore.getDefaultType());
        ts.load(null, null);
        int i = 0;
        for (X509Certificate c : readCerts(pem)) {
            ts.setCertificateEntry("root" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        HttpsURLConnection.setDefaultSSLSocketFactory(ctx.getSocketFactory());
    }

    /**
     * keygen: a key on a named curve (brainpoolP256r1 by default) written
     * to keyout (PKCS#8 PEM), and a certificate for it issued by the CA key
     * and certificate the job names, written with the CA's certificate and
     * chain to certout (PEM, signer first).
     */
    static void keygen(Job job, Json res) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "BC");
        g.initialize(new ECGenParameterSpec(job.get("curve", "brainpoolP256r1")), new SecureRandom());
        KeyPair kp = g.generateKeyPair();

        X509Certificate caCert = readCerts(job.require("cacert")).get(0);
        PrivateKey caKey = readKey(job.require("cakey"));
        long now = System.currentTimeMillis();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                caCert,
                new BigInteger(62, new SecureRandom()),
                new Date(now - 3600_000L), new Date(now + 365L * 86400_000L),
                new X500Name("CN=" + job.get("cn", "Brainpool Signer") + ",O=Paraphe tests,C=DE"),
                kp.getPublic());
        JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
        b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(kp.getPublic()));
        // The key identifier is the issuer's own SKI (Go writes a truncated
        // SHA-256, not the SHA-1 Bouncy Castle would compute): key stores
        // and validators link the chain through it.
        byte[] ski = caCert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        b.addExtension(Extension.authorityKeyIdentifier, false, ski == null
                ? u.createAuthorityKeyIdentifier(caCert.getPublicKey())
                : new AuthorityKeyIdentifier(SubjectKeyIdentifier.getInstance(
                        JcaX509ExtensionUtils.parseExtensionValue(ski)).getKeyIdentifier()));
        String alg = caKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        X509Certificate cert = new JcaX509CertificateConverter().setProvider("BC")
                .getCertificate(b.build(new JcaContentSignerBuilder(alg).setProvider("BC").build(caKey)));

        // PEM files, not PKCS#12: Bouncy Castle's key store rebuilds the
        // chain on loading and drops certificates it cannot link.
        try (JcaPEMWriter w = new JcaPEMWriter(new java.io.FileWriter(job.require("keyout")))) {
            w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null));
        }
        try (JcaPEMWriter w = new JcaPEMWriter(new java.io.FileWriter(job.require("certout")))) {
            w.writeObject(cert);
            w.writeObject(caCert);
            for (X509Certificate c : readCerts(job.get("chain", null))) {
                w.writeObject(c);
            }
        }
        res.put("subject", cert.getSubjectX500Principal().getName());
    }

    static PrivateKey readKey(String path) throws Exception {
        try (PEMParser p = new PEMParser(new FileReader(path))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter().setProvider("BC");
            if (o instanceof PrivateKeyInfo) {
                return conv.getPrivateKey((PrivateKeyInfo) o);
            }
            if (o instanceof PEMKeyPair) {
                return conv.getKeyPair((PEMKeyPair) o).getPrivate();
            }
            throw new IllegalArgumentException(path + ": not a private key (" + o + ")");
        }
    }

    /** An RFC 3161 time-stamp token over digest (of the named hash) from url. */
    static TimeStampToken timestamp(String url, String hash, byte[] digest) throws Exception {
        TimeStampRequestGenerator g = new TimeStampRequestGenerator();
        g.setCertReq(true);
        TimeStampRequest req = g.generate(hashOID(hash), digest, new BigInteger(64, new SecureRandom()));
        byte[] body = req.getEncoded();
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setDoOutput(true);
        c.setRequestMethod("POST");
        c.setRequestProperty("Content-Type", "application/timestamp-query");
        c.setConnectTimeout(10_000);
        c.setReadTimeout(30_000);
        try (OutputStream o = c.getOutputStream()) {
            o.write(body);
        }
        if (c.getResponseCode() != 200) {
            throw new IOException("TSA " + url + " answered HTTP " + c.getResponseCode());
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = c.getInputStream()) {
            in.transferTo(buf);
        }
        TimeStampResponse resp = new TimeStampResponse(buf.toByteArray());
        resp.validate(req);
        if (resp.getTimeStampToken() == null) {
            throw new IOException("TSA " + url + " refused: status " + resp.getStatus() + " " + resp.getStatusString());
        }
        return resp.getTimeStampToken();
    }

    static org.bouncycastle.asn1.ASN1ObjectIdentifier hashOID(String hash) {
        switch (hash) {
            case "SHA-1": return TSPAlgorithms.SHA1;
            case "SHA-256": return TSPAlgorithms.SHA256;
            case "SHA-384": return TSPAlgorithms.SHA384;
            case "SHA-512": return TSPAlgorithms.SHA512;
            default: throw new IllegalArgumentException("no such hash: " + hash);
        }
    }

    static byte[] digest(String hash, InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance(hash);
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
        }
        return md.digest();
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toByteArray();
    }

    static Collection<X509Certificate> x509(Certificate[] chain) {
        List<X509Certificate> l = new ArrayList<>();
        for (Certificate c : chain) {
            l.add((X509Certificate) c);
        }
        return l;
    }
}
