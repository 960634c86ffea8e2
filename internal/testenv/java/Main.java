package paraphe.testenv;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.Security;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Independent PDF signature producers and a validator for Paraphe's tests,
 * built on Debian's iText 5, Apache PDFBox 2 and Bouncy Castle.
 *
 * <pre>
 *   java paraphe.testenv.Main jobs            one job a line on standard input
 *   java paraphe.testenv.Main verify FILE...  iText 5's verdict, one JSON line a signature field
 * </pre>
 *
 * A job is a line of tab-separated key=value pairs (see Job); each job
 * answers with exactly one JSON line, {"id":…,"ok":true,…} or
 * {"id":…,"ok":false,"error":…}, so that one JVM start serves many
 * signings and one failed job does not hide the others.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        IText.registerECDSA();
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        if (args.length >= 1 && args[0].equals("jobs")) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                out.println(run(line));
            }
            return;
        }
        if (args.length >= 2 && args[0].equals("verify")) {
            for (int i = 1; i < args.length; i++) {
                for (String line : ITextVerifier.verify(args[i])) {
                    out.println(line);
                }
            }
            return;
        }
        System.err.println("usage: Main jobs < JOBS | Main verify FILE...");
        System.exit(2);
    }

    static String run(String line) {
        Job job;
        try {
            job = Job.parse(line);
        } catch (IllegalArgumentException e) {
            return new Json().put("ok", false).put("error", "bad job: " + e.getMessage()).toString();
        }
        Json res = new Json().put("id", job.get("id", ""));
        try {
            Material.trustForTLS(job.get("tlsroot", null));
            String op = job.require("op");
            String producer = job.get("producer", "itext");
            switch (op + "/" + producer) {
                case "keygen/bc":
                    Material.keygen(job, res);
                    break;
                case "sign/itext":
                    IText.sign(job);
                    break;
                case "sign/pdfbox":
                    PdfBox.sign(job);
                    break;
                case "timestamp/itext":
                    IText.timestamp(job);
                    break;
                case "timestamp/pdfbox":
                    PdfBox.timestamp(job);
                    break;
                case "ltv/itext":
                    IText.ltv(job, res);
                    break;
                default:
                    throw new IllegalArgumentException("no such operation: " + op + " by " + producer);
            }
            res.put("ok", true);
        } catch (Throwable e) {
            res.put("ok", false).put("error", Json.describe(e));
        }
        return res.toString();
    }
}
