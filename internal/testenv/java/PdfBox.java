package paraphe.testenv;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Map;

import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.PDResources;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.common.PDStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.graphics.form.PDFormXObject;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAnnotationWidget;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAppearanceDictionary;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAppearanceStream;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureInterface;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.apache.pdfbox.pdmodel.interactive.form.PDAcroForm;
import org.apache.pdfbox.pdmodel.interactive.form.PDField;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSAttributeTableGenerator;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationStore;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Apache PDFBox 2 for the PDF (PDDocument.addSignature, saveIncremental)
 * with Bouncy Castle's CMSSignedDataGenerator for the CMS, as PDFBox's own
 * examples do: adbe.pkcs7.detached, ETSI.CAdES.detached (signing-certificate-v2,
 * no signing-time), adbe.pkcs7.sha1; RSA PKCS#1 v1.5, RSASSA-PSS and ECDSA
 * on any curve Bouncy Castle knows; signature and document time-stamps.
 */
final class PdfBox {
    private PdfBox() {}

    static void sign(Job job) throws Exception {
        Material.Identity id = Material.identity(job);
        String subfilter = job.get("subfilter", "ETSI.CAdES.detached");
        String digest = job.get("digest", "SHA-256");
        String tsa = job.get("tsa", null);
        boolean pss = job.get("scheme", "pkcs1").equals("pss");
        if (subfilter.equals("adbe.x509.rsa_sha1")) {
            throw new UnsupportedOperationException("the PDFBox producer does not make adbe.x509.rsa_sha1 (iText's does)");
        }
        SignatureInterface signer = content -> {
            try {
                return cms(id, subfilter, digest, pss, tsa, Material.readAll(content));
            } catch (java.io.IOException e) {
                throw e;
            } catch (Exception e) {
                throw new java.io.IOException(e);
            }
        };
        PDSignature sig = new PDSignature();
        sig.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
        sig.setSubFilter(COSName.getPDFName(subfilter));
        sig.setName(id.cert().getSubjectX500Principal().getName());
        sig.setReason(job.get("reason", "Paraphe interoperability test"));
        sig.setLocation(job.get("location", "Paris"));
        sig.setSignDate(Calendar.getInstance());
        add(job, sig, signer);
    }

    /** A document time-stamp: /Type /DocTimeStamp, ETSI.RFC3161, the bare token. */
    static void timestamp(Job job) throws Exception {
        String tsa = job.require("tsa");
        String digest = job.get("digest", "SHA-256");
        PDSignature sig = new PDSignature();
        sig.setType(COSName.DOC_TIME_STAMP);
        sig.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
        sig.setSubFilter(COSName.getPDFName("ETSI.RFC3161"));
        add(job, sig, content -> {
            try {
                return Material.timestamp(tsa, digest, Material.digest(digest, content)).getEncoded();
            } catch (java.io.IOException e) {
                throw e;
            } catch (Exception e) {
                throw new java.io.IOException(e);
            }
        });
    }

    private static void add(Job job, PDSignature sig, SignatureInterface signer) throws Exception {
        Output.write(job.require("out"), os -> {
            try (PDDocument doc = PDDocument.load(new File(job.require("in")));
                 SignatureOptions opts = new SignatureOptions()) {
                opts.setPreferredSignatureSize(32 * 1024);
                if (job.flag("visible")) {
                    opts.setVisualSignature(template(doc, job));
                    opts.setPage(0);
                }
                doc.addSignature(sig, signer, opts);
                String name = job.get("field", null);
                if (name != null) {
                    rename(doc, sig, name);
                }
                doc.saveIncremental(os);
            }
        });
    }

    /** Names the field PDFBox made for sig (it picks "SignatureN" itself). */
    private static void rename(PDDocument doc, PDSignature sig, String name) {
        PDAcroForm form = doc.getDocumentCatalog().getAcroForm();
        for (PDField f : form.getFieldTree()) {
            if (f instanceof PDSignatureField
                    && f.getCOSObject().getDictionaryObject(COSName.V) == sig.getCOSObject()) {
                f.setPartialName(name);
                f.getCOSObject().setNeedToBeUpdated(true);
                return;
            }
        }
        throw new IllegalStateException("PDFBox made no field for the signature");
    }

    /**
     * A one-page document whose only field is a signature widget with an
     * appearance, the template PDFBox copies the visible signature from (as
     * its CreateVisibleSignature2 example does).
     */
    private static InputStream template(PDDocument src, Job job) throws Exception {
        PDRectangle rect = new PDRectangle(72, 600, 228, 80);
        try (PDDocument t = new PDDocument()) {
            PDPage page = new PDPage(src.getPage(0).getMediaBox());
            t.addPage(page);
            PDAcroForm form = new PDAcroForm(t);
            t.getDocumentCatalog().setAcroForm(form);
            PDSignatureField field = new PDSignatureField(form);
            PDAnnotationWidget widget = field.getWidgets().get(0);
            form.setSignaturesExist(true);
            form.setAppendOnly(true);
            form.getCOSObject().setDirect(true);
            form.getFields().add(field);
            widget.setRectangle(rect);

            PDStream stream = new PDStream(t);
            PDFormXObject xo = new PDFormXObject(stream);
            xo.setResources(new PDResources());
            xo.setFormType(1);
            xo.setBBox(new PDRectangle(rect.getWidth(), rect.getHeight()));
            PDAppearanceDictionary ap = new PDAppearanceDictionary();
            ap.getCOSObject().setDirect(true);
            PDAppearanceStream as = new PDAppearanceStream(xo.getCOSObject());
            ap.setNormalAppearance(as);
            widget.setAppearance(ap);
            try (PDPageContentStream cs = new PDPageContentStream(t, as)) {
                cs.addRect(0.5f, 0.5f, rect.getWidth() - 1, rect.getHeight() - 1);
                cs.stroke();
                cs.beginText();
                cs.setFont(PDType1Font.HELVETICA, 10);
                cs.newLineAtOffset(6, rect.getHeight() - 16);
                cs.showText("Signed with Apache PDFBox");
                cs.newLineAtOffset(0, -14);
                cs.showText(job.get("reason", "Paraphe interoperability test"));
                cs.endText();
            }
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            t.save(b);
            return new ByteArrayInputStream(b.toByteArray());
        }
    }

    static byte[] cms(Material.Identity id, String subfilter, String digest, boolean pss, String tsa, byte[] content)
            throws Exception {
        String keyAlg = id.key.getAlgorithm();
        String hashName = digest.replace("-", "");
        String alg;
        if (keyAlg.equals("RSA")) {
            alg = hashName + (pss ? "withRSAandMGF1" : "withRSA");
        } else if (keyAlg.equals("EC") || keyAlg.equals("ECDSA")) {
            if (pss) {
                throw new IllegalArgumentException("RSASSA-PSS needs an RSA key, not " + keyAlg);
            }
            alg = hashName + "withECDSA";
        } else {
            throw new IllegalArgumentException("no signature scheme for a " + keyAlg + " key");
        }
        ContentSigner cs = new JcaContentSignerBuilder(alg).setProvider("BC").build(id.key);
        JcaSignerInfoGeneratorBuilder sib = new JcaSignerInfoGeneratorBuilder(
                new JcaDigestCalculatorProviderBuilder().setProvider("BC").build());
        X509Certificate cert = id.cert();
        if (subfilter.equals("ETSI.CAdES.detached")) {
            sib.setSignedAttributeGenerator(cades(cert));
        }
        CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(sib.build(cs, cert));
        gen.addCertificates(new JcaCertStore(Arrays.asList(id.chain)));
        CMSSignedData sd;
        switch (subfilter) {
            case "adbe.pkcs7.detached":
            case "ETSI.CAdES.detached":
                sd = gen.generate(new CMSProcessableByteArray(content), false);
                break;
            case "adbe.pkcs7.sha1":
                // The SHA-1 of the signed ranges is the encapsulated content.
                sd = gen.generate(new CMSProcessableByteArray(MessageDigest.getInstance("SHA-1").digest(content)), true);
                break;
            default:
                throw new IllegalArgumentException("PDFBox: no such subfilter: " + subfilter);
        }
        if (tsa != null) {
            sd = withTimestamp(sd, tsa, digest);
        }
        // Bouncy Castle writes SignedData as BER (indefinite lengths), as
        // PDFBox's examples and the producers built on them do.
        return sd.getEncoded();
    }

    /** CAdES-BES signed attributes: signing-certificate-v2, no signing-time. */
    private static CMSAttributeTableGenerator cades(X509Certificate cert) throws Exception {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        SigningCertificateV2 scv2 = new SigningCertificateV2(new ESSCertIDv2(
                new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), h));
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(new Attribute(PKCSObjectIdentifiers.id_aa_signingCertificateV2, new DERSet(scv2)));
        DefaultSignedAttributeTableGenerator base = new DefaultSignedAttributeTableGenerator(new AttributeTable(v));
        return new CMSAttributeTableGenerator() {
            @Override
            public AttributeTable getAttributes(@SuppressWarnings("rawtypes") Map params) {
                return base.getAttributes(params).remove(CMSAttributes.signingTime);
            }
        };
    }

    /** Adds a signature time-stamp (unsigned attribute) over the signature value. */
    private static CMSSignedData withTimestamp(CMSSignedData sd, String tsa, String digest) throws Exception {
        SignerInformation si = sd.getSignerInfos().getSigners().iterator().next();
        byte[] imprint = MessageDigest.getInstance(digest).digest(si.getSignature());
        org.bouncycastle.tsp.TimeStampToken tst = Material.timestamp(tsa, digest, imprint);
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(new Attribute(PKCSObjectIdentifiers.id_aa_signatureTimeStampToken,
                new DERSet(tst.toCMSSignedData().toASN1Structure())));
        SignerInformation stamped = SignerInformation.replaceUnsignedAttributes(si, new AttributeTable(v));
        return CMSSignedData.replaceSigners(sd, new SignerInformationStore(stamped));
    }
}
