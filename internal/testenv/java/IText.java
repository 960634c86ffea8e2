package paraphe.testenv;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

import com.itextpdf.text.Rectangle;
import com.itextpdf.text.pdf.AcroFields;
import com.itextpdf.text.pdf.PdfArray;
import com.itextpdf.text.pdf.PdfDictionary;
import com.itextpdf.text.pdf.PdfName;
import com.itextpdf.text.pdf.PdfReader;
import com.itextpdf.text.pdf.PdfSignatureAppearance;
import com.itextpdf.text.pdf.PdfStamper;
import com.itextpdf.text.pdf.PdfString;
import com.itextpdf.text.pdf.security.BouncyCastleDigest;
import com.itextpdf.text.pdf.security.CrlClient;
import com.itextpdf.text.pdf.security.CrlClientOnline;
import com.itextpdf.text.pdf.security.EncryptionAlgorithms;
import com.itextpdf.text.pdf.security.ExternalSignatureContainer;
import com.itextpdf.text.pdf.security.LtvTimestamp;
import com.itextpdf.text.pdf.security.LtvVerification;
import com.itextpdf.text.pdf.security.MakeSignature;
import com.itextpdf.text.pdf.security.OcspClient;
import com.itextpdf.text.pdf.security.OcspClientBouncyCastle;
import com.itextpdf.text.pdf.security.PdfPKCS7;
import com.itextpdf.text.pdf.security.PrivateKeySignature;
import com.itextpdf.text.pdf.security.TSAClient;
import com.itextpdf.text.pdf.security.TSAClientBouncyCastle;

/**
 * iText 5.5.13: signatures (MakeSignature.signDetached for
 * adbe.pkcs7.detached and ETSI.CAdES.detached; an external container with
 * iText's own PdfPKCS7 for the legacy adbe.pkcs7.sha1 and
 * adbe.x509.rsa_sha1), document time-stamps (LtvTimestamp) and validation
 * data (LtvVerification).
 */
final class IText {
    private IText() {}

    /**
     * iText 5.5.13 names signature algorithms by OID from a table that
     * lacks the ECDSA ones, id-ecPublicKey included, which iText itself
     * writes: it throws "no such algorithm: SHA256with1.2.840.10045.2.1" on
     * reading its own ECDSA signatures, and on ecdsa-with-SHA* from other
     * producers. Its public EncryptionAlgorithms.addAlgorithm fills the gap;
     * the verification stays iText's. RSASSA-PSS is left out on purpose:
     * iText would ignore its parameters.
     */
    static void registerECDSA() {
        String[] oids = {"1.2.840.10045.2.1", "1.2.840.10045.4.1", "1.2.840.10045.4.3.1",
                "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"};
        for (String oid : oids) {
            try {
                EncryptionAlgorithms.addAlgorithm(oid, "ECDSA");
            } catch (java.security.GeneralSecurityException alreadyKnown) {
                // a later iText knows it
            }
        }
    }

    static void sign(Job job) throws Exception {
        Material.Identity id = Material.identity(job);
        String subfilter = job.get("subfilter", "ETSI.CAdES.detached");
        String digest = job.get("digest", "SHA-256");
        if (job.get("scheme", "pkcs1").equals("pss")) {
            // PdfPKCS7.setExternalDigest knows RSA, DSA and ECDSA only, and
            // writes the bare key algorithm OID: it cannot say RSASSA-PSS.
            throw new UnsupportedOperationException("iText 5 cannot make RSASSA-PSS signatures");
        }
        Output.write(job.require("out"), os -> {
            PdfReader reader = new PdfReader(job.require("in"));
            PdfStamper stamper = PdfStamper.createSignature(reader, os, '\0', null, true);
            PdfSignatureAppearance sap = appearance(job, stamper);
            sap.setCertificate(id.chain[0]);
            switch (subfilter) {
                case "adbe.pkcs7.detached":
                case "ETSI.CAdES.detached": {
                    TSAClient tsa = job.get("tsa", null) == null ? null
                            : new TSAClientBouncyCastle(job.get("tsa", null), null, null, 8192, digest);
                    MakeSignature.signDetached(sap, new BouncyCastleDigest(),
                            new PrivateKeySignature(id.key, digest, "BC"), id.chain, null, null, tsa, 0,
                            subfilter.equals("adbe.pkcs7.detached") ? MakeSignature.CryptoStandard.CMS
                                    : MakeSignature.CryptoStandard.CADES);
                    break;
                }
                case "adbe.pkcs7.sha1":
                case "adbe.x509.rsa_sha1":
                    MakeSignature.signExternalContainer(sap, new Legacy(id, subfilter), 8192);
                    break;
                default:
                    throw new IllegalArgumentException("iText: no such subfilter: " + subfilter);
            }
        });
    }

    private static PdfSignatureAppearance appearance(Job job, PdfStamper stamper) {
        PdfSignatureAppearance sap = stamper.getSignatureAppearance();
        sap.setReason(job.get("reason", "Paraphe interoperability test"));
        sap.setLocation(job.get("location", "Paris"));
        String field = job.get("field", null);
        Rectangle rect = job.flag("visible") ? new Rectangle(72, 600, 300, 680) : new Rectangle(0, 0, 0, 0);
        if (job.flag("visible") || field != null) {
            sap.setVisibleSignature(rect, 1, field);
        }
        return sap;
    }

    /**
     * The legacy sub-filters, made with iText's own PdfPKCS7: adbe.pkcs7.sha1
     * encapsulates the SHA-1 of the signed ranges (RSAdata) and signs it;
     * adbe.x509.rsa_sha1 puts a bare PKCS#1 signature in /Contents and the
     * certificates in /Cert.
     */
    private static final class Legacy implements ExternalSignatureContainer {
        private final Material.Identity id;
        private final String subfilter;

        Legacy(Material.Identity id, String subfilter) {
            this.id = id;
            this.subfilter = subfilter;
        }

        @Override
        public void modifySigningDictionary(PdfDictionary d) {
            d.put(PdfName.FILTER, PdfName.ADOBE_PPKLITE);
            d.put(PdfName.SUBFILTER, new PdfName(subfilter));
            if (subfilter.equals("adbe.x509.rsa_sha1")) {
                PdfArray certs = new PdfArray();
                try {
                    for (java.security.cert.Certificate c : id.chain) {
                        certs.add(new PdfString(c.getEncoded()).setHexWriting(true));
                    }
                } catch (java.security.cert.CertificateEncodingException e) {
                    throw new IllegalStateException(e);
                }
                d.put(PdfName.CERT, certs);
            }
        }

        @Override
        public byte[] sign(InputStream data) throws java.security.GeneralSecurityException {
            boolean rsaData = subfilter.equals("adbe.pkcs7.sha1");
            PdfPKCS7 p = new PdfPKCS7(id.key, id.chain, "SHA1", "BC", new BouncyCastleDigest(), rsaData);
            byte[] buf = new byte[1 << 16];
            try {
                for (int n; (n = data.read(buf)) > 0; ) {
                    p.update(buf, 0, n);
                }
            } catch (java.io.IOException e) {
                throw new java.security.GeneralSecurityException(e);
            }
            return rsaData ? p.getEncodedPKCS7() : p.getEncodedPKCS1();
        }
    }

    /** A document time-stamp (ETSI.RFC3161) from the job's TSA. */
    static void timestamp(Job job) throws Exception {
        String digest = job.get("digest", "SHA-256");
        Output.write(job.require("out"), os -> {
            PdfReader reader = new PdfReader(job.require("in"));
            PdfStamper stamper = PdfStamper.createSignature(reader, os, '\0', null, true);
            PdfSignatureAppearance sap = stamper.getSignatureAppearance();
            TSAClient tsa = new TSAClientBouncyCastle(job.require("tsa"), null, null, 8192, digest);
            LtvTimestamp.timestamp(sap, tsa, job.get("field", null));
        });
    }

    /**
     * Validation data for every signature and document time-stamp of the
     * file, in a /DSS with /VRI, from the OCSP responders and CRL
     * distribution points the certificates name.
     */
    static void ltv(Job job, Json res) throws Exception {
        StringBuilder added = new StringBuilder();
        Output.write(job.require("out"), os -> {
            PdfReader reader = new PdfReader(job.require("in"));
            PdfStamper stamper = new PdfStamper(reader, os, '\0', true);
            LtvVerification v = stamper.getLtvVerification();
            AcroFields af = stamper.getAcroFields();
            OcspClient ocsp = new OcspClientBouncyCastle(null);
            CrlClient crl = new CrlClientOnline();
            List<String> names = af.getSignatureNames();
            for (String name : names) {
                PdfPKCS7 p = af.verifySignature(name, "BC");
                LtvVerification.CertificateOption opt = LtvVerification.CertificateOption.WHOLE_CHAIN;
                boolean ok = v.addVerification(name, ocsp, crl, opt,
                        LtvVerification.Level.OCSP_OPTIONAL_CRL, LtvVerification.CertificateInclusion.YES);
                if (!ok) {
                    throw new IllegalStateException("no validation data found for " + name + " ("
                            + p.getSigningCertificate().getSubjectX500Principal() + ")");
                }
                added.append(added.length() > 0 ? "," : "").append(name);
            }
            stamper.close();
        });
        res.put("fields", added.toString());
    }
}
