package paraphe.testenv;

import java.util.ArrayList;
import java.util.List;

import com.itextpdf.text.pdf.AcroFields;
import com.itextpdf.text.pdf.PdfDictionary;
import com.itextpdf.text.pdf.PdfName;
import com.itextpdf.text.pdf.PdfReader;
import com.itextpdf.text.pdf.security.PdfPKCS7;

/**
 * iText 5's verdict on every signature field of a file, one JSON line a
 * field: field, type (/Type), subfilter, integrity ("true", "false",
 * "error" when iText throws — a failure of iText, not a verdict —, or
 * "unsigned" for an empty field), covers_whole_document, revision,
 * total_revisions, signature_timestamp (a time-stamp token in the
 * signer's unsigned attributes) and timestamp_imprint (whether that
 * token's imprint matches the signature; never asked of ETSI.RFC3161
 * document time-stamps, whose token is the signature itself).
 *
 * Main teaches iText the ECDSA algorithm identifiers first (see
 * IText.registerECDSA); RSASSA-PSS still comes out as "error".
 */
final class ITextVerifier {
    private ITextVerifier() {}

    static List<String> verify(String path) {
        List<String> out = new ArrayList<>();
        PdfReader reader;
        try {
            PdfReader.unethicalreading = true; // permissions do not hide signatures
            reader = new PdfReader(path);
        } catch (Throwable e) {
            out.add(new Json().put("file", path).put("field", null).put("integrity", "error")
                    .put("error", "PdfReader: " + Json.describe(e)).toString());
            return out;
        }
        try {
            AcroFields af = reader.getAcroFields();
            for (String name : af.getSignatureNames()) {
                out.add(one(path, af, name));
            }
            for (String name : af.getBlankSignatureNames()) {
                out.add(new Json().put("file", path).put("field", name).put("integrity", "unsigned").toString());
            }
        } catch (Throwable e) {
            out.add(new Json().put("file", path).put("field", null).put("integrity", "error")
                    .put("error", "AcroFields: " + Json.describe(e)).toString());
        } finally {
            reader.close();
        }
        return out;
    }

    private static String one(String path, AcroFields af, String name) {
        Json j = new Json().put("file", path).put("field", name);
        PdfDictionary d = af.getSignatureDictionary(name);
        PdfName type = d == null ? null : d.getAsName(PdfName.TYPE);
        PdfName sub = d == null ? null : d.getAsName(PdfName.SUBFILTER);
        j.put("type", type == null ? "" : PdfName.decodeName(type.toString()));
        j.put("subfilter", sub == null ? "" : PdfName.decodeName(sub.toString()));
        try {
            j.put("covers_whole_document", af.signatureCoversWholeDocument(name));
            j.put("revision", af.getRevision(name));
            j.put("total_revisions", af.getTotalRevisions());
        } catch (Throwable e) {
            j.put("structure_error", Json.describe(e));
        }
        try {
            PdfPKCS7 p = af.verifySignature(name, "BC");
            boolean ok = p.verify();
            j.put("integrity", ok ? "true" : "false");
            j.put("digest", p.getHashAlgorithm());
            j.put("encryption", p.getEncryptionAlgorithm());
            boolean tst = !p.isTsp() && p.getTimeStampToken() != null;
            j.put("signature_timestamp", tst);
            if (tst) {
                try {
                    j.put("timestamp_imprint", p.verifyTimestampImprint() ? "true" : "false");
                } catch (Throwable e) {
                    j.put("timestamp_imprint", "error").put("timestamp_error", Json.describe(e));
                }
            }
            if (p.getSigningCertificate() != null) {
                j.put("signer", p.getSigningCertificate().getSubjectX500Principal().getName());
            }
        } catch (Throwable e) {
            j.put("integrity", "error").put("error", Json.describe(e));
        }
        return j.toString();
    }
}
